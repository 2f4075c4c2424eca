package jcriu.proc;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import jcriu.state.PageRun;

/**
 * Reads /proc/PID/pagemap to find which pages of a mapping hold content a checkpoint must save.
 *
 * <p>Each 4 KiB page has a 64-bit entry at offset {@code (addr / 4096) * 8}. Entries are read in
 * blocks of up to 64 Ki entries (256 MiB of address space) per read call; the cost is linear
 * in the size of the VMA, touched or not.
 *
 * <h2>Which pages are dumpable</h2>
 * Facts, from fs/proc/task_mmu.c (pte_to_pagemap_entry, pagemap_pmd_range) and checked on
 * Linux 6.18 by the live tests:
 * <ul>
 * <li>PM_PRESENT (bit 63) or PM_SWAP (bit 62): the page has been populated.</li>
 * <li>PM_FILE (bit 61) is set when the page is not an anonymous folio: page-cache pages of a
 *     file (including shmem, hence every page of MAP_SHARED|MAP_ANONYMOUS memory), and the
 *     <em>huge</em> zero page. A private file page that was written has been copied (COW) to an
 *     anonymous page and has PM_FILE clear.</li>
 * <li>The ordinary 4 KiB shared zero page, mapped when anonymous memory is read before it is
 *     written, is PM_PRESENT with PM_FILE <em>clear</em> (vm_normal_page() returns no page for
 *     it) and PM_MMAP_EXCLUSIVE (bit 56) clear. It looks exactly like an anonymous page shared
 *     with a parent or child after fork, except for its PFN: /proc/kpageflags has KPF_ZERO_PAGE
 *     (bit 24) set for it (and for the huge zero page).</li>
 * <li>PM_GUARD_REGION (bit 58, Linux 6.15+) comes with PM_SWAP on MADV_GUARD_INSTALL ranges,
 *     which have no content and fault on access.</li>
 * <li>PFNs (bits 0-54) are shown only to readers with CAP_SYS_ADMIN; others read 0.</li>
 * </ul>
 *
 * The rule of {@link #dumpableRuns(Vma)}, by {@link Vma#kind()}:
 * <ul>
 * <li>ANON_PRIVATE, HEAP, STACK, FILE_PRIVATE, and private OTHER mappings: a page is dumped if
 *     PM_PRESENT or PM_SWAP, and not PM_FILE (still the file's page, or the huge zero page),
 *     and not the 4 KiB zero page. The zero page is recognised by looking its PFN up in
 *     {@code procRoot/kpageflags}; without PFNs or without access to kpageflags it cannot be
 *     told apart and is dumped (correct, only larger).</li>
 * <li>ANON_SHARED: every page its shmem object holds in the mapped window, found with
 *     SEEK_DATA/SEEK_HOLE on the object (through map_files), since the page tables show only
 *     the pages this process touched itself; the page tables as for SYSV_SHM when the object
 *     cannot be opened.</li>
 * <li>SYSV_SHM, AIO_RING: every PM_PRESENT or PM_SWAP page (all are PM_FILE, being shmem).</li>
 * <li>VDSO: the whole VMA, present or not, since it is code the kernel supplies and a restore
 *     compares it in full (an unfaulted vDSO page still has content).</li>
 * <li>FILE_SHARED, shared OTHER, VVAR, VVAR_VCLOCK, VSYSCALL, UPROBES, and any VMA with the
 *     {@code io} or {@code pf} VmFlag: nothing; their content lives in the file or the kernel,
 *     or they have no struct pages to read.</li>
 * <li>Guard-region entries are never dumped.</li>
 * </ul>
 *
 * <p>An instance holds the pagemap file open; use one per process for all its VMAs. Not
 * thread-safe. The answer is exact only while the process is stopped.
 */
public final class Pagemap implements Closeable {
    public static final int PAGE_SIZE = 4096;
    public static final long PM_PFN_MASK = (1L << 55) - 1;
    public static final long PM_SOFT_DIRTY = 1L << 55;
    public static final long PM_MMAP_EXCLUSIVE = 1L << 56;
    public static final long PM_UFFD_WP = 1L << 57;
    public static final long PM_GUARD_REGION = 1L << 58;
    public static final long PM_FILE = 1L << 61;
    public static final long PM_SWAP = 1L << 62;
    public static final long PM_PRESENT = 1L << 63;
    /** KPF_ZERO_PAGE in /proc/kpageflags. */
    public static final long KPF_ZERO_PAGE = 1L << 24;

    private static final int BLOCK_ENTRIES = 64 * 1024;

    private final Path procRoot;
    private final int pid;
    private final Path file;
    private final FileChannel channel;
    private final ByteBuffer block = ByteBuffer.allocateDirect(BLOCK_ENTRIES * 8).order(ByteOrder.LITTLE_ENDIAN);
    private FileChannel kpageflags;
    private boolean kpageflagsTried;
    /** The 4 KiB zero page's PFN once seen; x86_64 has exactly one (empty_zero_page). */
    private long zeroPfn = -1;

    private Pagemap(Path procRoot, int pid, Path file, FileChannel channel) {
        this.procRoot = procRoot;
        this.pid = pid;
        this.file = file;
        this.channel = channel;
    }

    public static Pagemap open(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("pagemap");
        try {
            return new Pagemap(procRoot, pid, f, FileChannel.open(f, StandardOpenOption.READ));
        } catch (IOException e) {
            throw ProcIo.gone(e, procRoot, pid);
        }
    }

    /** One-shot form of {@link #dumpableRuns(Vma)}; open an instance when reading many VMAs. */
    public static List<PageRun> dumpableRuns(Path procRoot, int pid, Vma vma) throws IOException {
        try (Pagemap pm = open(procRoot, pid)) {
            return pm.dumpableRuns(vma);
        }
    }

    /**
     * The pages of {@code vma} whose content a checkpoint must save, as maximal runs of
     * consecutive pages in address order; see the class comment for the rule.
     */
    public List<PageRun> dumpableRuns(Vma vma) throws IOException {
        checkAligned(vma.start(), vma.end());
        Rule rule = rule(vma);
        return switch (rule) {
            case NONE -> List.of();
            case WHOLE -> {
                List<PageRun> runs = new ArrayList<>();
                addRun(runs, vma.start(), vma.pages());
                yield runs;
            }
            case PRIVATE -> scan(vma.start(), vma.pages(), rule);
            case SHARED -> {
                List<PageRun> object = vma.kind() == VmaKind.ANON_SHARED ? objectRuns(vma) : null;
                yield object != null ? object : scan(vma.start(), vma.pages(), rule);
            }
        };
    }

    /**
     * The pages of shared anonymous memory that its object holds, found in the object itself
     * (SEEK_DATA/SEEK_HOLE on its shmem file, opened through map_files) rather than in this
     * process's page tables: a page only another process touched, or one swapped out, is in the
     * object but not mapped here, and would otherwise be lost. Null when the object cannot be
     * opened (then the page tables are all there is to go by).
     */
    private List<PageRun> objectRuns(Vma vma) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve(String.format("map_files/%x-%x", vma.start(), vma.end()));
        int fd;
        try {
            fd = jcriu.sys.Sys.open(f.toString(), 0 /* O_RDONLY */ | 02000000 /* O_CLOEXEC */);
        } catch (jcriu.sys.SysException e) {
            return null;
        }
        try {
            List<PageRun> runs = new ArrayList<>();
            long from = vma.pgoff(), to = vma.pgoff() + (vma.end() - vma.start());
            long at = from;
            while (at < to) {
                long data = jcriu.sys.Sys.seekDataOrHole(fd, at, true);
                if (data < 0 || data >= to) break;
                long hole = Math.min(to, jcriu.sys.Sys.seekDataOrHole(fd, data, false));
                long first = data & ~(long) (PAGE_SIZE - 1), end = (hole + PAGE_SIZE - 1) & ~(long) (PAGE_SIZE - 1);
                end = Math.min(end, to);
                addRun(runs, vma.start() + (first - from), (end - first) / PAGE_SIZE);
                at = end;
            }
            return runs;
        } catch (jcriu.sys.SysException e) {
            throw new ProcException(f, "cannot find the pages of the shared memory object: " + e.getMessage());
        } finally {
            jcriu.sys.Sys.close(fd);
        }
    }

    /** Raw entries for {@code pages} pages from {@code addr}. */
    public long[] entries(long addr, int pages) throws IOException {
        checkAligned(addr, addr);
        long[] out = new long[pages];
        int done = 0;
        while (done < pages) {
            int n = readBlock(addr + (long) done * PAGE_SIZE, Math.min(BLOCK_ENTRIES, pages - done));
            for (int i = 0; i < n; i++) out[done + i] = block.getLong(i * 8);
            done += n;
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            if (kpageflags != null) kpageflags.close();
        }
    }

    private enum Rule { NONE, WHOLE, PRIVATE, SHARED }

    private static Rule rule(Vma v) {
        if (v.hasFlag("io") || v.hasFlag("pf")) return Rule.NONE;
        return switch (v.kind()) {
            case VVAR, VVAR_VCLOCK, VSYSCALL, UPROBES, FILE_SHARED -> Rule.NONE;
            case VDSO -> Rule.WHOLE;
            case ANON_SHARED, SYSV_SHM, AIO_RING -> Rule.SHARED;
            case OTHER -> v.shared() ? Rule.NONE : Rule.PRIVATE;
            case ANON_PRIVATE, HEAP, STACK, FILE_PRIVATE -> Rule.PRIVATE;
        };
    }

    private List<PageRun> scan(long start, long pages, Rule rule) throws IOException {
        List<PageRun> runs = new ArrayList<>();
        long runStart = -1;
        long runPages = 0;
        long done = 0;
        while (done < pages) {
            long base = start + done * PAGE_SIZE;
            int n = readBlock(base, (int) Math.min(BLOCK_ENTRIES, pages - done));
            for (int i = 0; i < n; i++) {
                long e = block.getLong(i * 8);
                if (dumpable(e, rule)) {
                    if (runPages == 0) runStart = base + (long) i * PAGE_SIZE;
                    runPages++;
                } else if (runPages > 0) {
                    addRun(runs, runStart, runPages);
                    runPages = 0;
                }
            }
            done += n;
        }
        if (runPages > 0) addRun(runs, runStart, runPages);
        return runs;
    }

    private boolean dumpable(long e, Rule rule) throws IOException {
        if ((e & PM_GUARD_REGION) != 0) return false;
        if ((e & (PM_PRESENT | PM_SWAP)) == 0) return false;
        if (rule == Rule.SHARED) return true;
        if ((e & PM_FILE) != 0) return false;
        // Only a non-exclusive present page can be the zero page; anything mapped once is not.
        return (e & PM_PRESENT) == 0 || (e & PM_MMAP_EXCLUSIVE) != 0 || !isZeroPage(e & PM_PFN_MASK);
    }

    private boolean isZeroPage(long pfn) throws IOException {
        if (pfn == 0) return false; // PFNs hidden from us: cannot tell, so keep the page
        if (zeroPfn >= 0) return pfn == zeroPfn;
        FileChannel kpf = kpageflags();
        if (kpf == null) return false;
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long pos = pfn * 8;
        while (b.hasRemaining()) {
            if (kpf.read(b, pos + b.position()) <= 0) return false; // PFN past the end: not RAM we know
        }
        if ((b.getLong(0) & KPF_ZERO_PAGE) == 0) return false;
        zeroPfn = pfn;
        return true;
    }

    /** kpageflags needs root; without it zero pages are simply not recognised. */
    private FileChannel kpageflags() {
        if (!kpageflagsTried) {
            kpageflagsTried = true;
            try {
                kpageflags = FileChannel.open(procRoot.resolve("kpageflags"), StandardOpenOption.READ);
            } catch (IOException | SecurityException e) {
                kpageflags = null;
            }
        }
        return kpageflags;
    }

    /** Fills {@link #block} with {@code n} entries from {@code addr}; returns n. */
    private int readBlock(long addr, int n) throws IOException {
        long pos = (addr >>> 12) * 8;
        block.clear().limit(n * 8);
        try {
            while (block.hasRemaining()) {
                int r = channel.read(block, pos + block.position());
                if (r <= 0) {
                    // pagemap_read() returns 0 once the mm is gone (process exited).
                    if (!Files.isDirectory(ProcIo.pidDir(procRoot, pid))) throw new ProcessGoneException(pid);
                    throw new ProcException(file, String.format("ended at offset %#x, inside the range at %#x",
                            pos + block.position(), addr));
                }
            }
        } catch (IOException e) {
            throw ProcIo.gone(e, procRoot, pid);
        }
        return n;
    }

    private static void addRun(List<PageRun> runs, long addr, long pages) {
        // PageRun counts pages in an int; split absurdly long runs rather than overflow.
        while (pages > 0) {
            int n = (int) Math.min(pages, Integer.MAX_VALUE);
            runs.add(new PageRun(addr, n));
            addr += (long) n * PAGE_SIZE;
            pages -= n;
        }
    }

    private static void checkAligned(long start, long end) {
        if ((start & (PAGE_SIZE - 1)) != 0 || (end & (PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException(String.format("range %#x-%#x is not page aligned", start, end));
        }
    }
}

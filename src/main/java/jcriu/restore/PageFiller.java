package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcriu.api.Log;
import jcriu.image.PageStore;
import jcriu.inject.Injector;
import jcriu.ptrace.TaskMemory;
import jcriu.state.VmaState;
import jcriu.sys.Errno;
import jcriu.sys.Nr;

/**
 * Puts every saved page in place inside the process being restored, with system calls
 * injected into it: the pages images are opened there, and one {@code preadv} per batch of
 * slices that lie back to back in one file (up to 1024 of them, and up to the 2 GiB the
 * kernel reads in one call) reads straight into the
 * process's memory (one copy, like CRIU's restorer). The mappings already carry their THP
 * advice, given when they were mapped, so the reads fault in huge pages where the process
 * had asked for them.
 *
 * <p>How the bytes travel is a {@link Mode}; {@link Mode#DEFAULT} is the one measured best
 * here when the images are not in the page cache, which is how a dump leaves them (its pages
 * are written with O_DIRECT). {@code -Djcriu.fill=buffered|direct|populate} picks another,
 * for benchmarks.
 */
final class PageFiller {
    private static final int O_RDONLY = 0, O_CLOEXEC = 02000000, O_DIRECT = 040000;
    private static final int AT_FDCWD = -100;
    private static final int IOV_BATCH = 1024;
    private static final int MADV_POPULATE_WRITE = 23;
    /** The kernel reads at most this much in one call (MAX_RW_COUNT: 2 GiB less a page); more comes back short. */
    static final long MAX_CALL_BYTES = 0x7ffff000L;

    /** How pages go from the images into the process. */
    enum Mode {
        /** preadv through the page cache: fast when the images are cached, one extra copy when not. */
        BUFFERED,
        /** preadv with O_DIRECT: the disk writes straight into the process's pages, no page-cache copy. */
        DIRECT,
        /** MADV_POPULATE_WRITE over the runs first (allocation apart from copying), then buffered preadv. */
        POPULATE;

        static final Mode DEFAULT = DIRECT;

        static Mode fromProperty() {
            String p = System.getProperty("jcriu.fill");
            return p == null ? DEFAULT : valueOf(p.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** What a fill did: bytes, injected calls, time. */
    record Stats(long bytes, int calls, long nanos, Mode mode) {
        @Override
        public String toString() {
            return String.format("%d MiB in %d injected calls, %d ms (%s)", bytes >> 20, calls, nanos / 1_000_000,
                    mode.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    private final Injector inj;
    private final TaskMemory mem;
    private final ControlArea ctl;
    private final Log log;
    private final long maxCallBytes = MAX_CALL_BYTES;
    private int calls;

    PageFiller(Injector inj, TaskMemory mem, ControlArea ctl, Log log) {
        this.inj = inj;
        this.mem = mem;
        this.ctl = ctl;
        this.log = log;
    }

    /** Fills every slice of {@code store} but the vDSO's (only compared, never written) into the mappings {@code vmas}. */
    Stats fill(List<VmaState> vmas, PageStore store) throws IOException {
        return fill(vmas, store, v -> false, Mode.fromProperty());
    }

    /** The same, leaving out the slices of mappings {@code filledElsewhere} (shared objects, pages kept from a parent). */
    Stats fill(List<VmaState> vmas, PageStore store, java.util.function.Predicate<VmaState> filledElsewhere)
            throws IOException {
        return fill(vmas, store, filledElsewhere, Mode.fromProperty());
    }

    Stats fill(List<VmaState> vmas, PageStore store, Mode mode) throws IOException {
        return fill(vmas, store, v -> false, mode);
    }

    Stats fill(List<VmaState> vmas, PageStore store, java.util.function.Predicate<VmaState> filledElsewhere, Mode mode)
            throws IOException {
        long t0 = System.nanoTime();
        List<PageStore.Slice> runs = new ArrayList<>();
        for (PageStore.Slice s : store.slices()) {
            VmaState v = vmaOf(vmas, s.addr());
            if (v == null) throw new IOException(String.format("pages at %#x lie outside every mapping of the image", s.addr()));
            if (v.kind() != VmaState.Kind.VDSO && !filledElsewhere.test(v)) runs.add(s);
        }
        long bytes = runs.stream().mapToLong(PageStore.Slice::bytes).sum();
        if (runs.isEmpty()) return new Stats(0, 0, System.nanoTime() - t0, mode);
        ctl.reset();
        Map<Path, Long> fds = new HashMap<>();
        for (PageStore.Slice s : runs) {
            if (!fds.containsKey(s.file())) fds.put(s.file(), open(s.file(), mode));
        }
        if (mode == Mode.POPULATE) populate(runs);
        jcriu.api.Progress shown = jcriu.api.Progress.onTerminal("restore " + inj.tid(), bytes);
        Thread watcher = shown.shown() ? watch(inj.tid(), bytes, shown) : null;
        try {
            read(runs, fds);
        } finally {
            if (watcher != null) {
                watcher.interrupt();
                try {
                    watcher.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                shown.update(bytes);
                shown.finish();
            }
        }
        for (long fd : fds.values()) {
            inject(Nr.CLOSE, fd);
        }
        Stats st = new Stats(bytes, calls, System.nanoTime() - t0, mode);
        log.info("pages: " + st);
        return st;
    }

    /** One preadv per group of {@link #plan}. */
    private void read(List<PageStore.Slice> runs, Map<Path, Long> fds) throws IOException {
        long iovAddr = ctl.alloc(16L * IOV_BATCH);
        for (List<PageStore.Slice> call : plan(runs, maxCallBytes)) {
            ByteBuffer iov = ControlArea.le(16 * call.size());
            long total = 0;
            for (PageStore.Slice run : call) {
                iov.putLong(run.addr()).putLong(run.bytes());
                total += run.bytes();
            }
            PageStore.Slice first = call.getFirst();
            mem.write(iovAddr, iov.array());
            long got = inject(Nr.PREADV, fds.get(first.file()), iovAddr, call.size(), first.offset(), 0);
            if (got != total) {
                throw new IOException("filling memory from " + first.file() + " at offset " + first.offset() + ": "
                        + (got < 0 ? Errno.name((int) -got) : "read " + got + " of " + total + " bytes (image truncated?)"));
            }
        }
    }

    /**
     * The preadv calls for {@code runs}: each reads slices that lie back to back in one file,
     * at most 1024 of them and at most {@code maxCall} bytes (a larger slice is cut in pieces).
     */
    static List<List<PageStore.Slice>> plan(List<PageStore.Slice> runs, long maxCall) {
        long max = maxCall & ~4095L;
        List<List<PageStore.Slice>> calls = new ArrayList<>();
        List<PageStore.Slice> cur = new ArrayList<>();
        long total = 0;
        for (PageStore.Slice s : runs) {
            for (long off = 0; off < s.bytes(); off += max) {
                long part = Math.min(max, s.bytes() - off);
                PageStore.Slice p = off == 0 && part == s.bytes() ? s
                        : new PageStore.Slice(s.addr() + off, (int) (part / 4096), s.file(), s.offset() + off);
                if (!cur.isEmpty() && (cur.size() == IOV_BATCH || !p.file().equals(cur.getFirst().file())
                        || p.offset() != cur.getFirst().offset() + total || total + p.bytes() > max)) {
                    calls.add(cur);
                    cur = new ArrayList<>();
                    total = 0;
                }
                cur.add(p);
                total += p.bytes();
            }
        }
        if (!cur.isEmpty()) calls.add(cur);
        return calls;
    }

    /**
     * The fill is a few long system calls inside the process, so progress is watched from
     * outside: the growth of its resident memory (/proc/PID/statm), polled by a thread of ours.
     */
    private static Thread watch(int pid, long total, jcriu.api.Progress shown) {
        Path statm = Path.of("/proc/" + pid + "/statm");
        long[] base = {-1};
        return Thread.ofPlatform().daemon().name("jcriu-restore-progress").start(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    long rss = Long.parseLong(java.nio.file.Files.readString(statm).split(" ")[1]) * 4096;
                    if (base[0] < 0) base[0] = rss;
                    shown.update(Math.min(total, Math.max(0, rss - base[0])));
                    Thread.sleep(100);
                }
            } catch (InterruptedException | IOException | RuntimeException e) {
                // done, or the process is gone (the restore reports that)
            }
        });
    }

    /** Opens a pages image inside the process; O_DIRECT falls back to the page cache where the file system has none. */
    private long open(Path file, Mode mode) throws IOException {
        byte[] p = ControlArea.cString(file.toAbsolutePath().toString());
        long addr = ctl.alloc(p.length);
        mem.write(addr, p);
        long fd = -1;
        if (mode == Mode.DIRECT) {
            fd = inject(Nr.OPENAT, AT_FDCWD, addr, O_RDONLY | O_CLOEXEC | O_DIRECT, 0);
            if (fd == -Errno.EINVAL) log.debug(file + ": no O_DIRECT on its file system; read through the page cache");
        }
        if (mode != Mode.DIRECT || fd == -Errno.EINVAL) fd = inject(Nr.OPENAT, AT_FDCWD, addr, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) throw new IOException("cannot open " + file + " in the restored process: " + Errno.name((int) -fd));
        return fd;
    }

    /** One MADV_POPULATE_WRITE per stretch of back-to-back runs; a kernel without it (before 5.14) just skips this. */
    private void populate(List<PageStore.Slice> runs) {
        int i = 0;
        while (i < runs.size()) {
            long start = runs.get(i).addr(), end = runs.get(i).end();
            i++;
            while (i < runs.size() && runs.get(i).addr() == end) end = runs.get(i++).end();
            long r = inject(Nr.MADVISE, start, end - start, MADV_POPULATE_WRITE);
            if (r < 0) {
                log.debug(String.format("MADV_POPULATE_WRITE %#x-%#x: %s", start, end, Errno.name((int) -r)));
                if (r == -Errno.EINVAL) return;
            }
        }
    }

    private long inject(int nr, long... args) {
        calls++;
        return inj.raw(nr, args);
    }

    /** The mapping holding {@code addr}: a binary search, the mappings being in address order as /proc lists them. */
    private static VmaState vmaOf(List<VmaState> vmas, long addr) {
        int lo = 0, hi = vmas.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            VmaState v = vmas.get(mid);
            if (addr < v.start()) hi = mid - 1;
            else if (addr >= v.end()) lo = mid + 1;
            else return v;
        }
        return null;
    }
}

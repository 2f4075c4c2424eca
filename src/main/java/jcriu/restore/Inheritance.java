package jcriu.restore;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcriu.image.PageStore;
import jcriu.state.ProcessState;
import jcriu.state.VmaState;
import jcriu.sys.Nr;

/**
 * What a process forked from its restored parent keeps of the parent's memory. A child is
 * cloned inside its parent once the parent's memory is back, so it starts with the parent's
 * mappings and, copy-on-write, its pages. A mapping the child has exactly as the parent has it
 * is kept, and only the pages that differ are written: pages that parent and child still
 * shared at dump time (which fork left them sharing) stay shared after the restore, and a
 * restored tree takes the memory the original took. Pages the parent has and the child had
 * not are dropped (MADV_DONTNEED), so they read as they did in the child.
 */
final class Inheritance implements AutoCloseable {
    private static final int MADV_DONTNEED = 4, MADV_DONTFORK = 10, MADV_WIPEONFORK = 18;
    private static final int PAGE = 4096;

    private final List<VmaState> kept;
    private final PageStore parentPages, childPages;
    private final Arena arena = Arena.ofShared();
    private final Map<Path, MemorySegment> files = new HashMap<>();
    private long shared, written, dropped;

    private Inheritance(List<VmaState> kept, PageStore parentPages, PageStore childPages) {
        this.kept = kept;
        this.parentPages = parentPages;
        this.childPages = childPages;
    }

    static Inheritance between(ProcessState parent, PageStore parentPages, ProcessState child, PageStore childPages) {
        List<VmaState> kept = new ArrayList<>();
        for (VmaState v : child.mm().vmas()) {
            if (inheritable(v) && parent.mm().vmas().stream().anyMatch(p -> same(p, v))) kept.add(v);
        }
        return new Inheritance(kept, parentPages, childPages);
    }

    /** Mappings fork copies as they are: not the kernel's own, nor those marked not to be (or to be wiped). */
    private static boolean inheritable(VmaState v) {
        if (v.special()) return false;
        for (int a : v.madvise()) if (a == MADV_DONTFORK || a == MADV_WIPEONFORK) return false;
        return true;
    }

    private static boolean same(VmaState a, VmaState b) {
        return a.start() == b.start() && a.end() == b.end() && a.prot() == b.prot() && a.flags() == b.flags()
                && a.kind() == b.kind() && a.pgoff() == b.pgoff() && a.ino() == b.ino()
                && java.util.Objects.equals(a.path(), b.path()) && Arrays.equals(a.madvise(), b.madvise());
    }

    boolean keeps(VmaState v) {
        return kept.stream().anyMatch(k -> k.start() == v.start() && k.end() == v.end());
    }

    List<VmaState> kept() {
        return kept;
    }

    /**
     * Makes the kept private mappings hold exactly the child's pages: the child's pages that
     * differ from the parent's are written (through /proc/PID/mem, which writes read-only
     * mappings too), the parent's pages the child had not are dropped.
     */
    long patch(Target t) throws IOException {
        for (VmaState v : kept) {
            if (v.kind() == VmaState.Kind.ANON_SHARED || v.kind() == VmaState.Kind.FILE_SHARED) continue; // one object
            for (PageStore.Slice s : childPages.slices()) {
                if (s.end() <= v.start() || s.addr() >= v.end()) continue;
                patchRun(t, s);
            }
            List<long[]> drop = new ArrayList<>();
            for (PageStore.Slice s : parentPages.slices()) {
                if (s.end() <= v.start() || s.addr() >= v.end()) continue;
                for (long a = s.addr(); a < s.end(); a += PAGE) {
                    if (childPages.page(a) != null) continue;
                    if (!drop.isEmpty() && drop.getLast()[1] == a) drop.getLast()[1] = a + PAGE;
                    else drop.add(new long[] {a, a + PAGE});
                }
            }
            for (long[] d : drop) {
                t.inj().call(String.format("madvise(%#x, MADV_DONTNEED)", d[0]), Nr.MADVISE, d[0], d[1] - d[0],
                        MADV_DONTNEED);
                dropped += (d[1] - d[0]) / PAGE;
            }
        }
        t.log().debug("process " + t.pid() + ": " + kept.size() + " mapping(s) kept from its parent, " + shared
                + " page(s) still shared, " + written + " written, " + dropped + " dropped");
        return written;
    }

    /** The child's pages of one stored run, written where they differ from what the parent left. */
    private void patchRun(Target t, PageStore.Slice s) throws IOException {
        MemorySegment child = file(s.file());
        long runStart = -1;
        for (long a = s.addr(); a <= s.end(); a += PAGE) {
            boolean write = false;
            if (a < s.end()) {
                long off = s.offset() + (a - s.addr());
                if (child.byteSize() < off + PAGE) {
                    throw new IOException(String.format("page %#x of process %d lies beyond the end of %s", a, t.pid(),
                            s.file()));
                }
                PageStore.Slice p = parentPages.page(a);
                write = p == null || !equal(child, off, file(p.file()), p.offset());
                if (!write) shared++;
            }
            if (write && runStart < 0) runStart = a;
            if (!write && runStart >= 0) {
                long from = s.offset() + (runStart - s.addr());
                t.mem().write(runStart, child.asSlice(from, a - runStart).toArray(ValueLayout.JAVA_BYTE));
                written += (a - runStart) / PAGE;
                runStart = -1;
            }
        }
    }

    private static boolean equal(MemorySegment a, long aOff, MemorySegment b, long bOff) {
        return b.byteSize() >= bOff + PAGE && MemorySegment.mismatch(a, aOff, aOff + PAGE, b, bOff, bOff + PAGE) == -1;
    }

    private MemorySegment file(Path p) throws IOException {
        MemorySegment m = files.get(p);
        if (m == null) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                m = ch.size() == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            files.put(p, m);
        }
        return m;
    }

    @Override
    public void close() {
        arena.close();
    }
}

package jcriu.dump;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

import jcriu.ptrace.TaskMemory;
import jcriu.state.PageRun;
import jcriu.sys.Sys;

/**
 * Copies page runs of a stopped process into the pages image in large batches: up to
 * 1024 runs or 8 MiB per process_vm_readv, then one sequential write. Runs in mappings
 * without read permission go through /proc/PID/mem, which can read them. With a parent
 * image (a pre-dump), a page whose content equals the parent's copy is not written but
 * recorded as "in parent".
 */
final class PageWriter implements AutoCloseable {
    private static final int BATCH_BYTES = 8 << 20;
    private static final int MAX_IOV = 1024;
    private static final int PAGE = 4096;

    private final int pid;
    private final TaskMemory mem;
    private final FileChannel out;
    private final ParentPages parent; // null: every page is written
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(BATCH_BYTES, 4096);
    private final long[] addr = new long[MAX_IOV];
    private final long[] len = new long[MAX_IOV];
    private final boolean[] mayUseParent = new boolean[MAX_IOV];
    private final boolean[] startsRun = new boolean[MAX_IOV]; // runs never merge across the caller's runs (mappings)
    private final LongConsumer progress;
    private final List<PageRun> present = new ArrayList<>();
    private final List<PageRun> inParent = new ArrayList<>();
    private int n;
    private boolean freshPresent = true, freshParent = true;
    private long fill;
    private long written;

    private final jcriu.api.Control control;

    PageWriter(int pid, TaskMemory mem, FileChannel out, ParentPages parent, LongConsumer progress,
               jcriu.api.Control control) {
        this.control = control;
        this.pid = pid;
        this.mem = mem;
        this.out = out;
        this.parent = parent;
        this.progress = progress;
    }

    /** Queues a run; {@code mayUseParent} false forces its pages into this image (the vDSO). */
    void add(PageRun run, boolean readable, boolean mayUseParent) throws IOException {
        long a = run.addr();
        long left = run.bytes();
        boolean first = true;
        while (left > 0) {
            if (n == MAX_IOV || fill == BATCH_BYTES) flush();
            long take = Math.min(left, BATCH_BYTES - fill);
            if (readable) {
                addr[n] = a;
                len[n] = take;
                this.mayUseParent[n] = mayUseParent;
                startsRun[n] = first;
                n++;
                fill += take;
            } else {
                flush();
                mem.read(a, buf.asSlice(0, take).asByteBuffer());
                addr[0] = a;
                len[0] = take;
                this.mayUseParent[0] = mayUseParent;
                startsRun[0] = first;
                n = 1;
                fill = take;
                emit();
            }
            a += take;
            left -= take;
            first = false;
        }
    }

    void flush() throws IOException {
        if (n == 0) return;
        control.reached("memory"); // once per batch: a cancellation need not wait for the whole copy
        long got = Sys.processVmReadv(pid, buf, addr, len, n);
        if (got != fill) {
            // A range became unreadable under us: fall back to /proc/PID/mem, which tells where.
            long off = 0;
            for (int i = 0; i < n; i++) {
                mem.read(addr[i], buf.asSlice(off, len[i]).asByteBuffer());
                off += len[i];
            }
        }
        emit();
    }

    /** Writes the batch in buf (ranges addr/len, packed), page by page against the parent if any. */
    private void emit() throws IOException {
        long off = 0, pendingFrom = -1;
        for (int i = 0; i < n; i++) {
            if (startsRun[i]) {
                freshPresent = true;
                freshParent = true;
            }
            for (long p = 0; p < len[i]; p += PAGE, off += PAGE) {
                long a = addr[i] + p;
                boolean same = parent != null && mayUseParent[i] && parent.same(a, buf.asSlice(off, PAGE));
                if (same) {
                    if (pendingFrom >= 0) writeOut(pendingFrom, off);
                    pendingFrom = -1;
                    record(inParent, a, freshParent);
                    freshParent = false;
                } else {
                    if (pendingFrom < 0) pendingFrom = off;
                    record(present, a, freshPresent);
                    freshPresent = false;
                }
            }
        }
        if (pendingFrom >= 0) writeOut(pendingFrom, off);
        n = 0;
        fill = 0;
    }

    private static void record(List<PageRun> runs, long a, boolean fresh) {
        PageRun last = runs.isEmpty() ? null : runs.getLast();
        if (!fresh && last != null && last.addr() + last.bytes() == a) {
            runs.set(runs.size() - 1, new PageRun(last.addr(), last.pages() + 1));
        } else {
            runs.add(new PageRun(a, 1));
        }
    }

    private void writeOut(long from, long to) throws IOException {
        ByteBuffer b = buf.asSlice(from, to - from).asByteBuffer();
        while (b.hasRemaining()) out.write(b);
        long before = written;
        written += to - from;
        if ((before >> 28) != (written >> 28)) progress.accept(written);
    }

    long written() { return written; }

    /** Runs whose pages are in this image's pages file, in file order. */
    List<PageRun> present() { return present; }

    /** Runs left to the parent image, equal there. */
    List<PageRun> inParent() { return inParent; }

    @Override
    public void close() { arena.close(); }
}

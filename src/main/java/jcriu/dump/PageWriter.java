package jcriu.dump;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.function.LongConsumer;

import jcriu.ptrace.TaskMemory;
import jcriu.state.PageRun;
import jcriu.sys.Sys;

/**
 * Copies page runs of a stopped process into the pages image in large batches: up to
 * 1024 runs or 8 MiB per process_vm_readv, then one sequential write. Runs in mappings
 * without read permission go through /proc/PID/mem, which can read them.
 */
final class PageWriter implements AutoCloseable {
    private static final int BATCH_BYTES = 8 << 20;
    private static final int MAX_IOV = 1024;

    private final int pid;
    private final TaskMemory mem;
    private final FileChannel out;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(BATCH_BYTES, 4096);
    private final long[] addr = new long[MAX_IOV];
    private final long[] len = new long[MAX_IOV];
    private final LongConsumer progress;
    private int n;
    private long fill;
    private long written;

    PageWriter(int pid, TaskMemory mem, FileChannel out, LongConsumer progress) {
        this.pid = pid;
        this.mem = mem;
        this.out = out;
        this.progress = progress;
    }

    void add(PageRun run, boolean readable) throws IOException {
        long a = run.addr();
        long left = run.bytes();
        while (left > 0) {
            if (n == MAX_IOV || fill == BATCH_BYTES) flush();
            long take = Math.min(left, BATCH_BYTES - fill);
            if (readable) {
                addr[n] = a;
                len[n] = take;
                n++;
                fill += take;
            } else {
                flush();
                ByteBuffer b = buf.asSlice(0, take).asByteBuffer();
                mem.read(a, b);
                writeOut(take);
            }
            a += take;
            left -= take;
        }
    }

    void flush() throws IOException {
        if (n == 0) return;
        long got = Sys.processVmReadv(pid, buf, addr, len, n);
        if (got != fill) {
            // A range became unreadable under us: fall back to /proc/PID/mem, which tells where.
            long off = 0;
            for (int i = 0; i < n; i++) {
                mem.read(addr[i], buf.asSlice(off, len[i]).asByteBuffer());
                off += len[i];
            }
        }
        long bytes = fill;
        n = 0;
        fill = 0;
        writeOut(bytes);
    }

    private void writeOut(long bytes) throws IOException {
        ByteBuffer b = buf.asSlice(0, bytes).asByteBuffer();
        while (b.hasRemaining()) out.write(b);
        long before = written;
        written += bytes;
        if ((before >> 28) != (written >> 28)) progress.accept(written);
    }

    long written() { return written; }

    @Override
    public void close() { arena.close(); }
}

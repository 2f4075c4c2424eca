package jcriu.ptrace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Another process's memory through {@code /proc/PID/mem}: one pread/pwrite per range,
 * and, unlike process_vm_readv, it reaches PROT_NONE and read-only pages too (FOLL_FORCE).
 * Needs ptrace access to the target, which a tracer has.
 */
public final class TaskMemory implements AutoCloseable {
    private final int pid;
    private final FileChannel ch;

    private TaskMemory(int pid, FileChannel ch) {
        this.pid = pid;
        this.ch = ch;
    }

    public static TaskMemory open(int pid, boolean writable) throws IOException {
        Path p = Path.of("/proc", Integer.toString(pid), "mem");
        return writable
                ? new TaskMemory(pid, FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE))
                : new TaskMemory(pid, FileChannel.open(p, StandardOpenOption.READ));
    }

    public int pid() { return pid; }

    /** Fills {@code dst} from {@code addr}; fails naming the address if the range is not mapped. */
    public void read(long addr, ByteBuffer dst) throws IOException {
        long a = addr;
        while (dst.hasRemaining()) {
            int n;
            try {
                n = ch.read(dst, a);
            } catch (IOException e) {
                throw new IOException(String.format("reading memory of pid %d at %#x: %s", pid, a, e.getMessage()), e);
            }
            if (n <= 0) throw new IOException(String.format("reading memory of pid %d at %#x: not mapped", pid, a));
            a += n;
        }
    }

    public byte[] read(long addr, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        read(addr, b);
        return b.array();
    }

    public long readLong(long addr) throws IOException {
        return ByteBuffer.wrap(read(addr, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    public void write(long addr, ByteBuffer src) throws IOException {
        long a = addr;
        while (src.hasRemaining()) {
            int n;
            try {
                n = ch.write(src, a);
            } catch (IOException e) {
                throw new IOException(String.format("writing memory of pid %d at %#x: %s", pid, a, e.getMessage()), e);
            }
            if (n <= 0) throw new IOException(String.format("writing memory of pid %d at %#x: not mapped", pid, a));
            a += n;
        }
    }

    public void write(long addr, byte[] data) throws IOException {
        write(addr, ByteBuffer.wrap(data));
    }

    public void writeLong(long addr, long value) throws IOException {
        write(addr, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value));
    }

    @Override
    public void close() throws IOException { ch.close(); }
}

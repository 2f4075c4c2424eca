package jcriu.image;

import java.io.IOException;
import java.nio.file.Path;

import jcriu.sys.Errno;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * flock(2) on an images directory itself: a dump holds it exclusively while it writes and
 * publishes a set, a restore shared while it reads one, so neither sees the other's half
 * work. The kernel drops the lock when jcriu dies, however it dies.
 */
public final class DirLock implements AutoCloseable {
    private final Path dir;
    private final int fd;
    private boolean closed;

    private DirLock(Path dir, int fd) {
        this.dir = dir;
        this.fd = fd;
    }

    /** For writing a set: fails at once if any other jcriu uses the directory (EWOULDBLOCK is EAGAIN). */
    public static DirLock exclusive(Path dir) throws IOException {
        return take(dir, Sys.LOCK_EX, "another jcriu command is using it");
    }

    /** For reading a set: fails at once if a dump is writing into the directory. */
    public static DirLock shared(Path dir) throws IOException {
        return take(dir, Sys.LOCK_SH, "a dump is writing into it");
    }

    private static DirLock take(Path dir, int op, String busy) throws IOException {
        int fd;
        try {
            fd = Sys.open(dir.toString(), Sys.O_RDONLY | Sys.O_DIRECTORY | Sys.O_CLOEXEC);
        } catch (SysException e) {
            throw new IOException("cannot open images directory " + dir + ": " + e.getMessage(), e);
        }
        DirLock l = new DirLock(dir, fd);
        l.lock(op, busy);
        return l;
    }

    /** Turns a shared lock into an exclusive one (to complete an interrupted publication), or back. */
    public void relock(boolean exclusive) throws IOException {
        lock(exclusive ? Sys.LOCK_EX : Sys.LOCK_SH, "another jcriu command is using it");
    }

    private void lock(int op, String busy) throws IOException {
        long r = Sys.flock(fd, op | Sys.LOCK_NB);
        if (r == -Errno.EAGAIN) {
            close();
            throw new IOException("images directory " + dir + " is busy: " + busy);
        }
        if (r < 0) {
            close();
            throw new IOException("cannot lock images directory " + dir + ": " + Errno.name((int) -r));
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Sys.close(fd);
    }
}

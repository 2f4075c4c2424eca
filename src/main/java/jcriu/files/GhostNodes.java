package jcriu.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

import jcriu.sys.FdSys;
import jcriu.sys.Sys;

/**
 * Unlinked files that are not regular files, made again for a restore: a FIFO or a symlink
 * is created under a temporary name beside its old one (the same directory, so the same
 * file system), opened, and unlinked at once; only the open description remains, as at the
 * dump. A failure leaves no name behind.
 */
public final class GhostNodes {
    private static final int S_IFIFO = 0010000;
    private static final int O_PATH = 010000000, O_NOFOLLOW = 0400000, O_CLOEXEC = 02000000;

    private GhostNodes() {}

    /** A FIFO with {@code mode}'s permissions, opened with {@code flags} (which must not block) and unlinked. */
    public static int fifo(String path, int mode, int flags) throws IOException {
        String tmp = temporaryName(path);
        FdSys.mknod(tmp, S_IFIFO | 0600);
        try {
            int fd = Sys.open(tmp, flags);
            try {
                Files.setAttribute(Path.of("/proc/self/fd/" + fd), "unix:mode", mode & 07777);
                return fd;
            } catch (IOException | RuntimeException e) {
                Sys.close(fd);
                throw e;
            }
        } finally {
            FdSys.unlink(tmp);
        }
    }

    /** A symlink to {@code target}, opened O_PATH|O_NOFOLLOW (close-on-exec) and unlinked. */
    public static int symlink(String path, String target) throws IOException {
        String tmp = temporaryName(path);
        FdSys.symlink(target, tmp);
        try {
            return Sys.open(tmp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        } finally {
            FdSys.unlink(tmp);
        }
    }

    /** A name no file has, in the directory of {@code path}; refused when that directory is gone. */
    private static String temporaryName(String path) throws IOException {
        Path dir = Path.of(path).getParent();
        if (dir == null || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot make the deleted " + path + " again: its directory " + dir + " is gone");
        }
        for (int i = 0; i < 100; i++) {
            Path p = dir.resolve(Path.of(path).getFileName() + ".jcriu-ghost." + Long.toHexString(
                    ThreadLocalRandom.current().nextLong() & 0xffffffffL));
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return p.toString();
        }
        throw new IOException("no free temporary name beside " + path);
    }
}

package jcriu.proc;

import java.util.List;
import java.util.Optional;

/**
 * One open file descriptor: /proc/PID/fd/N, /proc/PID/fdinfo/N and a stat of the object.
 *
 * @param fd     the descriptor number
 * @param kind   classification from the link target and the stat
 * @param target readlink of /proc/PID/fd/N: "/path", "/path (deleted)", "pipe:[123]",
 *               "socket:[123]", "anon_inode:[eventfd]", "/dev/pts/3", ...
 * @param pos    file position (fdinfo pos)
 * @param flags  open flags (fdinfo flags, octal there); includes O_CLOEXEC when close-on-exec
 * @param mntId  mount id (see /proc/PID/mountinfo)
 * @param ino    inode number from fdinfo (same as {@code stat.ino()})
 * @param stat   stat of the object behind the descriptor
 * @param extra  further fdinfo lines verbatim (eventfd-count, tfd, inotify, tty-index, ...)
 */
public record FdInfo(int fd, FdKind kind, String target, long pos, int flags, int mntId, long ino, FileStat stat,
                     List<String> extra) {
    public static final int O_ACCMODE = 03;
    public static final int O_RDONLY = 0, O_WRONLY = 01, O_RDWR = 02;
    public static final int O_APPEND = 02000, O_NONBLOCK = 04000, O_DIRECT = 040000, O_LARGEFILE = 0100000,
            O_DIRECTORY = 0200000, O_NOATIME = 01000000, O_CLOEXEC = 02000000, O_PATH = 010000000;

    public FdInfo {
        extra = List.copyOf(extra);
    }

    public boolean cloexec() {
        return (flags & O_CLOEXEC) != 0;
    }

    /** O_RDONLY, O_WRONLY or O_RDWR. */
    public int accessMode() {
        return flags & O_ACCMODE;
    }

    /** The path behind the link was unlinked (the kernel appended " (deleted)"). */
    public boolean deleted() {
        return target.startsWith("/") && target.endsWith(Vma.DELETED_SUFFIX);
    }

    /** For targets that are paths, the path without " (deleted)"; else empty. */
    public Optional<String> path() {
        if (!target.startsWith("/")) return Optional.empty();
        return Optional.of(deleted() ? target.substring(0, target.length() - Vma.DELETED_SUFFIX.length()) : target);
    }

    /** For {@code anon_inode:[eventfd]} "[eventfd]", for {@code anon_inode:inotify} "inotify"; else empty. */
    public Optional<String> anonInodeName() {
        return target.startsWith("anon_inode:") ? Optional.of(target.substring("anon_inode:".length())) : Optional.empty();
    }
}

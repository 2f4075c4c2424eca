package jcriu.state;

/**
 * An open file descriptor: what it refers to, and how it was opened. {@code sharesWith} is
 * the lower fd that refers to the same open file description (dup, fork), or -1: such fds
 * share one offset and must be restored by dup, not by a second open. For a pipe,
 * {@code path} is "pipe:[INODE]" and {@code pos} holds the inode.
 */
public record FdState(int fd, Kind kind, String path, int flags, long pos, boolean cloexec, int sharesWith) {
    public enum Kind { REGULAR, DIRECTORY, CHAR_DEVICE, INHERITED_TTY, PIPE }

    public static final int O_ACCMODE = 03, O_RDONLY = 0, O_WRONLY = 01;

    /** The inode of a pipe end. */
    public long pipeIno() {
        if (kind != Kind.PIPE) throw new IllegalStateException("fd " + fd + " is not a pipe");
        return pos;
    }

    public boolean readEnd() {
        return (flags & O_ACCMODE) == O_RDONLY;
    }
}

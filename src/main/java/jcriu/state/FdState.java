package jcriu.state;

/**
 * An open file descriptor: what it refers to, and how it was opened. {@code sharesWith} is
 * the lower fd that refers to the same open file description (dup, fork), or -1: such fds
 * share one offset and must be restored by dup, not by a second open.
 */
public record FdState(int fd, Kind kind, String path, int flags, long pos, boolean cloexec, int sharesWith) {
    public enum Kind { REGULAR, DIRECTORY, CHAR_DEVICE, INHERITED_TTY }
}

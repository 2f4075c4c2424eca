package jcriu.state;

/** An open file descriptor: what it refers to, and how it was opened. */
public record FdState(int fd, Kind kind, String path, int flags, long pos, boolean cloexec) {
    public enum Kind { REGULAR, DIRECTORY, CHAR_DEVICE, INHERITED_TTY }
}

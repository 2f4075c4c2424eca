package jcriu.state;

/**
 * An open file descriptor of a process: its number, the open file description it refers to
 * (the id of a {@link jcriu.files.OpenFile} of the tree, shared by every fd, of any
 * process, that refers to the same description) and its close-on-exec flag.
 */
public record FdState(int fd, int fileId, boolean cloexec) {}

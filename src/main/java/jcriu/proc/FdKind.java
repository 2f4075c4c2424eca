package jcriu.proc;

/** What an open file descriptor refers to; see {@link FdInfo#kind()}. */
public enum FdKind {
    REGULAR_FILE,
    /** A regular file that has been unlinked (link target ends in " (deleted)"), memfds excepted. */
    DELETED,
    /** memfd_create(): {@code /memfd:NAME (deleted)}. */
    MEMFD,
    DIRECTORY,
    /** A character device other than a terminal. */
    CHAR_DEVICE,
    /** Character devices of major 4 (tty*, ttyS*), 5 (/dev/tty, /dev/console, /dev/ptmx) and 136-143 (/dev/pts/*). */
    TTY,
    BLOCK_DEVICE,
    /** An unnamed pipe ({@code pipe:[ino]}). */
    PIPE,
    /** A named pipe opened by path. */
    FIFO,
    SOCKET,
    /** eventfd, eventpoll, signalfd, timerfd, inotify, pidfd, ...: {@code anon_inode:[name]}. */
    ANON_INODE,
    /** Anything else, e.g. namespace files ({@code net:[4026531840]}) or O_PATH fds on symlinks. */
    OTHER
}

package jcriu.files;

import java.io.IOException;

/**
 * What saving a description may use besides the fd's /proc entries: the frozen process it
 * belongs to, a copy of the description in jcriu (for the kinds whose state only a system
 * call tells, such as a timerfd's time left) and the dump's options.
 */
public interface SaveContext {
    int pid();

    /** fds 0-2 on a terminal are taken from the restoring jcriu ({@code --shell-job}). */
    boolean shellJob();

    /**
     * A new fd of jcriu's on the description behind {@code fd} of the process (pidfd_getfd): the
     * very same description, so its state can be asked without touching the process. The
     * caller closes it.
     */
    int borrow(int fd) throws IOException;

    /** The most bytes of a deleted file the dump saves (CRIU's --ghost-limit); a larger one is refused. */
    long ghostLimit();

    /** Whether file locks are dumped (CRIU's --file-locks); without it a lock is refused. */
    boolean fileLocks();

    /**
     * The socket behind {@code fd} of the process, read by the dump's sockets reader (which
     * gives the files in flight in its queue to the dump's file table), or a refusal naming it.
     */
    jcriu.net.Socket socket(jcriu.proc.FdInfo fd) throws IOException;

    /** Something the dump loses but may go on without; the log says it. */
    void warn(String message);
}

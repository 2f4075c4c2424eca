package jcriu.files;

import java.io.IOException;
import java.util.List;

/**
 * A restored process whose fds are all in place, as the kinds that need work inside it see
 * it: what is registered under the process's own fd numbers (epoll targets), owned by the
 * process rather than by the description (POSIX locks) or must name the process (F_SETOWN)
 * is done by system calls injected here.
 */
public interface ProcessFiles {
    int pid();

    /** Runs a system call in the process; throws naming {@code what} on failure. */
    long call(String what, int nr, long... args);

    /** Runs a system call in the process and returns what it returned, -errno on failure. */
    long raw(int nr, long... args);

    /** A debug line in the restore's log. */
    void log(String message);

    /** Copies {@code bytes} into scratch memory of the process and returns their address there. */
    long put(byte[] bytes) throws IOException;

    /** The id of the description behind fd {@code fd} of the process, or -1 if the fd is not open. */
    int fileAt(int fd);

    /** The process's fds on description {@code id}, ascending. */
    List<Integer> fdsOf(int id);

    /** Whether fd {@code fd} of the process is close-on-exec. */
    boolean cloexec(int fd);

    /**
     * Description {@code id} (of any process of the tree) copied into the process at a free fd,
     * close-on-exec; the caller closes it.
     */
    int borrow(int id) throws IOException;

    /** jcriu's own fd on description {@code id} (opened in jcriu, shared with the process). */
    int opened(int id) throws IOException;
}

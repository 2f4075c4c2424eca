package jcriu.files;

import java.io.IOException;

/**
 * What opening a description at restore may need beyond the description itself: the
 * objects several descriptions share (a pipe's two ends), and the fds jcriu was started with.
 */
public interface FileOpener {
    /**
     * jcriu's fd of one end of pipe {@code ino}. The pipe is created (and filled) once; each
     * call is for another description of that end, so a later call opens the end again
     * through /proc, as a second open of /proc/PID/fd/N made it at dump time.
     */
    int pipeEnd(long ino, boolean readEnd) throws IOException;

    /** jcriu's own fd {@code fd} (0-2), which a {@code --shell-job} restore hands on. */
    int inherited(int fd) throws IOException;

    /** jcriu's fd of socket file {@code id}; the tree's sockets are made together, at the first call. */
    int socket(int id) throws IOException;

    /** jcriu's fd of file {@code id} of the dump, opened once (a file in flight in a socket's queue). */
    int file(int id) throws IOException;
}

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

    /** jcriu's own fd given for {@code key} with --inherit-fd ({@code pipe:[INODE]}). */
    int inheritedFor(String key) throws IOException;

    /** jcriu's own fd {@code fd} (0-2), which a {@code --shell-job} restore hands on. */
    int inherited(int fd) throws IOException;

    /** jcriu's fd of socket file {@code id}; the tree's sockets are made together, at the first call. */
    int socket(int id) throws IOException;

    /** jcriu's fd of file {@code id} of the dump, opened once (a file in flight in a socket's queue). */
    int file(int id) throws IOException;

    /**
     * Whether a file reopened by path must have the size and permissions it had at the dump
     * (false when the restore is told to skip that check).
     */
    boolean checkFiles();

    /**
     * jcriu's fd on deleted file {@code path} made again (and unlinked again) for the whole
     * tree, the same file its shared mappings use; {@code f} holds its content.
     */
    int ghost(DeletedFile f) throws IOException;

    /**
     * {@link #ghost} of the tree's deleted file that was inode {@code ino} on device
     * {@code major:minor} at the dump (what an inotify watch on it names), or a failure naming it.
     */
    int deletedFile(int major, int minor, long ino) throws IOException;

    /**
     * jcriu's fd (read-write) on FIFO {@code f} (by its inode at dump), opened (or made again
     * when it was deleted) and refilled with its unread bytes once per FIFO.
     */
    int fifo(Fifo f) throws IOException;

    /**
     * jcriu's fd on side {@code p} of a pty pair made again for the whole tree with its index:
     * the master (one description), or a new description of the slave.
     */
    int pty(Pty p) throws IOException;

    /** jcriu's fd on memfd {@code m} made again for the whole tree, the one its mappings use. */
    int memfd(Memfd m) throws IOException;

    /**
     * jcriu's fd (O_RDONLY|O_DIRECTORY) on deleted directory {@code d} made again at its path
     * for the whole tree (once per directory), removed again once every process holds it.
     */
    int ghostDirectory(DeletedDirectory d) throws IOException;

    /**
     * True once per memfd: the first read-write description of {@code m} may take the
     * description memfd_create made. That one alone does not count as a writer of the inode,
     * so execveat() of the memfd works (ETXTBSY otherwise) as it did before the dump.
     */
    boolean takeCreated(Memfd m);
}

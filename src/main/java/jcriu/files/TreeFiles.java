package jcriu.files;

import java.io.IOException;

/** The dumped tree's descriptions, as a kind that refers to other descriptions sees them. */
public interface TreeFiles {
    /**
     * The id of the description that epoll {@code efd} of process {@code pid} watches as its
     * {@code toff}-th target registered under fd number {@code tfd} (inode {@code ino}), or -1 if
     * no fd of the tree refers to that file any more.
     */
    int epollTarget(int pid, int efd, int tfd, int toff, long ino) throws IOException;

    /**
     * {@code preferred} if fd {@code preferred} of {@code pid} holds description {@code fileId},
     * else the lowest fd of {@code pid} that does, else -1.
     */
    int fdHolding(int pid, int fileId, int preferred);

    /** Every description of the tree read so far. */
    java.util.List<OpenFile> all();

    /** fds 0-2 on a terminal held outside the tree are taken from the restoring jcriu ({@code --shell-job}). */
    boolean shellJob();

    /** Whether {@code pid} is a live process of the dumped tree (its fds are dumped). */
    boolean holds(int pid);

    /** The lowest id of the tree's descriptions of kind {@code kind} on inode {@code ino}. */
    int firstOnInode(Class<? extends OpenFile> kind, long ino);
}

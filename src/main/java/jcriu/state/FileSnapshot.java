package jcriu.state;

/**
 * The whole content of a small file that the process maps shared, with the owner and mode
 * to recreate it. {@code deleted}: the file was unlinked while mapped (POSIX semaphores and
 * shared memory of sem_open/shm_open, unlinked at once); the restore makes such a file again,
 * maps it into every process that mapped it, and unlinks it. Such a file is part of the process's memory (a JVM's hsperfdata, a
 * shared-memory segment on tmpfs); if it is gone at restore time, it is written back from here.
 */
public record FileSnapshot(String path, int mode, int uid, int gid, byte[] content, boolean deleted, long ino) {
    /**
     * {@code ino}: the file's inode at dump time, 0 when unknown. Paths name files, except a
     * memfd's ({@code /memfd:NAME}), which any number of memfds share: those are told apart by it.
     */
    public FileSnapshot(String path, int mode, int uid, int gid, byte[] content, boolean deleted) {
        this(path, mode, uid, gid, content, deleted, 0);
    }

    /** Whether this is the file mapping {@code v} maps: same path and, when both are known, same inode. */
    public boolean of(VmaState v) {
        return path.equals(v.path()) && (ino == 0 || v.ino() == 0 || ino == v.ino());
    }

    /**
     * Larger shared file mappings are only referenced, as CRIU does: the file must still exist.
     * A deleted file mapped shared is kept up to this size too (CRIU's default --ghost-limit)
     * and refused above it.
     */
    public static final long MAX_SIZE = 1 << 20;
}

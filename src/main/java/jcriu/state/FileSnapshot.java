package jcriu.state;

/**
 * The whole content of a small file that the process maps shared, with the owner and mode
 * to recreate it. Such a file is part of the process's memory (a JVM's hsperfdata, a
 * shared-memory segment on tmpfs); if it is gone at restore time, it is written back from here.
 */
public record FileSnapshot(String path, int mode, int uid, int gid, byte[] content) {
    /** Larger shared file mappings are only referenced, as CRIU does: the file must still exist. */
    public static final long MAX_SIZE = 1 << 20;
}

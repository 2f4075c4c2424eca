package jcriu.proc;

/**
 * The stat(2) fields the fd classification needs. {@code dev} and {@code rdev} use glibc's
 * dev_t encoding, which {@link #major} and {@link #minor} decode.
 */
public record FileStat(int mode, long dev, long ino, long rdev) {
    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    /** The S_IFMT bits; 0 for anon inodes, which have no file type. */
    public int type() {
        return mode & S_IFMT;
    }

    public int rdevMajor() {
        return major(rdev);
    }

    public int rdevMinor() {
        return minor(rdev);
    }

    /** gnu_dev_major(). */
    public static int major(long dev) {
        return (int) (((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL));
    }

    /** gnu_dev_minor(). */
    public static int minor(long dev) {
        return (int) ((dev & 0xff) | ((dev >>> 12) & ~0xffL));
    }

    /** gnu_dev_makedev(). */
    public static long makedev(int major, int minor) {
        long ma = major & 0xffffffffL, mi = minor & 0xffffffffL;
        return ((ma & 0xfffL) << 8) | ((ma & ~0xfffL) << 32) | (mi & 0xffL) | ((mi & ~0xffL) << 12);
    }
}

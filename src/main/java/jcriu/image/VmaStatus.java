package jcriu.image;

/**
 * VmaEntry.status bits, CRIU's VMA_* values (criu/include/image.h). They are
 * part of the image format: restore and crit interpret them.
 */
public final class VmaStatus {
    private VmaStatus() {}

    /** Set on every mapping whose contents are dumped and restored. */
    public static final int AREA_REGULAR = 1;
    public static final int AREA_STACK = 1 << 1;
    public static final int AREA_VSYSCALL = 1 << 2;
    public static final int AREA_VDSO = 1 << 3;
    public static final int AREA_HEAP = 1 << 5;
    public static final int FILE_PRIVATE = 1 << 6;
    public static final int FILE_SHARED = 1 << 7;
    public static final int ANON_SHARED = 1 << 8;
    public static final int ANON_PRIVATE = 1 << 9;
    public static final int AREA_SYSVIPC = 1 << 10;
    public static final int AREA_SOCKET = 1 << 11;
    public static final int AREA_VVAR = 1 << 12;
    public static final int AREA_AIORING = 1 << 13;
    public static final int AREA_MEMFD = 1 << 14;
    public static final int AREA_SHSTK = 1 << 15;
    public static final int AREA_GUARD = 1 << 16;
    public static final int AREA_UPROBES = 1 << 17;
}

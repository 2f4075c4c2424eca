package jcriu.state;

/**
 * One mapping to recreate. {@code prot} and {@code flags} use mmap's PROT_* and MAP_*
 * values (MAP_DROPPABLE as the type of droppable memory, never MAP_LOCKED: locks are in
 * {@code attrs}); {@code path} is the backing file (null for anonymous memory); {@code madvise}
 * lists the MADV_* advice to reapply (hugepage, dontdump, ...).
 */
public record VmaState(long start, long end, long pgoff, int prot, int flags, Kind kind, String path,
                       long dev, long ino, int[] madvise, VmaAttrs attrs) {
    public enum Kind { ANON_PRIVATE, ANON_SHARED, FILE_PRIVATE, FILE_SHARED, HEAP, STACK, VDSO, VVAR, VVAR_VCLOCK, VSYSCALL }

    public static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    public static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_DROPPABLE = 8, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20,
            MAP_LOCKED = 0x2000,
            MAP_GROWSDOWN = 0x100, MAP_NORESERVE = 0x4000, MAP_FIXED_NOREPLACE = 0x100000;

    public long size() { return end - start; }

    /** Mappings the kernel provides; they are moved into place, never mapped from pages. */
    public boolean special() {
        return kind == Kind.VDSO || kind == Kind.VVAR || kind == Kind.VVAR_VCLOCK || kind == Kind.VSYSCALL;
    }

    /**
     * Whether page contents are dumped at all: shared file mappings live in their file, and
     * droppable memory comes back zero, as the kernel may make it at any moment (what it holds,
     * getrandom's state for one, must not be replayed by a second restore of the same images).
     */
    public boolean hasPrivateContent() {
        return kind != Kind.FILE_SHARED && kind != Kind.VVAR && kind != Kind.VVAR_VCLOCK && kind != Kind.VSYSCALL
                && (flags & 0xf) != MAP_DROPPABLE;
    }
}

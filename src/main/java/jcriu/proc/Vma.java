package jcriu.proc;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One line of /proc/PID/maps plus, when read from smaps, its VmFlags and sizes.
 *
 * @param start    first address
 * @param end      first address past the mapping
 * @param perms    the raw four characters, e.g. {@code r-xp}
 * @param pgoff    offset into the file in bytes (0 for anonymous memory)
 * @param devMajor device of the backing file's filesystem
 * @param devMinor ditto
 * @param inode    inode of the backing file, 0 when none
 * @param name     what follows the inode: a path (with {@code " (deleted)"} when unlinked), a
 *                 bracketed name such as {@code [heap]} or {@code [anon:name]}, or empty; a newline
 *                 in a path appears as the kernel's escape {@code \012}
 * @param vmFlags  the two-letter VmFlags codes (rd wr ex ...), empty when read from maps
 * @param rss      resident bytes, -1 when read from maps
 * @param anonymous anonymous resident bytes, -1 when read from maps
 * @param swap     swapped-out bytes, -1 when read from maps
 */
public record Vma(long start, long end, String perms, long pgoff, int devMajor, int devMinor, long inode,
                  String name, Set<String> vmFlags, long rss, long anonymous, long swap) {

    public static final String DELETED_SUFFIX = " (deleted)";

    public Vma {
        Objects.requireNonNull(perms, "perms");
        Objects.requireNonNull(name, "name");
        if (perms.length() != 4 || "r-".indexOf(perms.charAt(0)) < 0 || "w-".indexOf(perms.charAt(1)) < 0
                || "x-".indexOf(perms.charAt(2)) < 0 || "sp".indexOf(perms.charAt(3)) < 0) {
            throw new IllegalArgumentException("bad perms '" + perms + "'");
        }
        if (Long.compareUnsigned(start, end) > 0) {
            throw new IllegalArgumentException("start " + Long.toHexString(start) + " above end " + Long.toHexString(end));
        }
        vmFlags = Collections.unmodifiableSet(new LinkedHashSet<>(vmFlags));
    }

    public boolean read() {
        return perms.charAt(0) == 'r';
    }

    public boolean write() {
        return perms.charAt(1) == 'w';
    }

    public boolean exec() {
        return perms.charAt(2) == 'x';
    }

    /** VM_MAYSHARE: the mapping was made with MAP_SHARED ('s'). */
    public boolean shared() {
        return perms.charAt(3) == 's';
    }

    /** MAP_PRIVATE ('p'). */
    public boolean privateMapping() {
        return !shared();
    }

    public long size() {
        return end - start;
    }

    public long pages() {
        return size() / 4096;
    }

    public boolean contains(long addr) {
        return Long.compareUnsigned(addr, start) >= 0 && Long.compareUnsigned(addr, end) < 0;
    }

    /** Whether VmFlags has {@code code} (e.g. "gd", "nh", "dd"). */
    public boolean hasFlag(String code) {
        return vmFlags.contains(code);
    }

    /** Whether the VmFlags/size fields were read (from smaps) rather than left empty (maps). */
    public boolean hasSmapsData() {
        return rss >= 0;
    }

    /**
     * Whether the kernel has a file behind the mapping (vm_file). True for paths, for shared
     * anonymous memory (its shmem file) and anon_inode mappings; false for plain anonymous
     * memory and kernel-named areas such as [heap] and [vdso].
     */
    public boolean fileBacked() {
        return inode != 0 || devMajor != 0 || devMinor != 0 || name.startsWith("/");
    }

    /** The backing file was unlinked: the kernel appended {@code " (deleted)"} to its path. */
    public boolean deleted() {
        return fileBacked() && name.endsWith(DELETED_SUFFIX);
    }

    /** For file-backed mappings, the path without the {@code " (deleted)"} suffix; else empty. */
    public Optional<String> path() {
        if (!fileBacked() || !name.startsWith("/")) return Optional.empty();
        return Optional.of(deleted() ? name.substring(0, name.length() - DELETED_SUFFIX.length()) : name);
    }

    /** The name given with PR_SET_VMA_ANON_NAME ({@code [anon:x]} or {@code [anon_shmem:x]}), if any. */
    public Optional<String> anonName() {
        for (String p : new String[] {"[anon:", "[anon_shmem:"}) {
            if (name.startsWith(p) && name.endsWith("]")) return Optional.of(name.substring(p.length(), name.length() - 1));
        }
        return Optional.empty();
    }

    /**
     * What the mapping is. Order matters: the kernel's own names first, then shared anonymous
     * memory (which, being shmem, has a file), then files, then plain anonymous memory.
     */
    public VmaKind kind() {
        switch (name) {
            case "[heap]": return VmaKind.HEAP;
            case "[stack]": return VmaKind.STACK;
            case "[vdso]": return VmaKind.VDSO;
            case "[vvar]": return VmaKind.VVAR;
            case "[vvar_vclock]": return VmaKind.VVAR_VCLOCK;
            case "[vsyscall]": return VmaKind.VSYSCALL;
            case "[uprobes]": return VmaKind.UPROBES;
            default: break;
        }
        if (name.startsWith("[anon_shmem:")) return VmaKind.ANON_SHARED;
        if (fileBacked()) {
            // shmem_zero_setup() gives every MAP_SHARED|MAP_ANONYMOUS mapping (and shared
            // mappings of /dev/zero) an unlinked shmem file named "dev/zero".
            if (shared() && name.equals("/dev/zero" + DELETED_SUFFIX)) return VmaKind.ANON_SHARED;
            if (name.startsWith("/SYSV") && name.endsWith(DELETED_SUFFIX)) return VmaKind.SYSV_SHM;
            if (name.equals("/[aio]" + DELETED_SUFFIX)) return VmaKind.AIO_RING;
            if (!name.startsWith("/")) return VmaKind.OTHER; // anon_inode:... and the like
            return shared() ? VmaKind.FILE_SHARED : VmaKind.FILE_PRIVATE;
        }
        if (name.isEmpty() || name.startsWith("[anon:")) return shared() ? VmaKind.ANON_SHARED : VmaKind.ANON_PRIVATE;
        return VmaKind.OTHER;
    }

    @Override
    public String toString() {
        return String.format("%x-%x %s %08x %02x:%02x %d %s", start, end, perms, pgoff, devMajor, devMinor, inode, name);
    }
}

package jcriu.image;

import java.io.IOException;

import jcriu.image.pb.TaskKobjIdsEntry;

/**
 * What CRIU's restore requires of an image set beyond each field's own meaning: facts from
 * CRIU 4.2's code, cited where they are used. jcriu's codec writes through these so that CRIU
 * restores its images, and reads through them so that it restores CRIU's.
 */
public final class CriuLayout {
    private CriuLayout() {}

    /**
     * inventory.img root_ids: the kernel objects of the dumping process itself. CRIU compares the
     * root task's ids with these (criu/pstree.c, get_clone_mask() in prepare_pstree_kobj_ids()):
     * an equal files_id means "shares its fd table with its parent", which for the root task is
     * "Image corruption on kIDs data"; equal namespace ids mean "in the same namespaces as the
     * restorer", which is what jcriu's images are (it writes no namespace ids: 0 on both sides).
     */
    public static TaskKobjIdsEntry dumperIds() {
        return TaskKobjIdsEntry.newBuilder().setVmId(1).setFilesId(1).setFsId(1).setSighandId(1).build();
    }

    /** ids-PID.img of the dumped process: its own mm, fd table, fs and signal handlers (ids 2, as CRIU numbers them). */
    public static TaskKobjIdsEntry taskIds() {
        return TaskKobjIdsEntry.newBuilder().setVmId(2).setFilesId(2).setFsId(2).setSighandId(2).build();
    }

    /**
     * The fd table's id, which names fdinfo-ID.img (CRIU's criu/files.c opens
     * CR_FD_FDINFO with the task's files_id). Read from ids-PID.img, so that images numbered
     * otherwise (CRIU's, or older jcriu's with 1) are read as written.
     */
    public static int filesId(ImageDir dir, int pid) throws IOException {
        try (ImageInput in = dir.open(ImageFile.ids(pid))) {
            return in.single(TaskKobjIdsEntry.parser()).getFilesId();
        }
    }

    /**
     * reg_file_entry.mode is the whole st_mode, type and permission bits: CRIU's restore compares
     * it with the reopened file's (criu/files-reg.c, open_path(): "File %s has bad mode") unless
     * --skip-file-rwx-check. jcriu's state keeps the type only, so the permission bits are read
     * while the dump runs (the process is frozen); {@code typeBits} alone when the path cannot be read.
     */
    public static int fullMode(String path, int typeBits) {
        try {
            int m = (Integer) java.nio.file.Files.getAttribute(java.nio.file.Path.of(path), "unix:mode");
            return (m & 0170000) == typeBits ? m : typeBits;
        } catch (IOException | RuntimeException e) {
            return typeBits;
        }
    }

    /**
     * task_core_entry.timers: CRIU's restore reads the interval and POSIX timers from here and,
     * when the field is absent, falls back to the old posix-timers image, which it refuses as
     * deprecated (criu/timer.c, prepare_posix_timers()). So the field is always there: this
     * default (all three itimers disarmed, no POSIX timer) is replaced by the saved timers
     * ({@link AttrsCodec#putCore}) when the process has any.
     */
    public static jcriu.image.pb.TaskTimersEntry noTimers() {
        jcriu.image.pb.ItimerEntry off = jcriu.image.pb.ItimerEntry.newBuilder().setIsec(0).setIusec(0).setVsec(0)
                .setVusec(0).build();
        return jcriu.image.pb.TaskTimersEntry.newBuilder().setReal(off).setVirt(off).setProf(off).build();
    }

    /** CRIU's limit on mm_saved_auxv for x86_64 (criu/arch/x86/include/asm/types.h: AT_VECTOR_SIZE). */
    public static final int CRIU_AUXV_MAX = 44;

    /**
     * mm_saved_auxv without its terminating AT_NULL pairs. CRIU's restore refuses more than 44
     * words ("Image corrupted", criu/cr-restore.c prepare_mm()), and this kernel's auxv is 44
     * words plus the AT_NULL pair; the terminator costs nothing to drop, since PR_SET_MM_MAP
     * zero-fills the rest of the kernel's vector. A longer auxv is kept whole (jcriu restores it
     * exactly; CRIU would refuse it, as it would a dump of its own that it had to truncate).
     */
    public static long[] auxvForImage(long[] auxv) {
        int n = auxv.length;
        while (n >= 2 && auxv[n - 2] == 0 && auxv[n - 1] == 0) n -= 2;
        return java.util.Arrays.copyOf(auxv, n);
    }

    /**
     * vma_entry.flags: CRIU's dump adds MAP_ANONYMOUS to every mapping not backed by a file
     * (criu/proc_parse.c), and its restorer maps an entry with exactly these flags
     * (criu/pie/restorer.c, restore_mapping()): without it an anonymous area is mapped from fd
     * -1 and fails with EBADF. jcriu's own restore adds it where needed, so writing it is harmless.
     */
    public static int vmaFlags(jcriu.state.VmaState v) {
        return switch (v.kind()) {
            case FILE_PRIVATE, FILE_SHARED -> v.flags();
            default -> v.flags() | jcriu.state.VmaState.MAP_ANONYMOUS;
        };
    }

    /**
     * CRIU's dump merges the kernel's [vvar] and [vvar_vclock] into one VVAR entry
     * (criu/proc_parse.c: "Merge all vvar vma-s into one") and its restore compares that one
     * area's size with its own runtime's (criu/pie/parasite-vdso.c): with two entries it sees
     * only the last, finds the sizes different and patches the old vDSO into a proxy instead of
     * mapping the current one in place. jcriu writes the merged form.
     */
    public static java.util.List<jcriu.image.pb.VmaEntry> mergeVvar(java.util.List<jcriu.image.pb.VmaEntry> vmas) {
        java.util.List<jcriu.image.pb.VmaEntry> out = new java.util.ArrayList<>();
        for (jcriu.image.pb.VmaEntry e : vmas) {
            jcriu.image.pb.VmaEntry prev = out.isEmpty() ? null : out.getLast();
            if (prev != null && (prev.getStatus() & VmaStatus.AREA_VVAR) != 0 && (e.getStatus() & VmaStatus.AREA_VVAR) != 0
                    && prev.getEnd() == e.getStart()) {
                out.set(out.size() - 1, prev.toBuilder().setEnd(e.getEnd()).build());
            } else {
                out.add(e);
            }
        }
        return out;
    }

    /**
     * The reverse, when reading: one VVAR area as long as this kernel's [vvar] and [vvar_vclock]
     * together is those two (a restore needs the same vDSO layout anyway, and moves each of the
     * two kernel areas separately). Anything else is left for the restore to judge.
     */
    public static java.util.List<jcriu.state.VmaState> splitVvar(java.util.List<jcriu.state.VmaState> vmas) {
        // jcriu's own maps are read once per run, not per process: a JVM has hundreds of
        // mappings, and reading them cost 5-10 ms per process of a tree.
        boolean lone = vmas.stream().anyMatch(v -> v.kind() == jcriu.state.VmaState.Kind.VVAR)
                && vmas.stream().noneMatch(v -> v.kind() == jcriu.state.VmaState.Kind.VVAR_VCLOCK);
        if (!lone) return vmas;
        long vvar = OwnVvar.SIZES.vvar(), vclock = OwnVvar.SIZES.vclock();
        if (vvar == 0 || vclock == 0) return vmas;
        java.util.List<jcriu.state.VmaState> out = new java.util.ArrayList<>();
        for (jcriu.state.VmaState v : vmas) {
            boolean alone = v.kind() == jcriu.state.VmaState.Kind.VVAR && vmas.stream()
                    .noneMatch(o -> o.kind() == jcriu.state.VmaState.Kind.VVAR_VCLOCK);
            if (alone && v.size() == vvar + vclock) {
                long mid = v.start() + vvar;
                out.add(new jcriu.state.VmaState(v.start(), mid, v.pgoff(), v.prot(), v.flags(), v.kind(), v.path(),
                        v.dev(), v.ino(), v.madvise(), v.attrs()));
                out.add(new jcriu.state.VmaState(mid, v.end(), v.pgoff(), v.prot(), v.flags(),
                        jcriu.state.VmaState.Kind.VVAR_VCLOCK, v.path(), v.dev(), v.ino(), v.madvise(), v.attrs()));
            } else {
                out.add(v);
            }
        }
        return out;
    }

    /**
     * Sizes of [vvar] and [vvar_vclock] in jcriu itself (0 when absent or unreadable): a
     * property of the running kernel, read once, on first need.
     */
    private static final class OwnVvar {
        record Sizes(long vvar, long vclock) {}

        static final Sizes SIZES = read();

        private static Sizes read() {
            long vvar = 0, vclock = 0;
            try {
                for (jcriu.proc.Vma v : jcriu.proc.Maps.read(java.nio.file.Path.of("/proc"), (int) ProcessHandle.current().pid())) {
                    if ("[vvar]".equals(v.name())) vvar = v.end() - v.start();
                    if ("[vvar_vclock]".equals(v.name())) vclock = v.end() - v.start();
                }
            } catch (IOException e) {
                return new Sizes(0, 0);
            }
            return new Sizes(vvar, vclock);
        }
    }

    private static final int O_CLOEXEC = 02000000;

    /**
     * Close-on-exec is a property of the descriptor, kept in fdinfo_entry.flags (FD_CLOEXEC),
     * not of the open file: CRIU's reg_file_entry.flags never hold O_CLOEXEC (its restore sets
     * the descriptor flag from the fdinfo entry), so a shared open file can serve descriptors
     * that differ in it. jcriu writes the file's flags the same way and, reading, puts the
     * descriptor's bit back into the flags it opens the file with.
     */
    public static int fileFlags(int openFlags) { return openFlags & ~O_CLOEXEC; }

    public static int openFlags(int fileFlags, boolean cloexec) {
        return (fileFlags & ~O_CLOEXEC) | (cloexec ? O_CLOEXEC : 0);
    }
}

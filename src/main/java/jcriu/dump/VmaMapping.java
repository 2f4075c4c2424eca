package jcriu.dump;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import jcriu.proc.Vma;
import jcriu.state.VmaAttrs;
import jcriu.state.VmaState;

/** From what /proc says of a mapping to what mmap needs to recreate it, refusing what jcriu cannot. */
final class VmaMapping {
    private static final int MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_DONTFORK = 10, MADV_MERGEABLE = 12,
            MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15, MADV_DONTDUMP = 16, MADV_WIPEONFORK = 18;
    private static final int O_RDONLY = 0, O_RDWR = 2;

    /**
     * VmFlags a restore reproduces: the ones that follow from prot, sharing and the file (rd wr
     * ex sh mr mw me ms), that the kernel sets by itself (ac accountable, sd soft-dirty), mmap
     * flags (gd, nr, dp), advice, locks (lo lf) and seals (sl). Any other flag, including
     * ones a newer kernel may add, refuses the dump: it would be lost.
     */
    static final Set<String> REPRODUCED = Set.of("rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "ac", "sd", "gd",
            "nr", "dp", "lo", "lf", "sl", "hg", "nh", "dd", "dc", "wf", "mg", "sr", "rr");

    private VmaMapping() {}

    static VmaState toState(Vma v, int pid) throws IOException {
        String where = String.format("mapping %#x-%#x of process %d (%s)", v.start(), v.end(), pid,
                v.name().isEmpty() ? "anonymous" : v.name());
        // a deleted file mapped (shared or private) is saved whole with the images and made again
        if (v.deleted() && !isSharedAnon(v) && v.kind() != jcriu.proc.VmaKind.FILE_SHARED
                && v.kind() != jcriu.proc.VmaKind.FILE_PRIVATE) {
            throw new IOException(where + ": its file was deleted; jcriu cannot restore deleted files yet");
        }
        if (ShmemObjects.privateMapping(v)) {
            throw new IOException(where + ": a private mapping of shared anonymous memory (opened through"
                    + " /proc/PID/map_files): jcriu cannot map it from that same memory again, so its pages not yet"
                    + " written would stop following the shared ones; refusing");
        }
        VmaState.Kind kind = switch (v.kind()) {
            case ANON_PRIVATE -> VmaState.Kind.ANON_PRIVATE;
            case ANON_SHARED -> VmaState.Kind.ANON_SHARED;
            case FILE_PRIVATE -> VmaState.Kind.FILE_PRIVATE;
            case FILE_SHARED -> VmaState.Kind.FILE_SHARED;
            case HEAP -> VmaState.Kind.HEAP;
            case STACK -> VmaState.Kind.STACK;
            case VDSO -> VmaState.Kind.VDSO;
            case VVAR -> VmaState.Kind.VVAR;
            case VVAR_VCLOCK -> VmaState.Kind.VVAR_VCLOCK;
            case VSYSCALL -> VmaState.Kind.VSYSCALL;
            case UPROBES -> throw new IOException(where + ": the uprobes area exists while a uprobe is set on the"
                    + " program; it belongs to the kernel's probe and cannot be recreated");
            default -> throw new IOException(where + ": mappings of this kind (" + v.kind() + ") are not supported yet");
        };
        boolean special = kind == VmaState.Kind.VDSO || kind == VmaState.Kind.VVAR
                || kind == VmaState.Kind.VVAR_VCLOCK || kind == VmaState.Kind.VSYSCALL;
        if (!special) refuseUnknownFlags(v, where);
        int prot = (v.read() ? VmaState.PROT_READ : 0) | (v.write() ? VmaState.PROT_WRITE : 0)
                | (v.exec() ? VmaState.PROT_EXEC : 0);
        int flags = v.shared() ? VmaState.MAP_SHARED : VmaState.MAP_PRIVATE;
        if (v.vmFlags().contains("dp")) flags = VmaState.MAP_DROPPABLE; // a mapping type of its own
        if (v.vmFlags().contains("gd")) flags |= VmaState.MAP_GROWSDOWN;
        if (v.vmFlags().contains("nr")) flags |= VmaState.MAP_NORESERVE;
        List<Integer> adv = new ArrayList<>();
        if (v.vmFlags().contains("sr")) adv.add(MADV_SEQUENTIAL);
        if (v.vmFlags().contains("rr")) adv.add(MADV_RANDOM);
        if (v.vmFlags().contains("hg")) adv.add(MADV_HUGEPAGE);
        if (v.vmFlags().contains("nh")) adv.add(MADV_NOHUGEPAGE);
        // droppable memory carries dontdump and wipeonfork from its mmap already
        boolean droppable = v.vmFlags().contains("dp");
        if (v.vmFlags().contains("dd") && kind != VmaState.Kind.VDSO && !droppable) adv.add(MADV_DONTDUMP);
        if (v.vmFlags().contains("dc")) adv.add(MADV_DONTFORK);
        if (v.vmFlags().contains("wf") && !droppable) adv.add(MADV_WIPEONFORK);
        if (v.vmFlags().contains("mg")) adv.add(MADV_MERGEABLE);
        boolean file = kind == VmaState.Kind.FILE_PRIVATE || kind == VmaState.Kind.FILE_SHARED;
        long dev = ((long) v.devMajor() << 8) | v.devMinor();
        VmaAttrs.Lock lock = v.vmFlags().contains("lf") ? VmaAttrs.Lock.LOCKED_ON_FAULT
                : v.vmFlags().contains("lo") ? VmaAttrs.Lock.LOCKED : VmaAttrs.Lock.NONE;
        int fileFlags = kind == VmaState.Kind.FILE_SHARED ? fileOpenFlags(v, pid, where) : 0;
        VmaAttrs attrs = new VmaAttrs(fileFlags, lock, v.anonName().orElse(null), v.vmFlags().contains("sl"));
        // shared anonymous memory is a shmem object too: its inode names it (processes that map
        // it share it), and pgoff is where the mapping starts in it
        boolean object = file || kind == VmaState.Kind.ANON_SHARED;
        return new VmaState(v.start(), v.end(), object ? v.pgoff() : 0, prot, flags, kind,
                file ? v.path().orElseThrow() : null,
                dev, v.inode(), adv.stream().mapToInt(Integer::intValue).toArray(), attrs);
    }

    private static void refuseUnknownFlags(Vma v, String where) throws IOException {
        for (String f : v.vmFlags()) {
            if (REPRODUCED.contains(f)) continue;
            throw new IOException(where + ": VmFlags " + f + " (" + describe(f) + ") cannot be recreated; refusing"
                    + " to dump rather than lose it");
        }
    }

    private static String describe(String flag) {
        return switch (flag) {
            case "ht" -> "hugetlb memory";
            case "pf", "io", "mm", "de", "ar" -> "a device or driver mapping";
            case "um", "uw", "ui" -> "registered with userfaultfd";
            case "ss" -> "a shadow stack";
            case "sf" -> "synchronous page faults (DAX)";
            case "bt", "mt" -> "an arm64 feature";
            default -> "unknown to jcriu";
        };
    }

    /**
     * The open mode of the file behind a shared mapping. /proc/PID/map_files/START-END is a link
     * whose permission bits the kernel sets from the file's f_mode (S_IRUSR for read, S_IWUSR for
     * write), so a read-only mapping of a file opened read-write is told apart from a mapping
     * of a read-only open.
     */
    private static int fileOpenFlags(Vma v, int pid, String where) throws IOException {
        Path link = Path.of("/proc", Integer.toString(pid), "map_files",
                Long.toHexString(v.start()) + "-" + Long.toHexString(v.end()));
        int mode;
        try {
            mode = (Integer) Files.getAttribute(link, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new IOException(where + ": cannot read the open mode of its file from " + link + ": " + e, e);
        }
        return (mode & 0200) != 0 ? O_RDWR : O_RDONLY;
    }

    private static boolean isSharedAnon(Vma v) {
        return v.kind() == jcriu.proc.VmaKind.ANON_SHARED;
    }
}

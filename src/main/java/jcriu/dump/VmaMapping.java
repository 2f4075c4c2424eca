package jcriu.dump;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import jcriu.proc.Vma;
import jcriu.state.VmaState;

/** From what /proc says of a mapping to what mmap needs to recreate it, refusing what jcriu cannot. */
final class VmaMapping {
    private static final int MADV_DONTFORK = 10, MADV_MERGEABLE = 12, MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15,
            MADV_DONTDUMP = 16, MADV_WIPEONFORK = 18;

    private VmaMapping() {}

    static VmaState toState(Vma v, int pid) throws IOException {
        String where = String.format("mapping %#x-%#x of process %d (%s)", v.start(), v.end(), pid,
                v.name().isEmpty() ? "anonymous" : v.name());
        if (v.deleted() && !isSharedAnon(v) && v.kind() != jcriu.proc.VmaKind.FILE_SHARED) {
            throw new IOException(where + ": its file was deleted; jcriu cannot restore deleted files yet");
        }
        if (v.vmFlags().contains("lo")) {
            throw new IOException(where + ": locked memory (mlock) is not supported yet");
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
            default -> throw new IOException(where + ": mappings of this kind (" + v.kind() + ") are not supported yet");
        };
        int prot = (v.read() ? VmaState.PROT_READ : 0) | (v.write() ? VmaState.PROT_WRITE : 0)
                | (v.exec() ? VmaState.PROT_EXEC : 0);
        int flags = v.shared() ? VmaState.MAP_SHARED : VmaState.MAP_PRIVATE;
        if (v.vmFlags().contains("gd")) flags |= VmaState.MAP_GROWSDOWN;
        if (v.vmFlags().contains("nr")) flags |= VmaState.MAP_NORESERVE;
        List<Integer> adv = new ArrayList<>();
        if (v.vmFlags().contains("hg")) adv.add(MADV_HUGEPAGE);
        if (v.vmFlags().contains("nh")) adv.add(MADV_NOHUGEPAGE);
        if (v.vmFlags().contains("dd") && kind != VmaState.Kind.VDSO) adv.add(MADV_DONTDUMP);
        if (v.vmFlags().contains("dc")) adv.add(MADV_DONTFORK);
        if (v.vmFlags().contains("wf")) adv.add(MADV_WIPEONFORK);
        if (v.vmFlags().contains("mg")) adv.add(MADV_MERGEABLE);
        boolean file = kind == VmaState.Kind.FILE_PRIVATE || kind == VmaState.Kind.FILE_SHARED;
        long dev = ((long) v.devMajor() << 8) | v.devMinor();
        // shared anonymous memory is a shmem object too: its inode names it (processes that map
        // it share it), and pgoff is where the mapping starts in it
        boolean object = file || kind == VmaState.Kind.ANON_SHARED;
        return new VmaState(v.start(), v.end(), object ? v.pgoff() : 0, prot, flags, kind,
                file ? v.path().orElseThrow() : null,
                dev, v.inode(), adv.stream().mapToInt(Integer::intValue).toArray());
    }

    private static boolean isSharedAnon(Vma v) {
        return v.kind() == jcriu.proc.VmaKind.ANON_SHARED;
    }
}

package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import jcriu.image.PageStore;
import jcriu.proc.Maps;
import jcriu.proc.Vma;
import jcriu.state.VmaState;
import jcriu.sys.Errno;
import jcriu.sys.Nr;

/**
 * The address space: the kernel's special mappings moved to their dumped addresses (after
 * checking the vDSO is this kernel's), every mapping recreated, its pages read in from the
 * pages images, final protections, and the mm fields of prctl_mm_map.
 */
final class MemoryStage {
    private static final int O_RDONLY = 0, O_RDWR = 2, O_CLOEXEC = 02000000;
    private static final int AT_FDCWD = -100;
    private static final int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
    private static final int PR_SET_MM = 35, PR_SET_MM_MAP = 14;
    private static final int IOV_BATCH = 1024;

    private MemoryStage() {}

    /** {@code shm} and {@code files}: shared anonymous memory is mapped from jcriu's objects, already filled. */
    /** Returns the pages written into the process (those kept from a parent, still shared, not counted). */
    static long run(Target t, PageStore pages, SharedMemory shm, FileInstaller files, Inheritance inherited)
            throws IOException {
        moveSpecialMappings(t, pages);
        long written = mapMemory(t, pages, shm, files, inherited);
        setMmFields(t);
        return written;
    }

    static boolean isSpecial(String name) {
        return "[vdso]".equals(name) || "[vvar]".equals(name) || "[vvar_vclock]".equals(name)
                || "[vsyscall]".equals(name);
    }

    private static void moveSpecialMappings(Target t, PageStore pages) throws IOException {
        List<Vma> now = Maps.read(Path.of("/proc"), t.pid());
        List<VmaState> want = t.st().mm().vmas().stream()
                .filter(v -> v.special() && v.kind() != VmaState.Kind.VSYSCALL).toList();
        List<Vma> have = new java.util.ArrayList<>();
        for (Vma v : now) {
            if (!isSpecial(v.name()) || "[vsyscall]".equals(v.name())) continue;
            if (want.stream().noneMatch(w -> specialName(w.kind()).equals(v.name()))) {
                // the process had unmapped it (a sandbox dropping its vDSO): it goes again
                t.inj().call("munmap " + v.name(), Nr.MUNMAP, v.start(), v.end() - v.start());
                t.log().debug(String.format("%s at %#x unmapped: the image has none", v.name(), v.start()));
            } else {
                have.add(v);
            }
        }
        for (VmaState w : want) {
            String name = specialName(w.kind());
            Vma h = have.stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow(() -> new IOException(
                    "the image has a " + name + " mapping but this kernel gives none: dumped on another kernel?"));
            if (h.end() - h.start() != w.size()) {
                throw new IOException(name + " is " + (h.end() - h.start()) + " bytes here but " + w.size()
                        + " bytes in the image: the vDSO differs (dumped on another kernel)");
            }
        }
        if (have.size() != want.size()) {
            throw new IOException("vDSO layout differs: this kernel maps " + have.stream().map(Vma::name).toList()
                    + ", the image has " + want.stream().map(w -> specialName(w.kind())).toList());
        }
        verifyVdsoContent(t, pages, have);
        boolean inPlace = have.stream().allMatch(h -> want.stream()
                .anyMatch(w -> specialName(w.kind()).equals(h.name()) && w.start() == h.start()));
        if (inPlace) return; // a child cloned from its restored parent has them where they belong
        // Two steps, through a parking spot, so that no move lands on a mapping still to be moved.
        long park = t.ctl().base + ControlArea.SIZE + 0x100000;
        long[] parked = new long[have.size()];
        for (int i = 0; i < have.size(); i++) {
            Vma h = have.get(i);
            long size = h.end() - h.start();
            parked[i] = park;
            t.inj().call("mremap " + h.name() + " to parking", Nr.MREMAP, h.start(), size, size,
                    MREMAP_MAYMOVE | MREMAP_FIXED, park);
            park += size + 0x10000;
        }
        for (int i = 0; i < have.size(); i++) {
            Vma h = have.get(i);
            long size = h.end() - h.start();
            VmaState w = want.stream().filter(v -> specialName(v.kind()).equals(h.name())).findFirst().orElseThrow();
            t.inj().call("mremap " + h.name(), Nr.MREMAP, parked[i], size, size, MREMAP_MAYMOVE | MREMAP_FIXED,
                    w.start());
            t.log().debug(String.format("%s moved to %#x", h.name(), w.start()));
        }
    }

    private static String specialName(VmaState.Kind k) {
        return switch (k) {
            case VDSO -> "[vdso]";
            case VVAR -> "[vvar]";
            case VVAR_VCLOCK -> "[vvar_vclock]";
            case VSYSCALL -> "[vsyscall]";
            default -> throw new IllegalArgumentException(k.toString());
        };
    }

    /** The dumped vDSO pages must equal this kernel's, since the restored code keeps calling into it. */
    private static void verifyVdsoContent(Target t, PageStore pages, List<Vma> have) throws IOException {
        VmaState vdso = t.st().mm().vmas().stream().filter(v -> v.kind() == VmaState.Kind.VDSO).findFirst()
                .orElse(null);
        if (vdso == null) return;
        Vma live = have.stream().filter(v -> v.name().equals("[vdso]")).findFirst().orElseThrow();
        for (PageStore.Slice run : pages.slices()) {
            if (run.addr() < vdso.start() || run.addr() >= vdso.end()) continue;
            ByteBuffer dumped = ByteBuffer.allocate((int) run.bytes());
            try (FileChannel ch = FileChannel.open(run.file())) {
                ch.read(dumped, run.offset());
            }
            byte[] now = t.mem().read(live.start() + (run.addr() - vdso.start()), (int) run.bytes());
            if (!Arrays.equals(dumped.array(), now)) {
                throw new IOException(String.format("the vDSO at %#x differs from this kernel's: "
                        + "the image was dumped on another kernel, refusing to restore", run.addr()));
            }
        }
    }

    /** Mappings whose pages are not filled here: files mapped shared, and shared anonymous memory. */
    private static boolean sharedObject(VmaState v) {
        return v.kind() == VmaState.Kind.FILE_SHARED || v.kind() == VmaState.Kind.ANON_SHARED;
    }

    private static long mapMemory(Target t, PageStore pages, SharedMemory shm, FileInstaller files,
                                  Inheritance inherited) throws IOException {
        List<VmaState> vmas = t.st().mm().vmas();
        boolean[] kept = new boolean[vmas.size()];
        for (int i = 0; i < vmas.size(); i++) kept[i] = inherited != null && inherited.keeps(vmas.get(i));
        boolean[] filled = new boolean[vmas.size()];
        for (var run : pages.slices()) {
            int i = indexOf(vmas, run.addr());
            if (i < 0) {
                throw new IOException(String.format("pages at %#x lie outside every mapping of the image", run.addr()));
            }
            filled[i] = true;
        }
        for (int i = 0; i < vmas.size(); i++) {
            VmaState v = vmas.get(i);
            if (v.special() || kept[i]) continue;
            t.ctl().reset();
            int prot = v.prot();
            if (filled[i] && !sharedObject(v)) prot |= VmaState.PROT_WRITE | VmaState.PROT_READ;
            int flags = v.flags() | VmaState.MAP_FIXED_NOREPLACE;
            long fd = -1;
            if (v.kind() == VmaState.Kind.ANON_SHARED) {
                fd = files.fetch(t, shm.fdOf(v.ino()));
            } else if ((v.kind() == VmaState.Kind.FILE_SHARED || v.kind() == VmaState.Kind.FILE_PRIVATE)
                    && t.st().mm().snapshotOf(v).map(jcriu.state.FileSnapshot::deleted).orElse(false)) {
                fd = files.fetch(t, shm.ghostFd(v));
            } else if (v.path() != null && (v.kind() == VmaState.Kind.FILE_PRIVATE || v.kind() == VmaState.Kind.FILE_SHARED)) {
                // opened as the original was: a read-only mapping of a read-write file may be mprotect'ed writable
                boolean rw = v.kind() == VmaState.Kind.FILE_SHARED
                        && ((v.attrs().fileFlags() & 3) == O_RDWR || (v.prot() & VmaState.PROT_WRITE) != 0);
                fd = openIn(t, v.path(), (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
            } else {
                flags |= VmaState.MAP_ANONYMOUS;
            }
            // CRIU's images carry MAP_ANONYMOUS for shared anonymous memory; mapped from its object, it must go
            if (fd >= 0) flags &= ~VmaState.MAP_ANONYMOUS;
            long r = t.inj().raw(Nr.MMAP, v.start(), v.size(), prot, flags, fd, fd >= 0 ? v.pgoff() : 0);
            if (fd >= 0) t.inj().call("close", Nr.CLOSE, fd);
            if (r != v.start()) {
                throw new IOException(String.format("mapping %#x-%#x (%s) failed: %s", v.start(), v.end(),
                        v.path() == null ? v.kind() : v.path(), r < 0 ? Errno.name((int) -r) : "landed at " + r));
            }
            for (int adv : v.madvise()) t.inj().call("madvise " + adv, Nr.MADVISE, v.start(), v.size(), adv);
        }
        // the vDSO's pages are only compared, never written; shared memory was filled by jcriu;
        // mappings kept from the parent are patched by Inheritance
        java.util.Set<VmaState> keptSet = new java.util.HashSet<>();
        for (int i = 0; i < vmas.size(); i++) if (kept[i]) keptSet.add(vmas.get(i));
        long written = new PageFiller(t.inj(), t.mem(), t.ctl(), t.log())
                .fill(vmas, pages, v -> v.kind() == VmaState.Kind.ANON_SHARED || keptSet.contains(v)).bytes() / 4096;
        if (inherited != null) written += inherited.patch(t);
        for (int i = 0; i < vmas.size(); i++) {
            VmaState v = vmas.get(i);
            if (v.special() || !filled[i] || sharedObject(v) || kept[i]) continue;
            if (v.prot() != (v.prot() | VmaState.PROT_WRITE | VmaState.PROT_READ)) {
                t.inj().call(String.format("mprotect %#x", v.start()), Nr.MPROTECT, v.start(), v.size(), v.prot());
            }
        }
        t.log().info("memory of " + t.pid() + ": " + vmas.size() + " mappings, " + written + " pages written");
        return written;
    }

    private static int indexOf(List<VmaState> vmas, long addr) {
        for (int i = 0; i < vmas.size(); i++) {
            if (addr >= vmas.get(i).start() && addr < vmas.get(i).end()) return i;
        }
        return -1;
    }

    /** openat injected in the target, the path written into the control area. */
    static long openIn(Target t, String path, int flags) throws IOException {
        long addr = t.string(path);
        long fd = t.inj().raw(Nr.OPENAT, AT_FDCWD, addr, flags, 0);
        if (fd < 0) throw new IOException("cannot open " + path + " in the restored process: " + Errno.name((int) -fd));
        return fd;
    }

    private static void setMmFields(Target t) throws IOException {
        t.ctl().reset();
        var mm = t.st().mm();
        // A process cloned from its restored parent has the parent's exe already; when it is the
        // same file it stays (the kernel refuses a new exe while the old one is mapped, as it is).
        boolean sameExe = mm.exePath().equals(jcriu.proc.ProcAttrs.exe(Path.of("/proc"), t.pid()));
        long exeFd = sameExe ? -1 : openIn(t, mm.exePath(), O_RDONLY | O_CLOEXEC);
        long auxvAddr = t.ctl().alloc(8L * mm.auxv().length);
        ByteBuffer ax = ControlArea.le(8 * mm.auxv().length);
        for (long a : mm.auxv()) ax.putLong(a);
        t.mem().write(auxvAddr, ax.array());
        ByteBuffer m = ControlArea.le(104);
        for (long v : new long[] {mm.startCode(), mm.endCode(), mm.startData(), mm.endData(), mm.startBrk(), mm.brk(),
                mm.startStack(), mm.argStart(), mm.argEnd(), mm.envStart(), mm.envEnd(), auxvAddr}) {
            m.putLong(v);
        }
        m.putInt(8 * mm.auxv().length);
        m.putInt((int) exeFd);
        long mapAddr = t.ctl().alloc(104);
        t.mem().write(mapAddr, m.array());
        t.inj().call("prctl(PR_SET_MM_MAP)", Nr.PRCTL, PR_SET_MM, PR_SET_MM_MAP, mapAddr, 104, 0);
        if (exeFd >= 0) t.inj().call("close exe", Nr.CLOSE, exeFd);
    }
}

package jcriu.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jcriu.files.InheritedTerminal;
import jcriu.files.OpenFile;
import jcriu.files.PipeEnd;
import jcriu.files.RegularFile;
import jcriu.image.pb.InventoryEntry;
import jcriu.ptrace.Regs;
import jcriu.state.FdState;
import jcriu.state.PageRun;
import jcriu.state.PipeState;
import jcriu.state.ProcessState;
import jcriu.state.SigAction;
import jcriu.state.ThreadState;
import jcriu.state.TreeState;
import jcriu.state.VmaState;
import jcriu.state.ZombieState;

/**
 * Values an image can hold well-formed that no process could have had (or that this machine
 * cannot give back), refused before a restore creates anything, each naming the image file
 * and the value: ids beyond pid_max or twice in the tree, fds duplicated, a file whose kind
 * no longer matches what is at its path, mappings out of order or out of the address space,
 * pages outside every mapping, registers that are not a 64-bit user set. Checksums catch
 * damage; this catches images that were written wrong (or by hand), and CRIU's sets, which
 * carry no checksums. Also reads inventory.img, which the restore itself does not need.
 */
public final class ImageSanity {
    private static final Path PROC = Path.of("/proc");
    private static final long USER_TOP = 0x8000_0000_0000L;
    private static final long VSYSCALL = 0xffff_ffff_ff60_0000L;
    private static final int USER_CS = 0x33, USER_SS = 0x2b;
    private static final int ROBUST_LIST_HEAD_SIZE = 24; // set_robust_list() takes nothing else
    private static final int XSAVE_MIN = 576; // legacy area and XSAVE header

    private ImageSanity() {}

    public static void check(ImageDir dir, TreeState tree) throws IOException {
        inventory(dir);
        long max = jcriu.proc.KernelInfo.pidMax(PROC);
        Set<Integer> seen = new HashSet<>(); // every PID and TID of the tree, once
        for (ProcessState st : tree.processes()) {
            ids(dir, st, max, seen);
            threads(dir, st);
            fds(dir, st, CriuLayout.filesId(dir, st.pid()));
            memory(dir, st);
            PageStore.open(dir.path(), st.pid()); // pagemap, pages file and parents agree, before anything is made
            process(dir, st);
        }
        for (ZombieState z : tree.zombies()) {
            long v = Integer.toUnsignedLong(z.pid());
            if (v == 0 || v > max) {
                throw bad(dir, ImageFile.pstree(), "zombie " + v + " is not a possible PID here (1 to pid_max " + max + ")");
            }
            if (!seen.add(z.pid())) throw bad(dir, ImageFile.pstree(), "PID " + z.pid() + " is listed twice");
        }
        files(dir, tree);
    }

    private static IOException bad(ImageDir dir, ImageFile f, String what) {
        return new IOException(dir.path().resolve(f.name()) + ": " + what);
    }

    private static void inventory(ImageDir dir) throws IOException {
        InventoryEntry inv;
        try (ImageInput in = dir.open(ImageFile.inventory())) {
            inv = in.single(InventoryEntry.parser());
        }
        if (inv.getImgVersion() != 2) {
            throw bad(dir, ImageFile.inventory(), "image version " + inv.getImgVersion() + "; jcriu reads version 2");
        }
    }

    private static void ids(ImageDir dir, ProcessState st, long max, Set<Integer> seen) throws IOException {
        ImageFile ps = ImageFile.pstree();
        for (var id : List.of(java.util.Map.entry("pid", (long) st.pid()), java.util.Map.entry("pgid", (long) st.pgid()),
                java.util.Map.entry("sid", (long) st.sid()))) {
            long v = Integer.toUnsignedLong(id.getValue().intValue());
            boolean mayBeZero = !id.getKey().equals("pid"); // pgid/sid 0: descendants of the kernel's own tasks
            if (v > max || v == 0 && !mayBeZero) {
                throw bad(dir, ps, id.getKey() + " " + v + " of process " + st.pid() + " is not a possible PID here"
                        + " (1 to pid_max " + max + ")");
            }
        }
        for (ThreadState t : st.threads()) {
            long v = Integer.toUnsignedLong(t.tid());
            if (v == 0 || v > max) {
                throw bad(dir, ps, "thread " + v + " of process " + st.pid() + " is not a possible TID here (1 to"
                        + " pid_max " + max + ")");
            }
            if (!seen.add(t.tid())) throw bad(dir, ps, "thread " + t.tid() + " is listed twice");
        }
        if (st.threads().isEmpty() || st.leader().tid() != st.pid()) {
            throw bad(dir, ps, "process " + st.pid() + " is not the first of its threads "
                    + st.threads().stream().map(ThreadState::tid).toList());
        }
    }

    private static void threads(ImageDir dir, ProcessState st) throws IOException {
        for (ThreadState t : st.threads()) {
            ImageFile f = ImageFile.core(t.tid());
            Regs r = t.regs();
            if (r.get(Regs.CS) != USER_CS || r.get(Regs.SS) != USER_SS) {
                throw bad(dir, f, String.format("cs %#x ss %#x: not the registers of a 64-bit user thread (%#x, %#x)",
                        r.get(Regs.CS), r.get(Regs.SS), USER_CS, USER_SS));
            }
            if (Long.compareUnsigned(r.rip(), USER_TOP) >= 0 && r.rip() != VSYSCALL && (r.rip() & ~0xfffL) != VSYSCALL) {
                throw bad(dir, f, String.format("instruction pointer %#x is outside the user address space", r.rip()));
            }
            if (t.xstate().length < XSAVE_MIN) {
                throw bad(dir, f, "XSAVE area of " + t.xstate().length + " bytes; it has at least " + XSAVE_MIN);
            }
            if (t.robustListHead() != 0 && t.robustListLen() != ROBUST_LIST_HEAD_SIZE) {
                throw bad(dir, f, "robust list length " + t.robustListLen() + "; the kernel only takes "
                        + ROBUST_LIST_HEAD_SIZE);
            }
            var reg = t.rseq().registration();
            if (reg != null && (reg.size() < 32 || (reg.pointer() & 31) != 0)) {
                throw bad(dir, f, String.format("rseq area %#x of %d bytes: the kernel needs 32 bytes or more,"
                        + " aligned on 32", reg.pointer(), reg.size()));
            }
            int rc = t.restartCode();
            if (rc != 0 && rc != 512 && rc != 513 && rc != 514) {
                throw bad(dir, f, "restart code " + rc + " is not one of the kernel's (512, 513, 514)");
            }
        }
    }

    /** One process's fd table (fdinfo-ID.img): fds possible here, each once. */
    private static void fds(ImageDir dir, ProcessState st, int filesId) throws IOException {
        ImageFile fi = ImageFile.fdinfo(filesId);
        // not RLIMIT_NOFILE: a process may lower it below fds it already has
        long nrOpen = jcriu.proc.KernelInfo.nrOpen(PROC);
        Set<Integer> fds = new HashSet<>();
        for (FdState f : st.fds()) {
            if (f.fd() < 0 || f.fd() >= nrOpen) {
                throw bad(dir, fi, "fd " + Integer.toUnsignedString(f.fd()) + " of process " + st.pid() + " is not a"
                        + " possible descriptor here (0 to fs.nr_open " + nrOpen + ")");
            }
            if (!fds.add(f.fd())) throw bad(dir, fi, "fd " + f.fd() + " of process " + st.pid() + " appears twice");
        }
    }

    /** The open files of the tree (files.img) and the pipes' data (pipes-data.img). */
    private static void files(ImageDir dir, TreeState tree) throws IOException {
        ImageFile fl = ImageFile.files();
        Set<Long> pipes = new HashSet<>();
        for (OpenFile f : tree.files()) {
            String what = "file " + f.id() + " (" + f.describe() + ")";
            switch (f) {
                case RegularFile r -> {
                    if ((r.flags() & 3) == 3) throw bad(dir, fl, what + " has access mode 3 (neither read nor write)");
                    if (r.pos() < 0) throw bad(dir, fl, what + " at negative offset " + r.pos());
                    kindMatches(dir, what, r);
                }
                case PipeEnd p -> {
                    if ((p.flags() & 3) == 3) throw bad(dir, fl, what + " has access mode 3 (neither read nor write)");
                    pipes.add(p.ino());
                }
                case InheritedTerminal t -> {
                    if (t.fd() < 0 || t.fd() > 2) {
                        throw bad(dir, fl, what + " is marked as fd " + t.fd() + " of the shell job's terminal; only fds"
                                + " 0-2 can be");
                    }
                }
                default -> { } // the other kinds are checked as they are decoded and opened again
            }
        }
        for (PipeState p : tree.pipes()) {
            if (!pipes.contains(p.ino())) {
                throw bad(dir, ImageFile.pipesData(), "holds data of pipe:[" + p.ino() + "], which no file has");
            }
            if (p.data().length > p.capacity() && p.capacity() > 0) {
                throw bad(dir, ImageFile.pipesData(), "pipe:[" + p.ino() + "] holds " + p.data().length
                        + " bytes, more than its capacity " + p.capacity());
            }
        }
    }

    /** A file that exists must still be of the kind it was (a missing one is the preflight's to report). */
    private static void kindMatches(ImageDir dir, String what, RegularFile f) throws IOException {
        Path p = Path.of(f.path());
        if (!p.isAbsolute()) throw bad(dir, ImageFile.files(), what + " names a relative path");
        if (!Files.exists(p)) return;
        String now = Files.isDirectory(p) ? "a directory" : Files.isRegularFile(p) ? "a regular file"
                : isCharDevice(p) ? "a character device" : "neither a file, a directory nor a character device";
        String was = switch (f.mode() & RegularFile.S_IFMT) {
            case RegularFile.S_IFDIR -> "a directory";
            case RegularFile.S_IFCHR -> "a character device";
            case RegularFile.S_IFREG -> "a regular file";
            default -> null; // another kind (a FIFO or socket opened O_PATH...): compared when it is opened again
        };
        if (was == null) return;
        if (!now.equals(was)) throw bad(dir, ImageFile.files(), what + " was " + was + ", which is " + now + " now");
    }

    private static boolean isCharDevice(Path p) throws IOException {
        int mode = (Integer) Files.getAttribute(p, "unix:mode");
        return (mode & 0170000) == 0020000;
    }

    private static void memory(ImageDir dir, ProcessState st) throws IOException {
        ImageFile mm = ImageFile.mm(st.pid());
        List<VmaState> vmas = st.mm().vmas();
        long prevEnd = 0;
        for (VmaState v : vmas) {
            String what = String.format("mapping %#x-%#x", v.start(), v.end());
            boolean vsyscall = v.kind() == VmaState.Kind.VSYSCALL;
            if (((v.start() | v.end()) & 4095) != 0) throw bad(dir, mm, what + " is not page aligned");
            if (Long.compareUnsigned(v.start(), v.end()) >= 0) throw bad(dir, mm, what + " is empty or reversed");
            if (!vsyscall && Long.compareUnsigned(v.end(), USER_TOP) > 0) {
                throw bad(dir, mm, what + " reaches beyond the user address space");
            }
            if (Long.compareUnsigned(v.start(), prevEnd) < 0) {
                throw bad(dir, mm, what + String.format(" starts below the end %#x of the mapping before; mappings must"
                        + " be in address order and must not overlap", prevEnd));
            }
            prevEnd = v.end();
            if ((v.prot() & ~7) != 0) throw bad(dir, mm, what + String.format(" has protection bits %#x", v.prot()));
            int type = v.flags() & 0x0f; // MAP_TYPE
            if (!vsyscall && type != VmaState.MAP_SHARED && type != VmaState.MAP_PRIVATE && type != VmaState.MAP_DROPPABLE) {
                throw bad(dir, mm, what + String.format(" is neither shared, private nor droppable (flags %#x)", v.flags()));
            }
            if ((v.kind() == VmaState.Kind.FILE_PRIVATE || v.kind() == VmaState.Kind.FILE_SHARED) && v.path() == null) {
                throw bad(dir, mm, what + " maps a file but names none");
            }
        }
        ImageFile pm = ImageFile.pagemap(st.pid());
        for (List<PageRun> runs : List.of(st.mm().pages(), st.mm().pagesInParent())) {
            for (PageRun r : runs) {
                VmaState v = vmaOf(vmas, r.addr());
                if (v == null || Long.compareUnsigned(r.addr() + r.bytes(), v.end()) > 0) {
                    throw bad(dir, pm, String.format("pages %#x-%#x lie outside every mapping of %s", r.addr(),
                            r.addr() + r.bytes() - 1, mm.name()));
                }
            }
        }
        var m = st.mm();
        if (Long.compareUnsigned(m.startBrk(), m.brk()) > 0 || Long.compareUnsigned(m.argStart(), m.argEnd()) > 0
                || Long.compareUnsigned(m.envStart(), m.envEnd()) > 0 || Long.compareUnsigned(m.startCode(), m.endCode()) > 0) {
            throw bad(dir, mm, String.format("memory layout out of order: code %#x-%#x, brk %#x-%#x, args %#x-%#x,"
                    + " environment %#x-%#x", m.startCode(), m.endCode(), m.startBrk(), m.brk(), m.argStart(),
                    m.argEnd(), m.envStart(), m.envEnd()));
        }
        if (!m.exePath().startsWith("/")) throw bad(dir, mm, "executable " + m.exePath() + " is not an absolute path");
    }

    private static VmaState vmaOf(List<VmaState> vmas, long addr) {
        for (VmaState v : vmas) {
            if (Long.compareUnsigned(addr, v.start()) >= 0 && Long.compareUnsigned(addr, v.end()) < 0) return v;
        }
        return null;
    }

    private static void process(ImageDir dir, ProcessState st) throws IOException {
        ImageFile core = ImageFile.core(st.pid());
        if ((st.umask() & ~0777) != 0) {
            throw bad(dir, ImageFile.fs(st.pid()), "umask " + Integer.toOctalString(st.umask()) + " has bits beyond 0777");
        }
        Set<Integer> sigs = new HashSet<>();
        for (SigAction a : st.sigactions()) {
            if (a.sig() < 1 || a.sig() > 64 || !sigs.add(a.sig())) {
                throw bad(dir, core, "signal action for signal " + a.sig() + " (signals are 1-64, each once)");
            }
        }
        long[][] rl = st.rlimits();
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < rl.length; i++) {
            if (Long.compareUnsigned(rl[i][0], rl[i][1]) > 0) wrong.add(i + " (" + rl[i][0] + " > " + rl[i][1] + ")");
        }
        if (!wrong.isEmpty()) throw bad(dir, core, "soft limits above their hard limits: resource " + wrong);
    }
}

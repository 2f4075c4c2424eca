package jcriu.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jcriu.ptrace.Regs;
import jcriu.rseq.RseqState;
import jcriu.files.FileLock;
import jcriu.files.InheritedTerminal;
import jcriu.files.OpenFile;
import jcriu.files.Owner;
import jcriu.files.PipeEnd;
import jcriu.files.RegularFile;
import jcriu.state.FdState;
import jcriu.state.FileSnapshot;
import jcriu.state.MmState;
import jcriu.state.PageRun;
import jcriu.state.PipeState;
import jcriu.state.ProcessAttrs;
import jcriu.state.Seccomp;
import jcriu.state.ProcessState;
import jcriu.state.SigAction;
import jcriu.state.ThreadState;
import jcriu.state.TreeState;
import jcriu.state.VmaAttrs;
import jcriu.state.VmaState;
import jcriu.state.ZombieState;
import jcriu.sys.SchedAttr;

/**
 * A {@link TreeState} (two processes, a zombie, shared files and a pipe) in which every field
 * of every record holds a value that is not the default, written with {@link StateCodec} and
 * read back: every field must come back equal.
 * The walk over the records is generic (record components), so a field added later and not
 * encoded fails here, and so does one the fixture leaves at its default (it would prove nothing).
 */
class StateCodecRoundTripTest {
    @TempDir
    Path tmp;

    /** Fields the images do not hold, with the reason; neither compared nor required in the fixture. */
    static final Map<String, String> NOT_IN_IMAGES = Map.of(
            "VmaState.dev", "a mapped file is named by its path (CRIU's file ids); device and inode are read from /proc"
                    + " for the dump's checks only",
            "VmaState.ino", "as dev",
            "InsideNoRestart.cs", "the descriptor stays in the process's memory; the image keeps the pointer to it",
            "MmState.mappedFiles", "what each mapped file was at the dump goes into its files.img entry (size, mode,"
                    + " build_id), read back as a RegularFile");

    static final int PID = 4242;

    /** Open file descriptions of the tree, by id; the fds of both processes refer to them. */
    static final List<OpenFile> FILES = List.of(new InheritedTerminal(1, "/dev/pts/3", 02, 1),
            new RegularFile(2, "/tmp/data", 02 | 020000, 4096, 0100644, 10000, 0,
                    List.of(new FileLock(FileLock.Kind.POSIX, true, PID, 10, 100)), new Owner(1, PID, 29),
                    "0123456789abcdef01234567"),
            new RegularFile(3, "/tmp", 0200000, 0, 040755),
            new RegularFile(4, "/dev/null", 01, 0, 020666, -1, 0x103, List.of(), Owner.NONE), new PipeEnd(5, 77, 0),
            new PipeEnd(6, 77, 01 | 04000), new PipeEnd(7, 78, 0, Owner.NONE, true),
            new jcriu.files.PidFd(8, 04000 | 0200, 3_000_000_000L, PID, 8), new jcriu.files.PidFd(9, 04000, 77, -1, 8));

    /** A root, a child of it (every field of each set), a zombie, and what they share. */
    static TreeState fixture() {
        return new TreeState(List.of(process(PID, 0), process(CHILD, PID)),
                List.of(new ZombieState(PID + 50, CHILD, PID, PID, "gone", 3 << 8)), FILES,
                List.of(new PipeState(77, 65536, "backlog".getBytes())),
                new jcriu.state.Sharing(Set.of(CHILD), Set.of(CHILD))); // one fd table and fs with its parent
    }

    static final int CHILD = PID + 20;

    static ProcessState process(int pid, int ppid) {
        List<Integer> tids = List.of(pid, pid + 1, pid + 2);
        List<ThreadState> threads = new ArrayList<>();
        RseqState.Registration reg = new RseqState.Registration(0x7f0000001000L, 32, 0x53053053);
        List<RseqState> rseq = List.of(new RseqState.Outside(reg), new RseqState.InsideNoRestart(
                new RseqState.Registration(0x7f0000002000L, 32, 0xabcdef12), null, 0x5555_0000_1000L),
                new RseqState.NotRegistered());
        for (int i = 0; i < tids.size(); i++) {
            long[] r = new long[27];
            for (int k = 0; k < r.length; k++) r[k] = 0x1000L * (i + 1) + k + 1;
            byte[] xstate = new byte[1088];
            for (int k = 0; k < xstate.length; k++) xstate[k] = (byte) (k * 7 + i);
            threads.add(new ThreadState(tids.get(i), new Regs(r), xstate, 0x1234L << i, List.of(siginfo(10 + i)),
                    0x7f00_0000_2000L + i, 24, 0x7f00_0000_3000L + i, new ThreadState.AltStack(0x7000_0000L + i, 1, 65536),
                    rseq.get(i), "thread-" + i, new ThreadState.SleepRestart(1, 123_456_789_000L + i, 0x7ffe_0000L + i,
                            0x401000L + i), i == 1 ? new SchedAttr(SchedAttr.SCHED_FIFO, false, 0, 10)
                            : new SchedAttr(SchedAttr.SCHED_BATCH, true, 5 + i, 0), 512 + i));
        }
        List<SigAction> acts = new ArrayList<>();
        for (int sig = 1; sig <= 64; sig++) {
            if (sig == 9 || sig == 19) continue;
            acts.add(new SigAction(sig, 0x401000L + sig, 0x04000000L | sig, 0x402000L, 1L << sig));
        }
        List<VmaState> vmas = new ArrayList<>();
        int[] adv = {2, 10};
        vmas.add(new VmaState(0x400000, 0x401000, 0x1000, 5, VmaState.MAP_PRIVATE, VmaState.Kind.FILE_PRIVATE,
                "/usr/bin/prog", 0, 0, new int[0], VmaAttrs.NONE));
        vmas.add(new VmaState(0x500000, 0x502000, 0x2000, 1, VmaState.MAP_SHARED, VmaState.Kind.FILE_SHARED,
                "/tmp/shared.dat", 0, 0, new int[0], new VmaAttrs(2, VmaAttrs.Lock.NONE, null, false)));
        // a memfd is known by its inode (memfds share names), which its mapping's entry keeps
        vmas.add(new VmaState(0x510000, 0x511000, 0, 3, VmaState.MAP_SHARED, VmaState.Kind.FILE_SHARED,
                "/memfd:twin", 0, 4711, new int[0], new VmaAttrs(2, VmaAttrs.Lock.NONE, null, false)));
        vmas.add(new VmaState(0x600000, 0x700000, 0, 3, VmaState.MAP_PRIVATE, VmaState.Kind.HEAP, null, 0, 0,
                new int[0], VmaAttrs.NONE));
        vmas.add(new VmaState(0x7f0000000000L, 0x7f0000010000L, 0, 3, VmaState.MAP_PRIVATE | VmaState.MAP_NORESERVE,
                VmaState.Kind.ANON_PRIVATE, null, 0, 0, adv, new VmaAttrs(0, VmaAttrs.Lock.LOCKED_ON_FAULT, "cache", true)));
        vmas.add(new VmaState(0x7f0000010000L, 0x7f0000014000L, 0, 3, VmaState.MAP_DROPPABLE, VmaState.Kind.ANON_PRIVATE,
                null, 0, 0, new int[0], new VmaAttrs(0, VmaAttrs.Lock.LOCKED, null, false)));
        vmas.add(new VmaState(0x7f0000020000L, 0x7f0000030000L, 0, 3, VmaState.MAP_SHARED, VmaState.Kind.ANON_SHARED,
                null, 0, 0, new int[0], VmaAttrs.NONE));
        vmas.add(new VmaState(0x7ffd0000_0000L, 0x7ffd0002_0000L, 0, 3, VmaState.MAP_PRIVATE | VmaState.MAP_GROWSDOWN,
                VmaState.Kind.STACK, null, 0, 0, new int[0], VmaAttrs.NONE));
        vmas.add(new VmaState(0x7ffe0000_0000L, 0x7ffe0000_4000L, 0, 1, VmaState.MAP_PRIVATE, VmaState.Kind.VVAR, null,
                0, 0, new int[0], VmaAttrs.NONE));
        vmas.add(new VmaState(0x7ffe0000_4000L, 0x7ffe0000_6000L, 0, 1, VmaState.MAP_PRIVATE, VmaState.Kind.VVAR_VCLOCK,
                null, 0, 0, new int[0], VmaAttrs.NONE));
        vmas.add(new VmaState(0x7ffe0000_6000L, 0x7ffe0000_8000L, 0, 5, VmaState.MAP_PRIVATE, VmaState.Kind.VDSO, null,
                0, 0, new int[0], VmaAttrs.NONE));
        vmas.add(new VmaState(0xffffffffff600000L, 0xffffffffff601000L, 0, 4, VmaState.MAP_PRIVATE,
                VmaState.Kind.VSYSCALL, null, 0, 0, new int[0], VmaAttrs.NONE));
        // without the AT_NULL tail, which the images leave out (CRIU's restore limits the length)
        long[] auxv = {33, 0x7ffe00006000L, 16, 0xbfebfbff};
        MmState mm = new MmState(0x400000, 0x401000, 0x600000, 0x601000, 0x600000, 0x650000, 0x7ffd0001f000L,
                0x7ffd0001e000L, 0x7ffd0001e100L, 0x7ffd0001e100L, 0x7ffd0001e800L, auxv, "/usr/bin/prog", vmas,
                List.of(new PageRun(0x600000, 3), new PageRun(0x7f0000000000L, 2)),
                List.of(new PageRun(0x601000, 1)),
                List.of(new FileSnapshot("/tmp/shared.dat", 0100640, 1000, 100, new byte[] {1, 2, 3}, true),
                        new FileSnapshot("/memfd:twin", 0100600, 0, 0, new byte[] {4, 5}, true, 4711)));
        List<FdState> fds = List.of(new FdState(1, 1, false), new FdState(3, 2, true), new FdState(4, 2, false),
                new FdState(5, 3, false), new FdState(6, 4, false), new FdState(7, 5, false), new FdState(8, 6, true), new FdState(9, 7, false));
        long[][] rlimits = new long[16][];
        for (int i = 0; i < 16; i++) rlimits[i] = new long[] {100L + i, 200L + i};
        ProcessState.Creds creds = new ProcessState.Creds(new int[] {1000, 1001, 1002, 1003},
                new int[] {100, 101, 102, 103}, new int[] {7, 42}, 0x1L, 0x3L, 0x2L, 0x1ffffffffffL, 0x1L);
        ProcessAttrs attrs = new ProcessAttrs(
                new ProcessAttrs.Timers(new ProcessAttrs.Itimer(30_000_000L, 12_000_000L, 987_654_321_000L),
                        new ProcessAttrs.Itimer(1_000_000L, 1_000_000_000_000L, 0),
                        new ProcessAttrs.Itimer(2_000_000_000L, 900_000_000_000L, 0),
                        List.of(new ProcessAttrs.PosixTimer(0, 1, 36, ProcessAttrs.PosixTimer.SIGEV_SIGNAL, 0, 0x1234, 3,
                                        50_000_000L, 12_345_678L, 555_000_000_000L),
                                new ProcessAttrs.PosixTimer(4, 7, 39, ProcessAttrs.PosixTimer.SIGEV_THREAD_ID | 0, pid + 1,
                                        77, 0, 70_000_000L, 1, 777_000_000_000L))),
                400, OptionalLong.of(3), true, 2, 3, 2 | 4, 1, true, 0x10, OptionalInt.of(0x3f), OptionalInt.of(7),
                List.of(new ProcessAttrs.Cgroup(0, "", "/user.slice/x"), new ProcessAttrs.Cgroup(4, "memory", "/a/b")),
                List.of(new ProcessAttrs.VmaPolicy(0x7f0000000000L, 0x7f0000010000L,
                        new ProcessAttrs.MemPolicy(2, new long[] {1}))),
                List.of(new ProcessAttrs.ThreadAttrs(pid, 12, OptionalLong.of(3333), true, 0x11, new long[] {3},
                                OptionalInt.of(0x4001), Optional.of(new ProcessAttrs.MemPolicy(1 | (1 << 15), new long[] {1})),
                                new int[] {1 | 4, 2, 8}, OptionalInt.of(2), OptionalInt.of(0), OptionalInt.of(1),
                                new Seccomp(Seccomp.FILTER, List.of(SHARED_FILTER, filter(2, 0), filter(3, 2))), null),
                        new ProcessAttrs.ThreadAttrs(pid + 1, 10, OptionalLong.of(1000), false, 0x10, new long[] {1, 4},
                                OptionalInt.of(0x4002), Optional.of(ProcessAttrs.MemPolicy.DEFAULT), new int[] {2, 2, 8},
                                OptionalInt.of(1), OptionalInt.of(1), OptionalInt.of(0),
                                new Seccomp(Seccomp.FILTER, List.of(SHARED_FILTER, filter(4, 0))),
                                new ProcessState.Creds(new int[] {1000, 4321, 1002, 4322}, new int[] {100, 1234, 102, 1235},
                                        new int[] {7}, 0x2L, 0x3L, 0x1L, 0x1ffffffffffL, 0x0L)),
                        ProcessAttrs.ThreadAttrs.none(pid + 2)));
        return new ProcessState(pid, ppid, PID, PID, "prog", threads, acts, List.of(siginfo(14), siginfo(36)), mm, fds,
                "/work", "/", 027, creds, rlimits, 0x60000, 20 /* SIGTSTP */, attrs);
    }

    /** The oldest filter of two threads of the fixture: one image entry, shared. */
    private static final Seccomp.Filter SHARED_FILTER = filter(1, 0);

    /** {@code n} instructions, "return ALLOW" last. */
    private static Seccomp.Filter filter(int n, int flags) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n - 1; i++) b.putShort((short) 0x20).put((byte) 0).put((byte) 0).putInt(4 * i);
        b.putShort((short) 0x06).put((byte) 0).put((byte) 0).putInt(0x7fff0000);
        return new Seccomp.Filter(b.array(), flags);
    }

    private static byte[] siginfo(int sig) {
        byte[] b = new byte[128];
        b[0] = (byte) sig;
        for (int i = 4; i < b.length; i++) b[i] = (byte) (i ^ sig);
        return b;
    }

    @Test
    void everyFieldComesBackFromTheImages() throws Exception {
        TreeState st = fixture();
        ImageDir dir = ImageDir.create(tmp.resolve("img"));
        StateCodec.write(dir, st);
        TreeState back = StateCodec.read(ImageDir.open(dir.path()));
        List<String> diffs = new ArrayList<>();
        compare("processes", st.processes(), back.processes(), diffs);
        compare("zombies", st.zombies(), back.zombies(), diffs);
        compare("pipes", st.pipes(), back.pipes(), diffs);
        compare("sharing", st.sharing(), back.sharing(), diffs);
        // the images also hold file entries for each cwd, exe and mapped file: only the fds' are compared
        for (OpenFile f : st.files()) compare("files[" + f.id() + "]", f, back.file(f.id()), diffs);
        assertEquals(List.of(), diffs, "fields that did not survive the images");
    }

    /**
     * CRIU's dump writes an rseq entry for every thread, with pointer 0 when none is registered
     * (criu/cr-dump.c); its restorer registers nothing then (criu/pie/restorer.c). Read as
     * not registered, not as an area at address 0.
     */
    @Test
    void criusRseqEntryWithPointerZeroIsNoRegistration() throws Exception {
        TreeState st = fixture();
        ImageDir dir = ImageDir.create(tmp.resolve("img"));
        StateCodec.write(dir, st);
        int pid = st.root().pid();
        jcriu.image.pb.CoreEntry core;
        try (ImageInput in = dir.open(ImageFile.core(pid))) {
            core = in.single(jcriu.image.pb.CoreEntry.parser());
        }
        jcriu.image.pb.CoreEntry.Builder b = core.toBuilder();
        b.getThreadCoreBuilder().setRseqEntry(jcriu.image.pb.RseqEntry.newBuilder().setRseqAbiPointer(0)
                .setRseqAbiSize(0).setSignature(0));
        try (ImageOutput o = dir.create(ImageFile.core(pid))) {
            o.write(b.build());
        }
        ThreadState leader = StateCodec.read(ImageDir.open(dir.path())).root().leader();
        assertEquals(new RseqState.NotRegistered(), leader.rseq());
    }

    @Test
    void theFixtureSetsEveryField() {
        Map<String, Boolean> seen = new TreeMap<>();
        walk(fixture(), seen);
        Set<String> unset = new TreeSet<>();
        seen.forEach((k, v) -> {
            if (!v && !NOT_IN_IMAGES.containsKey(k)) unset.add(k);
        });
        assertEquals(Set.of(), unset, "fields the fixture leaves at their default everywhere: give them a value");
        assertTrue(seen.size() > 100, "the walk found " + seen.size() + " fields");
    }

    // ---------------------------------------------------------------- generic record walk

    /** Records every (record type, component) met, and whether some instance held a non-default value. */
    private static void walk(Object o, Map<String, Boolean> seen) {
        if (o == null) return;
        if (o instanceof Regs r) {
            seen.merge("Regs.values", java.util.Arrays.stream(r.toArray()).anyMatch(x -> x != 0), Boolean::logicalOr);
            return;
        }
        if (o instanceof List<?> l) {
            l.forEach(e -> walk(e, seen));
            return;
        }
        if (o instanceof Optional<?> opt) {
            opt.ifPresent(e -> walk(e, seen));
            return;
        }
        if (o.getClass().isArray() && !o.getClass().getComponentType().isPrimitive()) {
            for (int i = 0; i < Array.getLength(o); i++) walk(Array.get(o, i), seen);
            return;
        }
        if (!o.getClass().isRecord()) return;
        for (RecordComponent c : o.getClass().getRecordComponents()) {
            Object v = value(c, o);
            seen.merge(o.getClass().getSimpleName() + "." + c.getName(), !isDefault(v), Boolean::logicalOr);
            walk(v, seen);
        }
    }

    private static boolean isDefault(Object v) {
        return v == null || v.equals(0) || v.equals(0L) || v.equals(false) || v.equals("")
                || (v instanceof List<?> l && l.isEmpty()) || (v.getClass().isArray() && Array.getLength(v) == 0)
                || v.equals(Optional.empty()) || v.equals(OptionalInt.empty()) || v.equals(OptionalLong.empty());
    }

    private static Object value(RecordComponent c, Object o) {
        try {
            return c.getAccessor().invoke(o);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(c.toString(), e);
        }
    }

    private static void compare(String path, Object a, Object b, List<String> diffs) {
        if (a == null || b == null) {
            if (a != b) diffs.add(path + ": " + a + " -> " + b);
            return;
        }
        if (a instanceof Regs ra && b instanceof Regs rb) {
            if (!java.util.Arrays.equals(ra.toArray(), rb.toArray())) diffs.add(path + ": " + ra + " -> " + rb);
            return;
        }
        if (a.getClass().isArray()) {
            if (!b.getClass().isArray() || Array.getLength(a) != Array.getLength(b)) {
                diffs.add(path + ": length " + Array.getLength(a) + " -> " + (b.getClass().isArray() ? Array.getLength(b) : b));
                return;
            }
            for (int i = 0; i < Array.getLength(a); i++) compare(path + "[" + i + "]", Array.get(a, i), Array.get(b, i), diffs);
            return;
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if (la.size() != lb.size()) {
                diffs.add(path + ": " + la.size() + " elements -> " + lb.size());
                return;
            }
            for (int i = 0; i < la.size(); i++) compare(path + "[" + i + "]", la.get(i), lb.get(i), diffs);
            return;
        }
        if (a instanceof Optional<?> oa && b instanceof Optional<?> ob) {
            if (oa.isPresent() != ob.isPresent()) diffs.add(path + ": " + oa + " -> " + ob);
            else oa.ifPresent(x -> compare(path, x, ob.get(), diffs));
            return;
        }
        if (a.getClass().isRecord()) {
            if (a.getClass() != b.getClass()) {
                diffs.add(path + ": " + a.getClass().getSimpleName() + " -> " + b.getClass().getSimpleName());
                return;
            }
            for (RecordComponent c : a.getClass().getRecordComponents()) {
                String key = a.getClass().getSimpleName() + "." + c.getName();
                if (NOT_IN_IMAGES.containsKey(key)) continue;
                compare(path + "." + c.getName(), value(c, a), value(c, b), diffs);
            }
            return;
        }
        if (!a.equals(b)) diffs.add(path + ": " + a + " -> " + b);
    }
}

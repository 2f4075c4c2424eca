package jcriu.restore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import jcriu.api.Log;
import jcriu.image.PageStore;
import jcriu.inject.Injector;
import jcriu.proc.Maps;
import jcriu.proc.Vma;
import jcriu.ptrace.Regs;
import jcriu.ptrace.RseqConfig;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.state.ProcessState;
import jcriu.state.ThreadState;
import jcriu.state.VmaState;
import jcriu.sys.Nr;

/**
 * Turns one process of the tree into the checkpointed process, entirely by syscall
 * injection, in stages that mirror the dump. The process starts as a copy of the freestanding
 * helper (the root) or of its restored parent (every other process): {@link #begin} puts a
 * control area of its own in place and removes what it must not keep, {@link #memory}
 * rebuilds the address space (after which its own children can be cloned from it), and
 * {@link #finish} does files, process attributes, threads, credentials, and the leader's
 * registers last.
 */
final class ProcessRebuild implements AutoCloseable {
    /** Where injection runs before the process has a control area: a gadget and a stack it already has (0: its own). */
    record Start(long gadget, long stack) {}

    private final Tracer tracer;
    private final ProcessState st;
    private final PageStore pages;
    private final FileInstaller files;
    private final SharedMemory shm;
    private final List<Integer> threadsCreated;
    private final Log log;
    private final ProcessAttrsRestorer attrs;
    private TaskMemory mem;
    private Target target;

    /** {@code threadsCreated} collects the TIDs of the threads made, so that a failure can reap them. */
    ProcessRebuild(Tracer tracer, ProcessState st, PageStore pages, FileInstaller files, SharedMemory shm,
                   List<Integer> threadsCreated, Log log) {
        this.tracer = tracer;
        this.st = st;
        this.pages = pages;
        this.files = files;
        this.shm = shm;
        this.threadsCreated = threadsCreated;
        this.log = log;
        this.attrs = new ProcessAttrsRestorer(st, log);
    }

    PageStore pages() { return pages; }

    ProcessState state() { return st; }

    /** The process as the stages see it, once {@link #begin} has run. */
    Target target() { return target; }

    /**
     * A control area in a hole of both layouts, then every mapping removed but the kernel's
     * own and those {@code inherited} keeps (null: nothing is kept, the process is a helper copy).
     */
    void begin(Start start, Inheritance inherited) throws IOException {
        int pid = st.pid();
        RseqConfig helperRseq = tracer.getRseqConfig(pid);
        if (helperRseq.registered()) {
            throw new IOException("process " + pid + " unexpectedly has rseq registered at "
                    + Long.toHexString(helperRseq.pointer()) + " before its restore");
        }
        tracer.setSigmask(pid, -1L); // nothing may interrupt injected syscalls
        Regs regs = tracer.getRegs(pid);
        Injector inj = new Injector(tracer, pid, regs, start.gadget());
        if (start.stack() != 0) inj.useStack(start.stack());
        mem = TaskMemory.open(pid, true);
        List<Vma> current = Maps.read(Path.of("/proc"), pid);
        ControlArea ctl = new ControlArea(findHole(current, st, ControlArea.SIZE));
        inj.call("mmap control area", Nr.MMAP, ctl.base, ControlArea.SIZE, 7 /* rwx */,
                VmaState.MAP_PRIVATE | VmaState.MAP_ANONYMOUS | VmaState.MAP_FIXED_NOREPLACE, -1, 0);
        mem.write(ctl.base, ControlArea.GADGET);
        inj.useGadget(ctl.gadget());
        inj.useStack(ctl.stackTop());
        log.debug(String.format("process %d: control area at %#x", pid, ctl.base));
        List<VmaState> keep = inherited == null ? List.of() : inherited.kept();
        for (Vma v : current) {
            if (MemoryStage.isSpecial(v.name())) continue;
            for (long[] piece : without(v.start(), v.end(), keep)) {
                inj.call(String.format("munmap %#x-%#x %s", piece[0], piece[1], v.name()), Nr.MUNMAP, piece[0],
                        piece[1] - piece[0]);
            }
        }
        target = new Target(tracer, st, inj, mem, ctl, log);
    }

    /** [from, to) minus the kept mappings, as ranges to unmap. */
    private static List<long[]> without(long from, long to, List<VmaState> keep) {
        List<long[]> out = new ArrayList<>();
        long at = from;
        for (VmaState k : keep.stream().sorted(Comparator.comparingLong(VmaState::start)).toList()) {
            if (k.end() <= at || k.start() >= to) continue;
            if (k.start() > at) out.add(new long[] {at, k.start()});
            at = Math.max(at, k.end());
        }
        if (at < to) out.add(new long[] {at, to});
        return out;
    }

    /** Returns the pages written (those a child kept from its parent, still shared, not counted). */
    long memory(Inheritance inherited) throws IOException {
        attrs.enterCgroups(st.pid()); // before any memory of its own is charged
        return MemoryStage.run(target, pages, shm, files, inherited);
    }

    /** {@code control} is told the phases reached (a cancellation stops the restore there). */
    void finish(jcriu.api.Control control) throws IOException {
        Target t = target;
        files.install(t);
        files.deletedCwd(t);
        control.reached("files");
        AttrsStage.run(t);
        ThreadStage.setup(t, t.inj(), st.leader());
        attrs.restoreProcess(t.inj(), t.mem(), t.ctl(), st.pid());
        SeccompStage.beforeThreads(t); // filters every thread shares: inherited by the clones
        for (ThreadState other : st.threads()) {
            if (other.tid() != st.pid()) ThreadStage.create(t, other, threadsCreated, attrs);
        }
        control.reached("threads");
        SeccompStage.thread(t, t.inj(), st.pid());
        CredsStage.run(t, t.inj());
        attrs.restoreThread(t.inj(), t.mem(), t.ctl(), st.pid()); // the leader last: its timers may notify any thread
        ThreadStage.finishLeader(t);
    }

    @Override
    public void close() throws IOException {
        if (mem != null) mem.close();
    }

    /** The lowest hole of {@code size} above 4 GiB that neither layout uses. */
    private static long findHole(List<Vma> now, ProcessState st, long size) {
        List<long[]> used = new ArrayList<>();
        for (Vma v : now) used.add(new long[] {v.start(), v.end()});
        for (VmaState v : st.mm().vmas()) used.add(new long[] {v.start(), v.end()});
        used.sort(Comparator.comparingLong(a -> a[0]));
        long cand = 0x100000000L;
        for (long[] u : used) {
            if (u[1] <= cand) continue;
            if (u[0] >= cand + size) break;
            cand = (u[1] + 0xffff) & ~0xffffL;
        }
        if (cand + size > 0x7fff00000000L) throw new IllegalStateException("no hole for the control area");
        return cand;
    }
}

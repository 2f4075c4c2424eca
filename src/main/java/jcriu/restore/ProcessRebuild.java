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
 * Turns one process of the tree, still a copy of the freestanding helper, into the
 * checkpointed process, entirely by syscall injection, in stages that mirror the dump:
 * memory, files, process attributes, threads, credentials, and the leader's registers last.
 */
final class ProcessRebuild {
    private ProcessRebuild() {}

    /** {@code threadsCreated} collects the TIDs of the threads made, so that a failure can reap them. */
    static void run(Tracer tracer, ProcessState st, PageStore pages, FileInstaller files, SharedMemory shm,
                    List<Integer> threadsCreated, Log log) throws IOException {
        int pid = st.pid();
        RseqConfig helperRseq = tracer.getRseqConfig(pid);
        if (helperRseq.registered()) {
            throw new IOException("restore helper unexpectedly has rseq registered at "
                    + Long.toHexString(helperRseq.pointer()));
        }
        tracer.setSigmask(pid, -1L); // nothing may interrupt injected syscalls
        Regs start = tracer.getRegs(pid);
        Injector inj = new Injector(tracer, pid, start, HelperElf.gadget());
        try (TaskMemory mem = TaskMemory.open(pid, true)) {
            List<Vma> helperMaps = Maps.read(Path.of("/proc"), pid);
            ControlArea ctl = new ControlArea(findHole(helperMaps, st, ControlArea.SIZE));
            inj.call("mmap control area", Nr.MMAP, ctl.base, ControlArea.SIZE, 7 /* rwx */,
                    VmaState.MAP_PRIVATE | VmaState.MAP_ANONYMOUS | VmaState.MAP_FIXED_NOREPLACE, -1, 0);
            mem.write(ctl.base, ControlArea.GADGET);
            inj.useGadget(ctl.gadget());
            inj.useStack(ctl.stackTop());
            log.debug(String.format("process %d: control area at %#x", pid, ctl.base));
            for (Vma v : helperMaps) {
                if (MemoryStage.isSpecial(v.name())) continue;
                inj.call("munmap helper " + v.name(), Nr.MUNMAP, v.start(), v.end() - v.start());
            }
            Target t = new Target(tracer, st, inj, mem, ctl, log);
            MemoryStage.run(t, pages, shm, files);
            files.install(t);
            AttrsStage.run(t);
            ThreadStage.setup(t, inj, st.leader());
            for (ThreadState other : st.threads()) {
                if (other.tid() != pid) ThreadStage.create(t, other, threadsCreated);
            }
            CredsStage.run(t, inj);
            ThreadStage.finishLeader(t);
        }
    }

    /** The lowest hole of {@code size} above 4 GiB that neither layout uses. */
    private static long findHole(List<Vma> helperMaps, ProcessState st, long size) {
        List<long[]> used = new ArrayList<>();
        for (Vma v : helperMaps) used.add(new long[] {v.start(), v.end()});
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

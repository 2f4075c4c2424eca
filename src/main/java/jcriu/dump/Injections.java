package jcriu.dump;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import jcriu.api.Log;
import jcriu.proc.Status;
import jcriu.proc.Maps;
import jcriu.proc.Vma;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.rseq.RseqCs;
import jcriu.rseq.RseqState;

/**
 * Opens the {@link InjectionSession}s of one dump: finds each process's rescue gadgets once,
 * and names each session's points for the test hook ({@code inject:NAME:POINT}, NAME followed by
 * the thread's index when it is not the leader: {@code inject:thread1:enter}).
 */
final class Injections {
    private static final Path PROC = Path.of("/proc");
    private final Tracer tracer;
    private final Log log;
    private final Consumer<String> pause;
    private final Map<Integer, Optional<RescueGadgets>> gadgets = new HashMap<>();
    /** Each process's mappings from /proc/PID/maps, read at its first session. */
    private final Map<Integer, List<Vma>> maps = new HashMap<>();
    /** The gadgets last found by a scan, tried first in the next process (a tree shares its libc). */
    private RescueGadgets lastFound;

    /** {@code pause}: the test hook, told {@code inject:NAME:POINT} at each point of each session. */
    Injections(Tracer tracer, Log log, Consumer<String> pause) {
        this.tracer = tracer;
        this.log = log;
        this.pause = pause;
    }

    /** A session in thread {@code t} of the process {@code mem} reads; {@code name} names its points. */
    InjectionSession open(DumpEngine.Early t, TaskMemory mem, List<DumpEngine.Early> threads, String name)
            throws IOException {
        RescueGadgets g = gadgets(mem, threads).orElse(null);
        int i = threads.indexOf(t);
        String n = "inject:" + name + (i > 0 ? Integer.toString(i) : "") + ":"; // thread1: the second thread
        return InjectionSession.open(tracer, t, mem, g, rsp -> stackBelow(mem.pid(), rsp), p -> pause.accept(n + p),
                log);
    }

    /**
     * The mapping below a thread's stack pointer, from the mappings read at the process's first
     * session: while the process is frozen only jcriu's own calls change its mappings, and they
     * neither remove nor change one (a probe page is mapped and unmapped elsewhere). Read again
     * when the pointer lies outside them (a stack grown by a settling step on an old kernel).
     */
    private Vma stackBelow(int pid, long rsp) throws IOException {
        Vma v = InjectionSession.stackIn(maps(pid), rsp);
        if (v != null) return v;
        maps.put(pid, Maps.readMaps(PROC, pid));
        return InjectionSession.stackIn(maps(pid), rsp);
    }

    private List<Vma> maps(int pid) throws IOException {
        List<Vma> m = maps.get(pid);
        if (m == null) {
            m = Maps.readMaps(PROC, pid); // maps, not smaps: no walk of the page tables
            maps.put(pid, m);
        }
        return m;
    }

    private Optional<RescueGadgets> gadgets(TaskMemory mem, List<DumpEngine.Early> threads) throws IOException {
        Optional<RescueGadgets> g = gadgets.get(mem.pid());
        if (g != null) return g;
        if (shadowStack(mem.pid(), threads)) {
            g = Optional.empty();
            log.warn("process " + mem.pid() + " uses CET shadow stacks, which refuse the rescue of its threads: should"
                    + " jcriu be killed while it runs calls in one, the thread would keep their registers");
        } else {
            // no gadget may lie in a critical section a thread is inside: the kernel would abort the call
            List<RseqCs> sections = new ArrayList<>();
            for (DumpEngine.Early e : threads) {
                if (e.rseq() instanceof RseqState.InsideAbort a) sections.add(a.cs());
                if (e.rseq() instanceof RseqState.InsideNoRestart n) sections.add(n.cs());
            }
            g = lastFound == null ? Optional.empty() : RescueGadgets.reuse(lastFound, maps(mem.pid()), mem, sections);
            if (g.isEmpty()) {
                g = RescueGadgets.find(maps(mem.pid()), mem, sections);
                g.ifPresent(found -> lastFound = found);
            }
            if (g.isEmpty()) {
                log.warn("process " + mem.pid() + " has no syscall;ret and rt_sigreturn code to rescue its threads"
                        + " with: should jcriu be killed while it runs calls in one, the thread would keep their"
                        + " registers");
            } else {
                log.debug(String.format("rescue gadgets of %d: syscall;ret at %#x, rt_sigreturn at %#x, munmap at %#x",
                        mem.pid(), g.get().syscallRet(), g.get().sigreturn(), g.get().munmapRet()));
            }
        }
        gadgets.put(mem.pid(), g);
        return g;
    }

    /**
     * Whether a thread of the process has a shadow stack ({@code x86_Thread_features: shstk}, Linux
     * 6.6+). The frozen threads are asked, not a new listing of /proc/PID/task: they are all the
     * process has, and none of them can vanish while stopped.
     */
    private static boolean shadowStack(int pid, List<DumpEngine.Early> threads) throws IOException {
        for (DumpEngine.Early t : threads) {
            String features = Status.readTask(PROC, pid, t.tid()).field("x86_Thread_features").orElse("");
            if (features.contains("shstk")) return true;
        }
        return false;
    }
}

package jcriu.rseq;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jcriu.inject.Freezer;
import jcriu.ptrace.Regs;
import jcriu.ptrace.RseqConfig;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.sys.SysException;

/**
 * What a dump would find and decide about each thread's rseq, read with the threads stopped
 * only for the read: nothing runs in the target, no register and no byte of its memory is
 * changed, and the threads are detached as they were (a stopped process stays stopped).
 * Being stopped is a preemption for the kernel, so a thread that was inside a restartable
 * section aborts it when it runs again, exactly as after SIGSTOP/SIGCONT.
 */
public record RseqReport(int pid, List<ThreadReport> threads) {

    /** The case a dump would apply to a thread. */
    public enum Case {
        /** PTRACE_GET_RSEQ_CONFIGURATION failed (a kernel before 5.13): nothing could be read. */
        UNKNOWN,
        NOT_REGISTERED,
        /** Registered, {@code rseq_cs} 0 or rip outside the section it points at. */
        OUTSIDE,
        /** Inside a restartable section: a dump resumes it at the abort handler. */
        INSIDE_ABORT,
        /** Inside a NO_RESTART_ON_SIGNAL section: rip kept, {@code rseq_cs} written back. */
        INSIDE_NO_RESTART,
        /** A dump would be refused (unknown flags, descriptor version != 0). */
        REFUSED
    }

    /**
     * One thread. {@code config} is null when the kernel could not answer; {@code area} is the
     * thread's {@code struct rseq} (null if not registered or unreadable); {@code cs} the
     * descriptor {@code rseq_cs} points at (null if 0 or unreadable); {@code inside} whether rip
     * is in {@code [start_ip, start_ip + post_commit_offset)}; {@code state} the decision (null
     * for UNKNOWN and REFUSED, see {@code decision}).
     */
    public record ThreadReport(int tid, RseqConfig config, long rip, RseqArea area, RseqCs cs, boolean inside,
                               Case kind, RseqState state, List<String> findings, String decision) {

        public boolean registered() { return config != null && config.registered(); }

        /** {@code rseq_cs} as it was in memory (0 when not registered). */
        public long csPointer() { return area == null ? 0 : area.rseqCs(); }
    }

    public static RseqReport read(int pid) throws Exception {
        return Tracer.run("jcriu-rseq-" + pid, tracer -> {
            Freezer.Frozen f = Freezer.freeze(tracer, pid, m -> { });
            try (TaskMemory mem = TaskMemory.open(pid, false)) {
                List<ThreadReport> out = new ArrayList<>();
                for (int tid : f.tids()) out.add(readThread(tracer, mem, tid));
                return new RseqReport(pid, List.copyOf(out));
            } finally {
                Freezer.release(tracer, f);
            }
        });
    }

    /** Reads one stopped thread; only reads (registers, rseq configuration, memory). */
    static ThreadReport readThread(Tracer tracer, TaskMemory mem, int tid) throws IOException {
        Regs regs = tracer.getRegs(tid);
        long rip = regs.rip();
        List<String> findings = new ArrayList<>();
        RseqConfig cfg;
        try {
            cfg = tracer.getRseqConfig(tid);
        } catch (SysException e) {
            findings.add("PTRACE_GET_RSEQ_CONFIGURATION failed: " + e.getMessage());
            return new ThreadReport(tid, null, rip, null, null, false, Case.UNKNOWN, null, List.copyOf(findings),
                    "unknown: this kernel does not report rseq registrations to ptrace");
        }
        return describe(tid, cfg, mem::read, rip, findings);
    }

    /** The report of one thread from its configuration, memory and rip (also used with fake memory). */
    static ThreadReport describe(int tid, RseqConfig cfg, RseqInspector.Memory mem, long rip, List<String> findings) {
        RseqArea area = null;
        RseqCs cs = null;
        if (cfg.registered()) {
            try {
                area = RseqArea.parse(mem.read(cfg.pointer(), RseqArea.READ_SIZE));
                if (area.rseqCs() != 0) cs = RseqCs.parse(mem.read(area.rseqCs(), RseqCs.SIZE));
            } catch (IOException e) {
                findings.add("unreadable: " + e.getMessage());
            }
        }
        boolean inside = cs != null && cs.contains(rip);
        RseqState state = null;
        Case kind;
        String decision;
        try {
            state = RseqInspector.inspect(tid, cfg, mem, rip, findings::add);
            switch (state) {
                case RseqState.NotRegistered n -> {
                    kind = Case.NOT_REGISTERED;
                    decision = "not registered: nothing to save or restore";
                }
                case RseqState.Outside o -> {
                    kind = Case.OUTSIDE;
                    decision = "outside any critical section: registration saved as is";
                }
                case RseqState.InsideAbort a -> {
                    kind = Case.INSIDE_ABORT;
                    decision = String.format("inside: a dump resumes it at the abort handler %#x", a.cs().abortIp());
                }
                case RseqState.InsideNoRestart n -> {
                    kind = Case.INSIDE_NO_RESTART;
                    decision = String.format("inside a NO_RESTART_ON_SIGNAL section: rip kept, rseq_cs %#x written back",
                            n.csPointer());
                }
            }
        } catch (RseqInspector.RefusedException e) {
            kind = Case.REFUSED;
            decision = "a dump would be refused: " + e.getMessage();
        } catch (IOException e) {
            kind = Case.UNKNOWN;
            decision = "unreadable: " + e.getMessage();
        }
        return new ThreadReport(tid, cfg, rip, area, cs, inside, kind, state, List.copyOf(findings), decision);
    }

    public String toText() {
        StringBuilder b = new StringBuilder();
        for (ThreadReport t : threads) {
            String comm = "";
            try {
                comm = Files.readString(Path.of("/proc/" + pid + "/task/" + t.tid() + "/comm")).strip();
            } catch (IOException ignored) {
                // thread gone since the read
            }
            b.append(String.format("thread %d (%s) rip %#x%n", t.tid(), comm, t.rip()));
            RseqConfig c = t.config();
            if (c != null && c.registered()) {
                b.append(String.format("  registration: area %#x size %d signature %#x flags %d%n", c.pointer(), c.size(),
                        c.signature() & 0xffffffffL, c.flags()));
            } else if (c != null) {
                b.append("  registration: none\n");
            }
            RseqArea a = t.area();
            if (a != null) {
                b.append(String.format("  struct rseq: cpu_id_start %d cpu_id %d rseq_cs %#x flags %#x%n",
                        a.cpuIdStart(), a.cpuId(), a.rseqCs(), a.flags()));
            }
            RseqCs cs = t.cs();
            if (cs != null) {
                b.append(String.format("  rseq_cs: version %d flags %#x start_ip %#x post_commit_ip %#x abort_ip %#x, "
                                + "rip %s%n", cs.version(), cs.flags(), cs.startIp(), cs.startIp() + cs.postCommitOffset(),
                        cs.abortIp(), t.inside() ? "inside" : "outside"));
            }
            for (String f : t.findings()) b.append("  ").append(f.replaceFirst("^rseq tid \\d+: ", "")).append('\n');
            b.append("  case: ").append(t.decision()).append('\n');
        }
        return b.toString();
    }
}

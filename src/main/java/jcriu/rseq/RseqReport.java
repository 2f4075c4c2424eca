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

/**
 * What a dump would find and decide about each thread's rseq, read with the threads stopped
 * only for the read: nothing runs in the target and no register is changed.
 */
public record RseqReport(int pid, List<ThreadReport> threads) {

    /** One thread: its registration, rip, and the decision (or why a dump would be refused). */
    public record ThreadReport(int tid, RseqConfig config, long rip, List<String> findings, String decision) {}

    public static RseqReport read(int pid) throws Exception {
        return Tracer.run("jcriu-rseq-" + pid, tracer -> {
            Freezer.Frozen f = Freezer.freeze(tracer, pid, m -> { });
            try (TaskMemory mem = TaskMemory.open(pid, false)) {
                List<ThreadReport> out = new ArrayList<>();
                for (int tid : f.tids()) {
                    Regs regs = tracer.getRegs(tid);
                    RseqConfig cfg = tracer.getRseqConfig(tid);
                    List<String> findings = new ArrayList<>();
                    String decision;
                    try {
                        RseqState s = RseqInspector.inspect(tid, cfg, mem, regs.rip(), findings::add);
                        decision = switch (s) {
                            case RseqState.NotRegistered n -> "not registered: nothing to save or restore";
                            case RseqState.Outside o -> "outside any critical section: registration saved as is";
                            case RseqState.InsideAbort a -> String.format(
                                    "inside: a dump resumes it at the abort handler %#x", a.cs().abortIp());
                            case RseqState.InsideNoRestart n -> String.format(
                                    "inside a NO_RESTART_ON_SIGNAL section: rip kept, rseq_cs %#x written back",
                                    n.csPointer());
                        };
                    } catch (RseqInspector.RefusedException e) {
                        decision = "a dump would be refused: " + e.getMessage();
                    }
                    out.add(new ThreadReport(tid, cfg, regs.rip(), findings, decision));
                }
                return new RseqReport(pid, List.copyOf(out));
            } finally {
                Freezer.release(tracer, f);
            }
        });
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
            b.append(String.format("thread %d (%s)%n", t.tid(), comm));
            RseqConfig c = t.config();
            if (c.registered()) {
                b.append(String.format("  registration: area %#x size %d signature %#x flags %d%n", c.pointer(), c.size(),
                        c.signature() & 0xffffffffL, c.flags()));
            }
            for (String f : t.findings()) b.append("  ").append(f.replaceFirst("^rseq tid \\d+: ", "")).append('\n');
            b.append("  case: ").append(t.decision()).append('\n');
        }
        return b.toString();
    }
}

package jcriu.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * What must be the same in a process before and after jcriu was interrupted while working on
 * it: its mappings and every thread's blocked-signal mask; and that it is neither traced nor
 * stopped any more.
 */
public record TargetState(String maps, Map<Integer, String> sigBlk) {

    public static TargetState of(int pid) throws IOException {
        Map<Integer, String> blk = new TreeMap<>();
        try (var s = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : s.toList()) {
                for (String l : Files.readAllLines(t.resolve("status"))) {
                    if (l.startsWith("SigBlk:")) blk.put(Integer.parseInt(t.getFileName().toString()), l.substring(7).strip());
                }
            }
        }
        return new TargetState(Files.readString(Path.of("/proc/" + pid + "/maps")), blk);
    }

    /** Waits until no thread of {@code pid} is traced or in a tracing stop (jcriu let go of it). */
    public static void awaitReleased(int pid, Duration timeout) throws Exception {
        awaitThreads(pid, timeout, state -> state != 't', "still held");
    }

    /** Waits until every thread of {@code pid} is in a job-control stop (state T) and untraced. */
    public static void awaitStopped(int pid, Duration timeout) throws Exception {
        awaitThreads(pid, timeout, state -> state == 'T', "not stopped");
    }

    /** Waits until every thread of {@code pid} is untraced and in a state {@code ok} accepts. */
    private static void awaitThreads(int pid, Duration timeout, java.util.function.IntPredicate ok, String failure)
            throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            StringBuilder off = new StringBuilder();
            try (var s = Files.list(Path.of("/proc/" + pid + "/task"))) {
                for (Path t : s.toList()) {
                    int tid = Integer.parseInt(t.getFileName().toString());
                    String stat = Files.readString(t.resolve("stat"));
                    char state = stat.charAt(stat.lastIndexOf(')') + 2);
                    int tracer = Workload.tracerPid(tid);
                    if (tracer != 0 || !ok.test(state)) off.append(" ").append(tid).append(" (state ").append(state)
                            .append(", tracer ").append(tracer).append(")");
                }
            }
            if (off.isEmpty()) return;
            if (System.nanoTime() > end) throw new AssertionError("process " + pid + " " + failure + ":" + off);
            Thread.sleep(10);
        }
    }
}

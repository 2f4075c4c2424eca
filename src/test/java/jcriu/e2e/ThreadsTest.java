package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import jcriu.ptrace.RseqConfig;
import jcriu.ptrace.Tracer;
import jcriu.ptrace.WaitStatus;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;
import jcriu.sys.SchedAttr;
import jcriu.sys.Sys;

/** Multi-threaded processes: every thread comes back with its TID, its state and its rseq area. */
class ThreadsTest {

    /** Each thread's rseq registration, read with ptrace (the threads are stopped only for the read). */
    static Map<Integer, RseqConfig> rseqOf(List<Integer> tids) throws Exception {
        return Tracer.run("rseq-read", t -> {
            Map<Integer, RseqConfig> out = new HashMap<>();
            for (int tid : tids) {
                t.seize(tid, 0);
                t.interrupt(tid);
                WaitStatus ws = t.waitFor(tid);
                assertTrue(ws.stopped(), ws.toString());
                out.put(tid, t.getRseqConfig(tid));
                t.detach(tid, 0);
            }
            return out;
        });
    }

    private static Map<Integer, Long> lastCounts(List<String> lines) {
        Map<Integer, Long> m = new HashMap<>();
        for (String l : lines) {
            if (l.startsWith("thread=") && l.contains(" count=")) {
                m.put((int) Workload.number(l, "tid"), Workload.number(l, "count"));
            }
        }
        return m;
    }

    /** The first count each worker prints after line {@code from}, waiting until all have printed. */
    private static Map<Integer, Long> firstCountsAfter(Workload r, int from, int n) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (true) {
            Map<Integer, Long> first = new HashMap<>();
            List<String> lines = r.lines();
            for (String l : lines.subList(Math.min(from, lines.size()), lines.size())) {
                if (l.startsWith("thread=") && l.contains(" count=")) {
                    first.putIfAbsent((int) Workload.number(l, "tid"), Workload.number(l, "count"));
                }
            }
            if (first.size() == n) return first;
            if (System.nanoTime() > end) throw new AssertionError("only " + first + " printed after restore");
            Thread.sleep(50);
        }
    }

    /** Every worker commits one rseq section per tick: a lost or doubled commit shows as commits != count. */
    private static void assertOneCommitPerTick(List<String> lines) {
        for (String l : lines) {
            if (l.startsWith("thread=") && l.contains(" count=")) {
                assertEquals(Workload.number(l, "count"), Workload.number(l, "commits"), l);
            }
        }
    }

    /** Policy, priority, nice and reset-on-fork per thread, set here and expected back after the restore. */
    @org.junit.jupiter.api.Test
    void schedulingOfEveryThreadComesBack() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("threads"), "4")) {
            String ready = w.awaitOutput("ready");
            List<Integer> workers = java.util.Arrays.stream(Workload.word(ready, "tids").split(","))
                    .map(Integer::valueOf).toList();
            Map<Integer, SchedAttr> want = new HashMap<>();
            want.put(w.pid(), new SchedAttr(SchedAttr.SCHED_RR, false, 0, 5)); // main mostly sleeps: RR is safe
            want.put(workers.get(0), new SchedAttr(SchedAttr.SCHED_OTHER, false, 7, 0));
            want.put(workers.get(1), new SchedAttr(SchedAttr.SCHED_BATCH, false, 3, 0));
            want.put(workers.get(2), new SchedAttr(SchedAttr.SCHED_IDLE, false, 0, 0));
            want.put(workers.get(3), new SchedAttr(SchedAttr.SCHED_OTHER, true, -4, 0));
            for (var e : want.entrySet()) Sys.schedSetattr(e.getKey(), e.getValue());
            for (int i = 0; i < 4; i++) w.awaitOutput("count=2");
            Workload r = Checkpoints.cycle(w);
            try {
                for (var e : want.entrySet()) {
                    int tid = e.getKey();
                    SchedAttr got = Sys.schedGetattr(tid);
                    SchedAttr expect = e.getValue();
                    // SCHED_IDLE has no nice of its own; the kernel reports what the weight maps to
                    if (expect.policy() == SchedAttr.SCHED_IDLE) got = new SchedAttr(got.policy(), got.resetOnFork(), 0, got.priority());
                    assertEquals(expect, got, "thread " + tid);
                    // the same facts through /proc (fields 19 nice, 40 rt_priority, 41 policy)
                    jcriu.proc.ProcStat ps = jcriu.proc.Stat.readTask(java.nio.file.Path.of("/proc"), r.pid(), tid);
                    assertEquals(expect.policy(), ps.policy(), "policy of " + tid);
                    assertEquals(expect.priority(), ps.rtPriority(), "rt priority of " + tid);
                    if (expect.policy() != SchedAttr.SCHED_IDLE && expect.policy() != SchedAttr.SCHED_RR) {
                        assertEquals(expect.nice(), ps.nice(), "nice of " + tid);
                    }
                }
                int seen = r.lineCount();
                for (int i = 0; i < 4; i++) r.seek(seen).awaitOutput("thread=" + i + " ");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
                assertFalse(r.text().contains("BAD"), r.text());
            } finally {
                r.close();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 8, 64})
    void everyThreadContinuesWithItsTidAndRseq(int n) throws Exception {
        try (Workload w = Workload.start(Gcc.compile("threads"), Integer.toString(n))) {
            w.awaitOutput("ready");
            List<Integer> tids = w.tids();
            assertEquals(n + 1, tids.size());
            for (int i = 0; i < n; i++) w.awaitOutput("count=3");
            Map<Integer, RseqConfig> before = rseqOf(tids);
            Workload cur = w;
            try {
                for (int round = 0; round < 2; round++) {
                    Workload r = Checkpoints.cycle(cur);
                    List<String> seen = cur.lines().subList(0, r.cursor());
                    cur = r;
                    assertEquals(tids, r.tids(), "same TIDs after restore");
                    Map<Integer, Long> last = lastCounts(seen);
                    assertEquals(n, last.size());
                    Map<Integer, Long> first = firstCountsAfter(r, seen.size(), n);
                    for (var e : last.entrySet()) {
                        assertEquals(e.getValue() + 1, first.get(e.getKey()), "thread " + e.getKey() + " continues");
                    }
                    Map<Integer, RseqConfig> after = rseqOf(tids);
                    for (int tid : tids) {
                        assertTrue(after.get(tid).registered(), "rseq of " + tid + " registered");
                        assertEquals(before.get(tid), after.get(tid), "rseq of " + tid);
                    }
                    assertFalse(r.text().contains("BAD"), r.text());
                    assertOneCommitPerTick(r.lines());
                }
                cur.signal(Sig.SIGTERM);
                cur.awaitOutput("exit code=0");
                cur.awaitGone(java.time.Duration.ofSeconds(30));
            } finally {
                cur.close();
            }
            Workload r = cur;
            assertFalse(r.text().contains("BAD"), r.text());
        }
    }

    /**
     * Messages a leave-running dump may fail with while threads are born and die under it:
     * a thread that exits between being listed and being read. Anything else is a bug.
     */
    /**
     * Threads born and dying while the dump freezes: every dump succeeds (the freeze goes on
     * until each thread it lists is stopped, so a thread that exits under it only means another
     * round), the process goes on, and every dump restores.
     */
    @org.junit.jupiter.api.Test
    void dumpWhileThreadsComeAndGo() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("thread_churn"))) {
            w.awaitOutput("spawned=");
            List<java.nio.file.Path> images = new java.util.ArrayList<>();
            for (int i = 0; i < 15; i++) {
                java.nio.file.Path dir = Checkpoints.imageDir(w);
                java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
                try {
                    jcriu.dump.Checkpointer.dump(new jcriu.dump.DumpOptions(w.pid(), dir, true, false),
                            Checkpoints.log(log));
                    images.add(dir);
                } catch (jcriu.dump.Checkpointer.DumpException e) {
                    throw new AssertionError("dump " + i + " of a process whose threads come and go failed: "
                            + e.getMessage() + "\n" + log, e);
                }
                // progress within a deadline, not two consecutive samples: under load a print may come first
                long at = Workload.number(w.awaitOutput("spawned="), "spawned");
                long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
                long later = at;
                while (later <= at) {
                    assertTrue(System.nanoTime() < deadline, "still spawning after dump " + i + ": stuck at " + at);
                    later = Workload.number(w.awaitOutput("spawned="), "spawned");
                }
            }
            w.kill9AndAwaitGone();
            for (int i = 0; i < images.size(); i++) {
                // each image holds the threads of its moment, some of them about to exit: all must come back
                java.nio.file.Path dir = images.get(i);
                try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                    long a = Workload.number(r.awaitOutput("spawned="), "spawned");
                    long b = Workload.number(r.awaitOutput("spawned="), "spawned");
                    assertTrue(b > a, "restored from " + dir.getFileName() + ": " + a + " -> " + b);
                    if (i < images.size() - 1) continue;
                    // the last one is dumped again, killed and restored while its threads come and go
                    try (Workload again = Checkpoints.cycle(r)) {
                        long c = Workload.number(again.awaitOutput("spawned="), "spawned");
                        long d = Workload.number(again.awaitOutput("spawned="), "spawned");
                        assertTrue(d > c, "the restored process spawns threads: " + c + " -> " + d);
                        again.signal(Sig.SIGTERM);
                        again.awaitOutput("exit code=0");
                    }
                }
            }
        }
    }
}

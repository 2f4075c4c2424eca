package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import jcriu.testsupport.AttrsReport;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.ProcSnapshot;
import jcriu.testsupport.Workload;

/**
 * The {@code attrs} workload (every item of docs/process-state.md set to a value that is not
 * the default) dumped, killed and restored once; each test compares one item before and
 * after, from /proc and from what the process reports of itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProcessAttrsTest {
    private Workload original, restored;
    private Map<String, String> before, after, procBefore, procAfter;
    private long elapsedMs;

    @BeforeAll
    void cycle() throws Exception {
        original = Workload.start(Gcc.compile("attrs"));
        String ready = original.awaitOutput("ready pid=", Duration.ofSeconds(20));
        assertFalse(original.text().contains("setup failed"), original.text());
        assertTrue(ready.contains("threads=3"), ready);
        before = AttrsReport.request(original);
        procBefore = ProcSnapshot.take(original.pid());
        long t0 = System.nanoTime();
        restored = Checkpoints.cycle(original);
        procAfter = ProcSnapshot.take(restored.pid());
        after = AttrsReport.request(restored);
        elapsedMs = (System.nanoTime() - t0) / 1_000_000;
    }

    @AfterAll
    void cleanUp() {
        if (restored != null) restored.close();
        if (original != null) original.close();
    }

    private void sameInReport(String... keys) {
        for (String k : keys) {
            assertTrue(before.containsKey(k), "no " + k + " in " + before);
            assertEquals(before.get(k), after.get(k), k);
        }
    }

    private void sameInProc(String... keys) {
        for (String k : keys) {
            assertTrue(procBefore.containsKey(k), "no " + k + " in /proc");
            assertEquals(procBefore.get(k), procAfter.get(k), k);
        }
    }

    private void noBad() {
        assertFalse(restored.text().contains("BAD"), restored.text());
    }

    /** A timer's value in units of 10 ms, from its report line. */
    private static long value10ms(String line) {
        return Workload.number(line, "value_10ms");
    }

    @Test
    void posixTimersKeepIdsClocksSignalsAndTime() throws InterruptedException {
        // id, clock, signal with its value, notification (thread timers with their tid)
        List<String> timers = procBefore.keySet().stream().filter(k -> k.startsWith("timers.")).toList();
        assertEquals("5", procBefore.get("timers.count"), procBefore.toString());
        for (String k : timers) {
            if (k.endsWith(".notify")) {
                // "signal/pid.PID" and "signal/tid.TID" name the process and threads: same ids after restore
                assertEquals(procBefore.get(k), procAfter.get(k), k);
            } else {
                sameInProc(k);
            }
        }
        for (String id : List.of("0", "2", "3", "4", "5")) {
            String a = before.get("timer." + id), b = after.get("timer." + id);
            assertTrue(b.contains("gettime=ok"), "timer " + id + " exists after restore: " + b);
            assertEquals(Workload.number(a, "interval_ms"), Workload.number(b, "interval_ms"), "interval of " + id);
        }
        // periodic ones run on; the one-shot 100 s realtime timer lost exactly the time that passed
        assertTrue(value10ms(after.get("timer.0")) <= 5, after.get("timer.0"));
        long expect = value10ms(before.get("timer.2")) - elapsedMs / 10;
        assertTrue(Math.abs(value10ms(after.get("timer.2")) - expect) <= 100,
                "realtime timer: " + before.get("timer.2") + " -> " + after.get("timer.2") + " after " + elapsedMs + " ms");
        // the CPU-time one counts the process's CPU time, which barely moved
        assertTrue(Math.abs(value10ms(after.get("timer.3")) - value10ms(before.get("timer.3"))) <= 100,
                before.get("timer.3") + " -> " + after.get("timer.3"));
        assertEquals(0, value10ms(after.get("timer.5")), "disarmed stays disarmed");
        // and they still fire: the periodic process and thread timers, and the 30 ms interval timer
        long[] c0 = counts(after.get("counts"));
        long[] c1 = counts(AttrsReport.request(restored).get("counts"));
        // a report may come back within one 50 ms period: ask again (for up to 5 s) until each has fired
        for (int i = 0; i < 50 && !(c1[0] > c0[0] && c1[1] > c0[1] && c1[3] > c0[3]); i++) {
            Thread.sleep(100);
            c1 = counts(AttrsReport.request(restored).get("counts"));
        }
        assertTrue(c1[0] > c0[0] && c1[1] > c0[1] && c1[3] > c0[3], after.get("counts") + " then later " + c1[0]
                + "," + c1[1] + "," + c1[3]);
        noBad();
    }

    private static long[] counts(String line) {
        return new long[] {Workload.number(line, "alarm"), Workload.number(line, "rt"), Workload.number(line, "cpu"),
                Workload.number(line, "tid")};
    }

    @Test
    void intervalTimersKeepValueAndInterval() {
        sameInReport("itimer.0", "itimer.1", "itimer.2");
        assertEquals("which=0 value_s=0 interval_ms=30".substring(8), after.get("itimer.0"));
    }

    @Test
    void oomScoreAdjAndLoginuid() {
        sameInReport("proc.oom_score_adj", "proc.loginuid");
        assertEquals("400", after.get("proc.oom_score_adj"));
        assertEquals("3", after.get("proc.loginuid"));
        sameInProc("oom_score_adj", "loginuid");
    }

    @Test
    void supplementaryGroupsOfARootProcess() {
        assertEquals("7,42,1000", after.get("proc.groups"));
        sameInProc("status.Uid", "status.Gid", "status.Groups");
    }

    @Test
    void readOnlySharedMappingOfAReadWriteFileStaysWritable() {
        assertEquals("ok", after.get("proc.mprotect_rw"));
        List<String> files = procBefore.keySet().stream().filter(k -> k.startsWith("map_files.")).toList();
        assertFalse(files.isEmpty());
        for (String k : files) sameInProc(k); // rw file modes of every file mapping
    }

    @Test
    void lockedMemoryAndMlockallFuture() {
        sameInProc("status.VmLck");
        assertTrue(!procAfter.get("status.VmLck").startsWith("0 "), procAfter.get("status.VmLck"));
        for (String k : procBefore.keySet()) {
            if (k.startsWith("smaps.") && (k.endsWith(".VmFlags") || k.endsWith(".Locked"))) sameInProc(k);
        }
        assertEquals("1", after.get("proc.onfault_resident"));
        assertEquals("1", after.get("proc.new_mapping_locked"), "mlockall(MCL_FUTURE) is in force again");
    }

    @Test
    void everyThreadKeepsItsOwnAttributes() {
        for (int i = 0; i < 3; i++) sameInReport("thread." + i);
        // per-thread values that differ between threads, as the kernel shows them
        for (String k : procBefore.keySet()) {
            if (!k.startsWith("task.")) continue;
            String field = k.substring(k.indexOf('.', 5) + 1);
            if (List.of("status.SigBlk", "status.NoNewPrivs", "status.Cpus_allowed_list", "status.Mems_allowed_list",
                    "status.Speculation_Store_Bypass", "status.Name", "stat.19", "stat.41", "sched.policy", "sched.prio")
                    .contains(field)) {
                sameInProc(k);
            }
        }
        // and they do differ: a restore giving every thread the leader's would show
        assertFalse(before.get("thread.0").equals(before.get("thread.1").replace("idx=1", "idx=0")));
        noBad();
    }

    @Test
    void processWidePrctlFlags() {
        sameInReport("proc.subreaper", "proc.dumpable", "proc.securebits", "proc.thp_disable", "proc.mdwe", "proc.membarrier",
                "proc.coredump_filter", "proc.timerslack", "proc.personality", "proc.uname");
        assertEquals("1", after.get("proc.subreaper"));
        assertEquals("0", after.get("proc.dumpable"));
        assertEquals("0x11", after.get("proc.securebits"));
        assertEquals("1", after.get("proc.mdwe"));
        assertEquals("0x10", after.get("proc.membarrier"));
        assertEquals("00000007", after.get("proc.coredump_filter"));
        sameInProc("coredump_filter", "timerslack_ns", "personality", "status.THP_enabled");
    }

    @Test
    void mappingsKeepFlagsAdviceLocksSealsAndPolicies() {
        List<String> flags = procBefore.keySet().stream().filter(k -> k.startsWith("smaps.") && k.endsWith(".VmFlags")).toList();
        for (String k : flags) sameInProc(k);
        // each kind of advice is present, so that a restore losing one shows
        String all = String.join(" ", flags.stream().map(procBefore::get).toList());
        for (String f : List.of("sr", "rr", "dc", "wf", "dd", "nh", "nr", "lo", "lf", "dp", "sl")) {
            assertTrue((" " + all + " ").contains(" " + f + " "), "some mapping has VmFlags " + f + ": " + all);
        }
        List<String> numa = procBefore.keySet().stream().filter(k -> k.startsWith("numa_maps.")).toList();
        for (String k : numa) sameInProc(k);
        assertTrue(numa.stream().anyMatch(k -> procBefore.get(k).startsWith("bind:")), "an mbind policy: " + numa);
        sameInProc("status.VmSize", "status.VmData", "status.VmStk", "status.VmExe", "status.VmLib");
    }

    @Test
    void autogroupNiceOfItsSession() {
        String a = procBefore.get("autogroup"), b = procAfter.get("autogroup");
        assertTrue(a.endsWith(" nice 7"), a);
        assertTrue(b.endsWith(" nice 7"), "a new session, a new autogroup, the same nice: " + b);
    }
}

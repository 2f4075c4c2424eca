package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.AttrsReport;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.ProcSnapshot;
import jcriu.testsupport.Workload;

/**
 * The same workload ({@code attrs}: its own umask, cwd and session, lowered rlimits, a
 * different signal mask and vector register value in every thread, timers, oom_score_adj,
 * affinity, ...) run twice: once stopped and continued, once dumped, killed and restored.
 * Everything /proc shows of the process and of each thread (status, stat, limits, sched,
 * timers, oom_score_adj, loginuid, maps, smaps, numa_maps, map_files, cgroup, ...) and
 * everything the program reports of itself must read the same before and after, except the
 * fields listed in {@link #NOT_STATE}, each with the reason it is not state a checkpoint can
 * keep. The stopped-and-continued run proves the compared fields are stable without any
 * checkpoint, so that a difference after a restore is a loss.
 */
class FieldByFieldTest {
    /** Fields (after "task.TID.", mappings' addresses replaced by *) that legitimately change. */
    static final Map<Pattern, String> NOT_STATE = new LinkedHashMap<>();

    private static void notState(String regex, String why) {
        NOT_STATE.put(Pattern.compile(regex), why);
    }

    static {
        notState("status\\.State|stat\\.3", "running or sleeping at the moment of the read");
        notState("status\\.(VmPeak|VmHWM|VmRSS|RssAnon|RssFile|RssShmem|VmPTE|VmSwap)|stat\\.24",
                "residency and peaks: a restore gives back contents, not which pages are in RAM");
        notState("smaps\\.\\*\\.(Rss|Pss|Pss_Dirty|Pss_Anon|Pss_File|Pss_Shmem|Shared_Clean|Shared_Dirty|Private_Clean"
                + "|Private_Dirty|Referenced|Anonymous|KSM|LazyFree|AnonHugePages|ShmemPmdMapped|FilePmdMapped"
                + "|Shared_Hugetlb|Private_Hugetlb|Swap|SwapPss)", "residency of the pages of a mapping");
        notState("status\\.(voluntary_ctxt_switches|nonvoluntary_ctxt_switches)|stat\\.(1[0-7]|22|42|43|44)",
                "kernel accounting: faults, CPU times, start time, context switches restart with the new task");
        notState("sched\\.(?!policy$|prio$).*", "scheduler statistics (policy and priority are compared)");
        notState("status\\.(SigPnd|ShdPnd|SigQ)|stat\\.31",
                "pending signals: the workload's timers deliver them at any moment");
        notState("stat\\.(29|30|35|39)", "stack pointer, instruction pointer, wait channel and CPU of the moment");
        notState("sessionid", "the audit session id is assigned by the kernel whenever loginuid is written");
    }

    private static String field(String key) {
        String k = key.startsWith("task.") ? key.substring(key.indexOf('.', 5) + 1) : key;
        return k.replaceFirst("^(smaps)\\.[0-9a-f]+-[0-9a-f]+\\.", "$1.*.");
    }

    static String excludedBecause(String key) {
        String f = field(key);
        for (var e : NOT_STATE.entrySet()) if (e.getKey().matcher(f).matches()) return e.getValue();
        return null;
    }

    private record Run(Map<String, String> procBefore, Map<String, String> procAfter, Map<String, String> before,
                       Map<String, String> after, String text) {}

    /** One run: report and /proc before, stop-and-continue or checkpoint, /proc and report after. */
    private static Run run(boolean checkpoint) throws Exception {
        Workload w = Workload.start(Gcc.compile("attrs"));
        Workload cur = w;
        try {
            w.awaitOutput("ready pid=", Duration.ofSeconds(20));
            assertFalse(w.text().contains("setup failed"), w.text());
            Map<String, String> before = AttrsReport.request(w);
            Map<String, String> procBefore = ProcSnapshot.take(w.pid());
            if (checkpoint) cur = Checkpoints.cycle(w);
            else w.stopAndContinue(Duration.ofSeconds(2));
            Map<String, String> procAfter = ProcSnapshot.take(cur.pid());
            Map<String, String> after = AttrsReport.request(cur);
            return new Run(procBefore, procAfter, before, after, cur.text());
        } finally {
            cur.close();
            w.close();
        }
    }

    /** What the program reports, without what time changes (timer values are checked in ProcessAttrsTest). */
    private static Map<String, String> stable(Map<String, String> report) {
        Map<String, String> m = new TreeMap<>(report);
        m.remove("counts");
        m.replaceAll((k, v) -> k.startsWith("timer.") ? v.replaceAll("value_10ms=\\d+ ", "") : v);
        return m;
    }

    /**
     * PF_* task flags (stat field 9) are compared without PF_FORKNOEXEC (0x40: the restored task
     * was cloned, not exec'd; only execve clears it) and PF_SUPERPRIV (0x100: accounting of a
     * capability use, which the restore itself makes); the others (PF_MCE_PROCESS,
     * PF_MCE_EARLY, PF_RANDOMIZE, PF_MEMALLOC_NOIO of an I/O flusher, ...) are state.
     */
    static final long PF_BOOKKEEPING = 0x40 | 0x100;

    private static Map<String, String> masked(Map<String, String> snap) {
        Map<String, String> m = new TreeMap<>(snap);
        m.replaceAll((k, v) -> field(k).equals("stat.9") ? Long.toHexString(Long.parseLong(v) & ~PF_BOOKKEEPING) : v);
        return m;
    }

    private static List<String> differences(Run r) {
        List<String> out = new ArrayList<>(ProcSnapshot.differences(masked(r.procBefore()), masked(r.procAfter()),
                k -> excludedBecause(k) == null && !k.equals("autogroup")));
        String a = r.procBefore().get("autogroup"), b = r.procAfter().get("autogroup");
        if (!a.replaceFirst("^/autogroup-\\d+", "").equals(b.replaceFirst("^/autogroup-\\d+", ""))) {
            out.add("autogroup: " + a + " -> " + b); // a new session has a new autogroup, with the same nice
        }
        for (String k : new java.util.TreeSet<>(stable(r.before()).keySet())) {
            if (!stable(r.before()).get(k).equals(stable(r.after()).get(k))) {
                out.add("report " + k + ": " + r.before().get(k) + " -> " + r.after().get(k));
            }
        }
        return out;
    }

    @Test
    void everyFieldSurvivesAsUnderStopAndContinue() throws Exception {
        Run oracle = run(false);
        assertEquals(List.of(), differences(oracle), "stop/continue changed fields this test counts as state");
        Run restored = run(true);
        List<String> lost = differences(restored);
        assertEquals(List.of(), lost, "fields that changed across dump and restore:\n" + String.join("\n", lost));
        assertFalse(restored.text().contains("BAD"), restored.text());
        // the comparison covered every thread, every mapping and every timer
        for (String prefix : List.of("task.", "smaps.", "timers.", "limits.", "numa_maps.", "map_files.")) {
            long n = restored.procBefore().keySet().stream().filter(k -> k.startsWith(prefix)
                    && excludedBecause(k) == null).count();
            assertTrue(n > 0, "nothing compared under " + prefix);
        }
        assertEquals(4, restored.procBefore().keySet().stream().filter(k -> k.matches("task\\.\\d+\\.status\\.SigBlk"))
                .map(restored.procBefore()::get).distinct().count(), "four threads, four signal masks");
    }

    @Test
    void everyExclusionIsUsedAndNamesAReason() throws Exception {
        // a stale exclusion would hide a field that does not exist any more, or one renamed
        Map<String, String> snap = ProcSnapshot.take((int) ProcessHandle.current().pid());
        for (var e : NOT_STATE.entrySet()) {
            assertFalse(e.getValue().isBlank());
            boolean used = snap.keySet().stream().anyMatch(k -> e.getKey().matcher(field(k)).matches());
            assertTrue(used, "exclusion " + e.getKey() + " matches no field of /proc");
        }
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Trees;
import jcriu.testsupport.Workload;

/**
 * Process state of a child in a tree (the {@code child_attrs} workload): the child, not its
 * parent, has an interval timer, a POSIX timer, oom_score_adj 345 and a locked page. After
 * dump and restore each process has its own back: the child its timers running, its
 * oom_score_adj and its lock; the parent still none of them.
 */
class TreeAttrsTest {

    /** What /proc shows of the items: oom_score_adj, the POSIX timers, the locked memory. */
    private static Map<String, String> items(int pid) throws Exception {
        Map<String, String> m = new TreeMap<>();
        Path p = Path.of("/proc", Integer.toString(pid));
        m.put("oom_score_adj", Files.readString(p.resolve("oom_score_adj")).strip());
        m.put("timers", Files.readString(p.resolve("timers")).strip());
        for (String l : Files.readAllLines(p.resolve("status"))) {
            if (l.startsWith("VmLck:")) m.put("VmLck", l.substring(6).strip());
        }
        return m;
    }

    private static long count(String line, String key) {
        return Workload.number(line, key);
    }

    @Test
    void aChildKeepsItsOwnTimersOomScoreAdjAndLockedMemory() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("child_attrs")); var killW = Trees.killOnClose(w)) {
            int kid = (int) Workload.number(w.awaitOutput("ready pid="), "child");
            w.awaitOutput("child alarms=[1-9][0-9]* posix=[1-9]");
            assertFalse(w.text().contains("setup failed"), w.text());
            Map<String, String> child = items(kid), parent = items(w.pid());
            assertEquals("345", child.get("oom_score_adj"), child.toString());
            assertTrue(child.get("timers").contains("ClockID: 1"), child.toString());
            assertEquals("4 kB", child.get("VmLck"), child.toString());
            assertEquals(Map.of("oom_score_adj", "0", "timers", "", "VmLck", "0 kB"), parent, "the parent has none");
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                assertEquals(child, items(kid), "the child's own items");
                assertEquals(parent, items(back.pid()), "the parent's, none of the child's");
                String at = back.awaitOutput("child alarms=");
                for (int i = 0; i < 5; i++) back.awaitOutput("child alarms=");
                String later = back.awaitOutput("child alarms=");
                // 600 ms on: about 30 SIGALRMs (20 ms) and 20 POSIX timer signals (30 ms), none if not re-armed
                assertTrue(count(later, "alarms") >= count(at, "alarms") + 5, "the interval timer runs: " + at
                        + " -> " + later);
                assertTrue(count(later, "posix") >= count(at, "posix") + 5, "the POSIX timer runs: " + at + " -> "
                        + later);
                back.signal(Sig.SIGTERM);
                back.awaitOutput("child done");
                back.awaitOutput("reaped status=0");
                back.awaitOutput("exit code=0");
            }
        }
    }
}

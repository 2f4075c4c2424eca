package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Workload;

/**
 * Credentials are per thread: the {@code thread_creds} workload's threads each have ids,
 * groups or capabilities of their own (and fs ids that differ from the effective ones), and
 * each gets its own back.
 */
class ThreadCredsTest {

    /** Uid, Gid (real, effective, saved, fs), Groups and the capability sets of every thread, by tid. */
    private static Map<String, String> creds(int pid) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                for (String l : Files.readAllLines(t.resolve("status"))) {
                    if (l.matches("(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb):.*")) {
                        out.put(t.getFileName() + "." + l.substring(0, l.indexOf(':')), l.substring(l.indexOf(':') + 1).strip());
                    }
                }
            }
        }
        return out;
    }

    @Test
    void eachThreadGetsItsOwnCredentialsBack() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("thread_creds"))) {
            String ready = w.awaitOutput("ready pid=");
            int a = (int) Workload.number(ready, "a"), b = (int) Workload.number(ready, "b");
            w.awaitOutput("count=2");
            Map<String, String> before = creds(w.pid());
            // the set-up did what it says: ids, groups and fs ids differ between the threads
            assertEquals("0\t4321\t0\t4321", before.get(a + ".Uid"), before.toString());
            assertEquals("0\t0\t0\t4000", before.get(w.pid() + ".Uid"), before.toString());
            assertEquals("0\t0\t0\t777", before.get(w.pid() + ".Gid"), before.toString());
            assertEquals("5 6", before.get(b + ".Groups"), before.toString());
            assertNotEquals(before.get(w.pid() + ".CapEff"), before.get(a + ".CapEff"));
            try (Workload r = Checkpoints.cycle(w)) {
                r.awaitCountGrows("count", Duration.ofSeconds(10), "restored process");
                assertEquals(before, creds(r.pid()));
            }
        }
    }
}

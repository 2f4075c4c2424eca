package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Seccomp mode and filters come back in every thread and still act: the {@code seccomp}
 * workload's filters make chosen system calls fail with chosen errnos, per thread, and a
 * thread in strict mode is killed for a forbidden call (only that thread). Filters the threads shared stay shared
 * (a later TSYNC succeeds).
 */
class SeccompTest {

    /** Seccomp, Seccomp_filters and NoNewPrivs of every thread, by tid. */
    private static Map<String, String> seccompStatus(int pid) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                for (String l : Files.readAllLines(t.resolve("status"))) {
                    if (l.startsWith("Seccomp") || l.startsWith("NoNewPrivs")) {
                        out.put(t.getFileName() + "." + l.substring(0, l.indexOf(':')), l.substring(l.indexOf(':') + 1).strip());
                    }
                }
            }
        }
        return out;
    }

    @Test
    void filtersOfEachThreadStillActAfterRestore() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("seccomp"), "filter")) {
            w.awaitOutput("ready pid=");
            String before = w.awaitOutput("count=");
            assertTrue(before.endsWith("main=25/18 thread=25/42"), before); // ENOTTY, EXDEV / ENOTTY, ENOMSG
            Map<String, String> status = seccompStatus(w.pid());
            assertEquals("2", status.get(w.pid() + ".Seccomp"), status.toString());
            assertEquals("2", status.get(w.pid() + ".Seccomp_filters"), status.toString());
            try (Workload r = Checkpoints.cycle(w)) {
                r.awaitCountGrows("count", Duration.ofSeconds(10), "restored process");
                String after = r.awaitOutput("count=");
                assertTrue(after.endsWith("main=25/18 thread=25/42"), "each thread's filters act: " + after);
                assertEquals(status, seccompStatus(r.pid()), "mode, filter count and no_new_privs per thread");
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    @Test
    void filtersSharedByThreadsStaySharedForTsync() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("seccomp"), "tsync")) {
            w.awaitOutput("ready pid=");
            // the thread publishes its errnos in its own loop: its first lines may predate TSYNC
            w.awaitOutput("^count=\\d+ main=25/18 thread=25/18$");
            Map<String, String> status = seccompStatus(w.pid());
            try (Workload r = Checkpoints.cycle(w)) {
                String after = r.awaitOutput("count=");
                assertTrue(after.endsWith("main=25/18 thread=25/18"), after);
                assertEquals(status, seccompStatus(r.pid()));
                r.signal(Sig.SIGUSR1);
                // TSYNC fails with the other thread's id unless its filters are the caller's, shared
                assertEquals("tsync=0", r.awaitOutput("tsync="));
                r.awaitCountGrows("count", Duration.ofSeconds(10), "after the TSYNC filter");
            }
        }
    }

    @Test
    void strictModeThreadIsStillStrict() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("seccomp"), "strict")) {
            int tid = (int) Workload.number(w.awaitOutput("ready pid="), "tid");
            w.awaitOutput("echo=p");
            Map<String, String> status = seccompStatus(w.pid());
            assertEquals("1", status.get(tid + ".Seccomp"), status.toString());
            try (Workload r = Checkpoints.cycle(w)) {
                r.awaitCountGrows("count", Duration.ofSeconds(10), "the strict thread echoes");
                assertEquals(status, seccompStatus(r.pid()));
                r.signal(Sig.SIGUSR2); // the strict thread calls getppid, for which strict mode kills it
                Path task = Path.of("/proc/" + r.pid() + "/task/" + tid);
                for (int i = 0; i < 100 && Files.exists(task); i++) Thread.sleep(100);
                assertFalse(Files.exists(task), "the strict thread was killed for its getppid");
                assertFalse(r.text().contains("echo=k"), r.text());
            }
        }
    }
}

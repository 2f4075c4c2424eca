package jcriu.workloads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Oracle baseline for counter.c and its static build: the count continues
 * across SIGSTOP/SIGCONT without reset, exactly what a dump/restore must give.
 */
class CounterWorkloadTest {

    @ParameterizedTest
    @ValueSource(strings = {"counter", "static_counter"})
    void countsOnAcrossStopAndContinueAndReportsOnTerm(String name) throws Exception {
        try (Workload w = Workload.start(Gcc.compile(name))) {
            assertEquals("ready pid=" + w.pid(), w.awaitOutput("^ready "));
            w.assertDetached();
            w.awaitOutput("^count=3$");

            // stopped: no output while stopped, all lines so far are final
            w.signal(Sig.SIGSTOP);
            w.awaitState("T");
            long lastBeforeStop = lastCount(w.lines());
            int linesAtStop = w.lineCount();
            Thread.sleep(300);
            assertEquals(linesAtStop, w.lineCount(), "printed while stopped");
            w.signal(Sig.SIGCONT);

            // the very next line continues from the last one
            w.seek(linesAtStop);
            assertEquals("count=" + (lastBeforeStop + 1), w.awaitOutput("^count="));
            w.awaitOutput("^count=" + (lastBeforeStop + 3) + "$");

            w.signal(Sig.SIGTERM);
            String term = w.awaitOutput("^term at count=");
            assertEquals("exit code=0", w.awaitOutput("^exit code="));
            w.awaitGone(Workload.GONE_TIMEOUT);

            List<String> lines = w.lines();
            assertEquals(lastCount(lines), Workload.number(term, "count"), "term reports the last count");
            assertStrictlyConsecutive(lines);
            assertFalse(lines.stream().anyMatch(l -> l.contains("BAD")), String.join("\n", lines));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"counter", "static_counter"})
    void staticBuildHasNoSharedLibrariesMapped(String name) throws IOException {
        try (Workload w = Workload.start(Gcc.compile(name))) {
            w.awaitOutput("^count=1$");
            String maps = Files.readString(Path.of("/proc", String.valueOf(w.pid()), "maps"));
            boolean hasLibc = maps.contains("libc.so");
            assertEquals(!name.startsWith("static_"), hasLibc, maps);
        }
    }

    /** Every count= line is the previous plus one, starting at 1. */
    static void assertStrictlyConsecutive(List<String> lines) {
        long expect = 1;
        for (String l : lines) {
            if (l.startsWith("count=")) {
                assertEquals("count=" + expect, l, "in\n" + String.join("\n", lines));
                expect++;
            }
        }
        assertTrue(expect > 3, "too few counts: " + lines);
    }

    static long lastCount(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("count=")) {
                return Workload.number(lines.get(i), "count");
            }
        }
        throw new AssertionError("no count= line in " + lines);
    }
}

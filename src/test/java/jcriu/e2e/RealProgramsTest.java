package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/** Programs nobody here wrote: a threaded python3 and a HotSpot JVM with GC and a shutdown hook. */
class RealProgramsTest {

    private static long tick(String line) {
        return Long.parseLong(line.split(" ")[1]);
    }

    private static long lastTick(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("tick ")) return tick(lines.get(i));
        }
        throw new AssertionError("no tick in " + lines);
    }

    @Test
    void python3WithThreads() throws Exception {
        Path script = Gcc.projectDir().resolve("src/test/resources/programs/ticks.py");
        try (Workload w = Workload.start(Path.of("/usr/bin/python3"), List.of(script.toString()), Map.of())) {
            w.awaitOutput("tick 5");
            assertEquals(4, w.tids().size(), "main thread and three workers");
            Workload r = Checkpoints.cycle(w);
            try {
                long before = lastTick(w.lines().subList(0, r.cursor()));
                assertEquals(before + 1, tick(r.awaitOutput("tick ")));
                String later = r.awaitOutput("tick " + (before + 5));
                assertEquals(4, r.tids().size());
                assertTrue(later.matches("tick \\d+ \\[\\d+, \\d+, \\d+\\]"), later);
            } finally {
                r.close();
            }
        }
    }

    @Test
    void jvmWithThreadsGcAndShutdownHook() throws Exception {
        Path src = Gcc.projectDir().resolve("src/test/resources/programs/Progress.java");
        Path classes = Files.createTempDirectory("jcriu-jvm");
        Path jdk = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin");
        Process javac = new ProcessBuilder(jdk.resolve("javac").toString(), "-d", classes.toString(), src.toString())
                .redirectErrorStream(true).start();
        String out = new String(javac.getInputStream().readAllBytes());
        assertTrue(javac.waitFor(120, TimeUnit.SECONDS) && javac.exitValue() == 0, out);
        // -XX:-UsePerfData: otherwise any JVM started meanwhile deletes the dead JVM's
        // hsperfdata file, which the restore would need (jcriu then refuses, naming it).
        try (Workload w = Workload.start(jdk.resolve("java"),
                List.of("-XX:-UsePerfData", "-cp", classes.toString(), "Progress", "x"), Map.of())) {
            w.awaitOutput("tick 12", Duration.ofSeconds(30));
            int threads = w.tids().size();
            assertTrue(threads > 10, "a JVM has many threads: " + threads);
            Workload r = Checkpoints.cycle(w);
            try {
                long before = lastTick(w.lines().subList(0, r.cursor()));
                assertEquals(before + 1, tick(r.awaitOutput("tick ")));
                r.awaitOutput("tick " + (before + 25), Duration.ofSeconds(30)); // two System.gc() calls later
                assertEquals(threads, r.tids().size());
                r.signal(Sig.SIGTERM);
                r.awaitOutput("shutdown hook ran", Duration.ofSeconds(30));
                r.awaitGone(Duration.ofSeconds(30));
            } finally {
                r.close();
            }
        }
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    /**
     * A python3 multiprocessing.Pool(4) finishes a computation started before the dump with
     * the right result, and the restored tree takes no more memory than the original: the
     * workers forked from the parent still share its pages (the sum of their PSS is what it was).
     */
    @Test
    void python3MultiprocessingPoolFinishesItsComputationAndKeepsSharingMemory() throws Exception {
        Path script = Gcc.projectDir().resolve("src/test/resources/programs/pool.py");
        try (Workload w = Workload.start(Path.of("/usr/bin/python3"), List.of(script.toString()), Map.of())) {
            try {
                w.awaitOutput("progress 200", Duration.ofSeconds(60));
                jcriu.testsupport.Trees.awaitMembers(w.pid(), 5); // the parent and its four workers
                long before = pss(w.pid());
                try (Workload r = jcriu.testsupport.Trees.cycle(w)) {
                    try {
                        long after = pss(r.pid());
                        assertEquals(5, jcriu.testsupport.Trees.members(r.pid()).size());
                        assertTrue(after <= before * 1.1, "sum of PSS " + after + " kB after the restore, " + before
                                + " kB before");
                        long expected = 0;
                        for (long x = 0; x < 2000; x++) expected += x * 7 + x;
                        r.awaitOutput("result " + expected + "$", Duration.ofSeconds(120));
                        r.awaitOutput("exit code=0");
                    } finally {
                        jcriu.testsupport.Trees.kill(r.pid());
                    }
                }
            } finally {
                jcriu.testsupport.Trees.kill(w.pid());
            }
        }
    }

    /** The sum of the proportional set sizes (kB) of a process and its descendants. */
    private static long pss(int root) throws Exception {
        long sum = 0;
        for (var p : jcriu.testsupport.Trees.members(root)) {
            for (String l : Files.readAllLines(Path.of("/proc/" + p.pid() + "/smaps_rollup"))) {
                if (l.startsWith("Pss:")) sum += Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return sum;
    }

    @Test
    void jvmWithThreadsGcAndShutdownHook() throws Exception {
        jvm(false);
    }

    /**
     * The JVM's default: perf data in a shared mapping of /tmp/hsperfdata_USER/PID. Any JVM
     * started while the dumped one is dead deletes that file; the restore writes it back from
     * the images, and jps (which reads nothing but that file) sees the restored JVM.
     */
    @Test
    void jvmWithPerfDataWhoseFileAnotherJvmDeleted() throws Exception {
        jvm(true);
    }

    private static void jvm(boolean perfData) throws Exception {
        Path src = Gcc.projectDir().resolve("src/test/resources/programs/Progress.java");
        Path classes = Files.createTempDirectory("jcriu-jvm");
        Path jdk = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin");
        run(jdk.resolve("javac").toString(), "-d", classes.toString(), src.toString());
        List<String> args = perfData ? List.of("-cp", classes.toString(), "Progress", "x")
                : List.of("-XX:-UsePerfData", "-cp", classes.toString(), "Progress", "x");
        try (Workload w = Workload.start(jdk.resolve("java"), args, Map.of())) {
            w.awaitOutput("tick 12", Duration.ofSeconds(30));
            int threads = w.tids().size();
            assertTrue(threads > 10, "a JVM has many threads: " + threads);
            Path perf = Path.of("/tmp/hsperfdata_" + System.getProperty("user.name"), Integer.toString(w.pid()));
            assertEquals(perfData, Files.exists(perf), perf.toString());
            long perfSize = perfData ? Files.size(perf) : 0;
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            if (perfData) {
                assertTrue(Files.exists(perf), "a killed JVM leaves its perf data file");
                run(jdk.resolve("java").toString(), "-version"); // cleans up files of dead JVMs
                assertFalse(Files.exists(perf), "another JVM deleted " + perf);
            }
            Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount());
            try {
                long before = lastTick(w.lines().subList(0, r.cursor()));
                assertEquals(before + 1, tick(r.awaitOutput("tick ")));
                if (perfData) {
                    assertEquals(perfSize, Files.size(perf), "perf data file written back");
                    String jps = run(jdk.resolve("jps").toString(), "-l");
                    assertTrue(jps.contains(r.pid() + " Progress"), "jps reads the restored JVM's perf data: " + jps);
                }
                r.awaitOutput("tick " + (before + 25), Duration.ofSeconds(30)); // two System.gc() calls later
                assertEquals(threads, r.tids().size());
                r.signal(Sig.SIGTERM);
                r.awaitOutput("shutdown hook ran", Duration.ofSeconds(30));
                r.awaitGone(Duration.ofSeconds(30));
                if (perfData) assertFalse(Files.exists(perf), "the JVM removed its perf data file at exit");
            } finally {
                r.close();
            }
        }
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
        return out;
    }
}

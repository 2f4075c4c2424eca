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
import jcriu.testsupport.Workload;

/**
 * Real programs built on event loops, across a dump, kill and restore: python3's asyncio with
 * its timers, and a JVM's WatchService (inotify, polled by a JDK thread).
 */
class EventLoopProgramsTest {
    private static final Path PROGRAMS = Gcc.projectDir().resolve("src/test/resources/programs");
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path JDK = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin");

    /** The ticks go on without gap or repeat, and the call_later timer set before the dump fires after it. */
    @Test
    void python3AsyncioTimersGoOn() throws Exception {
        assertTrue(Files.isExecutable(PYTHON), PYTHON + " is needed (Debian package python3)");
        try (Workload w = Workload.start(PYTHON, List.of("-u", PROGRAMS.resolve("timers.py").toString()), Map.of())) {
            w.awaitOutput("^tick=5$", Duration.ofSeconds(30));
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            assertTrue(!w.text().contains("timer fired"), "the dump came before the timer fired:\n" + w.text());
            long last = w.lines().stream().filter(l -> l.startsWith("tick=")).mapToLong(l -> Workload.number(l, "tick"))
                    .max().orElseThrow();
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals("tick=" + (last + 1), r.awaitOutput("^tick="), "the next tick, no gap or repeat");
                r.seek(w.lineCount()); // the timer is due at once if it fell due while the process was dead
                r.awaitOutput("^timer fired after ", Duration.ofSeconds(30));
                r.awaitOutput("^tick=");
                r.kill9AndAwaitGone();
            }
        }
    }

    /** A file created in the watched directory after the restore is an event the JVM takes. */
    @Test
    void jvmWatchServiceSeesFilesCreatedAfterRestore() throws Exception {
        Path classes = Files.createTempDirectory(Gcc.outputDir(), "watcher-");
        run(JDK.resolve("javac").toString(), "-d", classes.toString(), PROGRAMS.resolve("Watcher.java").toString());
        Path watched = Files.createTempDirectory(Gcc.outputDir(), "watched-");
        try (Workload w = Workload.start(JDK.resolve("java"), List.of("-XX:-UsePerfData", "-cp", classes.toString(),
                "Watcher", watched.toString()), Map.of())) {
            w.awaitOutput("^watching ", Duration.ofSeconds(60));
            Files.writeString(watched.resolve("before.txt"), "x");
            w.awaitOutput("^event ENTRY_CREATE before.txt$", Duration.ofSeconds(30));
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                Files.writeString(watched.resolve("after.txt"), "y");
                r.awaitOutput("^event ENTRY_CREATE after.txt$", Duration.ofSeconds(30));
                Files.delete(watched.resolve("before.txt"));
                r.awaitOutput("^event ENTRY_DELETE before.txt$", Duration.ofSeconds(30));
                r.kill9AndAwaitGone();
            }
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
    }
}

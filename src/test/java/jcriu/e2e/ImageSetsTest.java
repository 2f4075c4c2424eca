package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.image.Manifest;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.JcriuRun;
import jcriu.testsupport.Sig;
import jcriu.testsupport.TargetState;
import jcriu.testsupport.Workload;

/** Dumps into a directory that already holds a dump: the new set replaces the old one whole. */
class ImageSetsTest {

    /**
     * The field report: a dump of a process with a pipe left pipes-data.img; a later dump of
     * another process into the same directory succeeded, killed it, and its restore failed on
     * the stale file. Now the second set holds only its own files and restores.
     */
    @Test
    void aStaleFileOfAnOlderDumpNeitherStaysNorBreaksTheRestore() throws Exception {
        try (Workload piped = Workload.start(Gcc.compile("counter"), "pipe");
             Workload w = Workload.start(Gcc.compile("counter"))) {
            piped.awaitOutput("count=2");
            w.awaitOutput("count=2");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(piped, dir, true);
            assertTrue(Files.exists(dir.resolve("pipes-data.img")));
            Checkpoints.dump(w, dir, false);
            assertFalse(Files.exists(dir.resolve("pipes-data.img")), "stale file of the first dump removed");
            assertFalse(Files.exists(dir.resolve("core-" + piped.pid() + ".img")));
            assertTrue(Manifest.read(dir).files().containsKey("core-" + w.pid() + ".img"));
            w.awaitGone(Duration.ofSeconds(30));
            int seen = w.lineCount();
            try (Workload r = Checkpoints.restore(dir, w.dir(), seen)) {
                r.awaitOutput("count=");
                r.signal(Sig.SIGTERM);
                assertEquals("exit code=0", r.awaitOutput("exit code="));
            }
            assertTrue(piped.alive(), "the first process was left running");
        }
    }

    /**
     * The field report: a completed --leave-running dump, then a second dump into the same
     * directory killed half-way, left a set mixing the two, which restored "successfully" into
     * a process of two moments. Now the second dump, killed (SIGKILL) at each phase before its
     * commit (pages being written, all written, every image written, the set sealed), leaves
     * the first set whole, and the restore brings back the first dump's moment: the counter
     * resumes right after the count it had then, though it counted on for seconds meanwhile.
     */
    @Test
    void aSecondDumpKilledHalfWayLeavesTheFirstSetWholeToRestore() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            String before = w.awaitOutput("count=");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, true);
            long after = Workload.number(w.skipToEnd().awaitOutput("count="), "count");
            String first = Manifest.read(dir).id();
            for (String phase : List.of("memory", "memory-written", "images-written", "sealed")) {
                Path out = w.dir().resolve("second-dump-" + phase + ".out");
                try (JcriuRun j = JcriuRun.start(phase, out, "dump", "-t", Integer.toString(w.pid()), "-D",
                        dir.toString(), "-v4")) {
                    j.awaitPaused(phase, Duration.ofSeconds(120));
                    j.signal(Sig.SIGKILL);
                    j.awaitExit(Duration.ofSeconds(120));
                }
                TargetState.awaitReleased(w.pid(), Duration.ofSeconds(10));
                assertTrue(w.alive(), "killed at " + phase + ": the process is gone\n" + w.text());
                assertEquals(first, Manifest.read(dir).id(), "killed at " + phase + ": the first set was replaced");
            }
            long later = Workload.number(w.skipToEnd().awaitOutput("count="), "count");
            assertTrue(later > after + 5, "the counter went on: " + after + " -> " + later);
            w.kill9AndAwaitGone();
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                long resumed = Workload.number(r.awaitOutput("count="), "count");
                long was = Workload.number(before, "count");
                assertTrue(resumed > was && resumed <= after, "restored at count " + resumed
                        + ", the first dump was made between " + was + " and " + after + " (the second at " + later + ")");
                r.awaitCountGrows("count", Duration.ofSeconds(10), "the restored counter");
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import jcriu.image.Manifest;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
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
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * A process that unmapped its vDSO comes back without one: the restore unmaps the vDSO and
 * vvar pages the kernel gives every new process, instead of failing after a dump that killed
 * the original (which would lose the process).
 */
class VdsoTest {

    @Test
    void aProcessWithoutItsVdsoComesBackWithoutOne() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("novdso"))) {
            assertTrue(w.awaitOutput("^ready ").endsWith("special=0"), w.text());
            w.awaitOutput("count=2 ");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                r.awaitCountGrows("count", Duration.ofSeconds(20), "counting after the restore");
                String maps = Files.readString(Path.of("/proc/" + r.pid() + "/maps"));
                assertFalse(maps.contains("[vdso]") || maps.contains("[vvar"), maps);
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
                assertFalse(r.text().contains("special=1") || r.text().contains("BAD"), r.text());
                assertEquals(-1, r.text().indexOf("special=2"));
            }
        }
    }
}

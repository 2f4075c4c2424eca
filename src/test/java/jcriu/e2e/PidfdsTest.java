package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Trees;
import jcriu.testsupport.Workload;

/**
 * pidfds come back as pidfds on the restored processes: on a child (signalled and waited for
 * through it), on the process itself with PIDFD_NONBLOCK and PIDFD_THREAD, and on a process
 * that is gone (two of them, one inode). One on a process outside the dump is refused.
 */
class PidfdsTest {
    @Test
    void pidfdsOnTheTreeItselfAndOnAGoneProcessAreRestored() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("pidfds")); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("ready");
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                back.signal(Sig.SIGUSR1);
                back.awaitOutput("(pidfds ok|BAD)");
                assertFalse(back.text().contains("BAD"), back.text());
                back.signal(Sig.SIGTERM);
                back.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void aPidfdOnAProcessOutsideTheDumpIsRefusedAndTheProcessRunsOn() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("pidfds"), "parent"); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("ready");
            Path dir = Checkpoints.imageDir(w);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            var e = assertThrows(Checkpointer.DumpException.class,
                    () -> Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(log)));
            assertTrue(e.getMessage().contains("a pidfd on") && e.getMessage().contains("not a live process of the dumped tree"),
                    e.getMessage());
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(0, s.count(), "a refused dump leaves no images");
            }
            assertTrue(w.alive());
            w.signal(Sig.SIGTERM);
            w.awaitOutput("exit code=0");
        }
    }
}

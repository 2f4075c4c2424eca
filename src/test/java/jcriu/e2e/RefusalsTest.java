package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * State jcriu cannot give back makes the dump fail with a message naming it, before anything
 * is written: the process runs on untraced and unharmed, and no image is left that a restore
 * could take for a checkpoint (which would lose the process: docs/process-state.md).
 */
class RefusalsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "proc-cwd        | current directory of process | cannot make again under /proc",
        "replaced-parent | fd 3 of process              | was replaced by another directory",
        "seccomp-notify  | notifies a supervisor        | SECCOMP_RET_USER_NOTIF",
        "uts-ns          | is in uts namespace          | namespaces are not supported",
        "traced          | it is traced by process      | refusable",
        "thread-cputimer | CLOCK_THREAD_CPUTIME_ID      | 2 threads",
        "other-cputimer  | runs on the CPU clock of process | another process",
        "ldt             | has a local descriptor table | modify_ldt",
    })
    void refusedNamingWhatAndLeftRunning(String mode, String what, String detail) throws Exception {
        try (Workload w = Workload.start(Gcc.compile("refusable"), mode)) {
            int tracer = mode.equals("traced") ? (int) Workload.number(w.awaitOutput("tracer pid="), "pid") : 0;
            try {
                w.awaitOutput("ready pid=");
                w.awaitOutput("count=3");
                Path dir = Checkpoints.imageDir(w);
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                var e = assertThrows(Checkpointer.DumpException.class,
                        () -> Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(log)));
                assertTrue(e.getMessage().contains(what) && e.getMessage().contains(detail),
                        "message names the item: " + e.getMessage());
                try (Stream<Path> s = Files.list(dir)) {
                    assertEquals(0, s.count(), "a refused dump leaves no images");
                }
                long at = Workload.number(w.lines().getLast(), "count");
                w.awaitOutput("count=" + (at + 3));
                assertEquals(tracer, Workload.tracerPid(w.pid()), "jcriu let go of it");
                assertTrue(w.alive());
                assertFalse(w.text().contains("BAD"), w.text());
            } finally {
                if (tracer > 0) Sig.kill(tracer, Sig.SIGKILL);
            }
        }
    }
}

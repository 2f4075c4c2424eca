package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import jcriu.api.Log;
import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/** fds on namespace files (zdtm's proc-self): on the process's own namespaces they come back; on another, refused. */
class NamespaceFilesTest {
    @Test
    void fdsOnTheProcesssOwnNamespacesComeBack() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("nsfd"))) {
            w.awaitOutput("^ready ");
            w.signal(Sig.SIGUSR1);
            String before = w.awaitOutput("^ns ");
            assertTrue(before.matches("ns net=(net:\\[\\d+\\]) own=\\1 uts=same setns=0"), before);
            try (Workload r = Checkpoints.cycle(w)) {
                r.signal(Sig.SIGUSR1);
                String after = r.awaitOutput("^ns ");
                // the fd is on the namespace the process is in, and setns(2) takes it, as before
                assertEquals(before, after);
                r.signal(Sig.SIGTERM);
                r.awaitOutput("^exit code=0$");
            }
        }
    }

    @Test
    void anFdOnAnotherNamespaceIsRefusedAndTheProcessRunsOn() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("nsfd"), "other")) {
            w.awaitOutput("^ready ");
            var e = assertThrows(Checkpointer.DumpException.class,
                    () -> Checkpointer.dump(new DumpOptions(w.pid(), Checkpoints.imageDir(w), false, false), Log.quiet()));
            assertTrue(e.getMessage().contains("net namespace") && e.getMessage().contains("not jcriu's"), e.getMessage());
            w.signal(Sig.SIGUSR1);
            assertTrue(w.awaitOutput("^ns ").endsWith("uts=same setns=0"));
        }
    }
}

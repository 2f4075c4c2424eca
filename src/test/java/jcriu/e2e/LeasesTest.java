package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import jcriu.api.Log;
import jcriu.dump.Checkpointer;
import jcriu.dump.DumpHooks;
import jcriu.dump.DumpOptions;
import jcriu.rseq.RseqConfigSource;
import jcriu.sys.Sys;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * leases.c holds a read lease and a write lease (fcntl F_SETLEASE): with --file-locks they
 * come back held by the restored process, as the kernel reports them (F_GETLEASE inside it,
 * /proc/locks outside); a lease being broken is refused by name and the process runs on.
 */
class LeasesTest {
    @Test
    void leasesComeBackHeld() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("leases"))) {
            w.awaitOutput("^ready ");
            w.signal(Sig.SIGUSR1);
            assertEquals("obs rd=0 wr=1", w.awaitOutput("^obs "));
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                r.signal(Sig.SIGUSR1);
                assertEquals("obs rd=0 wr=1", r.awaitOutput("^obs "), "F_GETLEASE in the restored process");
                String locks = Files.readString(Path.of("/proc/locks"));
                for (String l : new String[] {"LEASE  ACTIVE    READ " + r.pid(), "LEASE  ACTIVE    WRITE " + r.pid()}) {
                    assertTrue(locks.contains(l), l + " in\n" + locks);
                }
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void aLeaseBeingBrokenIsRefused() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("leases"))) {
            w.awaitOutput("^ready ");
            // a non-blocking open for writing starts breaking the read lease and fails at once
            var e = assertThrows(jcriu.sys.SysException.class,
                    () -> Sys.open(w.dir().resolve("lease.rd").toString(), 1 /* O_WRONLY */ | 04000 /* O_NONBLOCK */));
            assertEquals(jcriu.sys.Errno.EAGAIN, e.errno(), e.getMessage());
            Path dir = Checkpoints.imageDir(w);
            var refused = assertThrows(Checkpointer.DumpException.class, () -> dump(w, dir));
            assertTrue(refused.getMessage().contains("lease.rd") && refused.getMessage().contains("being broken"),
                    refused.getMessage());
            assertTrue(w.alive(), "the process runs on");
        }
    }

    private static void dump(Workload w, Path dir) throws IOException {
        Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false, null, RseqConfigSource.PTRACE, null,
                DumpHooks.NONE, new DumpOptions.FileOptions(1 << 20, true)), Log.quiet());
    }
}

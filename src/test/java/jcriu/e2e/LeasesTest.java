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
 * /proc/locks outside); a lease being broken comes back being broken, to the same type.
 */
class LeasesTest {
    @Test
    void leasesComeBackHeld() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("leases"))) {
            w.awaitOutput("^ready ");
            w.signal(Sig.SIGUSR1);
            assertEquals("obs rd=0 wr=1 sigio=0", w.awaitOutput("^obs "));
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                r.signal(Sig.SIGUSR1);
                assertEquals("obs rd=0 wr=1 sigio=0", r.awaitOutput("^obs "), "F_GETLEASE in the restored process");
                String locks = Files.readString(Path.of("/proc/locks"));
                for (String l : new String[] {"LEASE  ACTIVE    READ " + r.pid(), "LEASE  ACTIVE    WRITE " + r.pid()}) {
                    assertTrue(locks.contains(l), l + " in\n" + locks);
                }
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    /**
     * zdtm's file_lease02/03: leases whose break another process started before the dump (a
     * non-blocking open that failed). After the restore each is being broken again, to the same
     * type (F_GETLEASE answers the type it is broken to, as before the dump), and the restore's
     * own break sends the program no SIGIO it did not have before.
     */
    @Test
    void aLeaseBeingBrokenComesBackBeingBroken() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("leases"))) {
            w.awaitOutput("^ready ");
            // an open for writing breaks the read lease to none; one for reading, the write lease to a read lease
            breakLease(w.dir().resolve("lease.rd"), 1 /* O_WRONLY */);
            breakLease(w.dir().resolve("lease.wr"), 0 /* O_RDONLY */);
            w.signal(Sig.SIGUSR1);
            // one SIGIO or two: a second sent while the first is pending merges with it
            String before = w.awaitOutput("^obs ");
            assertTrue(before.matches("obs rd=2 wr=0 sigio=[12]"), before);
            assertEquals(2, breaking(w.pid()), "both breaks still under way before the dump (lease-break-time)");
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals(2, breaking(r.pid()), Files.readString(Path.of("/proc/locks")));
                r.signal(Sig.SIGUSR1);
                assertEquals(before, r.awaitOutput("^obs "), "F_GETLEASE and SIGIOs after the restore");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    private static void breakLease(Path file, int accessMode) {
        var e = assertThrows(jcriu.sys.SysException.class, () -> Sys.open(file.toString(), accessMode | 04000 /* O_NONBLOCK */));
        assertEquals(jcriu.sys.Errno.EAGAIN, e.errno(), e.getMessage());
    }

    /** Leases of {@code pid} being broken, as /proc/locks lists them. */
    private static long breaking(int pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/locks")).stream()
                .filter(l -> l.matches(".*LEASE +BREAKING +\\S+ " + pid + " .*")).count();
    }

    private static void dump(Workload w, Path dir) throws IOException {
        Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false, null, RseqConfigSource.PTRACE, null,
                DumpHooks.NONE, new DumpOptions.FileOptions(1 << 20, true)), Log.quiet());
    }
}

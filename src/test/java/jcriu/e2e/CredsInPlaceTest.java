package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.image.ImageDir;
import jcriu.image.StateCodec;
import jcriu.restore.RestoreHooks;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Workload;

/**
 * The restore leaves a thread's credentials alone when the copy of the helper it starts as
 * already holds exactly the dumped ones (a process of jcriu's own user), and sets them when
 * anything differs: capabilities the process dropped, or only a secure bit.
 */
class CredsInPlaceTest {

    /** Uid, Gid, Groups and the capability sets of the process, as /proc shows them. */
    private static List<String> creds(int pid) throws Exception {
        List<String> out = new ArrayList<>();
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.matches("(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb):.*")) out.add(l);
        }
        return out;
    }

    /** Whether the restore left the credentials in place, and the restored process's secure bits. */
    private record Cycled(boolean inPlace, int secureBits) {}

    /**
     * Dump, wait for the PID, restore; checks the restored process has the credentials of
     * {@code before}, and reads its secure bits (which /proc does not show) from a dump of it
     * that leaves it running.
     */
    private static Cycled cycle(Workload w, List<String> before) throws Exception {
        Path dir = Checkpoints.imageDir(w);
        Checkpoints.dump(w, dir, false);
        w.awaitGone(Duration.ofSeconds(30));
        int seen = w.lineCount();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Restorer.Result r = Restorer.restore(new RestoreOptions(dir, true, false, false, RestoreHooks.NONE, false),
                Checkpoints.log(log));
        try (Workload back = Workload.adopt(r.pid(), w.dir()).seek(seen)) {
            back.awaitCountGrows("count", Duration.ofSeconds(10), "restored counter");
            assertEquals(before, creds(back.pid()), log.toString());
            Path again = Checkpoints.imageDir(back);
            Checkpoints.dump(back, again, true);
            int bits = StateCodec.read(ImageDir.open(again)).processes().getFirst().attrs().thread(back.pid())
                    .orElseThrow().secureBits();
            return new Cycled(log.toString().contains("creds of tid " + w.pid() + ": already as dumped"), bits);
        }
    }

    @Test
    void credentialsAlreadyInPlaceAreNotSetAgain() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            List<String> before = creds(w.pid());
            assertEquals(creds((int) ProcessHandle.current().pid()), before, "the counter runs with jcriu's credentials");
            Cycled c = cycle(w, before);
            assertTrue(c.inPlace(), "credentials equal to the helper's are left in place");
            assertEquals(0, c.secureBits());
        }
    }

    @Test
    void droppedCapabilitiesAreSetAgain() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"), "dropcaps")) {
            w.awaitOutput("count=2");
            List<String> before = creds(w.pid());
            assertNotEquals(creds((int) ProcessHandle.current().pid()), before, "dropcaps changed the credentials");
            assertFalse(cycle(w, before).inPlace(), "capabilities that differ are set");
        }
    }

    /** Ids and capabilities equal to the helper's, one secure bit set: the bits are compared too. */
    @Test
    void secureBitsThatDifferAreSetAgain() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"), "nofixup")) {
            w.awaitOutput("count=2");
            List<String> before = creds(w.pid());
            assertEquals(creds((int) ProcessHandle.current().pid()), before, "the same ids and capabilities as jcriu");
            Cycled c = cycle(w, before);
            assertFalse(c.inPlace(), "secure bits that differ are set");
            assertEquals(4, c.secureBits(), "SECBIT_NO_SETUID_FIXUP after restore");
        }
    }
}

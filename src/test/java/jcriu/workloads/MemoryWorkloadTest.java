package jcriu.workloads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;
import org.junit.jupiter.api.Test;

/** Oracle baseline for memory.c: verification passes, and the checksum is a function of the arguments only. */
class MemoryWorkloadTest {

    private static final Duration VERIFY_TIMEOUT = Duration.ofSeconds(30);

    @Test
    void verifiesOkWithTheSameChecksumAcrossStopAndContinue() throws IOException {
        try (Workload w = Workload.start(Gcc.compile("memory"), "64", "12345")) {
            String layout = w.awaitOutput("^layout ");
            assertEquals("ready pid=" + w.pid() + " mib=64 seed=0x3039", w.awaitOutput("^ready "));
            w.assertDetached();

            // the kernel's view: the file mappings and the shared anonymous one exist
            String maps = Files.readString(Path.of("/proc", String.valueOf(w.pid()), "maps"));
            assertTrue(maps.contains(w.dir().toRealPath().resolve("memory-private.dat").toString()), maps);
            assertTrue(maps.contains(w.dir().toRealPath().resolve("memory-shared.dat").toString()), maps);
            assertTrue(maps.contains("/dev/zero (deleted)"), "no MAP_SHARED|MAP_ANONYMOUS region:\n" + maps);
            for (String region : new String[] {"anon", "untouched", "malloc", "global", "private", "sharedanon",
                    "sharedfile"}) {
                assertTrue(Workload.word(layout, region).startsWith("0x"), layout);
            }

            w.signal(Sig.SIGUSR1);
            String first = w.awaitOutput("^verify ", VERIFY_TIMEOUT);
            assertTrue(first.matches("verify ok checksum=[0-9a-f]{16}"), first);

            w.stopAndContinue(Duration.ofMillis(300));

            w.signal(Sig.SIGUSR1);
            assertEquals(first, w.awaitOutput("^verify ", VERIFY_TIMEOUT));

            w.signal(Sig.SIGTERM);
            assertEquals("term last_verify=ok", w.awaitOutput("^term "));
            assertEquals("exit code=0", w.awaitOutput("^exit code="));
            w.awaitGone(Workload.GONE_TIMEOUT);
        }
    }

    @Test
    void checksumDependsOnlyOnTheArguments() {
        try (Workload a = Workload.start(Gcc.compile("memory"), "8", "7");
                Workload b = Workload.start(Gcc.compile("memory"), "8", "7");
                Workload c = Workload.start(Gcc.compile("memory"), "8", "8")) {
            String ca = verify(a);
            String cb = verify(b);
            String cc = verify(c);
            assertEquals(ca, cb, "same MiB and seed, different checksum");
            assertNotEquals(ca, cc, "different seed, same checksum");
        }
    }

    /** The verification is not vacuous: a word changed behind its back (via /proc/PID/mem) is found. */
    @Test
    void detectsCorruptionAndExitsWithOne() throws IOException {
        try (Workload w = Workload.start(Gcc.compile("memory"), "4", "99")) {
            long anon = Workload.number(w.awaitOutput("^layout "), "anon");
            w.awaitOutput("^ready ");
            try (RandomAccessFile mem = new RandomAccessFile("/proc/" + w.pid() + "/mem", "rw")) {
                mem.seek(anon + 0x1008);
                mem.writeLong(0x0123456789abcdefL);
            }
            w.signal(Sig.SIGUSR1);
            assertEquals("verify BAD anon at 0x1008", w.awaitOutput("^verify ", VERIFY_TIMEOUT));
            w.signal(Sig.SIGTERM);
            assertEquals("term last_verify=BAD", w.awaitOutput("^term "));
            assertEquals("exit code=1", w.awaitOutput("^exit code="));
        }
    }

    @Test
    void exitsWithTwoIfNeverVerified() {
        try (Workload w = Workload.start(Gcc.compile("memory"), "1", "1")) {
            w.awaitOutput("^ready ");
            w.signal(Sig.SIGTERM);
            assertEquals("term last_verify=none", w.awaitOutput("^term "));
            assertEquals("exit code=2", w.awaitOutput("^exit code="));
        }
    }

    private static String verify(Workload w) {
        w.awaitOutput("^ready ");
        w.signal(Sig.SIGUSR1);
        String line = w.awaitOutput("^verify ", VERIFY_TIMEOUT);
        assertTrue(line.startsWith("verify ok checksum="), line);
        return Workload.word(line, "checksum");
    }
}

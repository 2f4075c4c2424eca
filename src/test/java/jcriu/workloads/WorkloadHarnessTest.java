package jcriu.workloads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;
import org.junit.jupiter.api.Test;

/** The Workload harness itself, exercised on the exitcode and counter workloads. */
class WorkloadHarnessTest {

    @Test
    void startsDetachedInItsOwnSessionWithOutputInItsDirectory() throws IOException {
        try (Workload w = Workload.start(Gcc.compile("exitcode"), List.of("5"), Map.of("JCRIU_TEST_VAR", "xyz"))) {
            String ready = w.awaitOutput("^ready pid=");
            assertEquals("ready pid=" + w.pid() + " code=5", ready);

            Workload.Stat stat = w.stat().orElseThrow();
            assertNotEquals(ProcessHandle.current().pid(), (long) stat.ppid(), "workload is a child of the JVM");
            w.assertDetached();
            assertEquals(w.pid(), stat.session(), "setsid makes it a session leader");
            assertEquals(w.pid(), stat.pgrp());

            Path proc = Path.of("/proc", String.valueOf(w.pid()));
            assertEquals(Gcc.compile("exitcode").toRealPath(), Files.readSymbolicLink(proc.resolve("exe")));
            assertEquals(w.dir().toRealPath(), Files.readSymbolicLink(proc.resolve("cwd")));
            assertEquals(Path.of("/dev/null"), Files.readSymbolicLink(proc.resolve("fd/0")));
            assertEquals(w.output().toRealPath(), Files.readSymbolicLink(proc.resolve("fd/1")));
            assertEquals(w.output().toRealPath(), Files.readSymbolicLink(proc.resolve("fd/2")));
            // O_APPEND (02000 octal) on the output file
            String fdinfo = Files.readString(proc.resolve("fdinfo/1"));
            long flags = Long.parseLong(fdinfo.lines().filter(l -> l.startsWith("flags:")).findFirst()
                    .orElseThrow().substring(6).trim(), 8);
            assertTrue((flags & 02000) != 0, fdinfo);

            List<String> env = Arrays.asList(new String(Files.readAllBytes(proc.resolve("environ")),
                    StandardCharsets.UTF_8).split("\0"));
            assertTrue(env.contains("JCRIU_TEST_VAR=xyz"), "environment: " + env);

            assertEquals(String.valueOf(w.pid()), Files.readString(w.dir().resolve(Workload.PID_FILE)).trim());
            assertEquals(List.of("ready pid=" + w.pid() + " code=5"), w.lines());
        }
    }

    @Test
    void awaitOutputConsumesLinesInOrderAndMatchesSubstringOrRegex() {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("ready");
            assertEquals("count=1", w.awaitOutput("count="));
            assertEquals("count=2", w.awaitOutput("count="));
            assertEquals("count=4", w.awaitOutput("^count=\\d*4$"));
            // seek(0) searches from the first line again
            int mark = w.cursor();
            w.seek(0);
            assertEquals("count=1", w.awaitOutput("count=1"));
            w.seek(mark);
            assertEquals("count=5", w.awaitOutput("count=5"));
            // skipToEnd: only lines printed from now on
            w.skipToEnd();
            long next = Workload.number(w.awaitOutput("count="), "count");
            assertTrue(next > 5, "count=" + next);
        }
    }

    @Test
    void awaitOutputTimeoutShowsTheOutputSoFar() {
        try (Workload w = Workload.start(Gcc.compile("exitcode"), "3")) {
            w.awaitOutput("ready");
            AssertionError e = assertThrows(AssertionError.class,
                    () -> w.awaitOutput("never printed", Duration.ofMillis(200)));
            assertTrue(e.getMessage().contains("timed out"), e.getMessage());
            assertTrue(e.getMessage().contains("ready pid=" + w.pid() + " code=3"), e.getMessage());
        }
    }

    @Test
    void awaitOutputFailsEarlyOnceTheProcessIsDead() {
        try (Workload w = Workload.start(Gcc.compile("exitcode"), "3")) {
            w.awaitOutput("ready");
            w.signal(Sig.SIGUSR1);
            assertEquals("exit code=3", w.awaitOutput("exit code="));
            long t0 = System.nanoTime();
            AssertionError e = assertThrows(AssertionError.class,
                    () -> w.awaitOutput("never printed", Duration.ofSeconds(60)));
            assertTrue(e.getMessage().contains("is gone"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(30).toNanos(), "waited for the timeout");
        }
    }

    @Test
    void aliveAwaitGoneAndSignalAfterDeath() {
        Workload w = Workload.start(Gcc.compile("exitcode"), "0");
        w.awaitOutput("ready");
        assertTrue(w.alive());
        w.kill9AndAwaitGone();
        assertFalse(w.alive());
        assertTrue(w.state().isEmpty());
        assertTrue(Files.notExists(Path.of("/proc", String.valueOf(w.pid()))), "/proc/PID still there");
        assertThrows(IllegalStateException.class, () -> w.signal(Sig.SIGUSR1));
        w.close(); // idempotent
    }

    @Test
    void closeKillsAStoppedProcessAndWaitsUntilReaped() {
        Workload w = Workload.start(Gcc.compile("counter"));
        w.awaitOutput("count=1");
        w.signal(Sig.SIGSTOP);
        assertEquals('T', w.awaitState("T"));
        w.close();
        assertFalse(w.alive());
        assertTrue(Files.notExists(Path.of("/proc", String.valueOf(w.pid()))));
    }

    @Test
    void awaitStateSeesSleepingAndStopped() {
        try (Workload w = Workload.start(Gcc.compile("exitcode"), "0")) {
            w.awaitOutput("ready");
            assertEquals('S', w.awaitState("S"));
            w.signal(Sig.SIGSTOP);
            assertEquals('T', w.awaitState("T"));
            w.signal(Sig.SIGCONT);
            assertEquals('S', w.awaitState("S"));
            w.signal(Sig.SIGUSR1);
            w.awaitOutput("exit code=0");
            // dead: either a zombie waiting for init, or already reaped
            w.awaitGone(Workload.GONE_TIMEOUT);
            assertThrows(AssertionError.class, () -> w.awaitState("S", Duration.ofMillis(100)));
        }
    }

    @Test
    void adoptWrapsTheSameProcessAndOutput() {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            int before = w.lineCount();
            Workload again = Workload.adopt(w.pid(), w.dir()).seek(before);
            assertEquals(w.pid(), again.pid());
            assertEquals(w.output(), again.output());
            assertEquals(w.lines().subList(0, before), again.lines().subList(0, before));
            long n = Workload.number(again.awaitOutput("^count="), "count");
            assertTrue(n >= 3, "count=" + n);
            again.signal(Sig.SIGTERM);
            again.awaitOutput("^exit code=0$");
            again.awaitGone(Workload.GONE_TIMEOUT);
            assertFalse(w.alive());
        }
    }

    @Test
    void adoptOfAMissingProcessFails() {
        Workload w = Workload.start(Gcc.compile("exitcode"), "0");
        w.kill9AndAwaitGone();
        assertThrows(IllegalStateException.class, () -> Workload.adopt(w.pid(), w.dir()));
    }

    @Test
    void syscallAndThreadsFromProc() {
        try (Workload w = Workload.start(Gcc.compile("futex_wait"), "30")) {
            w.awaitOutput("ready");
            w.awaitSyscall(202 /* futex */, Workload.TIMEOUT);
            assertEquals(List.of(w.pid()), w.tids());
        }
    }

    @Test
    void numberAndWordParsing() {
        assertEquals(41, Workload.number("count=41", "count"));
        assertEquals(7, Workload.number("slept ok elapsed_ms=7", "elapsed_ms"));
        assertEquals(0x3039, Workload.number("ready pid=1 mib=4 seed=0x3039", "seed"));
        assertEquals(-1, Workload.number("futex returned rc=-1 errno=110", "rc"));
        assertEquals("00ff", Workload.word("verify ok checksum=00ff", "checksum"));
        assertThrows(AssertionError.class, () -> Workload.number("usr1=1", "usr2"));
    }
}

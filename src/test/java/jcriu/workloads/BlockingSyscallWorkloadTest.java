package jcriu.workloads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Workload;
import org.junit.jupiter.api.Test;

/**
 * Oracle baseline for sleeper.c and futex_wait.c: a stop in the middle of a
 * blocking syscall is invisible; the call returns as if never interrupted,
 * after about its original duration (the deadline does not move).
 */
class BlockingSyscallWorkloadTest {

    private static final int SECONDS = 2;
    /** Generous upper slack: scheduling on a loaded CI machine, not the stop. */
    private static final long SLACK_MS = 1500;

    @Test
    void nanosleepIsTransparentlyRestartedAfterStopAndContinue() {
        try (Workload w = Workload.start(Gcc.compile("sleeper"), String.valueOf(SECONDS))) {
            assertEquals("ready pid=" + w.pid() + " seconds=" + SECONDS, w.awaitOutput("^ready "));
            w.assertDetached();
            w.awaitSyscall(230 /* clock_nanosleep, which glibc's nanosleep uses */, Workload.TIMEOUT);
            assertEquals('S', w.awaitState("S"));

            w.stopAndContinue(Duration.ofMillis(300));

            String slept = w.awaitOutput("^slept ", Duration.ofSeconds(SECONDS + 10));
            assertTrue(slept.startsWith("slept ok elapsed_ms="), slept);
            long elapsed = Workload.number(slept, "elapsed_ms");
            assertTrue(elapsed >= SECONDS * 1000L && elapsed < SECONDS * 1000L + SLACK_MS, slept);
            assertEquals("exit code=7", w.awaitOutput("^exit code="));
            w.awaitGone(Workload.GONE_TIMEOUT);
        }
    }

    @Test
    void futexWaitTimesOutOnceAfterStopAndContinue() {
        try (Workload w = Workload.start(Gcc.compile("futex_wait"), String.valueOf(SECONDS))) {
            String ready = w.awaitOutput("^ready ");
            assertTrue(ready.matches("ready pid=" + w.pid() + " seconds=" + SECONDS + " futex=0x[0-9a-f]+"), ready);
            w.assertDetached();
            w.awaitSyscall(202 /* futex */, Workload.TIMEOUT);

            w.stopAndContinue(Duration.ofMillis(300));

            String returned = w.awaitOutput("^futex returned ", Duration.ofSeconds(SECONDS + 10));
            assertTrue(returned.startsWith("futex returned rc=-1 errno=110 elapsed_ms="), returned); // ETIMEDOUT
            long elapsed = Workload.number(returned, "elapsed_ms");
            assertTrue(elapsed >= SECONDS * 1000L && elapsed < SECONDS * 1000L + SLACK_MS, returned);
            assertEquals("exit code=0", w.awaitOutput("^exit code="));
            w.awaitGone(Workload.GONE_TIMEOUT);
        }
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Workload;

/**
 * A task stopped inside pause() with a SIGUSR1 handler. A signal that arrives before the
 * call is re-entered must interrupt it (the handler runs, pause returns EINTR), as the kernel
 * does for the same program merely stopped and continued. A restore that rewinds the call in
 * user mode runs the handler and then pauses again, forever.
 */
class InterruptedCallTest {
    private static final int SIGUSR1 = 10, SIGSTOP = 19, SIGCONT = 18;

    @Test
    void aSignalQueuedWhileStoppedInterruptsTheCallAfterStopAndContinue() {
        run(false);
    }

    @Test
    void aSignalQueuedWhileStoppedInterruptsTheCallAfterRestore() throws Exception {
        run(true);
    }

    private static void run(boolean checkpoint) {
        try (Workload w = Workload.start(Gcc.compile("exitcode"), "7")) {
            w.awaitOutput("ready");
            w.awaitSyscall(34 /* pause */, Duration.ofSeconds(10));
            w.signal(SIGSTOP);
            w.awaitState("T");
            Workload cur = w;
            if (checkpoint) {
                try {
                    cur = Checkpoints.cycle(w); // comes back stopped, as it was
                } catch (java.io.IOException e) {
                    throw new AssertionError(e);
                }
                assertEquals('T', cur.awaitState("T"));
            }
            try {
                cur.signal(SIGUSR1); // pending while stopped
                cur.signal(SIGCONT);
                assertEquals("exit code=7", cur.awaitOutput("exit code=", Duration.ofSeconds(5)));
            } finally {
                cur.close();
            }
        }
    }
}

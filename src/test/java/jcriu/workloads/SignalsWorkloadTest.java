package jcriu.workloads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;
import org.junit.jupiter.api.Test;

/** Oracle baseline for signals.c: handlers, mask, pending signal and altstack survive SIGSTOP/SIGCONT. */
class SignalsWorkloadTest {

    private static final int RT = Sig.SIGRTMIN + 1;
    private static final String STATE = "blocked=" + RT + " pending=%s rt_blocked=yes usr1_restart=yes"
            + " usr1_siginfo=yes usr2_onstack=yes altstack=same";

    @Test
    void handlersMaskPendingAndAltstackHold() throws IOException {
        try (Workload w = Workload.start(Gcc.compile("signals"))) {
            assertEquals("ready pid=" + w.pid() + " rtmin=" + Sig.SIGRTMIN + " rt=" + RT, w.awaitOutput("^ready "));
            w.assertDetached();

            // one signal at a time: standard signals do not queue
            w.signal(Sig.SIGUSR1);
            assertEquals("usr1=1 usr2=0", w.awaitOutput("^usr1="));
            w.signal(Sig.SIGUSR2);
            assertEquals("usr1=1 usr2=1", w.awaitOutput("^usr1="));

            // blocked, so it stays pending: the kernel shows it in ShdPnd
            w.signal(RT);
            assertEquals(1L << (RT - 1), statusMask(w, "ShdPnd"));
            assertEquals(1L << (RT - 1), statusMask(w, "SigBlk"));
            w.signal(Sig.SIGHUP);
            assertEquals("hup " + STATE.formatted(RT), w.awaitOutput("^hup "));
            assertEquals("rt arrived count=1", w.awaitOutput("^rt arrived"));
            assertEquals("hup done rt=1", w.awaitOutput("^hup done"));

            // pending across a stop, then the same report as before
            w.signal(RT);
            w.stopAndContinue(Duration.ofMillis(300));
            w.signal(Sig.SIGUSR1);
            assertEquals("usr1=2 usr2=1", w.awaitOutput("^usr1="));
            w.signal(Sig.SIGUSR2);
            assertEquals("usr1=2 usr2=2", w.awaitOutput("^usr1="));
            w.signal(Sig.SIGHUP);
            assertEquals("hup " + STATE.formatted(RT), w.awaitOutput("^hup "));
            assertEquals("rt arrived count=2", w.awaitOutput("^rt arrived"));
            assertEquals("hup done rt=2", w.awaitOutput("^hup done"));

            // nothing pending: no arrival line, still blocked afterwards
            w.signal(Sig.SIGHUP);
            assertEquals("hup " + STATE.formatted("none"), w.awaitOutput("^hup "));
            assertEquals("hup done rt=2", w.awaitOutput("^hup done"));

            w.signal(Sig.SIGTERM);
            assertEquals("exit code=0", w.awaitOutput("^exit code="));
            w.awaitGone(Workload.GONE_TIMEOUT);
            assertFalse(w.lines().stream().anyMatch(l -> l.contains("BAD") || l.startsWith("rt arrived count=3")),
                    String.join("\n", w.lines()));
        }
    }

    /** A hex signal mask line (SigBlk, ShdPnd, ...) of /proc/PID/status. */
    private static long statusMask(Workload w, String field) throws IOException {
        return Files.readAllLines(Path.of("/proc", String.valueOf(w.pid()), "status")).stream()
                .filter(l -> l.startsWith(field + ":"))
                .mapToLong(l -> Long.parseUnsignedLong(l.substring(field.length() + 1).trim(), 16))
                .findFirst().orElseThrow();
    }
}

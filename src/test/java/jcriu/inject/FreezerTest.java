package jcriu.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.ptrace.Tracer;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/** Freezing a process loses nothing of what happens while it is being frozen. */
class FreezerTest {

    /** Until the thread is in a ptrace stop ('t'): here, the signal-delivery stop of a fresh signal. */
    private static void awaitTracedStop(int tid) {
        long end = System.nanoTime() + 10_000_000_000L;
        String stat = "";
        while (System.nanoTime() < end) {
            try {
                stat = Files.readString(Path.of("/proc/" + tid + "/stat"));
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("t")) return;
            Thread.onSpinWait();
        }
        throw new AssertionError("thread " + tid + " never stopped for its signal: " + stat);
    }

    /**
     * A signal that arrives between PTRACE_SEIZE and PTRACE_INTERRUPT is reported to the tracer
     * (a signal-delivery stop) before the interrupt stop; the freeze must hand it back to the
     * thread, which runs its handler once released.
     */
    @Test
    void aSignalCaughtWhileFreezingIsDeliveredNotDropped() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("signals"))) {
            w.awaitOutput("ready");
            w.signal(Sig.SIGUSR1);
            w.awaitOutput("usr1=1 usr2=0");
            List<String> log = new ArrayList<>();
            Tracer.run("freeze-test", tracer -> {
                Freezer.Frozen f = Freezer.freeze(tracer, w.pid(), log::add, null, tid -> {
                    Sig.kill(w.pid(), Sig.SIGUSR2);
                    awaitTracedStop(tid);
                });
                assertEquals(List.of(w.pid()), f.tids());
                Freezer.release(tracer, f);
                return null;
            });
            assertTrue(log.stream().anyMatch(l -> l.contains("had signal 12 on its way in")), log.toString());
            w.awaitOutput("usr1=1 usr2=1");
            w.signal(Sig.SIGTERM);
            w.awaitOutput("exit code=0");
        }
    }
}

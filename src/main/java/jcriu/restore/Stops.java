package jcriu.restore;

import jcriu.ptrace.Tracer;
import jcriu.ptrace.WaitStatus;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/** Waiting for tracees of the restore: their event stops, and their end when a restore is undone. */
final class Stops {
    private static final int SIGKILL = 9;

    private Stops() {}

    /** Waits for a PTRACE_EVENT_STOP, handing any signal stop met on the way back to the task. */
    static void awaitEventStop(Tracer tracer, int pid) {
        while (true) {
            WaitStatus ws = tracer.waitFor(pid);
            if (!ws.stopped()) throw new IllegalStateException("task " + pid + " of the restore died: " + ws);
            if (ws.event() == Tracer.EVENT_STOP) return;
            tracer.cont(pid, ws.event() == 0 ? ws.stopSignal() : 0);
        }
    }

    /** SIGKILL, then every report of the task consumed until its exit (threads before their leader). */
    static void killAndReap(Tracer tracer, int pid, java.util.List<Integer> threads) {
        try {
            Sys.kill(pid, SIGKILL);
        } catch (SysException ignored) {
            return;
        }
        for (int tid : threads) drain(tracer, tid);
        drain(tracer, pid);
    }

    static void drain(Tracer tracer, int pid) {
        try {
            while (true) {
                WaitStatus ws = tracer.waitFor(pid);
                if (!ws.stopped()) return;
            }
        } catch (SysException ignored) {
            // not ours to reap (reparented): the kernel or init will
        }
    }
}

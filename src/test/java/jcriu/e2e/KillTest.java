package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.JcriuRun;
import jcriu.testsupport.Sig;
import jcriu.testsupport.TargetState;
import jcriu.testsupport.Workload;

/**
 * SIGKILL of {@code jcriu dump}, which nothing can catch, while it runs system calls inside the
 * target. The kernel then lets the threads go with whatever registers and mask jcriu left in
 * them. jcriu pauses at each point of each injection session (its test hook,
 * {@code inject:SESSION:POINT}: registers parked on the rescue frame, mask blocked, a call
 * loaded, at its enter stop, at its exit stop, mask given back) and is killed there. The target,
 * busyregs, checks its vector and general registers a million times per block in one thread,
 * keeps another asleep in nanosleep with its own mask (checked after every nap), and checks its
 * memory and mask on SIGUSR1: afterwards it runs, answers, and has the same mappings and the
 * same blocked signals in every thread.
 */
class KillTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Duration SETTLE = Duration.ofSeconds(30);
    /** How long the target may take to answer SIGUSR1: it answers within milliseconds when idle. */
    private static final Duration ANSWER = Duration.ofSeconds(30);
    private static final List<String> POINTS = List.of("parked", "masked", "loaded", "enter", "exit", "unmasked");
    /** A thread waiting in pause() or sigsuspend() is also given back through the wait it is put in. */
    private static final List<String> WAITING_POINTS = List.of("parked", "masked", "loaded", "enter", "exit",
            "waiting", "unmasked");

    /** What busyregs's main thread does: spin, or wait (then a second thread spins). */
    private enum Main {
        BUSY, PAUSE, SIGSUSPEND;

        boolean waits() { return this != BUSY; }
    }

    private static Workload target(Main main) {
        Workload w = switch (main) {
            case BUSY -> Workload.start(Gcc.compile("busyregs"), "16");
            case PAUSE -> Workload.start(Gcc.compile("busyregs"), "16", "idle");
            case SIGSUSPEND -> Workload.start(Gcc.compile("busyregs"), "16", "suspend");
        };
        w.awaitOutput("ready");
        verify(w);
        return w;
    }

    private static void verify(Workload w) {
        w.signal(Sig.SIGUSR1);
        String v = w.awaitOutput("verify |BAD", ANSWER);
        assertTrue(v.startsWith("verify ok"), v + "\n" + w.text());
    }

    /** jcriu's dump -R killed at {@code phase}; returns what went wrong, or null. */
    private static String killDump(Workload w, Path dir, String phase, boolean signalled) throws Exception {
        return kill(w, dir, phase, signalled, "dump", "-R");
    }

    private static String kill(Workload w, Path dir, String phase, String command, String... more) throws Exception {
        return kill(w, dir, phase, false, command, more);
    }

    /**
     * {@code jcriu COMMAND -t PID -D DIR ARGS} killed at {@code phase}; returns what went wrong, or
     * null. {@code signalled}: the target is sent SIGSTOP before jcriu's SIGKILL, so that no thread
     * of it runs a single instruction after jcriu's end before the test has sent it SIGUSR1 (then
     * SIGCONT): the signal is there when each thread first comes back, whatever the machine's
     * load, and the target must answer that very signal.
     */
    private static String kill(Workload w, Path dir, String phase, boolean signalled, String command, String... more)
            throws Exception {
        TargetState before = TargetState.of(w.pid());
        Path out = w.dir().resolve("kill-" + command + "-" + phase.replace(':', '-') + ".out");
        String why = command + " killed at " + phase + ": ";
        List<String> args = new ArrayList<>(List.of(command, "-t", Integer.toString(w.pid()), "-D", dir.toString()));
        args.addAll(List.of(more));
        args.add("-v4");
        try (JcriuRun j = JcriuRun.start(phase, out, args.toArray(String[]::new))) {
            j.awaitPaused(phase, WAIT);
            if (signalled) w.signal(Sig.SIGSTOP); // pending: every thread is in one of jcriu's stops
            j.signal(Sig.SIGKILL);
            int exit = j.awaitExit(WAIT);
            if (exit != 128 + Sig.SIGKILL) return why + "exit " + exit + ":\n" + j.output();
            if (j.output().contains("no rescue frame") || j.output().contains("rescue its threads")) {
                return why + "not protected:\n" + j.output();
            }
        }
        if (signalled) {
            TargetState.awaitStopped(w.pid(), WAIT);
            w.skipToEnd();
            w.signal(Sig.SIGUSR1);
            w.signal(Sig.SIGCONT);
            try {
                String v = w.awaitOutput("verify |BAD", ANSWER);
                if (!v.startsWith("verify ok")) return why + "SIGUSR1 sent while stopped: " + v + "\n" + w.text();
            } catch (AssertionError e) {
                return why + "no answer to the SIGUSR1 sent while it was stopped: " + e.getMessage();
            }
        }
        TargetState.awaitReleased(w.pid(), Duration.ofSeconds(10));
        if (!w.alive()) return why + "the target died:\n" + w.text();
        // a thread let go in the middle of a call gets its mask back from the frame once it runs:
        // on a busy machine that may take a moment after jcriu's end
        TargetState after = TargetState.of(w.pid());
        for (long end = System.nanoTime() + SETTLE.toNanos(); !after.sigBlk().equals(before.sigBlk())
                && System.nanoTime() < end; after = TargetState.of(w.pid())) {
            Thread.sleep(20);
        }
        if (!after.sigBlk().equals(before.sigBlk())) return why + "SigBlk " + before.sigBlk() + " -> " + after.sigBlk();
        if (!after.maps().equals(before.maps())) return why + "mappings changed:\n" + before.maps() + "->\n" + after.maps();
        try {
            verify(w);
        } catch (AssertionError e) {
            return why + e.getMessage();
        }
        return w.text().contains("BAD") ? why + w.text() : null;
    }

    /** Kills a dump at each of {@code phases}, then at each point of each of {@code sessions}. */
    private static void sweep(Main main, List<String> phases0, List<String> sessions) throws Exception {
        sweep(main, phases0, sessions, false);
    }

    private static void sweep(Main main, List<String> phases0, List<String> sessions, boolean signalled)
            throws Exception {
        try (Workload w = target(main)) {
            Path dir = Checkpoints.imageDir(w);
            List<String> phases = new ArrayList<>(phases0);
            for (String s : sessions) for (String p : main.waits() ? WAITING_POINTS : POINTS) phases.add("inject:" + s + ":" + p);
            List<String> failures = new ArrayList<>();
            for (String phase : phases) {
                String f;
                try {
                    f = killDump(w, dir, phase, signalled);
                } catch (Exception | AssertionError e) {
                    f = "dump killed at " + phase + ": " + e;
                }
                if (f != null) failures.add(f);
                // a waiting main thread that lost a signal, or waits with the wrong mask, may never
                // answer again: every later point would wait its whole deadline for nothing
                if (!w.alive() || (main.waits() && f != null)) break;
            }
            assertEquals(List.of(), failures);
        }
    }

    /** The main thread busy in its own code, registers live, when its process-wide state is read. */
    @Test
    void aBusyThreadComesBackWhole() throws Exception {
        sweep(Main.BUSY, List.of("frozen", "injected"), List.of("signals"));
    }

    /** The second thread asleep in nanosleep (restarted with its restart block, or re-issued). */
    @Test
    void aSleepingThreadComesBackWhole() throws Exception {
        sweep(Main.BUSY, List.of(), List.of("thread1", "attrs-thread1"));
    }

    /** The busy main thread again, with the process attributes' calls and the mlockall probe. */
    @Test
    void aBusyThreadComesBackWholeFromTheAttributeCalls() throws Exception {
        sweep(Main.BUSY, List.of(), List.of("attrs"));
    }

    /**
     * The mlockall probe, the one page a dump maps in the target: jcriu killed at each point of
     * its mmap and of its munmap. A thread let go after the mmap unmaps the page itself (the mmap
     * returns through the process's own munmap code before the rescue frame), so the mappings
     * are the same at every point.
     */
    @Test
    void theMlockallProbePageIsNeverLeftBehind() throws Exception {
        List<String> points = new ArrayList<>();
        for (String call : List.of("probe-", "unprobe-")) {
            for (String p : List.of("loaded", "enter", "exit")) points.add("inject:attrs:" + call + p);
        }
        sweep(Main.BUSY, points, List.of());
    }

    /**
     * The phases of a dump that leaves the process running and of a pre-dump (which never
     * injects: the threads are frozen with their own registers, and those inside an rseq
     * critical section are moved to its abort handler only when put back), from before the
     * freeze to after the release: killed at each, jcriu leaves the process as it was.
     */
    @Test
    void aDumpLeavingItRunningAndAPreDumpKilledAtEachPhase() throws Exception {
        try (Workload w = target(Main.BUSY)) {
            Path dir = Checkpoints.imageDir(w);
            Path pre = Checkpoints.imageDir(w);
            List<String> failures = new ArrayList<>();
            for (String phase : DUMP_PHASES) {
                String f = guarded(w, phase, () -> kill(w, dir, phase, "dump", "-R"));
                if (f != null) failures.add(f);
                if (!w.alive()) break;
            }
            for (String phase : PRE_DUMP_PHASES) {
                if (!w.alive()) break;
                String f = guarded(w, phase, () -> kill(w, pre, phase, "pre-dump"));
                if (f != null) failures.add(f);
            }
            assertEquals(List.of(), failures);
        }
    }

    private static final List<String> DUMP_PHASES = List.of("start", "frozen", "threads-read", "files-read",
            "rseq-probed", "injecting", "injected", "memory", "memory-written", "images-written", "sealed", "published",
            "put-back");
    private static final List<String> PRE_DUMP_PHASES = List.of("start", "frozen", "threads-read", "memory",
            "memory-written", "images-written", "put-back", "released", "sealed", "published");

    private interface Case {
        String run() throws Exception;
    }

    private static String guarded(Workload w, String phase, Case c) {
        try {
            return c.run();
        } catch (Exception | AssertionError e) {
            return "killed at " + phase + ": " + e;
        }
    }

    /** The main thread in pause() (ERESTARTNOHAND), the spinning thread third. */
    @Test
    void aWaitingMainThreadComesBackWhole() throws Exception {
        sweep(Main.PAUSE, List.of(), List.of("signals", "attrs"));
    }

    /**
     * The main thread in pause(), sent SIGUSR1 after jcriu's end but before it ran again (the
     * moment a loaded machine may give anyway): pause() returns, as it would have had jcriu never
     * been there, instead of the signal being handled on the way back and pause() entered again.
     */
    @Test
    void aWaitingMainThreadSignalledBeforeItRunsAgainWakesUp() throws Exception {
        sweep(Main.PAUSE, List.of(), List.of("signals", "attrs"), true);
    }

    /**
     * The main thread in sigsuspend() with an empty mask, SIGUSR1 and SIGTERM blocked outside it
     * (the kernel keeps that mask aside for the call's return): jcriu killed at each point, the
     * thread still waits with the empty mask, and once SIGUSR1 ends the wait its mask is the one
     * it set (the target checks it), whether the signal came before it ran again or after.
     */
    @Test
    void aMainThreadInSigsuspendComesBackWithItsMask() throws Exception {
        sweep(Main.SIGSUSPEND, List.of(), List.of("signals", "attrs"));
        sweep(Main.SIGSUSPEND, List.of(), List.of("signals", "attrs"), true);
    }
}

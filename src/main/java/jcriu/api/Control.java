package jcriu.api;

import java.io.IOException;
import java.io.PrintStream;

/**
 * Steering of one running dump or restore from outside it: a cancellation (SIGINT or SIGTERM
 * to the command) that the work notices at its next phase and answers by rolling back, and,
 * for tests, a phase at which the work stops and says so on stderr, so that a signal can be
 * sent exactly there instead of after a guessed sleep. Past {@link #commit} (the images are
 * published, the restored process is being let go) a cancellation is too late and ignored:
 * finishing is then the only way to leave nothing half done.
 */
public final class Control {
    /**
     * System property naming the phase to pause at (tests; e.g. through JAVA_TOOL_OPTIONS):
     * {@code PHASE} its first time, {@code PHASE#N} its N-th time (a phase reached once per process).
     */
    public static final String PAUSE_PROPERTY = "jcriu.test.pauseAt";
    private static final long POLL_MILLIS = 2;

    private final String pauseAt;
    private final PrintStream report;
    /** How often each phase was reached, for a pause at {@code PHASE#N} (its N-th time). */
    private final java.util.Map<String, Integer> reachedTimes = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile String cancelled;
    private volatile boolean committed;

    public Control(String pauseAt, PrintStream report) {
        this.pauseAt = pauseAt;
        this.report = report;
    }

    /** Never cancelled, never paused. */
    public static Control none() {
        return new Control(null, System.err);
    }

    /** Pauses where {@value #PAUSE_PROPERTY} says, if set; reports on stderr. */
    public static Control fromProperties() {
        return new Control(System.getProperty(PAUSE_PROPERTY), System.err);
    }

    /** The work thrown out by a cancellation; the message names its cause (a signal). */
    public static final class CancelledException extends IOException {
        private final String cause;

        CancelledException(String cause) {
            super("interrupted by " + cause);
            this.cause = cause;
        }

        /** What cancelled it, e.g. "SIGINT". */
        public String by() { return cause; }
    }

    /** Asks the work to stop and roll back; safe from any thread (a signal handler's). */
    public void cancel(String why) {
        if (cancelled == null) cancelled = why;
    }

    public boolean cancelled() { return cancelled != null; }

    public boolean committed() { return committed; }

    /** From here on the work completes whatever happens; cancellations are ignored. */
    public void commit() { committed = true; }

    /** Throws if cancelled before the commit. */
    public void check() throws CancelledException {
        String c = cancelled;
        if (c != null && !committed) throw new CancelledException(c);
    }

    /**
     * The work has reached {@code phase}: throws if cancelled; if a test asked to pause here,
     * reports it and waits for a cancellation (or for the end of the process).
     */
    public void reached(String phase) throws CancelledException {
        check();
        pause(phase);
        check();
    }

    /**
     * Only the test hook: if a test asked to pause at {@code phase}, reports it and waits for a
     * cancellation (or the end of the process). For points inside a step that cannot stop there
     * (an injected call between its two stops), where only SIGKILL is of interest; the step's
     * next phase acts on a cancellation.
     */
    public void pause(String phase) {
        if (pauseAt == null || !pauseAt.startsWith(phase)) return;
        if (!phase.equals(pauseAt)) {
            int times = reachedTimes.merge(phase, 1, Integer::sum);
            if (!pauseAt.equals(phase + "#" + times)) return;
        }
        synchronized (report) {
            report.println("jcriu: paused at " + pauseAt);
            report.flush();
        }
        while (cancelled == null) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cancel("thread interrupt");
            }
        }
    }
}

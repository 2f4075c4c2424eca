package jcriu.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jcriu.api.Control;

/**
 * jcriu's command line in a process of its own (the launcher execs the JVM, so this process
 * is jcriu itself), optionally paused at a phase through {@link Control}'s test hook so that a
 * test can signal it exactly there. Its output goes to a file (no pipe to fill up).
 */
public final class JcriuRun implements AutoCloseable {
    private final Process p;
    private final Path out;

    private JcriuRun(Process p, Path out) {
        this.p = p;
        this.out = out;
    }

    private static boolean built;

    /**
     * The launcher builds jcriu when its sources are newer than the last build, which on a busy
     * machine takes minutes: done once, before any run a test times.
     */
    private static synchronized void ensureBuilt() throws IOException {
        if (built) return;
        Process p = new ProcessBuilder(Gcc.projectDir().resolve("jcriu").toString(), "--version")
                .redirectErrorStream(true).start();
        try {
            String o = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IOException("jcriu --version: " + o);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building jcriu", e);
        }
        built = true;
    }

    /** Starts {@code jcriu args}, to pause at {@code pauseAt} (null: no pause); output to {@code out}. */
    public static JcriuRun start(String pauseAt, Path out, String... args) throws IOException {
        ensureBuilt();
        List<String> cmd = new ArrayList<>();
        // A JVM does not catch SIGINT or SIGTERM it was started with ignored, and a test run started
        // in the background by a non-interactive shell ignores SIGINT (inherited down to here):
        // default dispositions first, as a user's terminal gives them (env execs, same PID)
        cmd.addAll(List.of("env", "--default-signal=INT,TERM,HUP"));
        cmd.add(Gcc.projectDir().resolve("jcriu").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        if (pauseAt != null) pb.environment().put("JAVA_TOOL_OPTIONS", "-D" + Control.PAUSE_PROPERTY + "=" + pauseAt);
        return new JcriuRun(pb.start(), out);
    }

    public int pid() { return (int) p.pid(); }

    public String output() {
        try {
            return Files.readString(out);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    /** Waits until jcriu reports the pause; fails if it ends first. */
    public void awaitPaused(String phase, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!output().contains("jcriu: paused at " + phase + "\n")) {
            if (!p.isAlive()) throw new AssertionError("jcriu ended (" + p.exitValue() + ") before pausing at " + phase
                    + ":\n" + output());
            if (System.nanoTime() > end) throw new AssertionError("jcriu did not pause at " + phase + " within "
                    + timeout + ":\n" + output());
            Thread.sleep(20);
        }
    }

    public void signal(int sig) {
        int errno = Sig.kill(pid(), sig);
        if (errno != 0) throw new AssertionError("kill(" + pid() + ", " + sig + "): errno " + errno);
    }

    /** Waits for the end of jcriu and returns its exit status. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("jcriu did not end within " + timeout + ":\n" + output());
        }
        return p.exitValue();
    }

    @Override
    public void close() {
        if (p.isAlive()) {
            p.destroyForcibly();
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

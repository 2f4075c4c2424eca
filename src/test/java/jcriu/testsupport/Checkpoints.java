package jcriu.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import jcriu.api.Log;
import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;

/** Dump, kill and restore a workload through the Java API, keeping the log for failure messages. */
public final class Checkpoints {
    private Checkpoints() {}

    public static Path imageDir(Workload w) throws IOException {
        return Files.createTempDirectory(w.dir(), "img-");
    }

    public static Log log(ByteArrayOutputStream sink) {
        return new Log(4, new PrintStream(sink, true));
    }

    public static Checkpointer.Result dump(Workload w, Path dir, boolean leaveRunning) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            return Checkpointer.dump(new DumpOptions(w.pid(), dir, leaveRunning, false), log(out));
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("dump of " + w + " failed: " + e.getMessage() + "\nlog:\n" + out, e);
        }
    }

    /** Restores detached (reparented to init, like CRIU's -d) and wraps the process, reading on from {@code line}. */
    public static Workload restore(Path dir, Path workDir, int line) throws IOException {
        return restore(dir, workDir, line, false);
    }

    /** As {@link #restore(Path, Path, int)}; {@code skipFileCheck}: files changed since the dump are used as they are. */
    public static Workload restore(Path dir, Path workDir, int line, boolean skipFileCheck) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            Restorer.Result r = Restorer.restore(new RestoreOptions(dir, true, false, false,
                    jcriu.restore.RestoreHooks.NONE, skipFileCheck), log(out));
            return Workload.adopt(r.pid(), workDir).seek(line).withRestoreLog(out.toString());
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("restore from " + dir + " failed: " + e.getMessage() + "\nlog:\n" + out, e);
        }
    }

    /**
     * The whole cycle: dump (the process is killed), wait until its PID is free (PID 1 reaps
     * orphans lazily here), restore. Returns the restored process positioned after the
     * lines printed before the dump.
     */
    public static Workload cycle(Workload w) throws IOException {
        Path dir = imageDir(w);
        boolean wasAsleep = w.asleep();
        dump(w, dir, false);
        w.awaitGone(Duration.ofSeconds(30));
        int seen = w.lineCount();
        Workload r = restore(dir, w.dir(), seen);
        if (wasAsleep) r.settle(); // see Workload#settle
        return r;
    }
}

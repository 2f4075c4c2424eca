package jcriu.restore;

import java.io.IOException;

import jcriu.api.Log;
import jcriu.image.ImageDir;
import jcriu.image.StateCodec;
import jcriu.ptrace.Tracer;
import jcriu.state.TreeState;
import jcriu.sys.Sys;

/** Brings a dumped process tree back from an image directory, with its original PIDs. */
public final class Restorer {
    private Restorer() {}

    public record Result(int pid) {}

    /** The restore failed; nothing of it is left running. */
    public static final class RestoreException extends IOException {
        public RestoreException(String msg, Throwable cause) { super(msg, cause); }
    }

    public static Result restore(RestoreOptions opts, Log log) throws RestoreException {
        try {
            ImageDir dir = ImageDir.open(opts.imageDir());
            TreeState tree = StateCodec.read(dir);
            log.info("restoring pid " + tree.root().pid() + " (" + tree.root().comm() + ")"
                    + (tree.processes().size() + tree.zombies().size() > 1 ? " and "
                            + (tree.processes().size() + tree.zombies().size() - 1) + " descendant(s)" : "")
                    + " from " + dir.path());
            long t0 = System.nanoTime();
            TreeRestore[] done = new TreeRestore[1];
            int pid = Tracer.run("jcriu-restore", tracer -> {
                done[0] = new TreeRestore(tracer, tree, dir.path(), opts, log);
                return done[0].run();
            });
            RestoreStatistics.write(dir, done[0].forkNanos(), System.nanoTime() - t0, done[0].pagesRestored(), log);
            return new Result(pid);
        } catch (RestoreException e) {
            throw e;
        } catch (Exception e) {
            throw new RestoreException("restore from " + opts.imageDir() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Waits for a process restored without {@code detach} (jcriu is its parent) and returns
     * its exit status as a shell would: the exit code, or 128 + the signal that killed it.
     */
    public static int waitForExit(int pid) {
        int[] r = Sys.wait4(pid, 0);
        int status = r[1];
        if ((status & 0x7f) == 0) return (status >> 8) & 0xff;
        return 128 + (status & 0x7f);
    }
}

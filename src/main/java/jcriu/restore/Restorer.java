package jcriu.restore;

import java.io.IOException;

import jcriu.api.Control;
import jcriu.api.Log;
import jcriu.image.ImageDir;
import jcriu.image.ImageSetCheck;
import jcriu.image.Manifest;
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
        return restore(opts, log, Control.none());
    }

    /**
     * A restore that {@code control} can cancel (SIGINT, SIGTERM): until the restored process
     * is let go, whatever was created is killed and nothing is left.
     */
    public static Result restore(RestoreOptions opts, Log log, Control control) throws RestoreException {
        // checked whole before anything is created; locked so that no dump replaces it meanwhile
        try (ImageSetCheck.Opened set = ImageSetCheck.open(opts.imageDir(), log)) {
            if (set.manifest() != null && set.manifest().kind() == Manifest.Kind.PRE_DUMP) {
                throw new RestoreException(opts.imageDir() + " holds a pre-dump (memory only): restore the dump made"
                        + " with --prev-images-dir leading to it", null);
            }
            ImageDir dir = ImageDir.open(opts.imageDir());
            TreeState tree = StateCodec.read(dir);
            jcriu.image.ImageSanity.check(dir, tree);
            control.reached("checked");
            log.info("restoring pid " + tree.root().pid() + " (" + tree.root().comm() + ")"
                    + (tree.processes().size() + tree.zombies().size() > 1 ? " and "
                            + (tree.processes().size() + tree.zombies().size() - 1) + " descendant(s)" : "")
                    + " from " + dir.path());
            long t0 = System.nanoTime();
            TreeRestore[] done = new TreeRestore[1];
            int pid = Tracer.run("jcriu-restore", tracer -> {
                done[0] = new TreeRestore(tracer, tree, dir.path(), opts, log, control);
                return done[0].run();
            });
            RestoreStatistics.write(dir, done[0].forkNanos(), System.nanoTime() - t0, done[0].pagesRestored(), log);
            return new Result(pid);
        } catch (RestoreException e) {
            throw e;
        } catch (Control.CancelledException e) {
            throw new RestoreException("restore from " + opts.imageDir() + " " + e.getMessage()
                    + ": nothing of it is left", e);
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

package jcriu.restore;

import java.nio.file.Path;

/**
 * How to restore. {@code detach}: jcriu does not stay the parent (the process is
 * reparented to init, as with CRIU's -d). {@code leaveStopped}: the process stays
 * stopped after restore. {@code shellJob}: fds that were a terminal take jcriu's.
 * {@code hooks}: the caller's points of action (action scripts, RPC notifications).
 */
public record RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob,
                             RestoreHooks hooks) {
    public RestoreOptions {
        java.util.Objects.requireNonNull(hooks, "hooks");
    }

    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob) {
        this(imageDir, detach, leaveStopped, shellJob, RestoreHooks.NONE);
    }
}

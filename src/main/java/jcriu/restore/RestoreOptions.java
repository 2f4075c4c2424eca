package jcriu.restore;

import java.nio.file.Path;

/**
 * How to restore. {@code detach}: jcriu does not stay the parent (the process is
 * reparented to init, as with CRIU's -d). {@code leaveStopped}: the process stays
 * stopped after restore. {@code shellJob}: fds that were a terminal take jcriu's.
 * {@code hooks}: the caller's points of action (action scripts, RPC notifications).
 * {@code skipFileCheck}: files reopened by path are used even if their size or permissions
 * changed since the dump.
 */
public record RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob,
                             RestoreHooks hooks, boolean skipFileCheck) {
    public RestoreOptions {
        java.util.Objects.requireNonNull(hooks, "hooks");
    }

    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob, RestoreHooks hooks) {
        this(imageDir, detach, leaveStopped, shellJob, hooks, false);
    }

    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob) {
        this(imageDir, detach, leaveStopped, shellJob, RestoreHooks.NONE);
    }
}

package jcriu.restore;

import java.nio.file.Path;

/**
 * How to restore. {@code detach}: jcriu does not stay the parent (the process is
 * reparented to init, as with CRIU's -d). {@code leaveStopped}: the process stays
 * stopped after restore. {@code shellJob}: fds that were a terminal take jcriu's.
 * {@code hooks}: the caller's points of action (action scripts, RPC notifications).
 * {@code net}: CRIU's socket flags; as with CRIU, a restore needs those its dump needed.
 */
public record RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob,
                             RestoreHooks hooks, jcriu.net.NetOptions net) {
    public RestoreOptions {
        java.util.Objects.requireNonNull(hooks, "hooks");
        java.util.Objects.requireNonNull(net, "net");
    }

    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob, RestoreHooks hooks) {
        this(imageDir, detach, leaveStopped, shellJob, hooks, jcriu.net.NetOptions.NONE);
    }

    /** These options with the socket flags {@code n}. */
    public RestoreOptions withNet(jcriu.net.NetOptions n) {
        return new RestoreOptions(imageDir, detach, leaveStopped, shellJob, hooks, n);
    }

    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob) {
        this(imageDir, detach, leaveStopped, shellJob, RestoreHooks.NONE);
    }
}

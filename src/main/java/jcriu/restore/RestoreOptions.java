package jcriu.restore;

import java.nio.file.Path;

/**
 * How to restore. {@code detach}: jcriu does not stay the parent (the process is
 * reparented to init, as with CRIU's -d). {@code leaveStopped}: the process stays
 * stopped after restore. {@code shellJob}: fds that were a terminal take jcriu's. As with
 * CRIU, what the dump needed a flag for needs it again: {@code extUnixSk} to connect a socket
 * to a name outside the tree.
 */
public record RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob, boolean extUnixSk) {
    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob) {
        this(imageDir, detach, leaveStopped, shellJob, false);
    }

    /** These options with --ext-unix-sk set as given. */
    public RestoreOptions withExtUnixSk(boolean on) {
        return new RestoreOptions(imageDir, detach, leaveStopped, shellJob, on);
    }
}

package jcriu.dump;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

import jcriu.rseq.RseqConfigSource;

/**
 * How to dump. {@code leaveRunning}: the process goes on after the images are written
 * (default: it is killed). {@code shellJob}: fds 0-2 on a terminal are allowed and will be
 * taken from the terminal of the restore. {@code prevImagesDir}: a previous pre-dump of the
 * same process (relative paths count from {@code imageDir}, as CRIU's --prev-images-dir);
 * pages that did not change since are not written again; null for a full dump.
 * {@code rseq}: where each thread's rseq registration is read (PTRACE_GET_RSEQ_CONFIGURATION
 * unless a test forces the path of an older kernel). {@code freezeTimeout}: how long the
 * threads may take to stop (CRIU's --timeout); null waits as long as it takes. {@code hooks}:
 * the caller's points of action (action scripts, RPC notifications). {@code files}: how much
 * of a deleted file is saved and whether file locks are (CRIU's --ghost-limit, --file-locks). {@code net}: CRIU's
 * socket flags (--ext-unix-sk, --tcp-established, --tcp-close).
 */
public record DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, Path prevImagesDir,
                          RseqConfigSource rseq, Duration freezeTimeout, DumpHooks hooks, FileOptions files,
                          jcriu.net.NetOptions net) {
    public DumpOptions {
        Objects.requireNonNull(rseq, "rseq");
        Objects.requireNonNull(hooks, "hooks");
        Objects.requireNonNull(files, "files");
        Objects.requireNonNull(net, "net");
    }

    public DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, Path prevImagesDir,
                       RseqConfigSource rseq, Duration freezeTimeout, DumpHooks hooks, FileOptions files) {
        this(pid, imageDir, leaveRunning, shellJob, prevImagesDir, rseq, freezeTimeout, hooks, files,
                jcriu.net.NetOptions.NONE);
    }

    /** CRIU's --ghost-limit (bytes of a deleted file saved, 1 MiB by default) and --file-locks. */
    public record FileOptions(long ghostLimit, boolean fileLocks) {
        public static final FileOptions DEFAULT = new FileOptions(1 << 20, false);
    }

    public DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, Path prevImagesDir,
                       RseqConfigSource rseq, Duration freezeTimeout, DumpHooks hooks) {
        this(pid, imageDir, leaveRunning, shellJob, prevImagesDir, rseq, freezeTimeout, hooks, FileOptions.DEFAULT);
    }

    public DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, Path prevImagesDir,
                       RseqConfigSource rseq) {
        this(pid, imageDir, leaveRunning, shellJob, prevImagesDir, rseq, null, DumpHooks.NONE);
    }

    /** These options with the socket flags {@code n}. */
    public DumpOptions withNet(jcriu.net.NetOptions n) {
        return new DumpOptions(pid, imageDir, leaveRunning, shellJob, prevImagesDir, rseq, freezeTimeout, hooks, files, n);
    }

    public DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob) {
        this(pid, imageDir, leaveRunning, shellJob, null, RseqConfigSource.PTRACE);
    }

    public DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, Path prevImagesDir) {
        this(pid, imageDir, leaveRunning, shellJob, prevImagesDir, RseqConfigSource.PTRACE);
    }

    public DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, RseqConfigSource rseq) {
        this(pid, imageDir, leaveRunning, shellJob, null, rseq);
    }

    /** The previous images as a path usable from here, or null. */
    public Path resolvedPrev() {
        return prevImagesDir == null ? null : imageDir.resolve(prevImagesDir).normalize();
    }
}

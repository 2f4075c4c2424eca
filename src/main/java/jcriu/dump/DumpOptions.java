package jcriu.dump;

import java.nio.file.Path;
import java.util.Objects;

import jcriu.rseq.RseqConfigSource;

/**
 * How to dump. {@code leaveRunning}: the process goes on after the images are written
 * (default: it is killed). {@code shellJob}: fds 0-2 on a terminal are allowed and will be
 * taken from the terminal of the restore. {@code prevImagesDir}: a previous pre-dump of the
 * same process (relative paths count from {@code imageDir}, as CRIU's --prev-images-dir);
 * pages that did not change since are not written again; null for a full dump.
 * {@code rseq}: where each thread's rseq registration is read (PTRACE_GET_RSEQ_CONFIGURATION
 * unless a test forces the path of an older kernel). {@code extUnixSk} (CRIU's flag) lets a unix
 * datagram socket be connected to a named socket outside the tree (it is connected to that
 * name again at restore).
 */
public record DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, Path prevImagesDir,
                          RseqConfigSource rseq, boolean extUnixSk) {
    public DumpOptions {
        Objects.requireNonNull(rseq, "rseq");
    }

    public DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, Path prevImagesDir,
                       RseqConfigSource rseq) {
        this(pid, imageDir, leaveRunning, shellJob, prevImagesDir, rseq, false);
    }

    /** These options with --ext-unix-sk set as given. */
    public DumpOptions withExtUnixSk(boolean on) {
        return new DumpOptions(pid, imageDir, leaveRunning, shellJob, prevImagesDir, rseq, on);
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

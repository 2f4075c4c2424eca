package jcriu.dump;

import java.nio.file.Path;
import java.util.Objects;

import jcriu.rseq.RseqConfigSource;

/**
 * How to dump. {@code leaveRunning}: the process goes on after the images are written
 * (default: it is killed). {@code shellJob}: fds 0-2 on a terminal are allowed and will be
 * taken from the terminal of the restore. {@code rseq}: where each thread's rseq registration
 * is read (PTRACE_GET_RSEQ_CONFIGURATION unless a test forces the path of an older kernel).
 */
public record DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, RseqConfigSource rseq) {
    public DumpOptions {
        Objects.requireNonNull(rseq, "rseq");
    }

    public DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob) {
        this(pid, imageDir, leaveRunning, shellJob, RseqConfigSource.PTRACE);
    }
}

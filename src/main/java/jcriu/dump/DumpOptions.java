package jcriu.dump;

import java.nio.file.Path;

/**
 * How to dump. {@code leaveRunning}: the process goes on after the images are written
 * (default: it is killed). {@code shellJob}: fds 0-2 on a terminal are allowed and will be
 * taken from the terminal of the restore.
 */
public record DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob) {}

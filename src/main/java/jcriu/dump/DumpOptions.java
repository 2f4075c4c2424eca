package jcriu.dump;

import java.nio.file.Path;

/**
 * How to dump. {@code leaveRunning}: the process goes on after the images are written
 * (default: it is killed). {@code shellJob}: fds 0-2 on a terminal are allowed and will be
 * taken from the terminal of the restore. {@code prevImagesDir}: a previous pre-dump of the
 * same process (relative paths count from {@code imageDir}, as CRIU's --prev-images-dir);
 * pages that did not change since are not written again. Null for a full dump.
 */
public record DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob, Path prevImagesDir) {
    public DumpOptions(int pid, Path imageDir, boolean leaveRunning, boolean shellJob) {
        this(pid, imageDir, leaveRunning, shellJob, null);
    }

    /** The previous images as a path usable from here, or null. */
    public Path resolvedPrev() {
        return prevImagesDir == null ? null : imageDir.resolve(prevImagesDir).normalize();
    }
}

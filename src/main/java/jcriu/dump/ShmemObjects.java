package jcriu.dump;

import jcriu.proc.Vma;

/**
 * Shared anonymous memory is an unlinked shmem file that maps show as "/dev/zero (deleted)"
 * on device 0:N. Opened through /proc/PID/map_files, it can also be held by an fd or mapped
 * private; jcriu makes such memory again only as shared mappings, so those two uses are
 * recognised here to be refused, never restored as a copy in a file of their own.
 */
public final class ShmemObjects {
    private static final String NAME = "/dev/zero" + Vma.DELETED_SUFFIX;

    private ShmemObjects() {}

    /** A MAP_PRIVATE mapping of shared anonymous memory (a private mapping of /dev/zero itself is anonymous). */
    static boolean privateMapping(Vma v) {
        return !v.shared() && v.devMajor() == 0 && NAME.equals(v.name());
    }

    /** Whether an fd's link target and device name shared anonymous memory. */
    public static boolean isFd(String target, long dev) {
        return NAME.equals(target) && jcriu.proc.FileStat.major(dev) == 0;
    }
}

package jcriu.restore;

import java.io.IOException;

import jcriu.api.Log;
import jcriu.image.ImageDir;
import jcriu.image.StatsImage;
import jcriu.image.pb.RestoreStatsEntry;

/**
 * {@code stats-restore} as CRIU writes it: time to create the processes, whole restore time
 * and pages restored (pages a child kept from its parent, still shared, are not counted). Written into the
 * images directory once the process runs; a failure to write it (a read-only directory) is
 * only a warning.
 */
final class RestoreStatistics {
    private RestoreStatistics() {}

    static void write(ImageDir dir, long forkNs, long totalNs, long restored, Log log) {
        try {
            StatsImage.writeRestore(dir, RestoreStatsEntry.newBuilder().setPagesCompared(0).setPagesSkippedCow(0)
                    .setForkingTime(StatsImage.micros(forkNs)).setRestoreTime(StatsImage.micros(totalNs))
                    .setPagesRestored(restored).build());
        } catch (IOException | RuntimeException e) {
            log.warn("stats-restore not written: " + e.getMessage());
        }
    }
}

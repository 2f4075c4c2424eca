package jcriu.dump;

import java.io.IOException;

import jcriu.api.Log;
import jcriu.image.ImageDir;
import jcriu.image.StatsImage;
import jcriu.image.pb.DumpStatsEntry;

/**
 * {@code stats-dump} as CRIU writes it: freezing time (until every thread stopped), frozen
 * time (from then until the process was released or killed), the memory phase (reading the
 * process and writing the pages, which overlap here: {@code memdump_time} is the whole phase,
 * {@code memwrite_time} the writers' calls added up) and page counts. A failure to write it
 * is only a warning: the checkpoint is complete without it.
 */
final class DumpStatistics {
    private DumpStatistics() {}

    static void write(ImageDir dir, long startNs, long frozenNs, long endNs, PageWriter.Stats pages, Log log) {
        DumpStatsEntry.Builder b = DumpStatsEntry.newBuilder()
                .setFreezingTime(StatsImage.micros(frozenNs - startNs))
                .setFrozenTime(StatsImage.micros(endNs - frozenNs))
                .setPagesLazy(0)
                // shared memory objects are not written apart (their pages are in the pages of a
                // process that maps them), so none of CRIU's shmem pages: present, and zero, since
                // readers such as zdtm add them to the process pages
                .setShpagesScanned(0).setShpagesSkippedParent(0).setShpagesWritten(0);
        if (pages != null) {
            b.setMemdumpTime(StatsImage.micros(pages.totalNs())).setMemwriteTime(StatsImage.micros(pages.writeNs()))
                    .setPagesScanned(pages.pagesScanned()).setPagesSkippedParent(pages.pagesScanned()
                            - pages.bytesWritten() / 4096)
                    .setPagesWritten(pages.bytesWritten() / 4096);
        } else {
            b.setMemdumpTime(0).setMemwriteTime(0).setPagesScanned(0).setPagesSkippedParent(0).setPagesWritten(0);
        }
        try {
            StatsImage.writeDump(dir, b.build());
        } catch (IOException | RuntimeException e) {
            log.warn("stats-dump not written: " + e.getMessage());
        }
    }
}

package jcriu.image;

import java.io.IOException;

import jcriu.image.pb.DumpStatsEntry;
import jcriu.image.pb.RestoreStatsEntry;
import jcriu.image.pb.StatsEntry;

/**
 * CRIU's statistics files, {@code stats-dump} and {@code stats-restore}: one StatsEntry in
 * a service image, times in microseconds. They describe the last run and are not part of
 * the checkpoint (a restore never reads them), so they are written after the images are
 * durable and not fsynced themselves.
 */
public final class StatsImage {
    private StatsImage() {}

    public static void writeDump(ImageDir dir, DumpStatsEntry e) throws IOException {
        try (ImageOutput out = dir.create(ImageFile.stats("dump"))) {
            out.write(StatsEntry.newBuilder().setDump(e).build());
        }
    }

    public static void writeRestore(ImageDir dir, RestoreStatsEntry e) throws IOException {
        try (ImageOutput out = dir.create(ImageFile.stats("restore"))) {
            out.write(StatsEntry.newBuilder().setRestore(e).build());
        }
    }

    /** Nanoseconds as the u32 microseconds CRIU stores (saturated: 71 minutes and more read as the maximum). */
    public static int micros(long nanos) {
        return (int) Math.min(0xffffffffL, Math.max(0, nanos / 1000));
    }
}

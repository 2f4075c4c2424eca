package jcriu.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/** A real dump and restore leave CRIU's stats-dump and stats-restore, which crit decodes with the right figures. */
class StatsImageTest {
    private static long field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\": (\\d+)").matcher(json);
        assertTrue(m.find(), name + " missing in\n" + json);
        return Long.parseLong(m.group(1));
    }

    @org.junit.jupiter.api.BeforeAll
    static void findCrit() {
        CritDecodeTest.findCrit();
    }

    @Test
    void dumpAndRestoreStatsDecodeWithCrit() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("memory"), "16", "99")) {
            w.awaitOutput("ready", Duration.ofSeconds(60));
            Path dir = Checkpoints.imageDir(w);
            var result = Checkpoints.dump(w, dir, false);
            CritDecodeTest.Run d = CritDecodeTest.crit("decode", "-i", dir.resolve("stats-dump").toString(), "--pretty");
            assertEquals(0, d.exit(), d.output());
            String dump = d.output();
            assertTrue(dump.contains("\"magic\": \"STATS\""), dump);
            long written = field(dump, "pages_written");
            assertEquals(result.pageBytes() / 4096, written, dump);
            assertTrue(written >= 16 * 256, dump);                         // the 16 MiB region at least
            assertEquals(field(dump, "pages_scanned"), written + field(dump, "pages_skipped_parent"), dump);
            assertEquals(0, field(dump, "pages_skipped_parent"), dump);  // no parent image
            assertEquals(0, field(dump, "shpages_written"), dump);      // present for readers such as zdtm
            long frozenUs = field(dump, "frozen_time");
            assertTrue(frozenUs > 0 && frozenUs <= result.frozenFor().toNanos() / 1000 + 1_000_000, dump);
            assertTrue(field(dump, "memdump_time") > 0 && field(dump, "memdump_time") <= frozenUs, dump);
            assertTrue(field(dump, "freezing_time") > 0, dump);

            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                CritDecodeTest.Run rs = CritDecodeTest.crit("decode", "-i", dir.resolve("stats-restore").toString(),
                        "--pretty");
                assertEquals(0, rs.exit(), rs.output());
                String restore = rs.output();
                // all but a few: the vDSO's, compared with this kernel's instead, and the workload's
                // shared anonymous pages, written once by jcriu into their object for every process
                long restored = field(restore, "pages_restored");
                assertTrue(restored <= written && restored >= written - 64, restore + "\n" + dump);
                long total = field(restore, "restore_time");
                assertTrue(total > 0 && field(restore, "forking_time") > 0 && field(restore, "forking_time") < total,
                        restore);
                assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(dir.resolve("stats-restore"))));
                r.signal(Sig.SIGKILL);
            }
        }
    }
}

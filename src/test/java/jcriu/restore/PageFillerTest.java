package jcriu.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Each way of filling pages restores the same memory (the workload checks every word), in a
 * handful of injected calls; O_DIRECT is what a restore uses unless told otherwise.
 */
class PageFillerTest {
    private static final Pattern STATS = Pattern.compile("pages: (\\d+) MiB in (\\d+) injected calls, \\d+ ms \\((\\w+)\\)");

    @Test
    void everyModeRestoresEveryPageInFewCalls() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("memory"), "48", "777")) {
            w.awaitOutput("ready", Duration.ofSeconds(60));
            w.signal(Sig.SIGUSR1);
            String sum = Workload.word(w.awaitOutput("verify ", Duration.ofSeconds(60)), "checksum");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            int seen = w.lineCount();
            for (String mode : new String[] {null, "buffered", "direct", "populate"}) {
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                int pid;
                if (mode != null) System.setProperty("jcriu.fill", mode);
                try {
                    pid = Restorer.restore(new RestoreOptions(dir, true, false, false), Checkpoints.log(log)).pid();
                } finally {
                    System.clearProperty("jcriu.fill");
                }
                Matcher m = STATS.matcher(log.toString());
                assertTrue(m.find(), log.toString());
                assertEquals(mode == null ? "direct" : mode, m.group(3));
                assertTrue(Long.parseLong(m.group(1)) >= 48, m.group());
                // open, one preadv per file stretch, close; populate adds one madvise per stretch of memory
                assertTrue(Integer.parseInt(m.group(2)) <= ("populate".equals(mode) ? 24 : 8), m.group());
                try (Workload r = Workload.adopt(pid, w.dir()).seek(seen)) {
                    r.signal(Sig.SIGUSR1);
                    assertEquals("verify ok checksum=" + sum, r.awaitOutput("verify ", Duration.ofSeconds(60)).strip(),
                            mode + "\n" + log);
                    seen = r.lineCount();
                    r.signal(Sig.SIGKILL);
                    r.awaitGone(Duration.ofSeconds(30));
                }
            }
        }
    }
}

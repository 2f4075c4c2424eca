package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Input typed into a pty's master that the slave's reader has not read (a whole line, an
 * end-of-file and the start of the next line, in canonical mode) is saved in tty-data.img under the slave's id, as CRIU
 * stores it, and queued again at restore: the reader gets the same lines and end-of-file, and the master
 * the same echo, once, as a run that was only stopped and continued.
 */
class TerminalInputTest {
    @Test
    void unreadInputAPartialLineIncludedComesBack() throws Exception {
        Path bin = Gcc.compile("ptyinput");
        try (Workload a = Workload.start(bin); Workload b = Workload.start(bin)) {
            a.awaitOutput("^ready ");
            int pts = (int) Workload.number(b.awaitOutput("^ready "), "pts");
            a.stopAndContinue(Duration.ofMillis(300));
            List<String> expected = after(a);
            assertEquals(List.of("got [line one]", "got []", "got [partial]"), expected.subList(0, 3));
            assertTrue(expected.get(3).startsWith("echo [line one\\r\\n") && expected.get(3).endsWith("partial\\r\\n]"),
                    expected.get(3));

            // a dump that leaves the process running must leave its input queued as it was
            Checkpoints.dump(b, Checkpoints.imageDir(b), true);
            Path dir = Checkpoints.imageDir(b);
            Checkpoints.dump(b, dir, false);
            b.awaitGone(Duration.ofSeconds(30));
            String crit = EventLoopTest.crit(dir.resolve("tty-data.img"));
            assertTrue(crit.contains("\"tty_id\": " + (pts * 2)) && crit.contains("\"tty_id\": " + (pts * 2 + 1)),
                    "queued bytes of both sides, under each side's id:\n" + crit);
            try (Workload r = Checkpoints.restore(dir, b.dir(), b.lineCount())) {
                assertEquals(expected, after(r));
            }
        }
    }

    /** SIGUSR1, then the lines the workload prints: what the slave read and the master's echo. */
    private static List<String> after(Workload w) {
        w.skipToEnd();
        w.signal(Sig.SIGUSR1);
        List<String> out = List.of(w.awaitOutput("^got "), w.awaitOutput("^got "), w.awaitOutput("^got "),
                w.awaitOutput("^echo "));
        w.awaitOutput("exit code=0");
        assertTrue(!w.text().contains("BAD"), w.text());
        return out;
    }
}

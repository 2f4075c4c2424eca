package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.image.ImageDir;
import jcriu.image.StateCodec;
import jcriu.ptrace.RseqConfig;
import jcriu.state.ProcessState;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * The spec's cases on a real critical section (rseq_cs.c spins inside one most of the time):
 * a thread caught inside resumes at the abort handler, in the image and in the live task,
 * and no section ever completes unprotected after a restore.
 */
class RseqTest {

    private static long hex(String line, String key) {
        return Long.parseUnsignedLong(Workload.word(line, key).substring(2), 16);
    }

    @Test
    void caughtInsideTheSectionResumesAtTheAbortHandler() throws Exception {
        int inside = 0;
        for (int attempt = 0; attempt < 5; attempt++) {
            try (Workload w = Workload.start(Gcc.compile("rseq_cs"))) {
                String ready = w.awaitOutput("ready");
                long start = hex(ready, "start"), end = hex(ready, "end"), abort = hex(ready, "abort");
                w.awaitOutput("commits=");
                w.stopAndContinue(Duration.ofMillis(200)); // the kernel's own behaviour: it aborts, nothing BAD
                w.awaitOutput("commits=");
                Map<Integer, RseqConfig> before = ThreadsTest.rseqOf(List.of(w.pid()));
                Path dir = Checkpoints.imageDir(w);
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(log));
                ProcessState st = StateCodec.read(ImageDir.open(dir)).root();
                long rip = st.leader().regs().rip();
                assertFalse(rip >= start && rip < end, String.format("image rip %#x inside [%#x, %#x)", rip, start, end));
                if (log.toString().contains(": inside: rip")) {
                    inside++;
                    assertEquals(abort, rip, "the image resumes at the abort handler\n" + log);
                }
                assertTrue(st.leader().rseq().registration() != null, "rseq registration saved");
                w.awaitGone(Duration.ofSeconds(30));
                Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount());
                try {
                    r.awaitCountGrows("commits", Duration.ofSeconds(30), "sections keep committing after restore");
                    assertEquals(before, ThreadsTest.rseqOf(List.of(w.pid())), "same registration after restore");
                    r.signal(Sig.SIGTERM);
                    r.awaitOutput("exit code=0");
                    assertFalse(r.text().contains("BAD"), r.text());
                } finally {
                    r.close();
                }
            }
        }
        assertTrue(inside >= 3, "the dump caught the thread inside its section in " + inside + " of 5 runs");
    }

    @Test
    void leaveRunningInsideTheSectionKeepsTheLiveProcessCorrect() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("rseq_cs"))) {
            w.awaitOutput("commits=");
            int inside = 0;
            for (int i = 0; i < 8; i++) {
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                Checkpointer.dump(new DumpOptions(w.pid(), Checkpoints.imageDir(w), true, false), Checkpoints.log(log));
                if (log.toString().contains(": inside: rip")) inside++;
                w.awaitCountGrows("commits", Duration.ofSeconds(30), "still committing");
            }
            assertTrue(inside >= 4, "caught inside " + inside + " of 8 times");
            assertFalse(w.text().contains("BAD"), w.text());
        }
    }

    @Test
    void processWithoutRseqStaysWithoutRseq() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"), List.of(),
                Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0"))) {
            w.awaitOutput("count=3");
            assertFalse(ThreadsTest.rseqOf(List.of(w.pid())).get(w.pid()).registered());
            Workload r = Checkpoints.cycle(w);
            try {
                r.awaitOutput("count=");
                assertFalse(ThreadsTest.rseqOf(List.of(w.pid())).get(w.pid()).registered(),
                        "nothing registered at restore (the helper holds no rseq either)");
            } finally {
                r.close();
            }
        }
    }

    @Test
    void reportReadsEveryThreadAndLeavesTheProcessUntouched() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("rseq_cs"))) {
            String ready = w.awaitOutput("ready");
            w.awaitOutput("commits=");
            for (int i = 0; i < 5; i++) {
                jcriu.rseq.RseqReport rep = jcriu.rseq.RseqReport.read(w.pid());
                assertEquals(1, rep.threads().size());
                String text = rep.toText();
                assertTrue(text.contains("area " + Workload.word(ready, "area") + " size 32 signature 0x53053053"), text);
                assertTrue(text.contains("case: "), text);
                w.awaitCountGrows("commits", Duration.ofSeconds(30), "still committing after the report");
                assertEquals("0", java.nio.file.Files.readAllLines(Path.of("/proc/" + w.pid() + "/status")).stream()
                        .filter(l -> l.startsWith("TracerPid:")).findFirst().orElseThrow().substring(10).strip());
            }
            assertFalse(w.text().contains("BAD"), w.text());
        }
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.image.PageStore;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Pre-dumps: the memory of a running process saved ahead, then a dump that writes only the
 * pages that changed, restored through the chain of parent images.
 */
class PreDumpTest {
    private static final int SIGUSR1 = 10;

    private static Checkpointer.Result preDump(Workload w, Path dir, Path prev) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try {
            return Checkpointer.preDump(new DumpOptions(w.pid(), dir, true, false, prev), Checkpoints.log(log));
        } catch (Checkpointer.DumpException e) {
            throw new AssertionError(e.getMessage() + "\n" + log, e);
        }
    }

    private static long pagesFile(Path dir) throws Exception {
        return Files.size(dir.resolve("pages-2.img"));
    }

    /** 64 MiB written once: the final dump stores a small fraction, and the restored process verifies all of it. */
    @Test
    void unchangedMemoryComesFromThePreDump() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("memory"), "64", "0x5eed")) {
            w.awaitOutput("ready");
            Path pre = Checkpoints.imageDir(w);
            Checkpointer.Result p = preDump(w, pre, null);
            assertTrue(p.pageBytes() >= 64L << 20, "pre-dump holds the 64 MiB: " + p.pageBytes());
            w.signal(SIGUSR1);
            String before = w.awaitOutput("verify ");
            assertTrue(before.startsWith("verify ok"), "still intact after the pre-dump: " + before);

            Path dir = Checkpoints.imageDir(w);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false, dir.relativize(pre)), Checkpoints.log(log));
            assertTrue(Files.isSymbolicLink(dir.resolve(PageStore.PARENT_LINK)));
            assertTrue(pagesFile(dir) * 8 < pagesFile(pre), "only changed pages written: " + pagesFile(dir)
                    + " bytes against " + pagesFile(pre) + "\n" + log);
            assertTrue(log.toString().contains("unchanged since the parent image"), log.toString());
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                r.signal(SIGUSR1);
                String after = r.awaitOutput("verify ");
                assertEquals(before, after, "same memory, same checksum");
                r.signal(Sig.SIGTERM);
                assertEquals("exit code=0", r.awaitOutput("exit code="));
            }
        }
    }

    /**
     * The counter moves on between the pre-dumps and the dump: a page taken from a parent
     * where it had changed would set it back, which the restored process would print.
     */
    @Test
    void changedPagesComeFromTheLastDumpThroughAChainOfPreDumps() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=3");
            Path first = Checkpoints.imageDir(w);
            preDump(w, first, null);
            w.awaitOutput("count=8");
            Path second = Checkpoints.imageDir(w);
            preDump(w, second, second.relativize(first)); // a pre-dump on top of a pre-dump
            assertTrue(pagesFile(second) < pagesFile(first), pagesFile(second) + " vs " + pagesFile(first));
            w.awaitOutput("count=14");
            Path dir = Checkpoints.imageDir(w);
            Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false, dir.relativize(second)),
                    Checkpoints.log(new ByteArrayOutputStream()));
            w.awaitGone(Duration.ofSeconds(30));
            long last = -1;
            for (String l : w.lines()) if (l.startsWith("count=")) last = Workload.number(l, "count");
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals(last + 1, Workload.number(r.awaitOutput("count="), "count"));
                r.signal(Sig.SIGTERM);
                assertEquals("exit code=0", r.awaitOutput("exit code="));
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    /** rseq and pre-dump: a thread caught inside its critical section aborts it, as after any interruption. */
    @Test
    void preDumpsInsideACriticalSectionKeepTheProcessCorrect() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("rseq_cs"))) {
            w.awaitOutput("commits=");
            Path prev = null;
            int inside = 0;
            for (int i = 0; i < 6; i++) {
                Path dir = Checkpoints.imageDir(w);
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                Checkpointer.preDump(new DumpOptions(w.pid(), dir, true, false,
                        prev == null ? null : dir.relativize(prev)), Checkpoints.log(log));
                if (log.toString().contains(": inside: rip")) inside++;
                prev = dir;
                w.awaitCountGrows("commits", Duration.ofSeconds(30), "commits go on after pre-dump " + i);
            }
            assertTrue(inside >= 2, "caught inside " + inside + " of 6 times");
            Path dir = Checkpoints.imageDir(w);
            Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false, dir.relativize(prev)),
                    Checkpoints.log(new ByteArrayOutputStream()));
            w.awaitGone(Duration.ofSeconds(30));
            // the count the process had when it was dumped: at least its last line, at most what it
            // could commit in the ~100 ms until its next line
            List<Long> printed = w.lines().stream().filter(l -> l.startsWith("commits=")).map(l -> Workload.number(l,
                    "commits")).toList();
            long atDump = printed.getLast(), perLine = Math.max(1, atDump - printed.get(printed.size() - 2));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                long c1 = Workload.number(r.awaitOutput("commits="), "commits");
                assertTrue(c1 >= atDump && c1 <= atDump + 3 * perLine + 10, "the restored count goes on from the dump's "
                        + atDump + " (" + perLine + " a line), not from a pre-dump's: " + c1);
                r.awaitCountGrows("commits", Duration.ofSeconds(30), "still committing");
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    @Test
    void badPreviousImagesAreRefusedAndTheProcessRunsOn() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path dir = Checkpoints.imageDir(w);
            var e = assertThrows(Checkpointer.DumpException.class, () -> Checkpointer.dump(
                    new DumpOptions(w.pid(), dir, false, false, Path.of("../no-such-pre-dump")),
                    Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("no-such-pre-dump"), e.getMessage());
            var same = assertThrows(Checkpointer.DumpException.class, () -> Checkpointer.preDump(
                    new DumpOptions(w.pid(), dir, true, false, Path.of(".")), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(same.getMessage().contains("being written"), same.getMessage());
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(List.of(), s.toList(), "nothing left behind");
            }
            long at = Workload.number(w.awaitOutput("count="), "count");
            w.awaitOutput("count=" + (at + 2));
        }
    }
}

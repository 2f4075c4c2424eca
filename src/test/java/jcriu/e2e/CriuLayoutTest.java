package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.image.ImageDir;
import jcriu.image.ImageFile;
import jcriu.image.ImageInput;
import jcriu.image.ImageOutput;
import jcriu.image.Pagemap;
import jcriu.image.pb.CoreEntry;
import jcriu.image.pb.MmEntry;
import jcriu.image.pb.PagemapEntry;
import jcriu.image.pb.PipeDataEntry;
import jcriu.image.pb.VmaEntry;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Images;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Image sets laid out as CRIU's dump lays them out, where jcriu's own dump differs, restore.
 *
 * <p>CRIU's dump writes one pagemap entry for dirty pages that run on from one mapping into the
 * next (a binary's read-only-after-relocation data and its writable data lie side by side);
 * jcriu writes one per mapping. A set laid out CRIU's way must restore: it once failed with
 * "pages ... lie outside every mapping".
 */
class CriuLayoutTest {

    @Test
    void pagesThatRunAcrossTwoMappingsInOneEntryAreRestored() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=3");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            int crossing = mergeAsCriuDoes(dir, w.pid());
            assertTrue(crossing > 0, "the dump has no two mappings side by side with pages at their seam: the test proves nothing");
            Images.reseal(dir);
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                r.awaitCountGrows("count", Duration.ofSeconds(20), "counting after the restore");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    /**
     * CRIU writes no pipes-data entry for a pipe of which the tree holds only the write end
     * (it cannot read what waits there); the restore once refused such a set ("has no data
     * entry"). Here the entry of the counter's own pipe is dropped: it must come back empty.
     */
    @Test
    void aPipeWithoutADataEntryComesBackEmpty() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"), "pipe")) {
            w.awaitOutput("count=3");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            int[] dropped = {0};
            Images.edit(dir, ImageFile.pipesData(), PipeDataEntry.parser(), entries -> {
                dropped[0] = entries.size();
                return List.of();
            });
            assertTrue(dropped[0] > 0, "the dump wrote no pipes-data entry: the test proves nothing");
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                r.awaitCountGrows("count", Duration.ofSeconds(20), "counting after the restore");
                long pipes = java.nio.file.Files.list(Path.of("/proc/" + r.pid() + "/fd")).filter(f -> {
                    try {
                        return java.nio.file.Files.readSymbolicLink(f).toString().startsWith("pipe:");
                    } catch (java.io.IOException e) {
                        return false;
                    }
                }).count();
                assertTrue(pipes >= 2, "the pipe's two ends are back: " + pipes);
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    /**
     * CRIU keeps the main thread's signal mask in task_core only (its thread_core field stays
     * unset); read as 0, the restored event loop died of the SIGUSR2 it holds blocked and pending.
     */
    @Test
    void theMainThreadsMaskIsTakenFromTaskCoreWhenThreadCoreLacksIt() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("eventloop"))) {
            w.awaitOutput("^ready ");
            String blocked = sigBlk(w.pid());
            assertTrue(Long.parseLong(blocked, 16) != 0, "the workload blocks signals: " + blocked);
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            Images.edit(dir, ImageFile.core(w.pid()), CoreEntry.parser(), cores -> cores.stream()
                    .map(c -> c.toBuilder().setThreadCore(c.getThreadCore().toBuilder().clearBlkSigset()).build())
                    .toList());
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals(blocked, sigBlk(r.pid()));
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    private static String sigBlk(int pid) throws java.io.IOException {
        return java.nio.file.Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("SigBlk:")).findFirst().orElseThrow().substring(7).strip();
    }

    /** Joins every two entries that touch, as CRIU writes them; returns how many joins cross a mapping's start. */
    private static int mergeAsCriuDoes(Path dir, int pid) throws Exception {
        ImageDir d = ImageDir.open(dir);
        List<Long> starts = new ArrayList<>();
        try (ImageInput in = d.open(ImageFile.mm(pid))) {
            for (VmaEntry v : in.single(MmEntry.parser()).getVmasList()) starts.add(v.getStart());
        }
        Pagemap pm;
        try (ImageInput in = d.open(ImageFile.pagemap(pid))) {
            pm = Pagemap.read(in);
        }
        List<PagemapEntry> out = new ArrayList<>();
        int crossing = 0;
        for (PagemapEntry e : pm.entries()) {
            PagemapEntry last = out.isEmpty() ? null : out.getLast();
            if (last != null && Pagemap.isPresent(last) && Pagemap.isPresent(e)
                    && last.getVaddr() + Pagemap.nrPages(last) * 4096 == e.getVaddr()) {
                if (starts.contains(e.getVaddr())) crossing++;
                out.set(out.size() - 1, Pagemap.entry(last.getVaddr(), Pagemap.nrPages(last) + Pagemap.nrPages(e),
                        Pagemap.PE_PRESENT));
            } else {
                out.add(e);
            }
        }
        try (ImageOutput o = ImageDir.create(dir).create(ImageFile.pagemap(pid))) {
            new Pagemap(pm.pagesId(), out).write(o);
        }
        return crossing;
    }
}

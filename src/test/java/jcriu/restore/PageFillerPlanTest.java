package jcriu.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.image.PageStore.Slice;

/**
 * The preadv calls of a fill: the kernel reads at most 2 GiB less a page per call (a 4 GiB
 * process came back half-filled before), so larger slices are cut, and a call never mixes
 * files, gaps in the file, or more than 1024 iovecs.
 */
class PageFillerPlanTest {
    private static final Path A = Path.of("/img/pages-1.img"), B = Path.of("/parent/pages-1.img");

    private static void check(List<Slice> runs, List<List<Slice>> plan, long max) {
        long bytes = 0;
        List<Slice> flat = new ArrayList<>();
        for (List<Slice> call : plan) {
            assertTrue(call.size() <= 1024);
            long total = 0;
            for (Slice s : call) {
                assertEquals(call.getFirst().file(), s.file());
                assertEquals(call.getFirst().offset() + total, s.offset(), "back to back in the file");
                total += s.bytes();
            }
            assertTrue(total <= max, total + " > " + max);
            bytes += total;
            flat.addAll(call);
        }
        assertEquals(runs.stream().mapToLong(Slice::bytes).sum(), bytes);
        // every page lands where it was: the pieces, in order, cover the slices exactly
        int k = 0;
        for (Slice s : runs) {
            long off = 0;
            while (off < s.bytes()) {
                Slice p = flat.get(k++);
                assertEquals(s.addr() + off, p.addr());
                assertEquals(s.offset() + off, p.offset());
                off += p.bytes();
            }
        }
        assertEquals(flat.size(), k);
    }

    @Test
    void aFourGibSliceTakesThreeCalls() {
        List<Slice> runs = List.of(new Slice(0x7f0000000000L, (int) ((4L << 30) / 4096) + 100, A, 0));
        var plan = PageFiller.plan(runs, PageFiller.MAX_CALL_BYTES);
        assertEquals(3, plan.size());
        check(runs, plan, PageFiller.MAX_CALL_BYTES);
    }

    @Test
    void callsSplitAtFilesGapsIovecLimitAndSize() {
        List<Slice> runs = new ArrayList<>();
        long off = 0;
        for (int i = 0; i < 3000; i++) {                      // back to back: only the 1024 limit splits
            runs.add(new Slice(0x10000000L + i * 0x10000L, 1, A, off));
            off += 4096;
        }
        runs.add(new Slice(0x20000000L, 10, A, off + 4096));   // a gap in the file
        runs.add(new Slice(0x30000000L, 10, B, 0));            // a parent's file
        runs.add(new Slice(0x40000000L, 300, B, 40960));        // 1.2 MiB, more than the limit below
        long max = 256 * 4096 + 100;                           // rounded down to pages
        var plan = PageFiller.plan(runs, max);
        check(runs, plan, max & ~4095L);
        var big = PageFiller.plan(runs, PageFiller.MAX_CALL_BYTES);
        check(runs, big, PageFiller.MAX_CALL_BYTES);
        assertEquals(3 + 1 + 1, big.size());                  // 1024+1024+952, the gap, B
    }
}

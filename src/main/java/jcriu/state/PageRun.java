package jcriu.state;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** {@code pages} consecutive 4 KiB pages at {@code addr}, stored consecutively in the pages image. */
public record PageRun(long addr, int pages) {
    public long bytes() { return (long) pages * 4096; }

    public long end() { return addr + bytes(); }

    /**
     * {@code runs}, each cut where one of the sorted addresses {@code starts} falls strictly inside
     * it; the pieces keep their order, so they stay stored consecutively.
     */
    public static List<PageRun> splitAt(List<PageRun> runs, long[] starts) {
        List<PageRun> out = new ArrayList<>(runs.size());
        for (PageRun r : runs) {
            long at = r.addr();
            int i = Arrays.binarySearch(starts, at);
            for (i = i >= 0 ? i + 1 : -i - 1; i < starts.length && starts[i] < r.end(); i++) {
                out.add(new PageRun(at, (int) ((starts[i] - at) / 4096)));
                at = starts[i];
            }
            out.add(new PageRun(at, (int) ((r.end() - at) / 4096)));
        }
        return out;
    }
}

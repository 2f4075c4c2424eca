package jcriu.state;

import java.util.List;

/**
 * The address space: mappings, dumped page runs (in pages-image order), runs whose pages
 * are those of the parent image (an incremental dump), the mm fields of prctl_mm_map, and
 * the content of small files mapped shared ({@link FileSnapshot}).
 */
public record MmState(long startCode, long endCode, long startData, long endData, long startBrk, long brk,
                      long startStack, long argStart, long argEnd, long envStart, long envEnd,
                      long[] auxv, String exePath, List<VmaState> vmas, List<PageRun> pages,
                      List<PageRun> pagesInParent, List<FileSnapshot> sharedFiles) {
    public java.util.Optional<FileSnapshot> snapshotOf(String path) {
        return sharedFiles.stream().filter(f -> f.path().equals(path)).findFirst();
    }
}

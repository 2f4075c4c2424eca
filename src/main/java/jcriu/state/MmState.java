package jcriu.state;

import java.util.List;

/** The address space: mappings, dumped page runs (in pages-image order) and the mm fields of prctl_mm_map. */
public record MmState(long startCode, long endCode, long startData, long endData, long startBrk, long brk,
                      long startStack, long argStart, long argEnd, long envStart, long envEnd,
                      long[] auxv, String exePath, List<VmaState> vmas, List<PageRun> pages) {}

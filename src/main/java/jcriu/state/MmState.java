package jcriu.state;

import java.util.List;

/**
 * The address space: mappings, dumped page runs (in pages-image order), runs whose pages
 * are those of the parent image (an incremental dump), the mm fields of prctl_mm_map, and
 * the content of small files mapped shared ({@link FileSnapshot}), and what each mapped file
 * was at the dump ({@code mappedFiles}: checked at restore; empty when read back from images,
 * where it is part of the files' entries).
 */
public record MmState(long startCode, long endCode, long startData, long endData, long startBrk, long brk,
                      long startStack, long argStart, long argEnd, long envStart, long envEnd,
                      long[] auxv, String exePath, List<VmaState> vmas, List<PageRun> pages,
                      List<PageRun> pagesInParent, List<FileSnapshot> sharedFiles,
                      List<jcriu.files.MappedFile> mappedFiles) {
    public MmState {
        mappedFiles = List.copyOf(mappedFiles);
    }

    public MmState(long startCode, long endCode, long startData, long endData, long startBrk, long brk,
                   long startStack, long argStart, long argEnd, long envStart, long envEnd, long[] auxv, String exePath,
                   List<VmaState> vmas, List<PageRun> pages, List<PageRun> pagesInParent, List<FileSnapshot> sharedFiles) {
        this(startCode, endCode, startData, endData, startBrk, brk, startStack, argStart, argEnd, envStart, envEnd, auxv,
                exePath, vmas, pages, pagesInParent, sharedFiles, List.of());
    }

    public java.util.Optional<jcriu.files.MappedFile> mappedFile(String path) {
        return mappedFiles.stream().filter(f -> f.path().equals(path)).findFirst();
    }

    /** The saved content of the file mapping {@code v} maps (by path, and inode: memfds share names). */
    public java.util.Optional<FileSnapshot> snapshotOf(VmaState v) {
        return sharedFiles.stream().filter(f -> f.of(v)).findFirst();
    }
}

package jcriu.state;

/** {@code pages} consecutive 4 KiB pages at {@code addr}, stored consecutively in the pages image. */
public record PageRun(long addr, int pages) {
    public long bytes() { return (long) pages * 4096; }
}

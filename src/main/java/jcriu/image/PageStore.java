package jcriu.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jcriu.image.pb.PagemapEntry;

/**
 * Where the contents of every dumped page are, following an image directory's chain of
 * parents (pre-dumps): entries marked PE_PARENT are looked up in {@code DIR/parent}, as
 * CRIU links incremental images. Each page run resolves to a file and an offset in it.
 */
public final class PageStore {
    /** The name of the link from an incremental image directory to the one it builds on. */
    public static final String PARENT_LINK = "parent";
    private static final int MAX_DEPTH = 64; // a longer chain is a link cycle

    /** {@code pages} pages at {@code addr}, stored at {@code offset} of {@code file}. */
    public record Slice(long addr, int pages, Path file, long offset) {
        public long bytes() { return (long) pages * 4096; }
        public long end() { return addr + bytes(); }
    }

    private final TreeMap<Long, Slice> byAddr;

    private PageStore(TreeMap<Long, Slice> byAddr) {
        this.byAddr = byAddr;
    }

    /** Every page of process {@code pid} that {@code dir} (and its parents) holds. */
    public static PageStore open(Path dir, int pid) throws IOException {
        return open(dir, pid, 0);
    }

    private static PageStore open(Path dir, int pid, int depth) throws IOException {
        if (depth > MAX_DEPTH) throw new IOException(dir + ": more than " + MAX_DEPTH + " parent images (a link cycle?)");
        ImageDir d = ImageDir.open(dir);
        Pagemap pm;
        try (ImageInput in = d.open(ImageFile.pagemap(pid))) {
            pm = Pagemap.read(in);
        }
        Path pages = dir.resolve(ImageFile.pages(pm.pagesId()).name());
        PageStore parent = null;
        TreeMap<Long, Slice> map = new TreeMap<>();
        long off = 0;
        for (PagemapEntry e : pm.entries()) {
            long addr = e.getVaddr();
            int n = (int) Pagemap.nrPages(e);
            if (Pagemap.isPresent(e)) {
                map.put(addr, new Slice(addr, n, pages, off));
                off += (long) n * 4096;
            } else if (e.hasFlags() && (e.getFlags() & Pagemap.PE_PARENT) != 0 || e.getInParent()) {
                if (parent == null) {
                    Path link = dir.resolve(PARENT_LINK);
                    if (!Files.isDirectory(link)) {
                        throw new ImageException(dir.resolve(ImageFile.pagemap(pid).name()), 0, String.format(
                                "pages at %#x are in the parent image, but %s is missing", addr, link));
                    }
                    parent = open(link, pid, depth + 1);
                }
                for (Slice s : parent.range(addr, n)) map.put(s.addr(), s);
            } else {
                throw new ImageException(dir.resolve(ImageFile.pagemap(pid).name()), 0,
                        String.format("pagemap entry at %#x has neither pages nor a parent", addr));
            }
        }
        return new PageStore(map);
    }

    /** Slices covering exactly [addr, addr + pages), split where the stored runs are; fails on a gap. */
    public List<Slice> range(long addr, int pages) throws IOException {
        List<Slice> out = new ArrayList<>();
        long end = addr + (long) pages * 4096;
        long at = addr;
        while (at < end) {
            Map.Entry<Long, Slice> e = byAddr.floorEntry(at);
            if (e == null || e.getValue().end() <= at) {
                throw new IOException(String.format("page %#x is not in the images", at));
            }
            Slice s = e.getValue();
            long upto = Math.min(end, s.end());
            out.add(new Slice(at, (int) ((upto - at) / 4096), s.file(), s.offset() + (at - s.addr())));
            at = upto;
        }
        return out;
    }

    /** Where page {@code addr} is stored, or null when this image chain does not have it. */
    public Slice page(long addr) {
        Map.Entry<Long, Slice> e = byAddr.floorEntry(addr);
        if (e == null || e.getValue().end() <= addr) return null;
        Slice s = e.getValue();
        return new Slice(addr, 1, s.file(), s.offset() + (addr - s.addr()));
    }

    /** All slices in address order. */
    public List<Slice> slices() {
        return List.copyOf(byAddr.values());
    }
}

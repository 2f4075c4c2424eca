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
        Path pmFile = dir.resolve(ImageFile.pagemap(pid).name());
        checkRuns(pmFile, pm);
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
        checkPagesSize(pmFile, pages, off);
        return new PageStore(splitAt(map, mappingStarts(d, pid)));
    }

    /**
     * Where the process's mappings begin. CRIU's dump writes one pagemap entry for pages that run
     * on from one mapping into the next (a program's read-only and writable data segments, say);
     * jcriu fills and checks pages mapping by mapping, so such entries are cut at these addresses.
     * A set without an mm image (a pre-dump) is not cut: its pages are only looked up by address.
     */
    private static long[] mappingStarts(ImageDir d, int pid) throws IOException {
        if (!d.exists(ImageFile.mm(pid))) return new long[0];
        try (ImageInput in = d.open(ImageFile.mm(pid))) {
            return in.single(jcriu.image.pb.MmEntry.parser()).getVmasList().stream()
                    .mapToLong(jcriu.image.pb.VmaEntry::getStart).sorted().toArray();
        }
    }

    /** {@code map}'s slices, each cut where one of {@code starts} falls strictly inside it. */
    private static TreeMap<Long, Slice> splitAt(TreeMap<Long, Slice> map, long[] starts) {
        if (starts.length == 0) return map;
        TreeMap<Long, Slice> out = new TreeMap<>();
        for (Slice s : map.values()) {
            long at = s.addr();
            int i = java.util.Arrays.binarySearch(starts, at);
            for (i = i >= 0 ? i + 1 : -i - 1; i < starts.length && starts[i] < s.end(); i++) {
                out.put(at, new Slice(at, (int) ((starts[i] - at) / 4096), s.file(), s.offset() + (at - s.addr())));
                at = starts[i];
            }
            out.put(at, new Slice(at, (int) ((s.end() - at) / 4096), s.file(), s.offset() + (at - s.addr())));
        }
        return out;
    }

    /** Highest user address on x86_64 (4-level paging): no run of a dump can reach beyond. */
    private static final long USER_TOP = 0x8000_0000_0000L;

    /** Runs must be page aligned, non-empty, inside the user address space and in address order without overlap. */
    private static void checkRuns(Path file, Pagemap pm) throws ImageException {
        long prevEnd = 0;
        for (int i = 0; i < pm.entries().size(); i++) {
            PagemapEntry e = pm.entries().get(i);
            long addr = e.getVaddr(), n = Pagemap.nrPages(e);
            String what = String.format("entry %d (%d pages at %#x)", i, n, addr);
            if ((addr & 4095) != 0) throw new ImageException(file, 0, what + ": address not page aligned");
            if (n <= 0 || n > Integer.MAX_VALUE || Long.compareUnsigned(addr, USER_TOP) >= 0 || n > (USER_TOP - addr) / 4096) {
                throw new ImageException(file, 0, what + ": reaches beyond the user address space");
            }
            if (i > 0 && Long.compareUnsigned(addr, prevEnd) < 0) {
                throw new ImageException(file, 0, what + String.format(": starts below the end %#x of the entry"
                        + " before; entries must be in address order and must not overlap", prevEnd));
            }
            prevEnd = addr + n * 4096;
        }
    }

    /** The pages file holds exactly the present pages, in pagemap order: no more, no less. */
    private static void checkPagesSize(Path pagemap, Path pages, long expected) throws IOException {
        long size;
        try {
            size = Files.size(pages);
        } catch (java.nio.file.NoSuchFileException e) {
            if (expected == 0) return;
            throw new java.nio.file.NoSuchFileException(pages.toString(), null, "pages image missing, but " + pagemap
                    + " lists " + expected / 4096 + " pages stored in it");
        }
        if (size < expected) {
            throw new ImageException(pages, size, "truncated: " + pagemap.getFileName() + " lists " + expected / 4096
                    + " pages (" + expected + " bytes), the file has only " + size + " bytes");
        }
        if (size > expected) {
            throw new ImageException(pages, expected, "longer than " + pagemap.getFileName() + " says: it lists "
                    + expected / 4096 + " pages (" + expected + " bytes), the file has " + size
                    + " bytes (a pagemap of another dump, or a truncated one?)");
        }
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

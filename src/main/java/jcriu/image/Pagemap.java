package jcriu.image;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import jcriu.image.pb.PagemapEntry;
import jcriu.image.pb.PagemapHead;

/**
 * Contents of pagemap-PID.img: a PagemapHead naming pages-{pagesId}.img,
 * then one PagemapEntry per run of pages.
 */
public record Pagemap(int pagesId, List<PagemapEntry> entries) {
    /** PagemapEntry.flags bits, CRIU's PE_* values. */
    public static final int PE_PARENT = 1;   // contents live in the parent (pre-dump) image
    public static final int PE_LAZY = 2;     // may be fetched lazily on restore
    public static final int PE_PRESENT = 4;  // contents are in the pages file

    private static final long PAGE_SIZE = 4096;

    public Pagemap {
        entries = List.copyOf(Objects.requireNonNull(entries, "entries"));
    }

    /**
     * A run of {@code nrPages} pages at {@code vaddr}. Fills both the 64-bit
     * count and the old 32-bit one, which crit 3.x and CRIU 3.x read.
     */
    public static PagemapEntry entry(long vaddr, long nrPages, int flags) {
        if (nrPages <= 0) {
            throw new IllegalArgumentException("nrPages must be positive: " + nrPages);
        }
        if ((vaddr & (PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("vaddr not page aligned: 0x" + Long.toHexString(vaddr));
        }
        int compat = nrPages <= 0xffff_ffffL ? (int) nrPages : 0;
        return PagemapEntry.newBuilder()
                .setVaddr(vaddr)
                .setCompatNrPages(compat)
                .setNrPages(nrPages)
                .setFlags(flags)
                .build();
    }

    /** Page count of an entry, from whichever count field the writer filled. */
    public static long nrPages(PagemapEntry e) {
        return e.hasNrPages() ? e.getNrPages() : Integer.toUnsignedLong(e.getCompatNrPages());
    }

    /** Whether the entry's pages are stored in the pages file. */
    public static boolean isPresent(PagemapEntry e) {
        // Images older than the flags field meant "present" unless in_parent.
        return e.hasFlags() ? (e.getFlags() & PE_PRESENT) != 0 : !e.getInParent();
    }

    public void write(ImageOutput out) throws IOException {
        out.write(PagemapHead.newBuilder().setPagesId(pagesId).build());
        for (PagemapEntry e : entries) {
            out.write(e);
        }
    }

    public static Pagemap read(ImageInput in) throws IOException {
        PagemapHead head = in.next(PagemapHead.parser());
        if (head == null) {
            throw new ImageException(in.file(), in.offset(), "pagemap image has no PagemapHead");
        }
        List<PagemapEntry> list = new ArrayList<>();
        for (PagemapEntry e; (e = in.next(PagemapEntry.parser())) != null; ) {
            list.add(e);
        }
        return new Pagemap(head.getPagesId(), list);
    }
}

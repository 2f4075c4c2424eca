package jcriu.image;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jcriu.image.pb.PagemapEntry;

/** Which memory a byte range of a pages file holds, for messages about a damaged one. */
final class PageLocation {
    private PageLocation() {}

    /**
     * " (memory 0x..-0x.. of process P)" for a range of {@code pages-N.img}, from the pagemaps of
     * {@code dir} that name it; empty when that cannot be told (any other file, damaged pagemap).
     */
    static String describe(Path dir, String file, long from, long to) {
        if (!file.startsWith("pages-") || !file.endsWith(".img")) return "";
        try (var s = Files.list(dir)) {
            List<String> where = new ArrayList<>();
            for (Path p : s.filter(p -> p.getFileName().toString().matches("pagemap-\\d+\\.img")).toList()) {
                String pid = p.getFileName().toString().replaceAll("\\D", "");
                Pagemap pm;
                try (ImageInput in = ImageDir.open(dir).open(new ImageFile(p.getFileName().toString(), Magic.PAGEMAP))) {
                    pm = Pagemap.read(in);
                }
                if (!ImageFile.pages(pm.pagesId()).name().equals(file)) continue;
                long off = 0, lo = -1, hi = -1;
                int runs = 0;
                for (PagemapEntry e : pm.entries()) {
                    if (!Pagemap.isPresent(e)) continue;
                    long bytes = Pagemap.nrPages(e) * 4096;
                    long a = Math.max(from, off), b = Math.min(to, off + bytes);
                    if (a < b) {
                        if (runs++ == 0) {
                            lo = e.getVaddr() + (a - off);
                            hi = e.getVaddr() + (b - off);
                        }
                    }
                    off += bytes;
                }
                if (runs > 0) {
                    where.add(String.format("memory %#x-%#x of process %s%s", lo, hi - 1, pid,
                            runs > 1 ? " and " + (runs - 1) + " more run" + (runs > 2 ? "s" : "") : ""));
                }
            }
            return where.isEmpty() ? "" : " (" + String.join(", ", where) + ")";
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
    }
}

package jcriu.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;

import jcriu.api.Log;
import jcriu.image.pb.InventoryEntry;

/**
 * Checks an image set before a restore uses it: complete (every file its manifest lists, with
 * the listed size), not mixed (no image file the manifest does not list, a {@code parent}
 * link leading to the very set this one was made on), and undamaged (every chunk's CRC32C).
 * A directory without a manifest is taken as an image set written by CRIU only if its
 * inventory does not say jcriu wrote it: a jcriu set that lost its manifest is refused.
 */
public final class ImageSetCheck {
    private static final int MAX_DEPTH = 64; // a longer parent chain is a link cycle

    private ImageSetCheck() {}

    /** A checked set, its directory locked against dumps until closed. {@code manifest} is null for a CRIU set. */
    public record Opened(Path dir, Manifest manifest, DirLock lock) implements AutoCloseable {
        @Override
        public void close() { lock.close(); }
    }

    /**
     * Locks {@code dir} for reading, completes a publication that a stopped dump left half
     * done, and checks the set and its parents through and through.
     */
    public static Opened open(Path dir, Log log) throws IOException {
        ImageDir.open(dir); // exists and is a directory, or a clear error
        DirLock lock = DirLock.shared(dir);
        try {
            List<Path> staged = ImageSet.stagingDirs(dir);
            if (!staged.isEmpty()) {
                boolean commit = !Files.exists(dir.resolve(Manifest.NAME), LinkOption.NOFOLLOW_LINKS)
                        && staged.stream().anyMatch(s -> manifestOrNull(s) != null);
                if (commit) {
                    lock.relock(true);
                    ImageSet.settle(dir, log);
                    lock.relock(false);
                } else {
                    log.warn("ignoring " + staged + ": left by a dump into " + dir + " that did not complete");
                }
            }
            long t0 = System.nanoTime();
            Manifest m = verify(dir, log, 0);
            if (m != null) {
                log.info(String.format("image set %s: checked %d MiB in %d ms", dir, bytes(dir, m, 0) >> 20,
                        (System.nanoTime() - t0) / 1_000_000));
            }
            return new Opened(dir, m, lock);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Checks the set in {@code dir} and, recursively, its parents; returns its manifest (null: a CRIU set). */
    static Manifest verify(Path dir, Log log, int depth) throws IOException {
        Manifest m = manifestOf(dir);
        if (m == null) {
            foreign(dir, log);
            return null;
        }
        if (!m.checksummed()) {
            throw new IOException(dir + " was written without checksums (-D" + ImageSet.SKIP_CHECKSUMS_PROPERTY
                    + ", a benchmark's baseline): its content cannot be checked, so it is not restored");
        }
        checkListing(dir, m);
        checkParent(dir, m, log, depth);
        checkContents(dir, m);
        log.debug("image set " + m.id() + " in " + dir + ": " + m.files().size() + " files, checksums match");
        return m;
    }

    /** Bytes of a verified set and its parents. */
    private static long bytes(Path dir, Manifest m, int depth) throws IOException {
        long n = m.files().values().stream().mapToLong(Manifest.Entry::size).sum();
        if (m.parent() == null || depth >= MAX_DEPTH) return n;
        Path p = dir.resolve(m.parent().target());
        Manifest pm = manifestOf(p);
        return pm == null ? n : n + bytes(p, pm, depth + 1);
    }

    /** The manifest of {@code dir}, null if it has none; a damaged one is an error naming it. */
    static Manifest manifestOf(Path dir) throws IOException {
        Path f = dir.resolve(Manifest.NAME);
        byte[] content;
        try {
            if (Files.isSymbolicLink(f)) throw new IOException(f + " is a symbolic link, not a manifest");
            content = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            return null;
        }
        return Manifest.parse(f, content);
    }

    /** The manifest of a staging directory if it is whole, else null (the dump did not complete). */
    static Manifest manifestOrNull(Path staging) {
        try {
            return manifestOf(staging);
        } catch (IOException e) {
            return null;
        }
    }

    static boolean isImageName(String name) {
        return name.endsWith(".img");
    }

    /** No manifest: fine for a CRIU set; a jcriu one (its inventory says so) is incomplete. */
    private static void foreign(Path dir, Log log) throws IOException {
        List<Path> staged = ImageSet.stagingDirs(dir);
        String note = staged.isEmpty() ? "" : "; " + staged.getFirst() + " was left by a dump that did not complete";
        ImageDir d = ImageDir.open(dir);
        if (!d.exists(ImageFile.inventory())) {
            throw new IOException(dir + " holds no image set: neither " + Manifest.NAME + " nor inventory.img is there"
                    + note);
        }
        InventoryEntry inv;
        try (ImageInput in = d.open(ImageFile.inventory())) {
            inv = in.single(InventoryEntry.parser());
        }
        if (inv.hasJcriuManifest()) {
            throw new IOException(dir + " was written by jcriu but its " + Manifest.NAME + " is missing: the image set"
                    + " is incomplete (or was copied without it)" + note);
        }
        log.warn(dir + " has no " + Manifest.NAME + ": taken as an image set written by CRIU, whose files carry no"
                + " checksums");
    }

    /** Every listed file present, regular and of its size; no image file that is not listed. */
    static void checkListing(Path dir, Manifest m) throws IOException {
        List<String> problems = new ArrayList<>();
        for (Manifest.Entry e : m.files().values()) {
            Path p = dir.resolve(e.name());
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException x) {
                problems.add(p + " is missing");
                continue;
            }
            if (!a.isRegularFile()) {
                problems.add(p + " is not a regular file");
            } else if (a.size() != e.size()) {
                problems.add(p + " has " + a.size() + " bytes where the manifest lists " + e.size()
                        + (a.size() < e.size() ? " (truncated)" : " (it grew)"));
            }
        }
        try (var s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                if (n.equals(Manifest.NAME) || m.files().containsKey(n)) continue;
                if (n.equals(PageStore.PARENT_LINK) ? m.parent() == null : isImageName(n)) {
                    problems.add(p + " is not part of this image set (left by another dump?)");
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IOException(dir + " does not hold a whole image set (" + Manifest.NAME + " of set " + m.id()
                    + "): " + String.join("; ", problems));
        }
    }

    private static void checkParent(Path dir, Manifest m, Log log, int depth) throws IOException {
        if (m.parent() == null) return;
        Path link = dir.resolve(PageStore.PARENT_LINK);
        if (!Files.isSymbolicLink(link)) {
            throw new IOException(link + " is missing: this image set builds on the images at " + m.parent().target());
        }
        String t = Files.readSymbolicLink(link).toString();
        if (!t.equals(m.parent().target())) {
            throw new IOException(link + " leads to " + t + ", but this image set was made on " + m.parent().target());
        }
        if (depth >= MAX_DEPTH) throw new IOException(link + ": more than " + MAX_DEPTH + " parent images (a link cycle?)");
        Path parent = dir.resolve(t);
        if (!Files.isDirectory(parent)) {
            throw new IOException(link + " leads to " + parent + ", which is not a directory: the images this set"
                    + " builds on are gone");
        }
        Manifest pm = verify(parent, log, depth + 1);
        String have = pm == null ? null : pm.id();
        if (!Objects.equals(have, m.parent().id())) {
            throw new IOException(link + " leads to " + parent + ", which holds another image set ("
                    + (have == null ? "not one of jcriu" : have) + ") than the one this set was made on ("
                    + (m.parent().id() == null ? "one of CRIU" : m.parent().id()) + "): it was replaced by a later dump");
        }
    }

    /** Every chunk of every file against its CRC32C. */
    private static void checkContents(Path dir, Manifest m) throws IOException {
        HexFormat hex = HexFormat.of();
        ByteBuffer buf = null;
        for (Manifest.Entry e : m.files().values()) {
            Path p = dir.resolve(e.name());
            if (buf == null || buf.capacity() < e.chunkSize()) buf = ByteBuffer.allocateDirect(e.chunkSize());
            CRC32C crc = new CRC32C();
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                for (int i = 0; i < e.crcs().length; i++) {
                    long from = (long) i * e.chunkSize();
                    int len = (int) Math.min(e.chunkSize(), e.size() - from);
                    buf.clear().limit(len);
                    while (buf.hasRemaining()) {
                        if (ch.read(buf, from + buf.position()) < 0) {
                            throw new ImageException(p, from + buf.position(), "ends before the " + e.size()
                                    + " bytes its manifest lists (truncated while being read?)");
                        }
                    }
                    buf.flip();
                    crc.reset();
                    crc.update(buf);
                    int have = (int) crc.getValue();
                    if (have != e.crcs()[i]) {
                        throw new ImageException(p, from, String.format("content damaged: CRC32C of bytes %#x-%#x is"
                                + " %s, the manifest says %s%s", from, from + len - 1, hex.toHexDigits(have),
                                hex.toHexDigits(e.crcs()[i]), PageLocation.describe(dir, e.name(), from, from + len)));
                    }
                }
            }
        }
    }
}

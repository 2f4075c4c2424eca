package jcriu.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * The list of files that make one image set, written last: a set is complete exactly when
 * its manifest is present and whole. Per file: size and the CRC32C of each chunk of its
 * content; for an incremental set, the {@code parent} link and the id of the set it must
 * lead to. A text file (crit and CRIU ignore files not named *.img), ending with the
 * CRC32C of everything before that line, so a torn or damaged manifest is recognised.
 */
public record Manifest(String id, Kind kind, Parent parent, Map<String, Entry> files, boolean checksummed) {
    /** Its name inside an images directory. */
    public static final String NAME = "jcriu.manifest";
    private static final String HEADER = "jcriu image set 1";

    public enum Kind {
        /** A whole process: restorable. */
        DUMP("dump"),
        /** Memory only (pagemap and pages), the parent of a later dump. */
        PRE_DUMP("pre-dump");

        private final String word;

        Kind(String word) { this.word = word; }

        public String word() { return word; }

        static Kind of(String w) {
            for (Kind k : values()) if (k.word.equals(w)) return k;
            return null;
        }
    }

    /**
     * The {@code parent} link of an incremental set: its target as written in the link, and
     * the id of the set it leads to (null when the parent is not a jcriu set).
     */
    public record Parent(String target, String id) {
        public Parent {
            Objects.requireNonNull(target, "target");
            if (target.isEmpty() || target.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("parent link target \"" + target + "\" cannot be recorded");
            }
        }
    }

    /** One file of the set: its size and one CRC32C per {@code chunkSize} bytes. */
    public record Entry(String name, long size, int chunkSize, int[] crcs) {
        public Entry {
            new ImageFile(name, Magic.PAGES); // a plain file name
            if (size < 0 || chunkSize <= 0 || crcs.length != (int) ((size + chunkSize - 1) / chunkSize)) {
                throw new IllegalArgumentException(name + ": " + crcs.length + " checksums for " + size
                        + " bytes in chunks of " + chunkSize);
            }
        }

        public static Entry of(String name, ChunkedCrc crc) {
            return new Entry(name, crc.size(), crc.chunkSize(), crc.values());
        }
    }

    public Manifest(String id, Kind kind, Parent parent, Map<String, Entry> files) {
        this(id, kind, parent, files, true);
    }

    public Manifest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        files = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(files));
        if (files.containsKey(NAME) || files.containsKey(PageStore.PARENT_LINK)) {
            throw new IllegalArgumentException("the manifest cannot list " + NAME + " or the parent link");
        }
    }

    public byte[] encode() {
        StringBuilder b = new StringBuilder();
        b.append(HEADER).append('\n');
        b.append("id ").append(id).append('\n');
        b.append("kind ").append(kind.word()).append('\n');
        if (!checksummed) b.append("unchecked\n"); // a benchmark's baseline: the crcs are not real
        if (parent != null) {
            b.append("parent ").append(parent.id() == null ? "-" : parent.id()).append(' ').append(parent.target())
                    .append('\n');
        }
        HexFormat hex = HexFormat.of();
        for (Entry e : files.values()) {
            b.append("file ").append(e.name()).append(' ').append(e.size()).append(' ').append(e.chunkSize()).append(' ');
            if (e.crcs().length == 0) b.append('-');
            for (int i = 0; i < e.crcs().length; i++) {
                if (i > 0) b.append(',');
                b.append(hex.toHexDigits(e.crcs()[i]));
            }
            b.append('\n');
        }
        byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(body);
        byte[] end = ("end " + hex.toHexDigits((int) crc.getValue()) + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] out = java.util.Arrays.copyOf(body, body.length + end.length);
        System.arraycopy(end, 0, out, body.length, end.length);
        return out;
    }

    /** Parses a manifest, {@code file} naming it in errors; a torn or altered one is refused. */
    public static Manifest parse(Path file, byte[] content) throws ImageException {
        String text = new String(content, StandardCharsets.UTF_8);
        int endAt = text.lastIndexOf("\nend ");
        if (endAt < 0 || !text.endsWith("\n")) {
            throw new ImageException(file, content.length, "no final \"end\" line: the manifest is incomplete (a dump"
                    + " interrupted while writing it?)");
        }
        byte[] body = text.substring(0, endAt + 1).getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(body);
        String want = text.substring(endAt + 5, text.length() - 1);
        String have = HexFormat.of().toHexDigits((int) crc.getValue());
        if (!want.equals(have)) {
            throw new ImageException(file, body.length, "the manifest's own checksum is " + have + ", its end line says "
                    + want + ": the manifest is damaged");
        }
        String id = null;
        Kind kind = null;
        Parent parent = null;
        boolean checksummed = true;
        Map<String, Entry> files = new LinkedHashMap<>();
        long off = 0;
        List<String> lines = List.of(text.substring(0, endAt).split("\n", -1));
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            try {
                if (n == 0) {
                    if (!line.equals(HEADER)) throw new IllegalArgumentException("not a jcriu manifest (first line \""
                            + line + "\")");
                } else if (line.startsWith("id ")) {
                    id = line.substring(3);
                } else if (line.startsWith("kind ")) {
                    kind = Kind.of(line.substring(5));
                    if (kind == null) throw new IllegalArgumentException("unknown kind " + line.substring(5));
                } else if (line.equals("unchecked")) {
                    checksummed = false;
                } else if (line.startsWith("parent ")) {
                    String[] p = line.split(" ", 3);
                    parent = new Parent(p[2], p[1].equals("-") ? null : p[1]);
                } else if (line.startsWith("file ")) {
                    String[] f = line.split(" ");
                    if (f.length != 5) throw new IllegalArgumentException("malformed file line");
                    int[] crcs = f[4].equals("-") ? new int[0]
                            : java.util.Arrays.stream(f[4].split(",")).mapToInt(HexFormat::fromHexDigits).toArray();
                    Entry e = new Entry(f[1], Long.parseLong(f[2]), Integer.parseInt(f[3]), crcs);
                    if (files.put(e.name(), e) != null) throw new IllegalArgumentException(e.name() + " listed twice");
                } else {
                    throw new IllegalArgumentException("unexpected line \"" + line + "\"");
                }
            } catch (RuntimeException e) {
                throw new ImageException(file, off, "line " + (n + 1) + ": " + e.getMessage());
            }
            off += line.getBytes(StandardCharsets.UTF_8).length + 1;
        }
        if (id == null || kind == null) throw new ImageException(file, 0, "the manifest lacks its id or kind");
        try {
            return new Manifest(id, kind, parent, files, checksummed);
        } catch (IllegalArgumentException e) {
            throw new ImageException(file, 0, e.getMessage());
        }
    }

    /** Reads and parses {@code dir/jcriu.manifest}. */
    public static Manifest read(Path dir) throws IOException {
        Path f = dir.resolve(NAME);
        return parse(f, java.nio.file.Files.readAllBytes(f));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Manifest m && m.id.equals(id);
    }

    @Override
    public int hashCode() { return id.hashCode(); }
}

package jcriu.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The GNU build-id of an ELF file: the descriptor of its {@code NT_GNU_BUILD_ID} note, found
 * through the program headers' {@code PT_NOTE} segments, as CRIU reads it to tell whether an
 * executable or library is still the one the process ran. Like CRIU, only the first MiB of the
 * file is looked at (the notes sit at its beginning); a file that is no ELF file, or has no
 * such note there, has none.
 */
public final class ElfBuildId {
    /** How much of the file is read at most; CRIU maps this much. */
    static final int SCAN_LIMIT = 1 << 20;
    private static final int PT_NOTE = 4, NT_GNU_BUILD_ID = 3, MAX_DESC = 512;
    private static final byte[] MAGIC = {0x7f, 'E', 'L', 'F'};

    private ElfBuildId() {}

    /**
     * The build-id of the file at {@code file} (a /proc/PID/map_files or fd link reaches the
     * mapped file itself): a few small reads (the header, the program headers, the notes), so a
     * data file costs one read of 64 bytes.
     */
    public static Optional<byte[]> of(Path file) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            return of(c::read, c.size());
        }
    }

    /**
     * The build-id read through open fd {@code fd} (readable) of {@code size} bytes, with pread
     * so that its offset stays: for a file a process has open, read through a copy of its fd,
     * since another open of a file with a lease on it would break the lease (and wait for it).
     */
    public static Optional<byte[]> ofFd(int fd, long size) throws IOException {
        return of((b, off) -> {
            byte[] got = jcriu.sys.Sys.pread(fd, b.remaining(), off);
            b.put(got);
            return got.length;
        }, size);
    }

    /** Reads into {@code b} from file offset {@code off}; the count read, 0 at end of file. */
    private interface Reader {
        int read(ByteBuffer b, long off) throws IOException;
    }

    private static Optional<byte[]> of(Reader c, long fileSize) throws IOException {
        long limit = Math.min(fileSize, SCAN_LIMIT);
        ByteBuffer h = read(c, 0, 64, limit);
        if (h == null || !Arrays.equals(Arrays.copyOf(h.array(), 4), MAGIC)) return Optional.empty();
        boolean is64 = h.get(4) == 2;
        if (!is64 && h.get(4) != 1) return Optional.empty();
        ByteOrder order = h.get(5) == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        h.order(order);
        long phoff = is64 ? h.getLong(0x20) : Integer.toUnsignedLong(h.getInt(0x1c));
        int phentsize = Short.toUnsignedInt(h.getShort(is64 ? 0x36 : 0x2a));
        int phnum = Short.toUnsignedInt(h.getShort(is64 ? 0x38 : 0x2c));
        if (phentsize < (is64 ? 56 : 32) || phnum == 0) return Optional.empty();
        ByteBuffer ph = read(c, phoff, (long) phnum * phentsize, limit);
        if (ph == null) return Optional.empty();
        ph.order(order);
        for (int i = 0; i < phnum; i++) {
            int at = i * phentsize;
            if (ph.getInt(at) != PT_NOTE) continue;
            long off = is64 ? ph.getLong(at + 8) : Integer.toUnsignedLong(ph.getInt(at + 4));
            long size = is64 ? ph.getLong(at + 32) : Integer.toUnsignedLong(ph.getInt(at + 16));
            if (off < 0 || off >= limit || size <= 0) continue;
            ByteBuffer notes = read(c, off, Math.min(size, limit - off), limit);
            if (notes == null) continue;
            Optional<byte[]> id = inNotes(notes.order(order), 0, notes.limit());
            if (id.isPresent()) return id;
        }
        return Optional.empty();
    }

    /** {@code len} bytes at {@code off}, or null if they reach past {@code limit}. */
    private static ByteBuffer read(Reader c, long off, long len, long limit) throws IOException {
        if (off < 0 || len <= 0 || off + len > limit) return null;
        ByteBuffer b = ByteBuffer.allocate((int) len);
        while (b.hasRemaining()) {
            if (c.read(b, off + b.position()) <= 0) return null;
        }
        return b.flip();
    }

    /** Walks the notes in [{@code from}, {@code to}): each a 12-byte header, its name and descriptor padded to 4. */
    private static Optional<byte[]> inNotes(ByteBuffer b, long from, long to) {
        for (long n = from; n >= 0 && n + 12 <= to; ) {
            long namesz = Integer.toUnsignedLong(b.getInt((int) n)), descsz = Integer.toUnsignedLong(b.getInt((int) n + 4));
            int type = b.getInt((int) n + 8);
            long name = n + 12, desc = name + pad4(namesz), next = desc + pad4(descsz);
            if (next > to) break;
            if (type == NT_GNU_BUILD_ID && namesz == 4 && b.get((int) name) == 'G' && b.get((int) name + 1) == 'N'
                    && b.get((int) name + 2) == 'U' && descsz > 0 && descsz <= MAX_DESC) {
                byte[] id = new byte[(int) descsz];
                b.get((int) desc, id);
                return Optional.of(id);
            }
            n = next;
        }
        return Optional.empty();
    }

    private static long pad4(long v) {
        return (v + 3) & ~3L;
    }

    /** CRIU's reg_file_entry.build_id: the bytes as little-endian 32-bit words, the last one padded with zeros. */
    public static int[] toWords(byte[] id) {
        ByteBuffer b = ByteBuffer.wrap(Arrays.copyOf(id, (id.length + 3) & ~3)).order(ByteOrder.LITTLE_ENDIAN);
        int[] w = new int[b.capacity() / 4];
        for (int i = 0; i < w.length; i++) w[i] = b.getInt();
        return w;
    }

    /** The bytes of CRIU's words (a multiple of 4 long: the padding is part of what is compared, as CRIU does). */
    public static byte[] fromWords(java.util.List<Integer> words) {
        ByteBuffer b = ByteBuffer.allocate(words.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int w : words) b.putInt(w);
        return b.array();
    }

    /** Padded to whole words, as stored, so that an id read now compares with one read back from the images. */
    public static byte[] padded(byte[] id) {
        return Arrays.copyOf(id, (id.length + 3) & ~3);
    }

    public static String hex(byte[] id) {
        return HexFormat.of().formatHex(id);
    }
}

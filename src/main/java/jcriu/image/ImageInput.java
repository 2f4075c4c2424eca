package jcriu.image;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Reads one image file written in CRIU's format; see {@link ImageOutput}.
 * Every malformation is reported as an {@link ImageException} naming the file
 * and offset. Obtain one from {@link ImageDir#open(ImageFile)}. Not thread-safe.
 */
public final class ImageInput implements Closeable {
    private final Path file;
    private final Magic magic;
    private final FileChannel channel;
    private final InputStream in;
    private final long size;
    private long offset;

    ImageInput(Path file, Magic magic, FileChannel channel) throws IOException {
        this.file = file;
        this.magic = magic;
        this.channel = channel;
        this.in = new BufferedInputStream(Channels.newInputStream(channel), 64 * 1024);
        try {
            this.size = channel.size();
            if (magic.prefix() != 0) {
                expectWord(magic.prefix(), magic.hasCommonMagic() ? "common image magic" : "service image magic");
            }
            expectWord(magic.value(), magic + " magic");
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    public Magic magic() {
        return magic;
    }

    /** Offset of the next unread byte. */
    public long offset() {
        return offset;
    }

    public boolean atEnd() {
        return offset >= size;
    }

    /**
     * Reads the next entry, or returns null at a clean end of file (i.e. no
     * byte left where a length would start).
     */
    public <T> T next(Parser<T> parser) throws IOException {
        long start = offset;
        byte[] len = new byte[4];
        int got = read(len);
        if (got == 0) {
            return null;
        }
        if (got < 4) {
            throw new ImageException(file, start, "truncated entry length: " + got + " of 4 bytes before end of file");
        }
        long n = Integer.toUnsignedLong(u32(len));
        if (n > size - offset) {
            throw new ImageException(file, start, "truncated entry: length says " + n + " bytes, only "
                    + (size - offset) + " left in file");
        }
        byte[] body = new byte[(int) n]; // < 2^31 since the file holds it
        got = read(body);
        if (got < n) {
            throw new ImageException(file, start, "truncated entry: read " + got + " of " + n + " bytes");
        }
        try {
            return parser.parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
            throw new ImageException(file, start, "bad " + n + "-byte entry in " + magic + " image: "
                    + e.getMessage(), e);
        }
    }

    /** Reads {@code n} raw bytes that follow an entry (pipe contents). */
    public byte[] raw(long n, String what) throws IOException {
        long start = offset;
        if (n < 0 || n > size - offset) {
            throw new ImageException(file, start, what + ": " + n + " bytes expected, " + (size - offset) + " left in file");
        }
        byte[] b = new byte[(int) n];
        int got = read(b);
        if (got < n) throw new ImageException(file, start, what + ": read " + got + " of " + n + " bytes");
        return b;
    }

    /** Reads the only entry of a file that must hold exactly one. */
    public <T> T single(Parser<T> parser) throws IOException {
        T entry = next(parser);
        if (entry == null) {
            throw new ImageException(file, offset, "expected one entry, found end of file");
        }
        if (!atEnd()) {
            throw new ImageException(file, offset, "expected end of file after the single entry, found "
                    + (size - offset) + " more bytes");
        }
        return entry;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private void expectWord(int expected, String what) throws IOException {
        long start = offset;
        byte[] w = new byte[4];
        int got = read(w);
        if (got < 4) {
            throw new ImageException(file, start, "expected " + what + " " + Magic.hex(expected)
                    + ", found end of file after " + got + " bytes");
        }
        int found = u32(w);
        if (found != expected) {
            throw new ImageException(file, start, "expected " + what + " " + Magic.hex(expected)
                    + ", found " + Magic.hex(found));
        }
    }

    private int read(byte[] buf) throws IOException {
        int got = in.readNBytes(buf, 0, buf.length);
        offset += got;
        return got;
    }

    private static int u32(byte[] b) {
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }
}

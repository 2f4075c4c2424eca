package jcriu.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A new image file open for sequential writing that checksums every byte on its way out
 * ({@link ChunkedCrc}). Anything that could put bytes in the file behind the checksum's
 * back (positional writes, transfers, mappings, truncation) is refused.
 */
final class CrcFileChannel extends FileChannel {
    private final FileChannel ch;
    private final ChunkedCrc crc;

    CrcFileChannel(FileChannel ch, ChunkedCrc crc) {
        this.ch = ch;
        this.crc = crc;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        ByteBuffer view = src.duplicate();
        int n = ch.write(src);
        view.limit(view.position() + n);
        crc.update(view);
        return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            while (srcs[i].hasRemaining()) total += write(srcs[i]);
        }
        return total;
    }

    @Override
    public int read(ByteBuffer dst) { throw refused("read"); }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) { throw refused("read"); }

    @Override
    public long position() throws IOException { return ch.position(); }

    @Override
    public FileChannel position(long newPosition) { throw refused("seeking"); }

    @Override
    public long size() throws IOException { return ch.size(); }

    @Override
    public FileChannel truncate(long size) { throw refused("truncation"); }

    @Override
    public void force(boolean metaData) throws IOException { ch.force(metaData); }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) { throw refused("transferTo"); }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) { throw refused("transferFrom"); }

    @Override
    public int read(ByteBuffer dst, long position) { throw refused("read"); }

    @Override
    public int write(ByteBuffer src, long position) { throw refused("positional write"); }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) { throw refused("mapping"); }

    @Override
    public FileLock lock(long position, long size, boolean shared) { throw refused("locking"); }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) { throw refused("locking"); }

    @Override
    protected void implCloseChannel() throws IOException { ch.close(); }

    private static UnsupportedOperationException refused(String what) {
        return new UnsupportedOperationException(what + " of an image being written (its checksum covers only"
                + " sequential writes)");
    }
}

package jcriu.image;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * CRC32C of a file's content, one value per fixed-size chunk, computed while the file is
 * written: a mismatch found at restore then says which bytes are bad, and a pages file of
 * gigabytes needs no second pass. CRC32C is a JIT intrinsic (SSE4.2 crc32 instruction).
 */
public final class ChunkedCrc {
    /** Chunk size jcriu writes: a damaged page is located to within 1 MiB of its pages file. */
    public static final int CHUNK = 1 << 20;

    private final int chunk;
    private final boolean compute;
    private final CRC32C crc = new CRC32C();
    private int[] done = new int[4];
    private int count;
    private long size;
    private long nanos;

    public ChunkedCrc() {
        this(CHUNK);
    }

    public ChunkedCrc(int chunk) {
        this(chunk, true);
    }

    private ChunkedCrc(int chunk, boolean compute) {
        if (chunk <= 0) throw new IllegalArgumentException("chunk size " + chunk);
        this.chunk = chunk;
        this.compute = compute;
    }

    /** Counts bytes without checksumming them: only the benchmarks' baseline (a dump without checksums). */
    static ChunkedCrc sizeOnly() {
        return new ChunkedCrc(CHUNK, false);
    }

    /** Whether the values are real checksums. */
    public boolean computed() { return compute; }

    public int chunkSize() { return chunk; }

    /** Bytes seen so far. */
    public long size() { return size; }

    /** Time spent computing checksums so far (what they cost a dump). */
    public long nanos() { return nanos; }

    /** Consumes the remaining bytes of {@code b} (its position ends at its limit). */
    public void update(ByteBuffer b) {
        long t0 = System.nanoTime();
        updateTimed(b);
        nanos += System.nanoTime() - t0;
    }

    private void updateTimed(ByteBuffer b) {
        while (b.hasRemaining()) {
            int n = (int) Math.min(b.remaining(), chunk - size % chunk);
            int limit = b.limit();
            b.limit(b.position() + n);
            if (compute) crc.update(b); // advances the position by n
            else b.position(b.limit());
            b.limit(limit);
            advance(n);
        }
    }

    public void update(byte[] a, int off, int len) {
        long t0 = System.nanoTime();
        while (len > 0) {
            int n = (int) Math.min(len, chunk - size % chunk);
            if (compute) crc.update(a, off, n);
            off += n;
            len -= n;
            advance(n);
        }
        nanos += System.nanoTime() - t0;
    }

    private void advance(int n) {
        size += n;
        if (size % chunk == 0) {
            if (count == done.length) done = Arrays.copyOf(done, count * 2);
            done[count++] = (int) crc.getValue();
            crc.reset();
        }
    }

    /** One CRC per chunk, the last one over a partial chunk if the size is not a multiple. */
    public int[] values() {
        int[] out = Arrays.copyOf(done, count + (size % chunk != 0 ? 1 : 0));
        if (size % chunk != 0) out[count] = (int) crc.getValue();
        return out;
    }
}

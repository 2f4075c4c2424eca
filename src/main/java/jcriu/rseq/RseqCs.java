package jcriu.rseq;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** {@code struct rseq_cs} (uapi linux/rseq.h): one critical-section descriptor, 32 bytes. */
public record RseqCs(int version, int flags, long startIp, long postCommitOffset, long abortIp) {
    public static final int SIZE = 32;

    public static RseqCs parse(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        return new RseqCs(bb.getInt(0), bb.getInt(4), bb.getLong(8), bb.getLong(16), bb.getLong(24));
    }

    /** The kernel's test: the post-commit ip is exclusive. */
    public boolean contains(long ip) {
        return Long.compareUnsigned(ip, startIp) >= 0 && Long.compareUnsigned(ip - startIp, postCommitOffset) < 0;
    }
}

package jcriu.rseq;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The fields of a thread's {@code struct rseq} that a checkpointer reads (uapi linux/rseq.h). */
public record RseqArea(int cpuIdStart, int cpuId, long rseqCs, int flags) {
    public static final int OFF_RSEQ_CS = 8;
    public static final int READ_SIZE = 20;

    public static RseqArea parse(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        return new RseqArea(bb.getInt(0), bb.getInt(4), bb.getLong(8), bb.getInt(16));
    }
}

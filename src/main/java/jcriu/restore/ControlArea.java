package jcriu.restore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The one mapping of ours inside a process being restored: a syscall gadget, a bump
 * allocator for syscall arguments (paths, structs, iovec arrays) and a small stack.
 * Mapped in a hole of both the helper's and the image's layouts, and removed last.
 */
final class ControlArea {
    static final long SIZE = 256 * 1024;
    static final long SCRATCH_OFF = 4096;
    static final long STACK_TOP_OFF = SIZE - 64;
    static final long SCRATCH_END = SIZE - 16 * 1024;
    static final byte[] GADGET = {0x0f, 0x05, (byte) 0xcc, (byte) 0xcc}; // syscall; int3 int3

    final long base;
    private long next;

    ControlArea(long base) {
        this.base = base;
        this.next = base + SCRATCH_OFF;
    }

    long gadget() { return base; }

    long stackTop() { return base + STACK_TOP_OFF; }

    /** Scratch space is reused per step; {@link #reset} forgets earlier allocations. */
    void reset() { next = base + SCRATCH_OFF; }

    long alloc(long bytes) {
        long a = (next + 15) & ~15L;
        if (a + bytes > base + SCRATCH_END) throw new IllegalStateException("control area scratch exhausted");
        next = a + bytes;
        return a;
    }

    long capacity() { return base + SCRATCH_END - ((next + 15) & ~15L); }

    static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[b.length + 1];
        System.arraycopy(b, 0, out, 0, b.length);
        return out;
    }

    static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }
}

package jcriu.ptrace;

import java.util.Arrays;

/**
 * x86_64 {@code struct user_regs_struct} (27 u64, sys/user.h), immutable: every change
 * returns a copy, so a saved register set can never be altered by accident.
 */
public final class Regs {
    public static final int R15 = 0, R14 = 1, R13 = 2, R12 = 3, RBP = 4, RBX = 5, R11 = 6, R10 = 7, R9 = 8,
            R8 = 9, RAX = 10, RCX = 11, RDX = 12, RSI = 13, RDI = 14, ORIG_RAX = 15, RIP = 16, CS = 17,
            EFLAGS = 18, RSP = 19, SS = 20, FS_BASE = 21, GS_BASE = 22, DS = 23, ES = 24, FS = 25, GS = 26;
    public static final int COUNT = 27;
    public static final String[] NAMES = {"r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8",
            "ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss", "fs_base", "gs_base",
            "ds", "es", "fs", "gs"};

    private final long[] v;

    public Regs(long[] values) {
        if (values.length != COUNT) throw new IllegalArgumentException("user_regs_struct has 27 words");
        this.v = values.clone();
    }

    public long get(int i) { return v[i]; }

    public long[] toArray() { return v.clone(); }

    public Regs with(int i, long value) {
        long[] c = v.clone();
        c[i] = value;
        return new Regs(c);
    }

    public long rip() { return v[RIP]; }

    public long rsp() { return v[RSP]; }

    public long rax() { return v[RAX]; }

    public long origRax() { return v[ORIG_RAX]; }

    public Regs withRip(long rip) { return with(RIP, rip); }

    /** Registers to run syscall {@code nr} at {@code gadget} (a {@code syscall} instruction). */
    public Regs forSyscall(long gadget, int nr, long[] args) {
        long[] c = v.clone();
        c[RIP] = gadget;
        c[RAX] = nr;
        c[ORIG_RAX] = -1;
        int[] slots = {RDI, RSI, RDX, R10, R8, R9};
        for (int i = 0; i < slots.length; i++) c[slots[i]] = i < args.length ? args[i] : 0;
        return new Regs(c);
    }

    @Override
    public boolean equals(Object o) { return o instanceof Regs r && Arrays.equals(v, r.v); }

    @Override
    public int hashCode() { return Arrays.hashCode(v); }

    @Override
    public String toString() {
        return String.format("rip=%#x rsp=%#x rax=%#x orig_rax=%d", v[RIP], v[RSP], v[RAX], v[ORIG_RAX]);
    }
}

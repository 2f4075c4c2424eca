package jcriu.dump;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jcriu.proc.Vma;
import jcriu.ptrace.Regs;
import jcriu.sys.Errno;

/**
 * What makes a thread safe to lose while jcriu runs injected calls in it: an x86_64
 * {@code struct rt_sigframe} written into the thread's own stack, below its red zone, holding
 * the registers it must resume with, its signal mask and its whole FPU/XSAVE state, whose
 * return address is an rt_sigreturn gadget. Injected calls run at a {@code syscall; ret}
 * gadget with the stack pointer on this frame. Should jcriu die (SIGKILL, the OOM killer), the
 * kernel detaches the thread, which finishes the call it was in (all are reads of its own
 * state), returns into rt_sigreturn and is back exactly where it was, as from a signal
 * handler: no register, mask or byte of FPU state of jcriu's survives, and nothing was mapped.
 *
 * <p>Layout (arch/x86/include/asm/sigframe.h, uapi/asm/sigcontext.h): pretcode; ucontext
 * {flags, link, stack_t, sigcontext (256 bytes), sigmask}; siginfo (128 bytes); then the
 * XSAVE area, 64-byte aligned, in the signal-frame format: the software bytes at offset 464
 * say XSAVE (FP_XSTATE_MAGIC1, sizes, features) and FP_XSTATE_MAGIC2 follows the area.
 */
final class RescueFrame {
    static final int RED_ZONE = 128;
    /** Below the frame: room for what injected calls write back (sigaction, sigaltstack, ...). */
    static final int SCRATCH = 512;
    private static final int UC = 8, UC_STACK = UC + 16, SIGCONTEXT = UC + 40, SIGMASK = SIGCONTEXT + 256;
    private static final int FPSTATE = 448; // after pretcode, ucontext and siginfo (440), aligned on 64
    private static final int UC_FP_XSTATE = 1, UC_SIGCONTEXT_SS = 2, UC_STRICT_RESTORE_SS = 4;
    /** ss_flags that do_sigaltstack() refuses (EINVAL, ignored by rt_sigreturn): the alt stack stays as it is. */
    private static final int SS_INVALID = 3;
    private static final int FP_XSTATE_MAGIC1 = 0x46505853, FP_XSTATE_MAGIC2 = 0x46505845;
    private static final int SW_BYTES = 464, XSAVE_MIN = 576;
    private static final long XFEATURE_MASK_XTILEDATA = 1L << 18;

    private final long at;
    private final byte[] bytes;

    private RescueFrame(long at, byte[] bytes) {
        this.at = at;
        this.bytes = bytes;
    }

    /** Where the frame starts: the stack pointer injected calls run with. */
    long at() { return at; }

    /** {@link #SCRATCH} bytes below the frame for the results of injected calls. */
    long scratch() { return at - SCRATCH; }

    byte[] bytes() { return bytes; }

    /**
     * The frame for a thread whose stack pointer lies in {@code stack}, to resume with
     * {@code resume} (the registers it is put back with) and {@code sigmask}. Null when the
     * stack has no room below the red zone, or the XSAVE area is not of the usual shape (or
     * holds AMX state).
     */
    static RescueFrame build(Regs resume, long sigmask, byte[] xstate, long sigreturn, Vma stack) {
        if (xstate.length < XSAVE_MIN) return null;
        long xcr0 = ByteBuffer.wrap(xstate).order(ByteOrder.LITTLE_ENDIAN).getLong(SW_BYTES);
        // With AMX, ptrace's area has the size of every feature, while rt_sigreturn looks for the
        // second magic word at the end of the task's own (smaller without AMX permission) area.
        if ((xcr0 & XFEATURE_MASK_XTILEDATA) != 0) return null;
        int size = FPSTATE + xstate.length + 4;
        long at = (resume.rsp() - RED_ZONE - size) & ~63L;
        if (!stack.contains(at - SCRATCH) || !stack.contains(resume.rsp() - 1)) return null;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        Regs r = afterSigreturn(resume);
        b.putLong(0, sigreturn); // pretcode: what a handler would return to
        b.putLong(UC, UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
        b.putInt(UC_STACK + 8, SS_INVALID);
        int[] order = {Regs.R8, Regs.R9, Regs.R10, Regs.R11, Regs.R12, Regs.R13, Regs.R14, Regs.R15, Regs.RDI,
            Regs.RSI, Regs.RBP, Regs.RBX, Regs.RDX, Regs.RAX, Regs.RCX, Regs.RSP, Regs.RIP, Regs.EFLAGS};
        for (int i = 0; i < order.length; i++) b.putLong(SIGCONTEXT + 8 * i, r.get(order[i]));
        b.putShort(SIGCONTEXT + 144, (short) r.get(Regs.CS));
        b.putShort(SIGCONTEXT + 146, (short) r.get(Regs.GS));
        b.putShort(SIGCONTEXT + 148, (short) r.get(Regs.FS));
        b.putShort(SIGCONTEXT + 150, (short) r.get(Regs.SS));
        b.putLong(SIGCONTEXT + 184, at + FPSTATE); // fpstate
        b.putLong(SIGMASK, sigmask);
        b.put(FPSTATE, xstate);
        // the software bytes of a signal frame (struct _fpx_sw_bytes), where ptrace put XCR0
        ByteBuffer sw = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        sw.putInt(FP_XSTATE_MAGIC1).putInt(xstate.length + 4).putLong(xcr0).putInt(xstate.length);
        b.put(FPSTATE + SW_BYTES, sw.array());
        b.putInt(FPSTATE + xstate.length, FP_XSTATE_MAGIC2);
        return new RescueFrame(at, b.array());
    }

    /**
     * rt_sigreturn leaves the thread in user mode with orig_rax = -1, so a thread stopped inside
     * a system call gets the registers that re-issue it (what the kernel does when no handler
     * runs), for ERESTART_RESTARTBLOCK too: rt_sigreturn discards the restart block, so a sleep
     * starts over with its whole request, which is longer than it would have been, never shorter.
     */
    static Regs afterSigreturn(Regs r) {
        if (r.origRax() < 0) return r;
        int err = -(int) r.rax();
        if (err == Errno.ERESTARTSYS || err == Errno.ERESTARTNOINTR || err == Errno.ERESTARTNOHAND
                || err == Errno.ERESTART_RESTARTBLOCK) {
            return r.with(Regs.RAX, r.origRax()).with(Regs.RIP, r.rip() - 2);
        }
        return r;
    }
}

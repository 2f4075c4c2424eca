package jcriu.dump;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jcriu.proc.Vma;
import jcriu.ptrace.Regs;
import jcriu.sys.Errno;
import jcriu.sys.Nr;

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
    /** For a waiting thread ({@link #forWaiting}): its registers while it is given over or back; else null. */
    private final Regs waiting;

    private RescueFrame(long at, byte[] bytes, Regs waiting) {
        this.at = at;
        this.bytes = bytes;
        this.waiting = waiting;
    }

    /** Where the frame starts: the stack pointer injected calls run with. */
    long at() { return at; }

    /** {@link #SCRATCH} bytes below the frame for the results of injected calls. */
    long scratch() { return at - SCRATCH; }

    /** What is written from {@link #at()} on (the frame, or both frames of a waiting thread). */
    byte[] bytes() { return bytes; }

    /**
     * For a thread built by {@link #forWaiting}: the registers of an rt_sigsuspend interrupted
     * at the gadget, which a thread let go turns into EINTR (a handled signal) or a restart of
     * that call, by the kernel's own decision; null for other threads.
     */
    Regs waiting() { return waiting; }

    /**
     * The frame for a thread whose stack pointer lies in {@code stack}, to resume with
     * {@code resume} (the registers it is put back with) and {@code sigmask}. Null when the
     * stack has no room below the red zone, or the XSAVE area is not of the usual shape (or
     * holds AMX state).
     */
    static RescueFrame build(Regs resume, long sigmask, byte[] xstate, long sigreturn, Vma stack) {
        long xcr0 = xcr0(xstate);
        if (xcr0 == -1) return null;
        int size = FPSTATE + xstate.length + 4;
        long at = (resume.rsp() - RED_ZONE - size) & ~63L;
        if (!stack.contains(at - SCRATCH) || !stack.contains(resume.rsp() - 1)) return null;
        return new RescueFrame(at, sigframe(afterSigreturn(resume), sigmask, xstate, xcr0, sigreturn, at), null);
    }

    /** Whether {@code r} are the registers of a thread stopped in pause() or rt_sigsuspend(). */
    static boolean isWaiting(Regs r) {
        return (r.origRax() == Nr.PAUSE || r.origRax() == Nr.RT_SIGSUSPEND) && r.rax() == -Errno.ERESTARTNOHAND;
    }

    /**
     * For a thread stopped in pause() or rt_sigsuspend() ({@link #isWaiting}), which must return
     * EINTR after the first handled signal. A frame that re-issued its call from user mode would
     * lose a signal that comes before the thread runs again (a handler runs first, then the call
     * is entered again and sleeps on), and that moment is unbounded: jcriu dies while the thread
     * is stopped. So the thread is made to wait where the kernel decides for it:
     *
     * <pre>
     *   frame 1 (at):      registers: rt_sigsuspend(&amp;waitMask) at the {@code syscall; ret} gadget,
     *                      stack pointer on frame 2; mask: every signal blocked
     *   waitMask           (8 bytes, just below frame 2)
     *   frame 2:           registers: the thread's own, rax = -EINTR (the call's return); its mask
     * </pre>
     *
     * A thread let go during the injected calls returns through frame 1 with everything blocked
     * and enters rt_sigsuspend, which unblocks {@code waitMask} atomically: a signal sent since is
     * there, handled, and the call returns into frame 2: pause() or sigsuspend() returns EINTR
     * with the thread's mask. Being given over and back, the thread holds {@link #waiting()}
     * (that rt_sigsuspend, interrupted): let go then, the kernel itself makes it EINTR if a
     * handler runs, or restarts it. {@code waitMask}: for pause() the thread's mask; for
     * sigsuspend() its argument ({@code sigmask}, from PTRACE_GETSIGMASK, is the mask the kernel
     * saved for its return). Null as {@link #build}.
     */
    static RescueFrame forWaiting(Regs resume, long sigmask, long waitMask, byte[] xstate, long sigreturn,
                                  long syscallRet, Vma stack) {
        long xcr0 = xcr0(xstate);
        if (xcr0 == -1 || !isWaiting(resume)) return null;
        int size = FPSTATE + xstate.length + 4;
        long second = (resume.rsp() - RED_ZONE - size) & ~63L;
        long word = second - 8;
        long at = (word - size) & ~63L;
        if (!stack.contains(at - SCRATCH) || !stack.contains(resume.rsp() - 1)) return null;
        Regs wait = resume.forSyscall(syscallRet, Nr.RT_SIGSUSPEND, new long[] {word, 8}).with(Regs.RSP, second);
        byte[] bytes = new byte[(int) (second + size - at)];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, sigframe(wait, -1L, xstate, xcr0, sigreturn, at));
        b.putLong((int) (word - at), waitMask);
        b.put((int) (second - at), sigframe(resume.with(Regs.RAX, -Errno.EINTR), sigmask, xstate, xcr0, sigreturn,
                second));
        // rip after the gadget's syscall: the kernel's restart backs it up onto that instruction
        Regs interrupted = wait.with(Regs.RIP, syscallRet + 2).with(Regs.RAX, -Errno.ERESTARTNOHAND)
                .with(Regs.ORIG_RAX, Nr.RT_SIGSUSPEND);
        return new RescueFrame(at, bytes, interrupted);
    }

    /** XCR0 from the XSAVE area's software bytes, or -1 when no frame can carry that area. */
    private static long xcr0(byte[] xstate) {
        if (xstate.length < XSAVE_MIN) return -1;
        long xcr0 = ByteBuffer.wrap(xstate).order(ByteOrder.LITTLE_ENDIAN).getLong(SW_BYTES);
        // With AMX, ptrace's area has the size of every feature, while rt_sigreturn looks for the
        // second magic word at the end of the task's own (smaller without AMX permission) area.
        return (xcr0 & XFEATURE_MASK_XTILEDATA) != 0 ? -1 : xcr0;
    }

    /** A {@code struct rt_sigframe} at {@code at} that rt_sigreturn turns into {@code r} and {@code sigmask}. */
    private static byte[] sigframe(Regs r, long sigmask, byte[] xstate, long xcr0, long sigreturn, long at) {
        int size = FPSTATE + xstate.length + 4;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
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
        return b.array();
    }

    /**
     * rt_sigreturn leaves the thread in user mode with orig_rax = -1, so a thread stopped inside
     * a system call gets the registers that re-issue it (what the kernel does when no handler
     * runs), for ERESTART_RESTARTBLOCK too: rt_sigreturn discards the restart block, so a sleep
     * starts over with its whole request, which is longer than it would have been, never shorter.
     *
     * <p>What is left: the call is re-issued from user mode, so a handled signal sent between
     * jcriu's death and the thread's return from rt_sigreturn runs its handler and the call goes
     * on, where it would have returned EINTR (ERESTARTNOHAND, ERESTART_RESTARTBLOCK, ERESTARTSYS
     * without SA_RESTART: read, poll, nanosleep...). No call but rt_sigsuspend sets a mask and
     * waits at once; pause() and sigsuspend() are exact ({@link #forWaiting}).
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

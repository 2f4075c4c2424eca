package jcriu.state;

import java.util.List;

import jcriu.ptrace.Regs;
import jcriu.rseq.RseqState;
import jcriu.sys.SchedAttr;

/**
 * Everything of one thread that a restore must give back. {@code regs} are the ones to
 * resume with (syscall-restart and rseq fix-ups already applied). {@code restartCode}: the
 * ERESTART* value (512-514) of the system call the thread was stopped in, or 0; {@code regs}
 * then re-issue that call.
 */
public record ThreadState(int tid, Regs regs, byte[] xstate, long sigmask, List<byte[]> pendingSiginfo,
                          long robustListHead, long robustListLen, long clearChildTid, AltStack altStack,
                          RseqState rseq, String comm, SleepRestart sleep, SchedAttr sched, int restartCode) {
    /**
     * A relative nanosleep/clock_nanosleep that was interrupted by the freeze: the kernel would
     * have resumed it through restart_syscall with its absolute expiry. Null when none.
     */
    public record SleepRestart(int clockId, long expiryNs, long remPtr, long syscallIp) {}

    /** {@code stack_t}: ss_sp, ss_flags, ss_size. */
    public record AltStack(long sp, int flags, long size) {}
}

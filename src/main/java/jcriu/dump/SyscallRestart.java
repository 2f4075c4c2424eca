package jcriu.dump;

import jcriu.ptrace.Regs;
import jcriu.sys.Errno;

/**
 * What the kernel would have done on return to user mode for a task stopped inside a
 * syscall: restartable ones are re-issued ({@code rip -= 2}, rax = the syscall number),
 * ones that need the kernel's restart block return EINTR (that block is not restorable).
 * The result always has orig_rax = -1 so that nothing restarts a second time.
 */
public final class SyscallRestart {
    private SyscallRestart() {}

    /** The ERESTARTSYS/NOINTR/NOHAND code a stopped system call returned, or 0. */
    public static int restartCode(Regs r) {
        if (r.origRax() < 0) return 0;
        int err = -(int) r.rax();
        if (pollRestart(r)) return Errno.ERESTARTNOHAND;
        return err == Errno.ERESTARTSYS || err == Errno.ERESTARTNOINTR || err == Errno.ERESTARTNOHAND ? err : 0;
    }

    /**
     * poll(2) always leaves a restart block when interrupted (do_restart_poll), which the kernel
     * uses exactly as ERESTARTNOHAND: a handled signal makes it return EINTR, anything else
     * polls again with the same fds (poll's arguments are still in rdi, rsi, rdx). So it is
     * re-issued, as GNU tail -f's wait on inotify and stdout must be. With a timeout, the
     * restart counts the whole timeout from the restore (later, never earlier, than it would
     * have returned 0).
     */
    private static boolean pollRestart(Regs r) {
        return r.origRax() == POLL && -(int) r.rax() == Errno.ERESTART_RESTARTBLOCK;
    }

    private static final int POLL = 7;

    public static Regs fixup(Regs r) {
        if (r.origRax() < 0) return r;
        long err = pollRestart(r) ? Errno.ERESTARTNOHAND : -(int) r.rax();
        if (err == Errno.ERESTARTSYS || err == Errno.ERESTARTNOINTR || err == Errno.ERESTARTNOHAND) {
            return r.with(Regs.RAX, r.origRax()).with(Regs.RIP, r.rip() - 2).with(Regs.ORIG_RAX, -1);
        }
        if (err == Errno.ERESTART_RESTARTBLOCK) {
            return r.with(Regs.RAX, -Errno.EINTR).with(Regs.ORIG_RAX, -1);
        }
        return r.with(Regs.ORIG_RAX, -1);
    }
}

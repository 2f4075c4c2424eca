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
        return err == Errno.ERESTARTSYS || err == Errno.ERESTARTNOINTR || err == Errno.ERESTARTNOHAND ? err : 0;
    }

    public static Regs fixup(Regs r) {
        if (r.origRax() < 0) return r;
        long err = -(int) r.rax();
        if (err == Errno.ERESTARTSYS || err == Errno.ERESTARTNOINTR || err == Errno.ERESTARTNOHAND) {
            return r.with(Regs.RAX, r.origRax()).with(Regs.RIP, r.rip() - 2).with(Regs.ORIG_RAX, -1);
        }
        if (err == Errno.ERESTART_RESTARTBLOCK) {
            return r.with(Regs.RAX, -Errno.EINTR).with(Regs.ORIG_RAX, -1);
        }
        return r.with(Regs.ORIG_RAX, -1);
    }
}

package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

import jcriu.proc.ProcStatus;
import jcriu.proc.Status;

import jcriu.state.ProcessState;
import jcriu.state.SigAction;
import jcriu.sys.Errno;
import jcriu.sys.Nr;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Process-wide attributes: cwd, umask, signal dispositions, rlimits, personality and the
 * signals pending for the whole process.
 */
final class AttrsStage {
    private static final int SIGKILL = 9, SIGSTOP = 19;
    private static final long SIG_IGN = 1;

    private AttrsStage() {}

    static void run(Target t) throws IOException {
        ProcessState st = t.st();
        t.ctl().reset();
        if (!jcriu.files.GhostDirectories.deleted(st.cwd())) { // a deleted one: FileInstaller#deletedCwd
            long r = t.inj().raw(Nr.CHDIR, t.string(st.cwd()));
            if (r < 0) throw new IOException("cannot chdir to " + st.cwd() + ": " + Errno.name((int) -r));
        }
        t.inj().call("umask", Nr.UMASK, st.umask());
        signals(t);
        for (int res = 0; res < st.rlimits().length; res++) {
            long[] lim = st.rlimits()[res];
            try {
                Sys.prlimit(t.pid(), res, lim);
            } catch (SysException e) {
                long[] cur = Sys.prlimit(t.pid(), res, null);
                t.log().warn("rlimit " + res + " of " + t.pid() + " could not be set to " + Arrays.toString(lim) + " ("
                        + e.getMessage() + "); keeping " + Arrays.toString(cur));
            }
        }
        if (st.personality() != 0) t.inj().call("personality", Nr.PERSONALITY, st.personality());
    }

    /**
     * Signals that arrived during the restore (a child recreated as a zombie sends SIGCHLD)
     * were not pending at the dump: setting a signal to SIG_IGN discards every pending
     * instance of it, so those pending now go through SIG_IGN before taking their saved
     * disposition. The process starts with every disposition at SIG_DFL (a copy of the helper,
     * or of its parent before the parent's own were set), so only the others are set; then the
     * saved pending signals are queued again.
     */
    private static void signals(Target t) throws IOException {
        ProcessState st = t.st();
        ProcStatus now = Status.read(Path.of("/proc"), t.pid());
        long pending = now.shdPnd() | now.sigPnd();
        long act = t.ctl().alloc(32);
        t.mem().write(act, ControlArea.le(32).putLong(SIG_IGN).putLong(0).putLong(0).putLong(0).array());
        for (int sig = 1; sig <= 64; sig++) {
            if (sig == SIGKILL || sig == SIGSTOP || (pending & 1L << (sig - 1)) == 0) continue;
            t.inj().call("rt_sigaction(" + sig + ", SIG_IGN)", Nr.RT_SIGACTION, sig, act, 0, 8);
        }
        for (SigAction sa : st.sigactions()) {
            if (sa.sig() == SIGKILL || sa.sig() == SIGSTOP) continue;
            boolean dfl = sa.handler() == 0 && sa.flags() == 0 && sa.restorer() == 0 && sa.mask() == 0;
            if (dfl && (pending & 1L << (sa.sig() - 1)) == 0) continue;
            ByteBuffer b = ControlArea.le(32);
            b.putLong(sa.handler()).putLong(sa.flags()).putLong(sa.restorer()).putLong(sa.mask());
            t.mem().write(act, b.array());
            t.inj().call("rt_sigaction(" + sa.sig() + ")", Nr.RT_SIGACTION, sa.sig(), act, 0, 8);
        }
        for (byte[] si : st.sharedPendingSiginfo()) {
            long at = t.ctl().alloc(128);
            t.mem().write(at, si);
            int sig = ByteBuffer.wrap(si).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            t.inj().call("rt_sigqueueinfo(" + sig + ")", Nr.RT_SIGQUEUEINFO, t.pid(), sig, at);
        }
    }
}

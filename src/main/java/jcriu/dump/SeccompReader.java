package jcriu.dump;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jcriu.inject.Freezer;
import jcriu.proc.ProcStatus;
import jcriu.proc.Status;
import jcriu.ptrace.Tracer;
import jcriu.state.Seccomp;
import jcriu.sys.SysException;

/**
 * Seccomp of a frozen process: its mode per thread (/proc) and its filters
 * (PTRACE_SECCOMP_GET_FILTER). The filters would judge the system calls jcriu injects, and
 * may kill the process for one (strict mode allows four calls), so every thread under
 * seccomp is switched to PTRACE_O_SUSPEND_SECCOMP before anything is injected; detaching
 * ends the suspension.
 */
final class SeccompReader {
    private static final Path PROC = Path.of("/proc");
    private static final int BPF_RET_K = 0x06; // BPF_RET | BPF_K
    private static final int SECCOMP_RET_USER_NOTIF = 0x7fc00000, SECCOMP_RET_ACTION_FULL = 0xffff0000;

    private SeccompReader() {}

    /** Suspends seccomp for each thread under it; refuses, naming the thread, if the kernel will not. */
    static void suspend(Tracer tracer, int pid, List<Integer> tids) throws IOException {
        for (int tid : tids) {
            ProcStatus s = Status.readTask(PROC, pid, tid);
            if (s.seccomp() == Seccomp.DISABLED) continue;
            try {
                tracer.setOptions(tid, Freezer.OPTIONS | Tracer.O_SUSPEND_SECCOMP);
            } catch (SysException e) {
                throw new IOException("thread " + tid + " of process " + pid + " runs under seccomp (mode "
                        + mode(s.seccomp()) + ") and the kernel refuses to suspend it for the dump (PTRACE_O_SUSPEND"
                        + "_SECCOMP: " + e.getMessage() + "; it needs CAP_SYS_ADMIN and a jcriu outside seccomp)", e);
            }
        }
    }

    /** The thread's mode and filters, oldest first. */
    static Seccomp read(Tracer tracer, int pid, int tid) throws IOException {
        int mode = Status.readTask(PROC, pid, tid).seccomp();
        if (mode != Seccomp.FILTER) return mode == Seccomp.STRICT ? new Seccomp(Seccomp.STRICT, List.of()) : Seccomp.NONE;
        List<Seccomp.Filter> oldestFirst = new ArrayList<>();
        for (int i = 0; ; i++) { // index 0 is the oldest (the kernel walks back from the newest)
            byte[] prog = tracer.seccompFilter(tid, i);
            if (prog == null) break;
            int flags = (int) tracer.seccompFilterFlags(tid, i);
            refuseUserNotification(prog, pid, tid, i);
            oldestFirst.add(new Seccomp.Filter(prog, flags));
        }
        if (oldestFirst.isEmpty()) {
            throw new IOException("thread " + tid + " of process " + pid + " is in seccomp filter mode but the kernel"
                    + " reports no filter");
        }
        return new Seccomp(Seccomp.FILTER, oldestFirst);
    }

    /**
     * A filter that answers SECCOMP_RET_USER_NOTIF hands system calls to a supervisor through
     * the listener fd made with it, which jcriu cannot recreate.
     */
    private static void refuseUserNotification(byte[] prog, int pid, int tid, int index) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(prog).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < prog.length; at += 8) {
            if ((b.getShort(at) & 0xffff) == BPF_RET_K && (b.getInt(at + 4) & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF) {
                throw new IOException("seccomp filter " + index + " of thread " + tid + " of process " + pid
                        + " notifies a supervisor (SECCOMP_RET_USER_NOTIF); its listener cannot be restored, not"
                        + " supported yet");
            }
        }
    }

    static String mode(int mode) {
        return mode == Seccomp.STRICT ? "strict" : mode == Seccomp.FILTER ? "filter" : "disabled";
    }
}

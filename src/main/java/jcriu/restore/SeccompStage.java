package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

import jcriu.inject.Injector;
import jcriu.ptrace.Tracer;
import jcriu.state.ProcessAttrs;
import jcriu.state.ProcessAttrs.ThreadAttrs;
import jcriu.state.Seccomp;
import jcriu.sys.Errno;
import jcriu.sys.Nr;

/**
 * Seccomp mode and filters, installed in each thread right before its credentials (installing
 * a filter needs CAP_SYS_ADMIN unless no_new_privs is set, and the credentials may take it
 * away), as CRIU does. The calls jcriu still injects afterwards (credentials, the other
 * threads, the leader's last steps) must not be judged by them: the process is switched to
 * PTRACE_O_SUSPEND_SECCOMP first, which threads cloned later inherit and which ends when
 * jcriu detaches.
 *
 * <p>Filters the threads share (equal oldest ones in every thread: a filter installed before
 * the threads were created, or synchronised with TSYNC) are installed once, in the leader
 * before it creates the other threads, so that the kernel shares them again; each thread then
 * installs the rest of its own.
 */
final class SeccompStage {
    private static final int SECCOMP_SET_MODE_STRICT = 0, SECCOMP_SET_MODE_FILTER = 1;

    private SeccompStage() {}

    /** In the leader, before the other threads are created: the filters all threads share. */
    static void beforeThreads(Target t) throws IOException {
        List<Seccomp.Filter> common = shared(t.st().attrs());
        if (common.isEmpty()) return;
        suspend(t.tracer(), t.pid());
        install(t, t.inj(), t.pid(), common);
    }

    /** In thread {@code tid}, before its credentials: its mode and the filters it does not share. */
    static void thread(Target t, Injector inj, int tid) throws IOException {
        Seccomp s = t.st().attrs().thread(tid).map(ThreadAttrs::seccomp).orElse(Seccomp.NONE);
        switch (s.mode()) {
            case Seccomp.DISABLED -> { }
            case Seccomp.STRICT -> {
                suspend(t.tracer(), tid);
                inj.call("seccomp(SECCOMP_SET_MODE_STRICT)", Nr.SECCOMP, SECCOMP_SET_MODE_STRICT, 0, 0);
                t.log().debug("seccomp: thread " + tid + " in strict mode");
            }
            default -> {
                int inherited = shared(t.st().attrs()).size();
                suspend(t.tracer(), tid);
                install(t, inj, tid, s.filters().subList(inherited, s.filters().size()));
            }
        }
    }

    /** The longest run of oldest filters equal in every thread; none unless every thread has filters. */
    static List<Seccomp.Filter> shared(ProcessAttrs a) {
        List<Seccomp.Filter> common = null;
        for (ThreadAttrs t : a.threads()) {
            List<Seccomp.Filter> f = t.seccomp().filters();
            if (t.seccomp().mode() != Seccomp.FILTER) return List.of();
            if (common == null) {
                common = f;
                continue;
            }
            int n = 0;
            while (n < common.size() && n < f.size() && common.get(n).equals(f.get(n))) n++;
            common = common.subList(0, n);
        }
        return common == null ? List.of() : common;
    }

    private static void suspend(Tracer tracer, int tid) throws IOException {
        try {
            tracer.setOptions(tid, TreeRestore.SEIZE_OPTIONS | Tracer.O_SUSPEND_SECCOMP);
        } catch (jcriu.sys.SysException e) {
            throw new IOException("thread " + tid + ": seccomp cannot be suspended while its filters are installed"
                    + " (PTRACE_O_SUSPEND_SECCOMP: " + e.getMessage() + ")", e);
        }
    }

    /** seccomp(SECCOMP_SET_MODE_FILTER) for each filter, oldest first, with its saved flags. */
    private static void install(Target t, Injector inj, int tid, List<Seccomp.Filter> filters) throws IOException {
        for (Seccomp.Filter f : filters) {
            t.ctl().reset();
            byte[] prog = f.program();
            long insns = t.ctl().alloc(prog.length);
            t.mem().write(insns, prog);
            long fprog = t.ctl().alloc(16); // struct sock_fprog: unsigned short len, then the pointer at 8
            t.mem().write(fprog, ControlArea.le(16).putShort(0, (short) f.instructions()).putLong(8, insns).array());
            long r = inj.raw(Nr.SECCOMP, SECCOMP_SET_MODE_FILTER, f.flags() & 0xffffffffL, fprog);
            if (r != 0) {
                throw new IOException("thread " + tid + ": seccomp filter (" + f + ") could not be installed: "
                        + (r < 0 ? Errno.name((int) -r) : "thread " + r + " could not be synchronised"));
            }
        }
        if (!filters.isEmpty()) t.log().debug("seccomp: thread " + tid + ": " + filters.size() + " filter(s) installed");
    }
}

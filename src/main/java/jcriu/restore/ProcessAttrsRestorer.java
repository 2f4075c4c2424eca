package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import jcriu.api.Log;
import jcriu.inject.Injector;
import jcriu.ptrace.TaskMemory;
import jcriu.state.ProcessAttrs;
import jcriu.state.ProcessAttrs.Itimer;
import jcriu.state.ProcessAttrs.MemPolicy;
import jcriu.state.ProcessAttrs.PosixTimer;
import jcriu.state.ProcessAttrs.ThreadAttrs;
import jcriu.state.ProcessAttrs.VmaPolicy;
import jcriu.state.ProcessState;
import jcriu.state.VmaAttrs;
import jcriu.state.VmaState;
import jcriu.sys.Errno;
import jcriu.sys.Nr;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Gives a restored process back its {@link ProcessAttrs} and the per-mapping {@link VmaAttrs}.
 * Called for each process of the tree by {@link ProcessRebuild} at three moments:
 * {@link #enterCgroups} before its own memory is mapped (so that it is charged to the right
 * cgroup), {@link #restoreProcess} once memory, files and process attributes are in place and
 * while the process is still privileged, and {@link #restoreThread} for each thread after its
 * credentials, which reset pdeath_signal and dumpable. A child is cloned from its parent
 * before the parent's {@code finish}, so it inherits none of these from it. Items that depend on the restorer's privileges (a lower oom_score_adj, I/O
 * priority classes, KSM) are warned about when refused, like rlimits and scheduling.
 */
final class ProcessAttrsRestorer {
    private static final int PR_SET_PDEATHSIG = 1, PR_SET_DUMPABLE = 4, PR_SET_TSC = 26, PR_SET_SECUREBITS = 28,
            PR_SET_TIMERSLACK = 29, PR_MCE_KILL = 33, PR_SET_CHILD_SUBREAPER = 36, PR_SET_NO_NEW_PRIVS = 38,
            PR_SET_THP_DISABLE = 41, PR_SET_SPECULATION_CTRL = 53, PR_SET_VMA = 0x53564d41, PR_SET_MDWE = 65,
            PR_SET_MEMORY_MERGE = 67, PR_TIMER_CREATE_RESTORE_IDS = 77;
    private static final int PR_SET_VMA_ANON_NAME = 0, PR_MCE_KILL_CLEAR = 0, PR_MCE_KILL_SET = 1,
            PR_MCE_KILL_DEFAULT = 2, PR_TSC_ENABLE = 1, PR_SPEC_PRCTL = 1;
    private static final int ARCH_SET_CPUID = 0x1012;
    private static final int MLOCK_ONFAULT = 1;
    private static final int O_WRONLY = 1, O_CLOEXEC = 02000000, AT_FDCWD = -100;
    private static final int CLOCK_MONOTONIC = 1;
    private static final long NS = 1_000_000_000L;

    private final ProcessState st;
    private final ProcessAttrs attrs;
    private final Log log;

    ProcessAttrsRestorer(ProcessState st, Log log) {
        this.st = st;
        this.attrs = st.attrs();
        this.log = log;
    }

    /** The secure bits saved for thread {@code tid} (0 when the images hold none). */
    static int secureBits(ProcessState st, int tid) {
        return st.attrs().thread(tid).map(ThreadAttrs::secureBits).orElse(0);
    }

    // ---------------------------------------------------------------- cgroups

    /**
     * Moves the new process into the cgroups it was in, from jcriu, before its memory is
     * mapped. A cgroup that no longer exists (a systemd scope is removed with its last process,
     * which the dump killed) or refuses the process leaves it in jcriu's, with a warning: the
     * process itself is intact, and failing the restore for its accounting would lose it.
     */
    void enterCgroups(int pid) throws IOException {
        if (attrs.cgroups().isEmpty()) return;
        // read once: joining one hierarchy's cgroup moves the process in that hierarchy only
        List<jcriu.proc.Cgroups.Entry> current;
        try {
            current = jcriu.proc.Cgroups.read(Path.of("/proc"), pid);
        } catch (IOException e) {
            current = List.of();
        }
        List<CgroupMounts.Mount> mounts = null; // read when a process has to move (a process of a tree seldom does)
        for (ProcessAttrs.Cgroup g : attrs.cgroups()) {
            String now = CgroupMounts.current(current, g);
            if (g.path().equals(now)) continue; // already there (it inherited jcriu's or its parent's)
            if (mounts == null) mounts = CgroupMounts.read();
            Path dir = CgroupMounts.directory(mounts, g);
            String where = "cgroup " + g.path() + " of hierarchy " + g.hierarchy()
                    + (g.controllers().isEmpty() ? " (v2)" : " (" + g.controllers() + ")");
            if (dir == null) {
                log.warn(where + ": no such hierarchy is mounted here; the process stays in jcriu's");
                continue;
            }
            if (!Files.isDirectory(dir)) {
                log.warn(where + ": " + dir + " no longer exists; the process stays in jcriu's");
                continue;
            }
            try {
                Files.writeString(dir.resolve("cgroup.procs"), Integer.toString(pid));
                log.debug(where + ": joined");
            } catch (IOException e) {
                log.warn(where + ": cannot join (" + e.getMessage() + "); the process stays in " + now);
            }
        }
    }

    // ---------------------------------------------------------------- process

    void restoreProcess(Injector inj, TaskMemory mem, ControlArea ctl, int pid) throws IOException {
        ctl.reset();
        writeOomScoreAdj(pid);
        writeLoginuid(inj, mem, ctl, pid);
        attrs.coredumpFilter().ifPresent(f -> writeProc(pid, "coredump_filter", String.format("0x%x", f)));
        restoreAutogroup(pid);
        restoreMappings(inj, mem, ctl);
        if ((attrs.thpDisable() & 1) != 0) {
            inj.call("prctl(PR_SET_THP_DISABLE)", Nr.PRCTL, PR_SET_THP_DISABLE, 1, attrs.thpDisable() & ~1, 0, 0);
        }
        if (attrs.childSubreaper()) inj.call("prctl(PR_SET_CHILD_SUBREAPER)", Nr.PRCTL, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        if (attrs.memoryMerge()) {
            long r = inj.raw(Nr.PRCTL, PR_SET_MEMORY_MERGE, 1, 0, 0, 0);
            if (r < 0) log.warn("KSM for the whole process (PR_SET_MEMORY_MERGE) could not be set: " + Errno.name((int) -r));
        }
        for (int bit = 0; bit < 32; bit++) {
            if ((attrs.membarrier() & (1 << bit)) != 0) {
                inj.call("membarrier register " + (1 << bit), Nr.MEMBARRIER, 1L << bit, 0, 0);
            }
        }
        if (attrs.mlockall() != 0) inj.call("mlockall(" + attrs.mlockall() + ")", Nr.MLOCKALL, attrs.mlockall());
        if (attrs.mdwe() != 0) inj.call("prctl(PR_SET_MDWE)", Nr.PRCTL, PR_SET_MDWE, attrs.mdwe(), 0, 0, 0);
        sealMappings(inj); // last: nothing may change a sealed mapping afterwards
    }

    private void writeOomScoreAdj(int pid) {
        int now = Integer.parseInt(readProc(pid, "oom_score_adj"));
        if (now == attrs.oomScoreAdj()) return;
        try {
            Files.writeString(Path.of("/proc", Integer.toString(pid), "oom_score_adj"), Integer.toString(attrs.oomScoreAdj()));
        } catch (IOException e) {
            // below jcriu's own oom_score_adj_min only CAP_SYS_RESOURCE may go
            log.warn("oom_score_adj " + attrs.oomScoreAdj() + " could not be set (" + e.getMessage() + "); keeps " + now);
        }
    }

    /**
     * /proc/PID/loginuid can only be written by the process itself, and needs CAP_AUDIT_CONTROL
     * when a loginuid is already set: written from inside while the process still has jcriu's
     * credentials. The kernel gives it a new session id whenever it is written.
     */
    private void writeLoginuid(Injector inj, TaskMemory mem, ControlArea ctl, int pid) throws IOException {
        if (attrs.loginuid().isEmpty()) return;
        long want = attrs.loginuid().getAsLong();
        String now = readProc(pid, "loginuid");
        if (Long.parseLong(now) == want) return;
        byte[] path = ControlArea.cString("/proc/self/loginuid");
        long p = ctl.alloc(path.length);
        mem.write(p, path);
        long fd = inj.call("open /proc/self/loginuid", Nr.OPENAT, AT_FDCWD, p, O_WRONLY | O_CLOEXEC, 0);
        byte[] text = Long.toString(want == ProcessAttrs.LOGINUID_UNSET ? -1 : want).getBytes(StandardCharsets.US_ASCII);
        long b = ctl.alloc(text.length);
        mem.write(b, text);
        long r = inj.raw(Nr.WRITE, fd, b, text.length);
        inj.call("close", Nr.CLOSE, fd);
        if (r != text.length) {
            throw new IOException("loginuid " + want + " could not be set (" + (r < 0 ? Errno.name((int) -r) : r + " bytes")
                    + "); it needs CAP_AUDIT_CONTROL and a kernel whose loginuid is not immutable");
        }
        log.debug("loginuid " + now + " -> " + want);
    }

    /** The nice of the autogroup belongs to the session: set only if the process leads its own. */
    private void restoreAutogroup(int pid) {
        if (attrs.autogroupNice().isEmpty()) return;
        int want = attrs.autogroupNice().getAsInt();
        String now = readProc(pid, "autogroup").strip();
        if (now.isEmpty() || now.endsWith(" nice " + want)) return;
        if (st.sid() != st.pid()) {
            log.warn("autogroup nice " + want + " not restored: the process does not lead its session, and its"
                    + " autogroup (" + now + ") is shared with jcriu's session");
            return;
        }
        writeProc(pid, "autogroup", Integer.toString(want));
    }

    /** Names, NUMA policies and locks of mappings, once their pages are in. */
    private void restoreMappings(Injector inj, TaskMemory mem, ControlArea ctl) throws IOException {
        for (VmaState v : st.mm().vmas()) {
            VmaAttrs a = v.attrs();
            if (a.anonName() != null) {
                ctl.reset();
                byte[] name = ControlArea.cString(a.anonName());
                long p = ctl.alloc(name.length);
                mem.write(p, name);
                inj.call(String.format("PR_SET_VMA_ANON_NAME %#x %s", v.start(), a.anonName()), Nr.PRCTL, PR_SET_VMA,
                        PR_SET_VMA_ANON_NAME, v.start(), v.size(), p);
            }
        }
        for (VmaPolicy p : attrs.vmaPolicies()) {
            ctl.reset();
            long mask = nodemask(mem, ctl, p.policy());
            inj.call(String.format("mbind %#x-%#x %s", p.start(), p.end(), p.policy()), Nr.MBIND, p.start(),
                    p.end() - p.start(), p.policy().mode(), mask, mask == 0 ? 0 : 64L * p.policy().nodes().length + 1, 0);
        }
        for (VmaState v : st.mm().vmas()) {
            switch (v.attrs().lock()) {
                case NONE -> { }
                case LOCKED -> inj.call(String.format("mlock %#x", v.start()), Nr.MLOCK, v.start(), v.size());
                case LOCKED_ON_FAULT -> inj.call(String.format("mlock2 %#x ONFAULT", v.start()), Nr.MLOCK2, v.start(),
                        v.size(), MLOCK_ONFAULT);
            }
        }
    }

    private void sealMappings(Injector inj) {
        for (VmaState v : st.mm().vmas()) {
            if (v.attrs().sealed()) inj.call(String.format("mseal %#x", v.start()), Nr.MSEAL, v.start(), v.size(), 0);
        }
    }

    // ---------------------------------------------------------------- threads

    /**
     * A thread's items, injected in the thread after its credentials; for the leader, which
     * comes last, also dumpable and the timers (a timer may notify any thread, so they are
     * created once all exist).
     */
    void restoreThread(Injector inj, TaskMemory mem, ControlArea ctl, int tid) throws IOException {
        ThreadAttrs t = attrs.thread(tid).orElse(ThreadAttrs.none(tid));
        ctl.reset();
        if (t.pdeathSignal() != 0) inj.call("prctl(PR_SET_PDEATHSIG)", Nr.PRCTL, PR_SET_PDEATHSIG, t.pdeathSignal(), 0, 0, 0);
        // /proc/TID/timerslack_ns is the thread's own value, what PR_GET_TIMERSLACK answered at the dump:
        // one injected call saved where the thread inherited the value already (the default 50 us mostly)
        if (t.timerSlackNs().isPresent() && timerSlackNow(tid) != t.timerSlackNs().getAsLong()) {
            inj.call("prctl(PR_SET_TIMERSLACK)", Nr.PRCTL, PR_SET_TIMERSLACK, t.timerSlackNs().getAsLong(), 0, 0, 0);
        }
        if (t.noNewPrivs()) inj.call("prctl(PR_SET_NO_NEW_PRIVS)", Nr.PRCTL, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (t.mempolicy().isPresent()) {
            MemPolicy p = t.mempolicy().get();
            long mask = nodemask(mem, ctl, p);
            inj.call("set_mempolicy(" + p + ")", Nr.SET_MEMPOLICY, p.mode(), mask,
                    mask == 0 ? 0 : 64L * p.nodes().length + 1);
        }
        for (int which = 0; which < t.speculation().length; which++) {
            int v = t.speculation()[which];
            if ((v & PR_SPEC_PRCTL) == 0) continue; // not under prctl control: nothing the process chose
            long now = inj.raw(Nr.PRCTL, 52 /* PR_GET_SPECULATION_CTRL */, which, 0, 0, 0);
            if (now == v) continue;
            inj.call("prctl(PR_SET_SPECULATION_CTRL, " + which + ")", Nr.PRCTL, PR_SET_SPECULATION_CTRL, which,
                    v & ~PR_SPEC_PRCTL, 0, 0);
        }
        if (t.tsc().isPresent() && t.tsc().getAsInt() != PR_TSC_ENABLE) {
            inj.call("prctl(PR_SET_TSC)", Nr.PRCTL, PR_SET_TSC, t.tsc().getAsInt(), 0, 0, 0);
        }
        if (t.cpuid().isPresent() && t.cpuid().getAsInt() == 0) {
            inj.call("arch_prctl(ARCH_SET_CPUID, 0)", Nr.ARCH_PRCTL, ARCH_SET_CPUID, 0);
        }
        if (t.mceKill().isPresent()) {
            int m = t.mceKill().getAsInt();
            if (m == PR_MCE_KILL_DEFAULT) inj.call("prctl(PR_MCE_KILL_CLEAR)", Nr.PRCTL, PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0);
            else inj.call("prctl(PR_MCE_KILL_SET)", Nr.PRCTL, PR_MCE_KILL, PR_MCE_KILL_SET, m, 0, 0);
        }
        if (t.affinity().length > 0) {
            try {
                Sys.schedSetaffinity(tid, t.affinity());
            } catch (SysException e) {
                log.warn("thread " + tid + ": CPU affinity " + java.util.Arrays.toString(t.affinity())
                        + " could not be set (" + e.getMessage() + ")");
            }
        }
        if (t.ioprio().isPresent() && Sys.ioprioGet(tid) != t.ioprio().getAsInt()) {
            try {
                Sys.ioprioSet(tid, t.ioprio().getAsInt());
            } catch (SysException e) {
                log.warn("thread " + tid + ": I/O priority " + Integer.toHexString(t.ioprio().getAsInt())
                        + " could not be set (" + e.getMessage() + ")");
            }
        }
        if (tid != st.pid()) return;
        restoreDumpable(inj);
        restoreTimers(inj, mem, ctl);
    }

    /** Credentials changes reset dumpable to suid_dumpable, so it comes after all of them. */
    private void restoreDumpable(Injector inj) {
        int d = attrs.dumpable();
        if (d == 0 || d == 1) {
            inj.call("prctl(PR_SET_DUMPABLE, " + d + ")", Nr.PRCTL, PR_SET_DUMPABLE, d, 0, 0, 0);
        } else {
            long now = inj.raw(Nr.PRCTL, 3 /* PR_GET_DUMPABLE */, 0, 0, 0, 0);
            if (now != d) log.warn("dumpable " + d + " (suid_dumpable) cannot be set by prctl; it is " + now);
        }
    }

    // ---------------------------------------------------------------- timers

    /**
     * POSIX timers with their ids (PR_TIMER_CREATE_RESTORE_IDS makes timer_create take the id
     * from its third argument; without it ids are handed out in increasing order, so timers are
     * created and deleted until the next one gets the wanted id), armed with the time they had
     * left: for clocks that ran on while the process was checkpointed, from their absolute
     * expiry (one already past fires at once), as if the process had only been stopped.
     * Then the interval timers.
     */
    private void restoreTimers(Injector inj, TaskMemory mem, ControlArea ctl) throws IOException {
        ProcessAttrs.Timers t = attrs.timers();
        ctl.reset();
        List<PosixTimer> posix = new ArrayList<>(t.posix());
        posix.sort(Comparator.comparingInt(PosixTimer::id));
        if (!posix.isEmpty()) {
            long sev = ctl.alloc(64), idAddr = ctl.alloc(8);
            long on = inj.raw(Nr.PRCTL, PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0);
            boolean withIds = on == 0;
            if (!withIds && on != -Errno.EINVAL) {
                throw new IOException("prctl(PR_TIMER_CREATE_RESTORE_IDS) failed: " + Errno.name((int) -on));
            }
            try {
                for (PosixTimer p : posix) createTimer(inj, mem, sev, idAddr, p, withIds);
            } finally {
                if (withIds) inj.call("prctl(PR_TIMER_CREATE_RESTORE_IDS, OFF)", Nr.PRCTL, PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0);
            }
            long its = ctl.alloc(32);
            for (PosixTimer p : posix) {
                if (p.valueNs() == 0) continue;
                long left = p.expiryNs() != 0 ? Math.max(1, p.expiryNs() - Sys.clockNanos(p.clockId())) : p.valueNs();
                ByteBuffer b = ControlArea.le(32);
                b.putLong(p.intervalNs() / NS).putLong(p.intervalNs() % NS).putLong(left / NS).putLong(left % NS);
                mem.write(its, b.array());
                inj.call("timer_settime(" + p.id() + ")", Nr.TIMER_SETTIME, p.id(), 0, its, 0);
                log.debug(String.format("POSIX timer %d armed: %d ns left (%d at the dump), interval %d ns; overrun"
                        + " %d at the dump is not restorable", p.id(), left, p.valueNs(), p.intervalNs(), p.overrun()));
            }
        }
        setItimer(inj, mem, ctl, 0, t.real());
        setItimer(inj, mem, ctl, 1, t.virt());
        setItimer(inj, mem, ctl, 2, t.prof());
    }

    private void createTimer(Injector inj, TaskMemory mem, long sev, long idAddr, PosixTimer p, boolean withIds)
            throws IOException {
        // struct sigevent: sigev_value at 0, sigev_signo at 8, sigev_notify at 12, sigev_notify_thread_id at 16
        ByteBuffer b = ControlArea.le(64);
        b.putLong(0, p.sigval()).putInt(8, p.signo()).putInt(12, p.sigevNotify()).putInt(16, p.notifyTid());
        mem.write(sev, b.array());
        String what = "timer_create(clock " + p.clockId() + ") for timer " + p.id();
        for (int attempt = 0; ; attempt++) {
            mem.write(idAddr, ControlArea.le(4).putInt(0, p.id()).array());
            inj.call(what, Nr.TIMER_CREATE, p.clockId(), sev, idAddr);
            int got = ControlArea.le(4).put(mem.read(idAddr, 4)).getInt(0);
            if (got == p.id()) return;
            if (withIds || got > p.id() || attempt > 1_000_000) {
                throw new IOException(what + " gave id " + got + " instead of " + p.id());
            }
            inj.call("timer_delete(" + got + ")", Nr.TIMER_DELETE, got); // an id below the wanted one: skip it
        }
    }

    /**
     * An expired periodic ITIMER_REAL whose SIGALRM is still pending reads as value 0 with its
     * interval: the kernel re-arms it one period on when that signal is dequeued. setitimer
     * cannot set an interval without a value, so it is armed for one interval from now; the
     * pending SIGALRM itself is restored with the other pending signals.
     */
    private void setItimer(Injector inj, TaskMemory mem, ControlArea ctl, int which, Itimer i) throws IOException {
        if (!i.armed() && i.intervalNs() == 0) return;
        long left = !i.armed() ? i.intervalNs()
                : i.expiryNs() != 0 ? Math.max(1000, i.expiryNs() - Sys.clockNanos(CLOCK_MONOTONIC)) : i.valueNs();
        long a = ctl.alloc(32);
        ByteBuffer b = ControlArea.le(32);
        b.putLong(i.intervalNs() / NS).putLong(i.intervalNs() % NS / 1000).putLong(left / NS)
                .putLong(left % NS / 1000);
        mem.write(a, b.array());
        inj.call("setitimer(" + which + ")", Nr.SETITIMER, which, a, 0);
        log.debug("itimer " + which + " armed: " + left / 1000 + " us left, interval " + i.intervalNs() / 1000 + " us");
    }

    // ---------------------------------------------------------------- helpers

    /** The node mask in the control area, or 0 (NULL) when empty. */
    private static long nodemask(TaskMemory mem, ControlArea ctl, MemPolicy p) throws IOException {
        if (p.nodes().length == 0) return 0;
        long at = ctl.alloc(8L * p.nodes().length);
        ByteBuffer b = ControlArea.le(8 * p.nodes().length);
        for (long w : p.nodes()) b.putLong(w);
        mem.write(at, b.array());
        return at;
    }

    /** The thread's timer slack now; -1 when it cannot be read (it is then set). */
    private static long timerSlackNow(int tid) {
        try {
            return Long.parseLong(Files.readString(Path.of("/proc", Integer.toString(tid), "timerslack_ns")).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static String readProc(int pid, String name) {
        try {
            return Files.readString(Path.of("/proc", Integer.toString(pid), name)).strip();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read /proc/" + pid + "/" + name, e);
        }
    }

    private void writeProc(int pid, String name, String value) {
        try {
            Files.writeString(Path.of("/proc", Integer.toString(pid), name), value);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + value + " to /proc/" + pid + "/" + name, e);
        }
    }
}

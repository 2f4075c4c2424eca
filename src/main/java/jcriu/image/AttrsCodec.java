package jcriu.image;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

import jcriu.image.pb.CoreEntry;
import jcriu.image.pb.CredsEntry;
import jcriu.image.pb.ItimerEntry;
import jcriu.image.pb.JcriuCgroup;
import jcriu.image.pb.JcriuMempolicy;
import jcriu.image.pb.JcriuVmaPolicy;
import jcriu.image.pb.MmEntry;
import jcriu.image.pb.PosixTimerEntry;
import jcriu.image.pb.SeccompMode;
import jcriu.image.pb.TaskCoreEntry;
import jcriu.image.pb.TaskTimersEntry;
import jcriu.image.pb.ThreadCoreEntry;
import jcriu.image.pb.VmaEntry;
import jcriu.state.ProcessAttrs;
import jcriu.state.ProcessAttrs.Cgroup;
import jcriu.state.ProcessAttrs.Itimer;
import jcriu.state.ProcessAttrs.MemPolicy;
import jcriu.state.ProcessAttrs.PosixTimer;
import jcriu.state.ProcessAttrs.ThreadAttrs;
import jcriu.state.ProcessAttrs.Timers;
import jcriu.state.ProcessAttrs.VmaPolicy;
import jcriu.state.Seccomp;
import jcriu.state.VmaAttrs;
import jcriu.state.VmaState;

/**
 * {@link ProcessAttrs} and {@link VmaAttrs} in the images. Where CRIU has a field for an item
 * its field is used (timers, loginuid, oom_score_adj, child_subreaper, membarrier, pdeath_sig,
 * secbits, no_new_privs, dumpable, thp_disabled, MAP_LOCKED, fdflags, seccomp mode and filter); the rest goes into
 * jcriu_* fields that CRIU does not know and skips.
 */
public final class AttrsCodec {
    private static final long NS_PER_S = 1_000_000_000L, NS_PER_US = 1_000L;

    private AttrsCodec() {}

    // ---------------------------------------------------------------- write

    /** The thread's items into its core (and, for the leader, the process's into task_core_entry). */
    public static void putCore(CoreEntry.Builder c, ProcessAttrs a, int tid, boolean leader,
                               java.util.Map<Integer, Integer> seccompFilters) {
        ThreadAttrs t = a.thread(tid).orElseThrow(() -> new IllegalArgumentException("no attributes for thread " + tid));
        ThreadCoreEntry.Builder tc = c.getThreadCoreBuilder();
        if (t.creds() != null) tc.setCreds(StateCodec.creds(t.creds())); // the thread's own, as CRIU keeps them
        tc.setPdeathSig(t.pdeathSignal()).setSeccompMode(SeccompMode.forNumber(t.seccomp().mode()));
        if (t.seccomp().mode() == Seccomp.FILTER) tc.setSeccompFilter(seccompFilters.get(tid));
        CredsEntry.Builder cr = tc.getCredsBuilder();
        cr.setSecbits(t.secureBits()).setNoNewPrivs(t.noNewPrivs() ? 1 : 0);
        t.timerSlackNs().ifPresent(tc::setJcriuTimerSlackNs);
        for (long w : t.affinity()) tc.addJcriuAffinity(w);
        t.ioprio().ifPresent(tc::setJcriuIoprio);
        t.mempolicy().ifPresent(p -> tc.setJcriuMempolicy(policy(p)));
        for (int s : t.speculation()) tc.addJcriuSpeculation(s);
        t.tsc().ifPresent(tc::setJcriuTsc);
        t.cpuid().ifPresent(tc::setJcriuCpuid);
        t.mceKill().ifPresent(tc::setJcriuMceKill);
        if (!leader) return;
        TaskCoreEntry.Builder task = c.getTcBuilder();
        task.setTimers(timers(a.timers())).setOomScoreAdj(a.oomScoreAdj()).setChildSubreaper(a.childSubreaper())
                .setMembarrierRegistrationMask(a.membarrier());
        a.loginuid().ifPresent(l -> task.setLoginuid((int) l));
        a.autogroupNice().ifPresent(task::setJcriuAutogroupNice);
        for (Cgroup g : a.cgroups()) {
            task.addJcriuCgroups(JcriuCgroup.newBuilder().setHierarchy(g.hierarchy()).setControllers(g.controllers())
                    .setPath(g.path()));
        }
    }

    /** The mm-wide items. */
    public static MmEntry.Builder putMm(MmEntry.Builder m, ProcessAttrs a) {
        m.setDumpable(a.dumpable()).setThpDisabled((a.thpDisable() & 1) != 0).setJcriuThpDisable(a.thpDisable())
                .setJcriuMlockall(a.mlockall()).setJcriuMdwe(a.mdwe()).setJcriuMemoryMerge(a.memoryMerge());
        a.coredumpFilter().ifPresent(m::setJcriuCoredumpFilter);
        for (VmaPolicy p : a.vmaPolicies()) {
            m.addJcriuVmaPolicies(JcriuVmaPolicy.newBuilder().setStart(p.start()).setEnd(p.end())
                    .setPolicy(policy(p.policy())));
        }
        return m;
    }

    /** A mapping's attributes: CRIU's MAP_LOCKED and fdflags, jcriu's on-fault, name and seal. */
    public static void putVma(VmaEntry.Builder e, VmaState v) {
        VmaAttrs a = v.attrs();
        if (a.lock() != VmaAttrs.Lock.NONE) e.setFlags(e.getFlags() | VmaState.MAP_LOCKED);
        if (a.lock() == VmaAttrs.Lock.LOCKED_ON_FAULT) e.setJcriuLockOnFault(true);
        if (a.anonName() != null) e.setJcriuAnonName(a.anonName());
        if (a.sealed()) e.setJcriuSealed(true);
        if (v.kind() == VmaState.Kind.FILE_SHARED) e.setFdflags(a.fileFlags());
    }

    private static TaskTimersEntry timers(Timers t) {
        TaskTimersEntry.Builder b = TaskTimersEntry.newBuilder().setReal(itimer(t.real())).setVirt(itimer(t.virt()))
                .setProf(itimer(t.prof()));
        for (PosixTimer p : t.posix()) {
            PosixTimerEntry.Builder e = PosixTimerEntry.newBuilder().setItId(p.id()).setClockId(p.clockId())
                    .setSiSigno(p.signo()).setItSigevNotify(p.sigevNotify()).setSivalPtr(p.sigval()).setOverrun(p.overrun())
                    .setIsec(p.intervalNs() / NS_PER_S).setInsec(p.intervalNs() % NS_PER_S)
                    .setVsec(p.valueNs() / NS_PER_S).setVnsec(p.valueNs() % NS_PER_S);
            if ((p.sigevNotify() & PosixTimer.SIGEV_THREAD_ID) != 0) e.setNotifyThreadId(p.notifyTid());
            if (p.expiryNs() != 0) e.setJcriuExpiryNs(p.expiryNs());
            b.addPosix(e);
        }
        return b.build();
    }

    private static ItimerEntry itimer(Itimer i) {
        ItimerEntry.Builder b = ItimerEntry.newBuilder().setIsec(i.intervalNs() / NS_PER_S)
                .setIusec(i.intervalNs() % NS_PER_S / NS_PER_US).setVsec(i.valueNs() / NS_PER_S)
                .setVusec(i.valueNs() % NS_PER_S / NS_PER_US);
        if (i.expiryNs() != 0) b.setJcriuExpiryNs(i.expiryNs());
        return b.build();
    }

    private static JcriuMempolicy policy(MemPolicy p) {
        JcriuMempolicy.Builder b = JcriuMempolicy.newBuilder().setMode(p.mode());
        for (long w : p.nodes()) b.addNodes(w);
        return b.build();
    }

    // ---------------------------------------------------------------- read

    /** The flags to mmap with: MAP_LOCKED is a lock, applied once the pages are in. */
    public static int mmapFlags(VmaEntry e) {
        // MAP_ANONYMOUS is written for CRIU (CriuLayout.vmaFlags); the restore adds it where it maps
        // without a file, and must not where it maps a shmem object by fd (the fd would be ignored)
        return e.getFlags() & ~(VmaState.MAP_LOCKED | VmaState.MAP_ANONYMOUS);
    }

    public static VmaAttrs vmaAttrs(VmaEntry e) {
        VmaAttrs.Lock lock = (e.getFlags() & VmaState.MAP_LOCKED) == 0 ? VmaAttrs.Lock.NONE
                : e.getJcriuLockOnFault() ? VmaAttrs.Lock.LOCKED_ON_FAULT : VmaAttrs.Lock.LOCKED;
        return new VmaAttrs(e.getFdflags(), lock, e.hasJcriuAnonName() ? e.getJcriuAnonName() : null,
                e.getJcriuSealed());
    }

    /** Everything {@link #putCore} and {@link #putMm} wrote, from the core and mm images. */
    public static ProcessAttrs read(ImageDir dir, int pid, List<Integer> tids) throws IOException {
        List<ThreadAttrs> threads = new ArrayList<>();
        TaskCoreEntry task = null;
        List<jcriu.image.pb.SeccompFilter> filters = null;
        jcriu.state.ProcessState.Creds leaderCreds = null;
        for (int tid : tids) {
            CoreEntry c;
            Seccomp seccomp = Seccomp.NONE;
            try (ImageInput in = dir.open(ImageFile.core(tid))) {
                c = in.single(CoreEntry.parser());
                ThreadCoreEntry tc = c.getThreadCore();
                SeccompMode mode = tc.hasSeccompMode() ? tc.getSeccompMode() : SeccompMode.disabled;
                if (mode == SeccompMode.strict) seccomp = new Seccomp(Seccomp.STRICT, List.of());
                if (mode == SeccompMode.filter) {
                    if (!tc.hasSeccompFilter()) {
                        throw new ImageException(in.file(), 0, "thread " + tid + " is in seccomp filter mode but names"
                                + " no filter");
                    }
                    if (filters == null) filters = SeccompCodec.read(dir);
                    seccomp = new Seccomp(Seccomp.FILTER, SeccompCodec.chain(dir, filters, tid, tc.getSeccompFilter()));
                }
            }
            if (tid == pid) task = c.getTc();
            jcriu.state.ProcessState.Creds creds = StateCodec.creds(c.getThreadCore().getCreds());
            if (tid == pid) leaderCreds = creds;
            threads.add(thread(tid, c.getThreadCore(), seccomp, creds));
        }
        for (int i = 0; i < threads.size(); i++) { // a thread keeps creds of its own only where they differ
            ThreadAttrs t = threads.get(i);
            if (leaderCreds != null && t.creds().same(leaderCreds)) threads.set(i, withCreds(t, null));
        }
        if (task == null) throw new IOException("core image of the leader " + pid + " has no task state");
        MmEntry m;
        try (ImageInput in = dir.open(ImageFile.mm(pid))) {
            m = in.single(MmEntry.parser());
        }
        List<Cgroup> cgroups = new ArrayList<>();
        for (JcriuCgroup g : task.getJcriuCgroupsList()) cgroups.add(new Cgroup(g.getHierarchy(), g.getControllers(), g.getPath()));
        List<VmaPolicy> policies = new ArrayList<>();
        for (JcriuVmaPolicy p : m.getJcriuVmaPoliciesList()) {
            policies.add(new VmaPolicy(p.getStart(), p.getEnd(), policy(p.getPolicy())));
        }
        int thp = m.hasJcriuThpDisable() ? m.getJcriuThpDisable() : (m.getThpDisabled() ? 1 : 0);
        return new ProcessAttrs(task.hasTimers() ? timers(task.getTimers()) : Timers.NONE, task.getOomScoreAdj(),
                task.hasLoginuid() ? OptionalLong.of(Integer.toUnsignedLong(task.getLoginuid())) : OptionalLong.empty(),
                task.getChildSubreaper(), m.hasDumpable() ? m.getDumpable() : 1, thp, m.getJcriuMlockall(),
                m.getJcriuMdwe(), m.getJcriuMemoryMerge(), task.getMembarrierRegistrationMask(),
                m.hasJcriuCoredumpFilter() ? OptionalInt.of(m.getJcriuCoredumpFilter()) : OptionalInt.empty(),
                task.hasJcriuAutogroupNice() ? OptionalInt.of(task.getJcriuAutogroupNice()) : OptionalInt.empty(),
                cgroups, policies, threads);
    }

    private static ThreadAttrs thread(int tid, ThreadCoreEntry tc, Seccomp seccomp, jcriu.state.ProcessState.Creds creds) {
        CredsEntry cr = tc.getCreds();
        return new ThreadAttrs(tid, tc.getPdeathSig(),
                tc.hasJcriuTimerSlackNs() ? OptionalLong.of(tc.getJcriuTimerSlackNs()) : OptionalLong.empty(),
                cr.getNoNewPrivs() != 0, cr.getSecbits(),
                tc.getJcriuAffinityList().stream().mapToLong(Long::longValue).toArray(),
                tc.hasJcriuIoprio() ? OptionalInt.of(tc.getJcriuIoprio()) : OptionalInt.empty(),
                tc.hasJcriuMempolicy() ? Optional.of(policy(tc.getJcriuMempolicy())) : Optional.empty(),
                tc.getJcriuSpeculationList().stream().mapToInt(Integer::intValue).toArray(),
                tc.hasJcriuTsc() ? OptionalInt.of(tc.getJcriuTsc()) : OptionalInt.empty(),
                tc.hasJcriuCpuid() ? OptionalInt.of(tc.getJcriuCpuid()) : OptionalInt.empty(),
                tc.hasJcriuMceKill() ? OptionalInt.of(tc.getJcriuMceKill()) : OptionalInt.empty(), seccomp, creds);
    }

    private static ThreadAttrs withCreds(ThreadAttrs t, jcriu.state.ProcessState.Creds creds) {
        return new ThreadAttrs(t.tid(), t.pdeathSignal(), t.timerSlackNs(), t.noNewPrivs(), t.secureBits(), t.affinity(),
                t.ioprio(), t.mempolicy(), t.speculation(), t.tsc(), t.cpuid(), t.mceKill(), t.seccomp(), creds);
    }

    private static Timers timers(TaskTimersEntry t) {
        List<PosixTimer> posix = new ArrayList<>();
        for (PosixTimerEntry e : t.getPosixList()) {
            posix.add(new PosixTimer(e.getItId(), e.getClockId(), e.getSiSigno(), e.getItSigevNotify(),
                    e.getNotifyThreadId(), e.getSivalPtr(), e.getOverrun(), e.getIsec() * NS_PER_S + e.getInsec(),
                    e.getVsec() * NS_PER_S + e.getVnsec(), e.getJcriuExpiryNs()));
        }
        return new Timers(itimer(t.getReal()), itimer(t.getVirt()), itimer(t.getProf()), posix);
    }

    private static Itimer itimer(ItimerEntry e) {
        return new Itimer(e.getIsec() * NS_PER_S + e.getIusec() * NS_PER_US, e.getVsec() * NS_PER_S + e.getVusec() * NS_PER_US,
                e.getJcriuExpiryNs());
    }

    private static MemPolicy policy(JcriuMempolicy p) {
        return new MemPolicy(p.getMode(), p.getNodesList().stream().mapToLong(Long::longValue).toArray());
    }
}

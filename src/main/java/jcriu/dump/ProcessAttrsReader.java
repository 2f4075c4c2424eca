package jcriu.dump;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

import jcriu.api.Log;
import jcriu.inject.Injector;
import jcriu.proc.Cgroups;
import jcriu.proc.NumaMaps;
import jcriu.proc.PosixTimers;
import jcriu.proc.ProcAttrs;
import jcriu.proc.ProcStatus;
import jcriu.proc.Status;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.state.ProcessAttrs;
import jcriu.state.ProcessAttrs.Cgroup;
import jcriu.state.ProcessAttrs.Itimer;
import jcriu.state.ProcessAttrs.MemPolicy;
import jcriu.state.ProcessAttrs.PosixTimer;
import jcriu.state.ProcessAttrs.ThreadAttrs;
import jcriu.state.ProcessAttrs.Timers;
import jcriu.state.ProcessAttrs.VmaPolicy;
import jcriu.state.VmaState;
import jcriu.sys.Errno;
import jcriu.sys.Nr;
import jcriu.sys.Sys;

/**
 * Reads {@link ProcessAttrs} from a frozen process, and refuses the dump, naming the item and
 * the thread, for what jcriu cannot give back (docs/process-state.md). Most items are read
 * from /proc or with syscalls that take a thread id; the rest only the process can tell, so
 * they are asked by syscalls injected into each thread, with all its signals blocked and a
 * scratch page that is gone again before memory is read.
 */
final class ProcessAttrsReader {
    private static final Path PROC = Path.of("/proc");
    private static final int PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_GET_TSC = 25, PR_GET_SECUREBITS = 27,
            PR_MCE_KILL_GET = 34, PR_GET_CHILD_SUBREAPER = 37, PR_GET_THP_DISABLE = 42,
            PR_GET_SPECULATION_CTRL = 52, PR_GET_IO_FLUSHER = 58, PR_SCHED_CORE = 62, PR_GET_MDWE = 66,
            PR_GET_MEMORY_MERGE = 68;
    private static final int ARCH_GET_CPUID = 0x1011, ARCH_GET_XCOMP_PERM = 0x1022;
    private static final int CAP_SYS_RESOURCE = 24;
    private static final long XFEATURE_MASK_XTILEDATA = 1L << 18;
    private static final int MEMBARRIER_CMD_GET_REGISTRATIONS = 1 << 9;
    private static final int MPOL_F_ADDR = 1 << 1;
    static final int MAX_NODES = 1024, NODEMASK_BYTES = MAX_NODES / 8;
    private static final int MCL_FUTURE = 2, MCL_ONFAULT = 4;
    private static final int CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_THREAD_CPUTIME_ID = 3,
            CLOCK_BOOTTIME = 7, CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;
    static final String[] NAMESPACES = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
            "time_for_children", "user", "uts"};

    private final Tracer tracer;
    private final Log log;
    private final Injections injections;

    ProcessAttrsReader(Tracer tracer, Log log, Injections injections) {
        this.tracer = tracer;
        this.log = log;
        this.injections = injections;
    }

    /**
     * Refuses, from /proc alone, what jcriu cannot restore, and suspends seccomp in the threads
     * under it. Called right after the freeze, before anything is injected: a seccomp filter
     * could kill the process for an injected system call, and a refusal must leave the process
     * as it was.
     */
    static void refuse(Tracer tracer, int pid, List<Integer> tids) throws IOException {
        refuseFromProc(pid, tids);
        refuseTimers(pid, PosixTimers.read(PROC, pid), tids.size());
        SeccompReader.suspend(tracer, pid, tids);
    }

    /** Everything else, partly by injection; {@link #refuse} has passed. */
    ProcessAttrs read(int pid, List<DumpEngine.Early> threads, TaskMemory mem) throws IOException {
        List<PosixTimers.Entry> timers = PosixTimers.read(PROC, pid);
        List<ThreadAttrs> perThread = new ArrayList<>();
        Leader leader = null;
        for (DumpEngine.Early t : threads) {
            Asked a = ask(t, mem, threads, t.tid() == pid ? timers : null);
            perThread.add(a.thread());
            if (a.leader() != null) leader = a.leader();
        }
        if (leader == null) throw new IllegalStateException("the leader " + pid + " is not among the threads");
        ProcessAttrs attrs = new ProcessAttrs(leader.timers(), ProcAttrs.oomScoreAdj(PROC, pid),
                ProcAttrs.loginuid(PROC, pid), leader.subreaper(), leader.dumpable(), leader.thp(), leader.mlockall(),
                leader.mdwe(), leader.merge(), leader.membarrier(), OptionalInt.of(ProcAttrs.coredumpFilter(PROC, pid)),
                ProcAttrs.autogroupNice(PROC, pid), cgroups(pid), leader.vmaPolicies(), perThread);
        log.debug("process attributes of " + pid + ": " + describe(attrs));
        return attrs;
    }

    // ---------------------------------------------------------------- refusals from /proc

    /** What /proc alone shows jcriu cannot restore. */
    private static void refuseFromProc(int pid, List<Integer> tids) throws IOException {
        for (String ns : NAMESPACES) {
            String mine = ProcAttrs.namespace(PROC, Sys.getpid(), ns);
            String theirs;
            try {
                theirs = ProcAttrs.namespace(PROC, pid, ns);
            } catch (jcriu.proc.ProcException absent) {
                continue; // a namespace kind this kernel does not have
            }
            if (!mine.equals(theirs)) {
                throw new IOException("process " + pid + " is in " + ns + " namespace " + theirs + ", not jcriu's "
                        + mine + "; namespaces are not supported yet");
            }
        }
        String label = lsmLabel(pid), mine = lsmLabel(Sys.getpid());
        if (!label.equals(mine)) {
            throw new IOException("process " + pid + " has the security label '" + label + "' (jcriu: '" + mine
                    + "'); LSM labels are not supported yet");
        }
        refuseProtectionKeys(pid);
        String cgroups = java.nio.file.Files.readString(PROC.resolve(pid + "/cgroup"));
        for (int tid : tids) {
            ProcStatus s = Status.readTask(PROC, pid, tid);
            String who = "thread " + tid + " of process " + pid;
            String untag = s.field("untag_mask").orElse("0xffffffffffffffff");
            if (!untag.equals("0xffffffffffffffff")) {
                throw new IOException(who + " uses linear address masking (untag_mask " + untag + "); not supported yet");
            }
            String own = java.nio.file.Files.readString(PROC.resolve(pid + "/task/" + tid + "/cgroup"));
            if (!own.equals(cgroups)) {
                throw new IOException(who + " is in cgroups of its own (" + own.strip().replace('\n', ' ')
                        + "); per-thread cgroups are not supported yet");
            }
            int[] clamp = Sys.schedUtilClamp(tid);
            if (!(clamp[0] == 0 && (clamp[1] == 1024 || clamp[1] == 0))) {
                throw new IOException(who + " has scheduler utilization clamps " + clamp[0] + ".." + clamp[1]
                        + "; not supported yet");
            }
        }
    }

    /** /proc/PID/attr/current, "" when no LSM answers (EINVAL). */
    private static String lsmLabel(int pid) {
        try {
            return java.nio.file.Files.readString(PROC.resolve(pid + "/attr/current")).replace("\0", "").strip();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Memory protection keys (pkey_mprotect) show as "ProtectionKey:" in smaps on CPUs that have
     * them; a mapping with a key other than 0 depends on keys allocated with pkey_alloc and on
     * the PKRU register, which jcriu does not restore.
     */
    private static void refuseProtectionKeys(int pid) throws IOException {
        // Without keys on this CPU or kernel no line names one. jcriu's own smaps is not read to
        // find out: for a JVM it is large, and reading it cost 5-10 ms per process of a tree.
        String range = "";
        for (String l : java.nio.file.Files.readAllLines(PROC.resolve(pid + "/smaps"))) {
            int sp = l.indexOf(' ');
            if (sp > 0 && MAPPING_RANGE.matcher(l).region(0, sp).matches()) {
                range = l.substring(0, sp);
            } else if (l.startsWith("ProtectionKey:") && !l.substring(14).strip().equals("0")) {
                throw new IOException("mapping " + range + " of process " + pid + " has memory protection key "
                        + l.substring(14).strip() + "; protection keys are not supported yet");
            }
        }
    }

    /** A mapping's first line in smaps starts with its range; the fields' lines start with a name. */
    private static final java.util.regex.Pattern MAPPING_RANGE = java.util.regex.Pattern.compile("[0-9a-f]+-[0-9a-f]+");

    /** Credentials are per thread: a thread's own where they differ from the leader's, else null. */
    private static jcriu.state.ProcessState.Creds ownCreds(int pid, int tid) throws IOException {
        if (tid == pid) return null;
        jcriu.state.ProcessState.Creds mine = creds(Status.readTask(PROC, pid, tid));
        return mine.same(creds(Status.read(PROC, pid))) ? null : mine;
    }

    static jcriu.state.ProcessState.Creds creds(ProcStatus s) {
        var c = s.caps();
        return new jcriu.state.ProcessState.Creds(ids(s.uid()), ids(s.gid()),
                s.groups().stream().mapToInt(Integer::intValue).toArray(), c.inheritable(), c.permitted(), c.effective(),
                c.bounding(), c.ambient());
    }

    private static int[] ids(jcriu.proc.Ids i) {
        return new int[] {i.real(), i.effective(), i.saved(), i.fs()};
    }

    /**
     * A timer on a thread's CPU clock created with CLOCK_THREAD_CPUTIME_ID (which glibc passes
     * as the CPU clock of "thread 0", the caller) counts the CPU time of the thread that created
     * it, which nothing reports: with one thread that is the leader, with more it is unknown.
     * A CPU clock that names a process or thread must be this process or one of its threads.
     */
    private static void refuseTimers(int pid, List<PosixTimers.Entry> timers, int threads) throws IOException {
        for (PosixTimers.Entry e : timers) {
            String which = "POSIX timer " + e.id() + " of process " + pid;
            int clock = e.clockId();
            boolean ownThread = clock == CLOCK_THREAD_CPUTIME_ID || (clock < 0 && (clock & 4) != 0 && ~(clock >> 3) == 0);
            if (ownThread && threads > 1) {
                throw new IOException(which + " counts the CPU time of the thread that created it (CLOCK_THREAD_"
                        + "CPUTIME_ID), which the kernel does not report in a process of " + threads + " threads; not"
                        + " supported yet");
            }
            if (clock < 0 && !ownThread) {
                int owner = ~(clock >> 3);
                boolean thread = (clock & 4) != 0;
                boolean ours = thread ? java.nio.file.Files.exists(PROC.resolve(pid + "/task/" + owner))
                        : owner == 0 || owner == pid;
                if (!ours) {
                    // even a process of the same tree: its clock would have to exist before this timer is made
                    throw new IOException(which + " runs on the CPU clock of " + (thread ? "thread " : "process ")
                            + owner + ", another process; not supported yet");
                }
            }
        }
    }

    private static List<Cgroup> cgroups(int pid) throws IOException {
        List<Cgroup> out = new ArrayList<>();
        for (Cgroups.Entry e : Cgroups.read(PROC, pid)) out.add(new Cgroup(e.hierarchy(), e.controllers(), e.path()));
        return out;
    }

    // ---------------------------------------------------------------- asked inside the process

    private record Leader(Timers timers, boolean subreaper, int dumpable, int thp, int mlockall, int mdwe,
                          boolean merge, int membarrier, List<VmaPolicy> vmaPolicies) {}

    private record Asked(ThreadAttrs thread, Leader leader) {}

    /** Scratch layout: small results at 0, an itimerval/itimerspec at 64, a node mask at 128. */
    private static final int SCRATCH = 4096, OUT = 0, SPEC = 64, MASK = 128;

    /** One injection session in a thread; {@code timers} non-null for the leader (process-wide items too). */
    private Asked ask(DumpEngine.Early t, TaskMemory mem, List<DumpEngine.Early> threads,
                      List<PosixTimers.Entry> timers) throws IOException {
        int tid = t.tid();
        String who = "thread " + tid;
        boolean leader = timers != null;
        try (InjectionSession session = injections.open(t, mem, threads, leader ? "attrs" : "attrs-thread")) {
            Injector inj = session.injector();
            long page = session.scratch();
            // what /proc shows exactly as the thread's own calls would answer is read there: no injected call for it
            ProcStatus status = Status.readTask(PROC, mem.pid(), tid);
            inj.call("prctl(PR_GET_PDEATHSIG)", Nr.PRCTL, PR_GET_PDEATHSIG, page + OUT, 0, 0, 0);
            int pdeath = readInt(mem, page + OUT);
            long slack = timerSlack(tid); // the task's timer_slack_ns, which PR_GET_TIMERSLACK answers
            int secbits = (int) inj.call("prctl(PR_GET_SECUREBITS)", Nr.PRCTL, PR_GET_SECUREBITS, 0, 0, 0, 0);
            MemPolicy policy = mempolicy(inj, mem, page, 0, 0, who);
            int[] spec = new int[3];
            for (int which = 0; which < 3; which++) {
                long r = inj.raw(Nr.PRCTL, PR_GET_SPECULATION_CTRL, which, 0, 0, 0);
                spec[which] = r < 0 ? 0 : (int) r; // ENODEV/EINVAL: not on this CPU or kernel, nothing to restore
            }
            inj.call("prctl(PR_GET_TSC)", Nr.PRCTL, PR_GET_TSC, page + OUT, 0, 0, 0);
            int tsc = readInt(mem, page + OUT);
            long cpuid = inj.raw(Nr.ARCH_PRCTL, ARCH_GET_CPUID, 0);
            int mce = (int) inj.call("prctl(PR_MCE_KILL_GET)", Nr.PRCTL, PR_MCE_KILL_GET, 0, 0, 0, 0);
            refuseInside(inj, mem, page, who, status);
            ThreadAttrs ta = new ThreadAttrs(tid, pdeath, OptionalLong.of(slack), status.noNewPrivs(), secbits, Sys.schedGetaffinity(tid), OptionalInt.of(Sys.ioprioGet(tid)),
                    Optional.of(policy), spec, OptionalInt.of(tsc),
                    cpuid < 0 ? OptionalInt.empty() : OptionalInt.of((int) cpuid), OptionalInt.of(mce),
                    SeccompReader.read(tracer, mem.pid(), tid), ownCreds(mem.pid(), tid));
            Leader l = null;
            if (leader) l = askProcess(inj, mem, page, timers, policy, mlockall(session, mem));
            return new Asked(ta, l);
        }
    }

    /**
     * mlockall(MCL_FUTURE) shows only in a new mapping: one page mapped and unmapped at once,
     * which a thread let go in between unmaps itself ({@link InjectionSession#withProbePage}).
     */
    private static int mlockall(InjectionSession session, TaskMemory mem) throws IOException {
        long lockedBefore = lockedKb(mem.pid());
        return session.withProbePage(probe -> {
            if (lockedKb(mem.pid()) <= lockedBefore) return 0;
            // the probe came out locked: mm->def_flags has VM_LOCKED (mlockall MCL_FUTURE)
            return MCL_FUTURE | (scratchFlags(mem.pid(), probe).contains("lf") ? MCL_ONFAULT : 0);
        });
    }

    /** Thread items jcriu cannot restore, which only the thread can tell. */
    private void refuseInside(Injector inj, TaskMemory mem, long page, String who, ProcStatus status) throws IOException {
        // x86_Thread_features lists the features ARCH_SHSTK_STATUS answers (shstk, wrss); no line: no shadow stacks here
        String cet = status.field("x86_Thread_features").orElse("").strip();
        if (!cet.isEmpty()) {
            throw new IOException(who + " has a shadow stack (x86_Thread_features: " + cet + "); not supported yet");
        }
        // PR_GET_IO_FLUSHER answers EPERM to a thread without CAP_SYS_RESOURCE in its effective set: not asked then
        if ((status.caps().effective() & (1L << CAP_SYS_RESOURCE)) == 0) {
            log.debug(who + ": PR_GET_IO_FLUSHER needs CAP_SYS_RESOURCE, which the thread lacks");
        } else {
            long f = inj.raw(Nr.PRCTL, PR_GET_IO_FLUSHER, 0, 0, 0, 0);
            if (f == 1) throw new IOException(who + " is an I/O flusher (PR_SET_IO_FLUSHER); not supported yet");
            if (f == -Errno.EPERM) log.debug(who + ": PR_GET_IO_FLUSHER needs CAP_SYS_RESOURCE, which jcriu lacks");
        }
        long r = inj.raw(Nr.MODIFY_LDT, 0 /* read */, page + SPEC, 16);
        if (r > 0) throw new IOException(who + " has a local descriptor table (modify_ldt); not supported yet");
        mem.writeLong(page + OUT, 0);
        r = inj.raw(Nr.PRCTL, PR_SCHED_CORE, 0 /* PR_SCHED_CORE_GET */, 0, 0 /* PIDTYPE_PID */, page + OUT);
        if (r == 0 && mem.readLong(page + OUT) != 0) {
            throw new IOException(who + " has a core-scheduling cookie (PR_SCHED_CORE); not supported yet");
        }
    }

    private Leader askProcess(Injector inj, TaskMemory mem, long page, List<PosixTimers.Entry> timers,
                              MemPolicy leaderPolicy, int mlockall) throws IOException {
        int pid = mem.pid();
        int dumpable = (int) inj.call("prctl(PR_GET_DUMPABLE)", Nr.PRCTL, PR_GET_DUMPABLE, 0, 0, 0, 0);
        inj.call("prctl(PR_GET_CHILD_SUBREAPER)", Nr.PRCTL, PR_GET_CHILD_SUBREAPER, page + OUT, 0, 0, 0);
        boolean subreaper = readInt(mem, page + OUT) != 0;
        int thp = (int) inj.call("prctl(PR_GET_THP_DISABLE)", Nr.PRCTL, PR_GET_THP_DISABLE, 0, 0, 0, 0);
        long mdwe = inj.raw(Nr.PRCTL, PR_GET_MDWE, 0, 0, 0, 0);
        long merge = inj.raw(Nr.PRCTL, PR_GET_MEMORY_MERGE, 0, 0, 0, 0);
        long membarrier = inj.raw(Nr.MEMBARRIER, MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0);
        if (membarrier < 0) {
            log.warn("process " + pid + ": membarrier registrations cannot be read on this kernel (before 6.3: "
                    + Errno.name((int) -membarrier) + "); any registration will be missing after restore");
        }
        long r = inj.raw(Nr.ARCH_PRCTL, ARCH_GET_XCOMP_PERM, page + OUT);
        if (r == 0 && (mem.readLong(page + OUT) & XFEATURE_MASK_XTILEDATA) != 0) {
            throw new IOException("process " + pid + " was granted AMX state (ARCH_REQ_XCOMP_PERM); not supported yet");
        }
        Timers t = new Timers(itimer(inj, mem, page, 0, true), itimer(inj, mem, page, 1, false),
                itimer(inj, mem, page, 2, false), posixTimers(inj, mem, page, timers));
        List<VmaPolicy> policies = vmaPolicies(inj, mem, page, pid);
        return new Leader(t, subreaper, dumpable, thp, mlockall, mdwe < 0 ? 0 : (int) mdwe, merge > 0,
                membarrier < 0 ? 0 : (int) membarrier, policies);
    }

    /** getitimer; ITIMER_REAL also as an absolute expiry on CLOCK_MONOTONIC. */
    private static Itimer itimer(Injector inj, TaskMemory mem, long page, int which, boolean real) throws IOException {
        inj.call("getitimer(" + which + ")", Nr.GETITIMER, which, page + SPEC);
        ByteBuffer b = le(mem.read(page + SPEC, 32));
        long interval = b.getLong(0) * 1_000_000_000L + b.getLong(8) * 1_000L;
        long value = b.getLong(16) * 1_000_000_000L + b.getLong(24) * 1_000L;
        long expiry = real && value != 0 ? Sys.clockNanos(CLOCK_MONOTONIC) + value : 0;
        return new Itimer(interval, value, expiry);
    }

    private List<PosixTimer> posixTimers(Injector inj, TaskMemory mem, long page, List<PosixTimers.Entry> timers)
            throws IOException {
        List<PosixTimer> out = new ArrayList<>();
        for (PosixTimers.Entry e : timers) {
            inj.call("timer_gettime(" + e.id() + ")", Nr.TIMER_GETTIME, e.id(), page + SPEC);
            ByteBuffer b = le(mem.read(page + SPEC, 32));
            long interval = b.getLong(0) * 1_000_000_000L + b.getLong(8);
            long value = b.getLong(16) * 1_000_000_000L + b.getLong(24);
            int overrun = (int) inj.call("timer_getoverrun(" + e.id() + ")", Nr.TIMER_GETOVERRUN, e.id());
            int notify = switch (e.notifyKind()) {
                case "signal" -> PosixTimer.SIGEV_SIGNAL;
                case "none" -> PosixTimer.SIGEV_NONE;
                default -> throw new IOException("POSIX timer " + e.id() + ": unknown notification '" + e.notifyKind() + "'");
            } | (e.threadId() ? PosixTimer.SIGEV_THREAD_ID : 0);
            long expiry = value != 0 && runsWhileCheckpointed(e.clockId()) ? Sys.clockNanos(e.clockId()) + value : 0;
            out.add(new PosixTimer(e.id(), e.clockId(), e.signo(), notify, e.threadId() ? e.target() : 0, e.sigval(),
                    overrun, interval, value, expiry));
            log.debug(String.format("POSIX timer %d: clock %d signal %d notify %d/%d value %d ns interval %d ns"
                    + " overrun %d", e.id(), e.clockId(), e.signo(), notify, e.target(), value, interval, overrun));
        }
        return out;
    }

    /** Clocks that go on while the process is checkpointed; CPU-time clocks stand still. */
    static boolean runsWhileCheckpointed(int clock) {
        return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME
                || clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM || clock == CLOCK_TAI;
    }

    /** get_mempolicy of the thread ({@code flags} 0) or of the mapping at {@code addr} (MPOL_F_ADDR). */
    private static MemPolicy mempolicy(Injector inj, TaskMemory mem, long page, long addr, int flags, String who)
            throws IOException {
        mem.write(page + MASK, new byte[NODEMASK_BYTES]);
        long r = inj.raw(Nr.GET_MEMPOLICY, page + OUT, page + MASK, MAX_NODES, addr, flags);
        if (r == -Errno.ENOSYS) return MemPolicy.DEFAULT; // no CONFIG_NUMA: nothing to keep
        if (r < 0) throw new jcriu.sys.SysException("get_mempolicy for " + who + " (injected)", (int) -r, null);
        long[] nodes = new long[NODEMASK_BYTES / 8];
        le(mem.read(page + MASK, NODEMASK_BYTES)).asLongBuffer().get(nodes);
        int len = nodes.length;
        while (len > 0 && nodes[len - 1] == 0) len--;
        return new MemPolicy(readInt(mem, page + OUT), Arrays.copyOf(nodes, len));
    }

    /**
     * Mappings with a NUMA policy of their own. numa_maps shows a mapping without one with the
     * task's policy, so every mapping that does not show "default" is asked with MPOL_F_ADDR,
     * which answers the mapping's own policy (or none).
     */
    private List<VmaPolicy> vmaPolicies(Injector inj, TaskMemory mem, long page, int pid) throws IOException {
        List<VmaPolicy> out = new ArrayList<>();
        List<jcriu.proc.Vma> maps = jcriu.proc.Maps.readMaps(PROC, pid);
        for (NumaMaps.Entry e : NumaMaps.read(PROC, pid)) {
            if (e.policy().equals("default") || e.start() == page) continue;
            jcriu.proc.Vma v = maps.stream().filter(m -> m.start() == e.start()).findFirst().orElse(null);
            if (v == null || v.kind() == jcriu.proc.VmaKind.VSYSCALL) continue;
            MemPolicy p = mempolicy(inj, mem, page, e.start(), MPOL_F_ADDR, String.format("mapping %#x", e.start()));
            if (!p.isDefault()) out.add(new VmaPolicy(v.start(), v.end(), p));
        }
        return out;
    }

    private static long lockedKb(int pid) throws IOException {
        String v = Status.read(PROC, pid).field("VmLck").orElse("0 kB");
        return Long.parseLong(v.replace("kB", "").strip());
    }

    private static java.util.Set<String> scratchFlags(int pid, long page) throws IOException {
        for (jcriu.proc.Vma v : jcriu.proc.Maps.read(PROC, pid)) {
            if (v.contains(page)) return v.vmFlags();
        }
        throw new IOException("the scratch page at " + Long.toHexString(page) + " is not mapped in " + pid);
    }

    /** /proc/TID/timerslack_ns: the thread's own timer slack (any thread's TID works there, not only a leader's). */
    private static long timerSlack(int tid) throws IOException {
        Path f = PROC.resolve(tid + "/timerslack_ns");
        try {
            return Long.parseLong(java.nio.file.Files.readString(f).strip());
        } catch (NumberFormatException e) {
            throw new IOException(f + " holds no number", e);
        }
    }

    private static int readInt(TaskMemory mem, long addr) throws IOException {
        return le(mem.read(addr, 4)).getInt(0);
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String describe(ProcessAttrs a) {
        return "oom_score_adj " + a.oomScoreAdj() + ", loginuid " + a.loginuid() + ", dumpable " + a.dumpable()
                + ", subreaper " + a.childSubreaper() + ", thp_disable " + a.thpDisable() + ", mlockall " + a.mlockall()
                + ", " + a.timers().posix().size() + " POSIX timers, itimer real " + a.timers().real() + ", cgroups "
                + a.cgroups() + ", " + a.vmaPolicies().size() + " mapping policies";
    }
}

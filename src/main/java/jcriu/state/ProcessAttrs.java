package jcriu.state;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What the kernel keeps for a process and each of its threads beyond its memory, files,
 * registers and signals: timers, audit and OOM settings, prctl flags, cgroups, NUMA policies.
 * docs/process-state.md lists every item with its image field. An empty optional means
 * "not in the image" (an image of an older jcriu, or of CRIU): the restore then leaves the
 * value the restored process is given.
 *
 * @param loginuid       /proc/PID/loginuid (4294967295: never set); empty without CONFIG_AUDIT
 * @param dumpable       PR_GET_DUMPABLE: 0, 1 or 2 (SUID_DUMP_ROOT)
 * @param thpDisable     PR_GET_THP_DISABLE: bit 0 disabled, bit 1 PR_THP_DISABLE_EXCEPT_ADVISED
 * @param mlockall       MCL_FUTURE (2) and MCL_ONFAULT (4) as left by mlockall(2); MCL_CURRENT is
 *                       not a lasting state (the locks it made are per mapping, see {@link VmaAttrs})
 * @param mdwe           PR_GET_MDWE: PR_MDWE_REFUSE_EXEC_GAIN (1), PR_MDWE_NO_INHERIT (2)
 * @param memoryMerge    PR_GET_MEMORY_MERGE: KSM for every mapping of the process
 * @param membarrier     membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS): the commands registered
 * @param coredumpFilter /proc/PID/coredump_filter
 * @param autogroupNice  the nice value of the session's autogroup (/proc/PID/autogroup)
 * @param cgroups        one entry per hierarchy of /proc/PID/cgroup
 * @param vmaPolicies    mappings with a NUMA policy of their own (mbind)
 * @param threads        one entry per thread, leader first
 */
public record ProcessAttrs(Timers timers, int oomScoreAdj, OptionalLong loginuid, boolean childSubreaper,
                           int dumpable, int thpDisable, int mlockall, int mdwe, boolean memoryMerge, int membarrier,
                           OptionalInt coredumpFilter, OptionalInt autogroupNice, List<Cgroup> cgroups,
                           List<VmaPolicy> vmaPolicies, List<ThreadAttrs> threads) {
    public ProcessAttrs {
        cgroups = List.copyOf(cgroups);
        vmaPolicies = List.copyOf(vmaPolicies);
        threads = List.copyOf(threads);
    }

    public static final long LOGINUID_UNSET = 0xffffffffL;

    /** What an image without any of these items means: a fresh process, nothing to set. */
    public static ProcessAttrs none(List<Integer> tids) {
        return new ProcessAttrs(Timers.NONE, 0, OptionalLong.empty(), false, 1, 0, 0, 0, false, 0,
                OptionalInt.empty(), OptionalInt.empty(), List.of(), List.of(),
                tids.stream().map(ThreadAttrs::none).toList());
    }

    public Optional<ThreadAttrs> thread(int tid) {
        return threads.stream().filter(t -> t.tid() == tid).findFirst();
    }

    /**
     * Interval timers ({@code setitimer}) and POSIX timers ({@code timer_create}).
     */
    public record Timers(Itimer real, Itimer virt, Itimer prof, List<PosixTimer> posix) {
        public static final Timers NONE = new Timers(Itimer.OFF, Itimer.OFF, Itimer.OFF, List.of());

        public Timers {
            posix = List.copyOf(posix);
        }
    }

    /**
     * One {@code setitimer} timer, in nanoseconds (the kernel keeps microseconds).
     * {@code expiryNs}: for ITIMER_REAL, the absolute expiry on CLOCK_MONOTONIC, so that the time
     * the process spends checkpointed counts as it would if the process were only stopped; 0
     * when not known (the restore then arms it with {@code valueNs}).
     */
    public record Itimer(long intervalNs, long valueNs, long expiryNs) {
        public static final Itimer OFF = new Itimer(0, 0, 0);

        public boolean armed() { return valueNs != 0; }
    }

    /**
     * A POSIX timer. {@code sigevNotify} is the sigev_notify the kernel keeps (SIGEV_SIGNAL 0,
     * SIGEV_NONE 1, SIGEV_THREAD_ID 4); {@code notifyTid} the thread for SIGEV_THREAD_ID.
     * {@code valueNs} the time left when read, {@code expiryNs} the absolute expiry on its clock
     * for clocks that run while the process is checkpointed (0 for CPU-time clocks or disarmed
     * timers). {@code overrun}: timer_getoverrun(2) at the dump.
     */
    public record PosixTimer(int id, int clockId, int signo, int sigevNotify, int notifyTid, long sigval, int overrun,
                             long intervalNs, long valueNs, long expiryNs) {
        public static final int SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD_ID = 4;
    }

    /** A cgroup: hierarchy id, its controllers (empty for cgroup v2) and the path inside it. */
    public record Cgroup(int hierarchy, String controllers, String path) {}

    /**
     * A NUMA memory policy: the mode with its flags (MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES)
     * as get_mempolicy(2) reports them, and the node mask (empty: none).
     */
    public record MemPolicy(int mode, long[] nodes) {
        public static final int MPOL_DEFAULT = 0;
        public static final MemPolicy DEFAULT = new MemPolicy(MPOL_DEFAULT, new long[0]);

        public boolean isDefault() { return mode == MPOL_DEFAULT; }

        @Override
        public boolean equals(Object o) {
            return o instanceof MemPolicy p && p.mode == mode && java.util.Arrays.equals(trim(p.nodes), trim(nodes));
        }

        @Override
        public int hashCode() { return mode * 31 + java.util.Arrays.hashCode(trim(nodes)); }

        @Override
        public String toString() {
            return "mode " + mode + " nodes " + java.util.Arrays.toString(nodes);
        }

        private static long[] trim(long[] n) {
            int len = n.length;
            while (len > 0 && n[len - 1] == 0) len--;
            return java.util.Arrays.copyOf(n, len);
        }
    }

    /** A mapping's own NUMA policy (mbind(2)). */
    public record VmaPolicy(long start, long end, MemPolicy policy) {}

    /**
     * Per thread. {@code affinity}: the CPU mask of sched_getaffinity(2), 64 CPUs per word
     * (empty: not in the image). {@code ioprio}: ioprio_get(2). {@code speculation}:
     * PR_GET_SPECULATION_CTRL for store bypass, indirect branch and L1D flush (empty: not in
     * the image). {@code tsc}: PR_GET_TSC; {@code cpuid}: ARCH_GET_CPUID; {@code mceKill}:
     * PR_MCE_KILL_GET. {@code secureBits}: PR_GET_SECUREBITS. {@code seccomp}: its mode and
     * filters (installed last, right before the credentials). {@code creds}: the thread's own
     * credentials where they differ from the leader's (null: the process's).
     */
    public record ThreadAttrs(int tid, int pdeathSignal, OptionalLong timerSlackNs, boolean noNewPrivs,
                              int secureBits, long[] affinity, OptionalInt ioprio, Optional<MemPolicy> mempolicy,
                              int[] speculation, OptionalInt tsc, OptionalInt cpuid, OptionalInt mceKill,
                              Seccomp seccomp, ProcessState.Creds creds) {
        public static ThreadAttrs none(int tid) {
            return new ThreadAttrs(tid, 0, OptionalLong.empty(), false, 0, new long[0], OptionalInt.empty(),
                    Optional.empty(), new int[0], OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(),
                    Seccomp.NONE, null);
        }
    }
}

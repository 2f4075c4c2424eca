package jcriu.proc;

/** The five capability sets of /proc/PID/status, as bitmasks indexed by capability number. */
public record Capabilities(long inheritable, long permitted, long effective, long bounding, long ambient) {
    public static final int CAP_CHOWN = 0;
    public static final int CAP_DAC_OVERRIDE = 1;
    public static final int CAP_DAC_READ_SEARCH = 2;
    public static final int CAP_FOWNER = 3;
    public static final int CAP_KILL = 5;
    public static final int CAP_SETGID = 6;
    public static final int CAP_SETUID = 7;
    public static final int CAP_SETPCAP = 8;
    public static final int CAP_NET_ADMIN = 12;
    public static final int CAP_IPC_LOCK = 14;
    public static final int CAP_SYS_CHROOT = 18;
    public static final int CAP_SYS_PTRACE = 19;
    public static final int CAP_SYS_ADMIN = 21;
    public static final int CAP_SYS_NICE = 23;
    public static final int CAP_SYS_RESOURCE = 24;
    public static final int CAP_AUDIT_CONTROL = 30;
    public static final int CAP_SETFCAP = 31;
    public static final int CAP_CHECKPOINT_RESTORE = 40;

    /** Whether {@code set} contains capability {@code cap}. */
    public static boolean has(long set, int cap) {
        if (cap < 0 || cap > 63) throw new IllegalArgumentException("capability " + cap);
        return (set & (1L << cap)) != 0;
    }

    public boolean hasEffective(int cap) {
        return has(effective, cap);
    }

    public boolean hasPermitted(int cap) {
        return has(permitted, cap);
    }

    @Override
    public String toString() {
        return String.format("Capabilities[inh=%016x prm=%016x eff=%016x bnd=%016x amb=%016x]",
                inheritable, permitted, effective, bounding, ambient);
    }
}

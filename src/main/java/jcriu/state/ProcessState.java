package jcriu.state;

import java.util.List;

/**
 * One live process of a checkpointed tree: what the images describe, independent of their
 * encoding. {@code ppid} is 0 for the root of the tree (its parent is not part of the dump);
 * {@code stopSignal} is the signal that had stopped it, 0 if it was not stopped.
 */
public record ProcessState(int pid, int ppid, int pgid, int sid, String comm, List<ThreadState> threads,
                           List<SigAction> sigactions, List<byte[]> sharedPendingSiginfo, MmState mm,
                           List<FdState> fds, String cwd, String root, int umask, Creds creds,
                           long[][] rlimits, int personality, int stopSignal, ProcessAttrs attrs) {
    /** Ids as in /proc/PID/status (real, effective, saved, fs) plus groups and capability sets. */
    public record Creds(int[] uid, int[] gid, int[] groups, long capInh, long capPrm, long capEff, long capBnd,
                        long capAmb) {
        /** Same ids, groups and capability sets. */
        public boolean same(Creds o) {
            return o != null && java.util.Arrays.equals(uid, o.uid) && java.util.Arrays.equals(gid, o.gid)
                    && java.util.Arrays.equals(groups, o.groups) && capInh == o.capInh && capPrm == o.capPrm
                    && capEff == o.capEff && capBnd == o.capBnd && capAmb == o.capAmb;
        }
    }

    /** The credentials thread {@code tid} is restored with: its own, or the process's. */
    public Creds credsOf(int tid) {
        return attrs == null ? creds : attrs.thread(tid).map(ProcessAttrs.ThreadAttrs::creds).filter(c -> c != null)
                .orElse(creds);
    }

    public ThreadState leader() { return threads.getFirst(); }

    /** It was stopped (by {@link #stopSignal}) when dumped, and is restored stopped. */
    public boolean wasStopped() { return stopSignal != 0; }
}

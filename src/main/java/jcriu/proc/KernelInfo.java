package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;

/** System-wide values under /proc/sys and facts about the reading process itself. */
public final class KernelInfo {
    private KernelInfo() {}

    /** /proc/sys/kernel/pid_max: pids are below this. */
    public static int pidMax(Path procRoot) throws IOException {
        return intFile(procRoot.resolve("sys/kernel/pid_max"));
    }

    /** /proc/sys/fs/nr_open: file descriptors are below this. */
    public static int nrOpen(Path procRoot) throws IOException {
        return intFile(procRoot.resolve("sys/fs/nr_open"));
    }

    /**
     * /proc/sys/kernel/ns_last_pid: the last pid handed out in the reader's pid namespace.
     * Writing it (CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN) makes the next fork get value+1.
     */
    public static int nsLastPid(Path procRoot) throws IOException {
        return intFile(procRoot.resolve("sys/kernel/ns_last_pid"));
    }

    /** Capability sets of the reading process ({@code procRoot/self/status}). */
    public static Capabilities selfCapabilities(Path procRoot) throws IOException {
        return Status.readSelf(procRoot).caps();
    }

    /** Whether the reading process has {@code cap} in its effective set. */
    public static boolean selfHasEffective(Path procRoot, int cap) throws IOException {
        return selfCapabilities(procRoot).hasEffective(cap);
    }

    /**
     * Whether this process may checkpoint others: CAP_SYS_ADMIN, or CAP_CHECKPOINT_RESTORE
     * together with CAP_SYS_PTRACE (the Linux 5.9+ unprivileged-checkpoint combination).
     */
    public static boolean selfCanCheckpoint(Path procRoot) throws IOException {
        Capabilities c = selfCapabilities(procRoot);
        return c.hasEffective(Capabilities.CAP_SYS_ADMIN)
                || (c.hasEffective(Capabilities.CAP_CHECKPOINT_RESTORE) && c.hasEffective(Capabilities.CAP_SYS_PTRACE));
    }

    private static int intFile(Path f) throws IOException {
        String text = ProcIo.slurpText(f);
        return ProcIo.parseInt(ProcIo.single(text, f), f, 1, f.getFileName().toString());
    }
}

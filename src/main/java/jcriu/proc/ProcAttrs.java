package jcriu.proc;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.OptionalLong;

/** Single-value files and links of /proc/PID. */
public final class ProcAttrs {
    private ProcAttrs() {}

    /**
     * readlink /proc/PID/exe: the executable's path, with " (deleted)" if it was unlinked.
     * ProcException for kernel threads and zombies, which have none.
     */
    public static String exe(Path procRoot, int pid) throws IOException {
        return link(procRoot, pid, "exe");
    }

    /** readlink /proc/PID/cwd, with " (deleted)" if the directory was removed. */
    public static String cwd(Path procRoot, int pid) throws IOException {
        return link(procRoot, pid, "cwd");
    }

    /** readlink /proc/PID/root: "/" unless the process chrooted. */
    public static String root(Path procRoot, int pid) throws IOException {
        return link(procRoot, pid, "root");
    }

    public static Auxv auxv(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("auxv");
        return Auxv.parse(ProcIo.readBytes(procRoot, pid, f), f);
    }

    /** /proc/PID/timerslack_ns. Reading another process's needs CAP_SYS_NICE. */
    public static long timerslackNs(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("timerslack_ns");
        return ProcIo.parseUDec(ProcIo.single(ProcIo.readText(procRoot, pid, f), f), f, 1, "timer slack");
    }

    /** /proc/PID/personality, printed as 8 hex digits. */
    public static int personality(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("personality");
        long v = ProcIo.parseHex(ProcIo.single(ProcIo.readText(procRoot, pid, f), f), f, 1, "personality");
        if (v > 0xffffffffL) throw new ProcException(f, 1, "personality " + Long.toHexString(v) + " exceeds 32 bits");
        return (int) v;
    }

    /**
     * /proc/PID/loginuid (4294967295 = never set); empty when the kernel has no CONFIG_AUDIT
     * and thus no such file.
     */
    public static OptionalLong loginuid(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("loginuid");
        String text;
        try {
            text = ProcIo.readText(procRoot, pid, f);
        } catch (NoSuchFileException e) {
            return OptionalLong.empty(); // the process exists (else ProcessGoneException): no audit
        }
        long v = ProcIo.parseUDec(ProcIo.single(text, f), f, 1, "loginuid");
        if (v > 0xffffffffL) throw new ProcException(f, 1, "loginuid " + v + " exceeds 32 bits");
        return OptionalLong.of(v);
    }

    /** /proc/PID/oom_score_adj: -1000..1000. */
    public static int oomScoreAdj(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("oom_score_adj");
        return ProcIo.parseInt(ProcIo.single(ProcIo.readText(procRoot, pid, f), f), f, 1, "oom_score_adj");
    }

    /** /proc/PID/coredump_filter, printed as 8 hex digits. */
    public static int coredumpFilter(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("coredump_filter");
        return (int) ProcIo.parseHex(ProcIo.single(ProcIo.readText(procRoot, pid, f), f), f, 1, "coredump_filter");
    }

    /**
     * The nice value of the process's autogroup ("/autogroup-29 nice 0"); empty without
     * CONFIG_SCHED_AUTOGROUP or when autogrouping is off (the kernel then prints nothing).
     */
    public static OptionalInt autogroupNice(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("autogroup");
        String text;
        try {
            text = ProcIo.readText(procRoot, pid, f);
        } catch (NoSuchFileException e) {
            return OptionalInt.empty();
        }
        if (text.isBlank()) return OptionalInt.empty();
        String[] t = ProcIo.tokens(ProcIo.single(text, f));
        if (t.length != 3 || !t[1].equals("nice")) throw new ProcException(f, 1, "not '/autogroup-N nice V': " + text);
        return OptionalInt.of(ProcIo.parseInt(t[2], f, 1, "autogroup nice"));
    }

    /** readlink /proc/PID/ns/NAME, e.g. "mnt:[4026531841]". */
    public static String namespace(Path procRoot, int pid, String name) throws IOException {
        return link(procRoot, pid, "ns/" + name);
    }

    private static String link(Path procRoot, int pid, String name) throws IOException {
        Path l = ProcIo.pidDir(procRoot, pid).resolve(name);
        try {
            return ProcIo.readLink(procRoot, pid, l);
        } catch (NoSuchFileException e) {
            // ProcIo already reported a vanished process; here the process exists without the link.
            throw new ProcException(l, "process " + pid + " has no " + name + " (kernel thread or zombie)", e);
        }
    }
}

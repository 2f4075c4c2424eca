package jcriu.proc;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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

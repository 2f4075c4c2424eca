package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;

/**
 * /proc/PID/limits: soft and hard value of every resource, in RLIMIT_* order, "unlimited" as
 * RLIM_INFINITY. Readable where prlimit64 is not: the kernel refuses prlimit64 on a process
 * of another user, even a read, to a caller without CAP_SYS_RESOURCE.
 */
public final class Limits {
    private Limits() {}

    public static long[][] read(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("limits");
        return parse(ProcIo.readText(procRoot, pid, f), f);
    }

    /** {cur, max} per resource; the columns start where the header's "Soft Limit" and "Hard Limit" do. */
    public static long[][] parse(String text, Path source) throws ProcException {
        String[] lines = ProcIo.lines(text);
        if (lines.length < 2 || !lines[0].startsWith("Limit")) throw new ProcException(source, 1, "no header line");
        int soft = lines[0].indexOf("Soft Limit"), hard = lines[0].indexOf("Hard Limit");
        if (soft < 0 || hard < soft) throw new ProcException(source, 1, "bad header '" + lines[0] + "'");
        long[][] out = new long[lines.length - 1][];
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i];
            if (l.length() < hard) throw new ProcException(source, i + 1, "short line '" + l + "'");
            out[i - 1] = new long[] {value(l.substring(soft, hard).strip(), source, i + 1),
                    value(ProcIo.tokens(l.substring(hard))[0], source, i + 1)};
        }
        return out;
    }

    private static long value(String s, Path source, int line) throws ProcException {
        return s.equals("unlimited") ? -1L : ProcIo.parseUDec(s, source, line, "limit");
    }
}

package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * /proc/PID/timers: the POSIX timers of a process (CONFIG_CHECKPOINT_RESTORE). Four lines
 * per timer, as the kernel prints them:
 * <pre>
 * ID: 42
 * signal: 10/0000000000001234
 * notify: signal/pid.1234      (none/..., signal/tid.N for SIGEV_THREAD_ID)
 * ClockID: 1
 * </pre>
 * Value, interval and overrun are not shown: only the process itself can read them.
 */
public final class PosixTimers {
    private PosixTimers() {}

    /**
     * One timer. {@code notifyKind}: "signal", "none" or "thread" (the kernel's name of
     * sigev_notify without SIGEV_THREAD_ID); {@code threadId}: whether the target is a thread
     * ("tid") rather than the process ("pid"); {@code target}: that thread or process.
     */
    public record Entry(int id, int signo, long sigval, String notifyKind, boolean threadId, int target, int clockId) {}

    public static List<Entry> read(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("timers");
        return parse(ProcIo.readText(procRoot, pid, f), f);
    }

    public static List<Entry> parse(String text, Path source) throws ProcException {
        String[] lines = ProcIo.lines(text);
        if (lines.length % 4 != 0) throw new ProcException(source, lines.length, "not four lines per timer");
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < lines.length; i += 4) {
            int id = ProcIo.parseInt(value(lines[i], "ID", source, i + 1), source, i + 1, "timer id");
            String[] sig = value(lines[i + 1], "signal", source, i + 2).split("/");
            if (sig.length != 2) throw new ProcException(source, i + 2, "bad signal line '" + lines[i + 1] + "'");
            int signo = ProcIo.parseInt(sig[0], source, i + 2, "signal");
            long sigval = ProcIo.parseHex(sig[1], source, i + 2, "sigev_value");
            String notifyText = value(lines[i + 2], "notify", source, i + 3);
            int slash = notifyText.indexOf('/'), dot = notifyText.lastIndexOf('.');
            if (slash < 0 || dot < slash) throw new ProcException(source, i + 3, "bad notify line '" + lines[i + 2] + "'");
            String kind = notifyText.substring(slash + 1, dot);
            if (!kind.equals("pid") && !kind.equals("tid")) {
                throw new ProcException(source, i + 3, "bad notify target '" + kind + "'");
            }
            int target = ProcIo.parseInt(notifyText.substring(dot + 1), source, i + 3, "notify target");
            int clock = ProcIo.parseInt(value(lines[i + 3], "ClockID", source, i + 4), source, i + 4, "clock id");
            out.add(new Entry(id, signo, sigval, notifyText.substring(0, slash), kind.equals("tid"), target, clock));
        }
        return out;
    }

    private static String value(String line, String key, Path source, int no) throws ProcException {
        if (!line.startsWith(key + ": ")) throw new ProcException(source, no, "expected '" + key + ": ', got '" + line + "'");
        return line.substring(key.length() + 2).strip();
    }
}

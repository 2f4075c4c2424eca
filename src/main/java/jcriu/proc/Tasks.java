package jcriu.proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The threads of a process: /proc/PID/task and the per-thread files under it. */
public final class Tasks {
    private Tasks() {}

    /**
     * Thread ids of {@code pid}, ascending. A running process may create and end threads while
     * this runs; only a stopped process gives a stable answer.
     */
    public static List<Integer> list(Path procRoot, int pid) throws IOException {
        Path dir = ProcIo.pidDir(procRoot, pid).resolve("task");
        List<Integer> tids = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                try {
                    tids.add(Integer.parseInt(n));
                } catch (NumberFormatException e) {
                    throw new ProcException(dir, "entry '" + n + "' is not a thread id");
                }
            }
        } catch (IOException e) {
            throw ProcIo.gone(e, procRoot, pid);
        }
        tids.sort(null);
        return tids;
    }

    /** The thread's comm (at most 15 bytes, raw: may contain spaces, ')' or even a newline). */
    public static String comm(Path procRoot, int pid, int tid) throws IOException {
        Path f = ProcIo.taskDir(procRoot, pid, tid).resolve("comm");
        String s = ProcIo.readTaskText(procRoot, pid, tid, f);
        // The kernel appends exactly one newline; any other belongs to the name.
        if (!s.endsWith("\n")) throw new ProcException(f, 1, "comm not terminated by a newline");
        return s.substring(0, s.length() - 1);
    }

    /**
     * Children forked by thread {@code tid} (task/TID/children). Only exact for a stopped
     * process; the kernel lists them in creation order.
     */
    public static List<Integer> children(Path procRoot, int pid, int tid) throws IOException {
        Path f = ProcIo.taskDir(procRoot, pid, tid).resolve("children");
        List<Integer> kids = new ArrayList<>();
        for (String t : ProcIo.tokens(ProcIo.readTaskText(procRoot, pid, tid, f))) {
            kids.add(ProcIo.parseInt(t, f, 1, "child pid"));
        }
        return kids;
    }

    /** The thread's stat line. */
    public static ProcStat stat(Path procRoot, int pid, int tid) throws IOException {
        return Stat.readTask(procRoot, pid, tid);
    }

    /** The thread's scheduling state letter (R S D T t X Z P I) from its stat. */
    public static char state(Path procRoot, int pid, int tid) throws IOException {
        return stat(procRoot, pid, tid).state();
    }
}

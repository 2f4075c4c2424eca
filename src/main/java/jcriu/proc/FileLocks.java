package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * File locks a process holds, from the "lock:" lines the kernel adds to /proc/PID/fdinfo/N for
 * the locks on that descriptor's file that belong to the process (POSIX locks of its files
 * table, flock and OFD locks of that open file).
 */
public final class FileLocks {
    private FileLocks() {}

    /** One line per lock: "fd N (target): lock line". */
    public static List<String> held(Path procRoot, int pid) throws IOException {
        List<String> out = new ArrayList<>();
        for (FdInfo f : Fds.list(procRoot, pid)) {
            for (String l : f.extra()) {
                if (l.startsWith("lock:")) {
                    out.add("fd " + f.fd() + " (" + f.target() + "): " + l.substring(5).strip());
                }
            }
        }
        return out;
    }
}

package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** /proc/PID/cgroup: {@code hierarchy-ID:controller-list:cgroup-path}, one line per hierarchy. */
public final class Cgroups {
    private Cgroups() {}

    /** One line; {@code controllers} is empty for the cgroup v2 hierarchy (ID 0). */
    public record Entry(int hierarchy, String controllers, String path) {}

    public static List<Entry> read(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("cgroup");
        return parse(ProcIo.readText(procRoot, pid, f), f);
    }

    public static List<Entry> parse(String text, Path source) throws ProcException {
        List<Entry> out = new ArrayList<>();
        String[] lines = ProcIo.lines(text);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            int a = l.indexOf(':'), b = a < 0 ? -1 : l.indexOf(':', a + 1);
            if (b < 0) throw new ProcException(source, i + 1, "not 'id:controllers:path': '" + l + "'");
            out.add(new Entry(ProcIo.parseInt(l.substring(0, a), source, i + 1, "hierarchy id"), l.substring(a + 1, b),
                    l.substring(b + 1)));
        }
        return out;
    }
}

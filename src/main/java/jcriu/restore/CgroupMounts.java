package jcriu.restore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jcriu.state.ProcessAttrs;

/**
 * Where jcriu sees each cgroup hierarchy mounted (/proc/self/mountinfo), to turn a line of
 * /proc/PID/cgroup into a directory whose cgroup.procs takes the process.
 */
final class CgroupMounts {
    private CgroupMounts() {}

    /** A cgroup mount: v2 when {@code controllers} is null, else the v1 controllers/name= options. */
    record Mount(Path mountPoint, String root, Set<String> controllers) {}

    static List<Mount> read() throws IOException {
        List<Mount> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = Arrays.asList(f).indexOf("-");
            if (dash < 0 || dash + 3 >= f.length) continue;
            String type = f[dash + 1];
            String root = unescape(f[3]);
            Path mp = Path.of(unescape(f[4]));
            if (type.equals("cgroup2")) {
                out.add(new Mount(mp, root, null));
            } else if (type.equals("cgroup")) {
                Set<String> opts = new HashSet<>(Arrays.asList(f[dash + 3].split(",")));
                out.add(new Mount(mp, root, opts));
            }
        }
        return out;
    }

    /** The directory of {@code g} under a mount of its hierarchy, or null if none is mounted here. */
    static Path directory(List<Mount> mounts, ProcessAttrs.Cgroup g) {
        for (Mount m : mounts) {
            boolean match = g.controllers().isEmpty() ? m.controllers() == null
                    : m.controllers() != null && m.controllers().containsAll(Arrays.asList(g.controllers().split(",")));
            if (!match) continue;
            String rel;
            if (m.root().equals("/")) rel = g.path();
            else if (g.path().equals(m.root()) || g.path().startsWith(m.root() + "/")) rel = g.path().substring(m.root().length());
            else continue; // this mount shows another part of the hierarchy
            return rel.isEmpty() || rel.equals("/") ? m.mountPoint() : m.mountPoint().resolve(rel.substring(1));
        }
        return null;
    }

    /** The path the process now has in the hierarchy of {@code g}, "?" if it cannot be read. */
    static String current(List<jcriu.proc.Cgroups.Entry> now, ProcessAttrs.Cgroup g) {
        for (var e : now) {
            if (e.hierarchy() == g.hierarchy() && e.controllers().equals(g.controllers())) return e.path();
        }
        return "?";
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}

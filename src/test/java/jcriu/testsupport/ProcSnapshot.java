package jcriu.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Everything /proc shows of a process and its threads, flattened to {@code key -> value}:
 * {@code status.Umask}, {@code task.TID.status.SigBlk}, {@code stat.19} (field 19 of
 * /proc/PID/stat), {@code limits.Max open files}, {@code sched.policy},
 * {@code timers.ID.signal}, {@code smaps.START-END.VmFlags}, {@code maps.START-END},
 * {@code map_files.START-END} (the link's permission bits), {@code numa_maps.START}, and
 * single-value files by name ({@code oom_score_adj}, {@code loginuid}, {@code cgroup}, ...).
 * Mappings are keyed by address, threads by TID: both survive a restore.
 */
public final class ProcSnapshot {
    private ProcSnapshot() {}

    /** Files whose whole content is one value. */
    static final List<String> SINGLE = List.of("oom_score_adj", "loginuid", "sessionid", "personality",
            "timerslack_ns", "coredump_filter", "autogroup", "cgroup", "comm", "cmdline", "environ");

    public static Map<String, String> take(int pid) throws IOException {
        Map<String, String> m = new TreeMap<>();
        Path p = Path.of("/proc", Integer.toString(pid));
        for (String name : SINGLE) {
            try {
                m.put(name, Files.readString(p.resolve(name)).replace('\0', ' ').strip());
            } catch (NoSuchFileException e) {
                // not in this kernel's configuration
            }
        }
        for (String link : List.of("cwd", "exe", "root")) m.put(link, Files.readSymbolicLink(p.resolve(link)).toString());
        task(m, "", p);
        try (Stream<Path> s = Files.list(p.resolve("task"))) {
            for (Path t : s.sorted().toList()) {
                String prefix = "task." + t.getFileName() + ".";
                try {
                    task(m, prefix, t);
                } catch (NoSuchFileException exited) {
                    // a thread of a running process (the test JVM's own) that ended while it was read
                    m.keySet().removeIf(k -> k.startsWith(prefix));
                }
            }
        }
        for (String l : Files.readAllLines(p.resolve("limits")).subList(1, Files.readAllLines(p.resolve("limits")).size())) {
            // "Max open files            777                  20000                files"
            String name = l.substring(0, 26).strip();
            m.put("limits." + name, l.substring(26).strip().replaceAll("\\s+", " "));
        }
        timers(m, Files.readAllLines(p.resolve("timers")));
        String range = null;
        for (String l : Files.readAllLines(p.resolve("smaps"))) {
            if (Character.isLetter(l.charAt(0)) && Character.isUpperCase(l.charAt(0)) && l.contains(":")) {
                int c = l.indexOf(':');
                m.put("smaps." + range + "." + l.substring(0, c), l.substring(c + 1).strip().replaceAll("\\s+", " "));
            } else {
                String[] f = l.split("\\s+", 6);
                range = f[0];
                m.put("maps." + range, String.join(" ", List.of(f).subList(1, f.length)));
            }
        }
        try (Stream<Path> s = Files.list(p.resolve("map_files"))) {
            for (Path f : s.toList()) {
                int mode = (Integer) Files.getAttribute(f, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                m.put("map_files." + f.getFileName(), Integer.toOctalString(mode & 0777));
            }
        }
        for (String l : Files.readAllLines(p.resolve("numa_maps"))) {
            String[] f = l.split(" ");
            m.put("numa_maps." + f[0], f[1]);
        }
        return m;
    }

    private static void task(Map<String, String> m, String prefix, Path dir) throws IOException {
        for (String l : Files.readAllLines(dir.resolve("status"))) {
            int c = l.indexOf(':');
            m.put(prefix + "status." + l.substring(0, c), l.substring(c + 1).strip().replaceAll("\\s+", " "));
        }
        String stat = Files.readString(dir.resolve("stat")).strip();
        int open = stat.indexOf('('), close = stat.lastIndexOf(')');
        m.put(prefix + "stat.1", stat.substring(0, open).strip());
        m.put(prefix + "stat.2", stat.substring(open + 1, close));
        String[] rest = stat.substring(close + 2).split(" ");
        for (int i = 0; i < rest.length; i++) m.put(prefix + "stat." + (i + 3), rest[i]);
        for (String l : Files.readAllLines(dir.resolve("sched")).subList(2, Files.readAllLines(dir.resolve("sched")).size())) {
            int c = l.indexOf(':');
            if (c < 0) continue;
            m.put(prefix + "sched." + l.substring(0, c).strip(), l.substring(c + 1).strip());
        }
    }

    private static void timers(Map<String, String> m, List<String> lines) {
        String id = null;
        for (String l : lines) {
            int c = l.indexOf(':');
            String k = l.substring(0, c), v = l.substring(c + 1).strip();
            if (k.equals("ID")) id = v;
            else m.put("timers." + id + "." + k, v);
        }
        m.put("timers.count", Long.toString(lines.stream().filter(l -> l.startsWith("ID:")).count()));
    }

    /** Keys whose values differ between two snapshots, with both values, for messages. */
    public static List<String> differences(Map<String, String> a, Map<String, String> b, java.util.function.Predicate<String> keys) {
        List<String> out = new ArrayList<>();
        java.util.Set<String> all = new java.util.TreeSet<>(a.keySet());
        all.addAll(b.keySet());
        for (String k : all) {
            if (!keys.test(k)) continue;
            String x = a.get(k), y = b.get(k);
            if (x == null ? y != null : !x.equals(y)) out.add(k + ": " + x + " -> " + y);
        }
        return out;
    }
}

package jcriu.testsupport;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the {@code attrs} workload reports of itself on SIGUSR1, as {@code key -> value}:
 * {@code proc.umask}, {@code proc.ids}, {@code timer.ID} (the rest of its line),
 * {@code itimer.W}, {@code thread.IDX} (its line without the tid), {@code counts}.
 */
public final class AttrsReport {
    private AttrsReport() {}

    /** Asks for a report and waits for all of it. */
    public static Map<String, String> request(Workload w) {
        w.skipToEnd();
        w.signal(Sig.SIGUSR1);
        String begin = w.awaitOutput("report begin gen=", Duration.ofSeconds(20));
        String gen = Workload.word(begin, "gen");
        int from = w.cursor();
        w.awaitOutput("report end gen=" + gen, Duration.ofSeconds(20));
        List<String> lines = w.lines().subList(from, w.cursor() - 1);
        return parse(lines);
    }

    public static Map<String, String> parse(List<String> lines) {
        Map<String, String> m = new TreeMap<>();
        for (String l : lines) {
            if (!l.startsWith("report ")) continue;
            String[] f = l.split(" ", 3);
            String rest = f.length > 2 ? f[2] : "";
            switch (f[1]) {
                case "proc" -> {
                    int eq = rest.indexOf('=');
                    String key = rest.substring(0, eq);
                    m.put("proc." + (key.contains(" ") ? key.substring(0, key.indexOf(' ')) : key),
                            key.contains(" ") ? rest.substring(key.indexOf(' ') + 1) : rest.substring(eq + 1));
                }
                case "timer" -> m.put("timer." + Workload.word(l, "id"), rest.substring(rest.indexOf(' ') + 1));
                case "itimer" -> m.put("itimer." + Workload.word(l, "which"), rest.substring(rest.indexOf(' ') + 1));
                case "thread" -> m.put("thread." + Workload.word(l, "idx"), rest.replaceFirst(" tid=\\d+", ""));
                case "counts" -> m.put("counts", rest);
                default -> throw new AssertionError("unknown report line: " + l);
            }
        }
        return m;
    }
}

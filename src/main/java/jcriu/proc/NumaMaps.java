package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * /proc/PID/numa_maps: per mapping, its start address and NUMA policy as text ("default",
 * "bind:0-1", "interleave=static:0", ...). A mapping without a policy of its own shows the
 * policy of the task, so the text alone cannot tell the two apart.
 */
public final class NumaMaps {
    private NumaMaps() {}

    public record Entry(long start, String policy) {}

    /** Empty when the kernel has no CONFIG_NUMA (no such file). */
    public static List<Entry> read(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("numa_maps");
        String text;
        try {
            text = ProcIo.readText(procRoot, pid, f);
        } catch (java.nio.file.NoSuchFileException e) {
            return List.of();
        }
        return parse(text, f);
    }

    public static List<Entry> parse(String text, Path source) throws ProcException {
        List<Entry> out = new ArrayList<>();
        String[] lines = ProcIo.lines(text);
        for (int i = 0; i < lines.length; i++) {
            String[] t = ProcIo.tokens(lines[i]);
            if (t.length < 2) throw new ProcException(source, i + 1, "not 'address policy ...': '" + lines[i] + "'");
            out.add(new Entry(ProcIo.parseHex(t[0], source, i + 1, "address"), t[1]));
        }
        return out;
    }
}

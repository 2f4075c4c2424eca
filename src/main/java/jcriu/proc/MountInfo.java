package jcriu.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** /proc/PID/mountinfo: which mount points show a filesystem (by its device numbers). */
public final class MountInfo {
    private MountInfo() {}

    /** One line: mount id, the filesystem's device, the root of the mount within it, and where it is mounted. */
    public record Mount(int id, int major, int minor, String root, String point) {}

    public static List<Mount> read(Path file) throws IOException {
        List<Mount> out = new ArrayList<>();
        int n = 0;
        for (String l : Files.readAllLines(file)) {
            n++;
            String[] f = l.split(" ");
            if (f.length < 5 || !f[2].contains(":")) throw new ProcException(file, "line " + n + " is not a mount: " + l);
            String[] dev = f[2].split(":");
            out.add(new Mount(Integer.parseInt(f[0]), Integer.parseInt(dev[0]), Integer.parseInt(dev[1]),
                    unescape(f[3]), unescape(f[4])));
        }
        return out;
    }

    /** The kernel writes space, tab, newline and backslash in paths as \\ooo. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}

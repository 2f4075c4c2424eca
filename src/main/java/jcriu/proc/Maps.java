package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Reads /proc/PID/smaps (or the cheaper /proc/PID/maps) into {@link Vma}s, in address order. */
public final class Maps {
    private Maps() {}

    /** All mappings of {@code pid} from smaps, with VmFlags and Rss/Anonymous/Swap. */
    public static List<Vma> read(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("smaps");
        return parse(ProcIo.readText(procRoot, pid, f), f, true);
    }

    /**
     * All mappings of {@code pid} from maps: no page-table walk, so much cheaper than smaps,
     * but {@link Vma#vmFlags()} is empty and the sizes are -1.
     */
    public static List<Vma> readMaps(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("maps");
        return parse(ProcIo.readText(procRoot, pid, f), f, false);
    }

    /**
     * Parses maps or smaps text; {@code source} only names the file in errors. With
     * {@code smaps}, every mapping must carry Rss, Anonymous and VmFlags lines.
     */
    public static List<Vma> parse(String text, Path source, boolean smaps) throws ProcException {
        List<Vma> out = new ArrayList<>();
        String[] lines = ProcIo.lines(text);
        Header h = null;
        int headerLine = 0;
        long rss = -1, anon = -1, swap = -1;
        Set<String> flags = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int no = i + 1;
            if (isKeyLine(line)) {
                if (!smaps) throw new ProcException(source, no, "smaps field in a maps file: '" + line + "'");
                if (h == null) throw new ProcException(source, no, "field before the first mapping: '" + line + "'");
                int colon = line.indexOf(':');
                String key = line.substring(0, colon);
                String value = line.substring(colon + 1);
                switch (key) {
                    case "Rss" -> rss = kb(value, source, no, key);
                    case "Anonymous" -> anon = kb(value, source, no, key);
                    case "Swap" -> swap = kb(value, source, no, key);
                    case "VmFlags" -> flags = vmFlags(value, source, no);
                    default -> { } // Pss, Referenced, THPeligible ...: not needed by a checkpointer
                }
                continue;
            }
            if (h != null) out.add(finish(h, headerLine, rss, anon, swap, flags, source, smaps));
            h = header(line, source, no);
            headerLine = no;
            rss = anon = swap = -1;
            flags = null;
        }
        if (h != null) out.add(finish(h, headerLine, rss, anon, swap, flags, source, smaps));
        return out;
    }

    private record Header(long start, long end, String perms, long pgoff, int major, int minor, long inode, String name) {}

    /** smaps fields are "Key: value"; header lines start with "start-end", which has no colon before a space. */
    private static boolean isKeyLine(String line) {
        int colon = line.indexOf(':');
        if (colon <= 0) return false;
        int space = line.indexOf(' ');
        return space < 0 || colon < space;
    }

    private static Vma finish(Header h, int no, long rss, long anon, long swap, Set<String> flags, Path source,
                              boolean smaps) throws ProcException {
        if (smaps) {
            if (flags == null) throw new ProcException(source, no, "mapping " + h.name + " has no VmFlags line");
            if (rss < 0) throw new ProcException(source, no, "mapping " + h.name + " has no Rss line");
            if (anon < 0) throw new ProcException(source, no, "mapping " + h.name + " has no Anonymous line");
            if (swap < 0) swap = 0; // absent without CONFIG_SWAP
        } else {
            flags = Set.of();
        }
        return new Vma(h.start, h.end, h.perms, h.pgoff, h.major, h.minor, h.inode, h.name, flags, rss, anon, swap);
    }

    /**
     * The kernel prints {@code "%lx-%lx %c%c%c%c %08llx %02x:%02x %lu "}, pads with spaces to
     * column 73 and, if the mapping has a name, a space and the name. Fields are single-space
     * separated, so split on exactly that and take the rest, minus padding, as the name.
     */
    private static Header header(String line, Path source, int no) throws ProcException {
        int dash = line.indexOf('-');
        int[] sp = new int[5];
        int from = 0;
        for (int k = 0; k < 5; k++) {
            sp[k] = line.indexOf(' ', from);
            // The kernel always ends the inode with a space; tolerate it trimmed (hand-made input).
            if (sp[k] < 0 && k == 4) sp[k] = line.length();
            if (sp[k] < 0) throw new ProcException(source, no, "not a mapping line: '" + line + "'");
            from = sp[k] + 1;
        }
        if (dash < 0 || dash > sp[0]) throw new ProcException(source, no, "no start-end range: '" + line + "'");
        long start = ProcIo.parseHex(line.substring(0, dash), source, no, "start address");
        long end = ProcIo.parseHex(line.substring(dash + 1, sp[0]), source, no, "end address");
        String perms = line.substring(sp[0] + 1, sp[1]);
        long pgoff = ProcIo.parseHex(line.substring(sp[1] + 1, sp[2]), source, no, "offset");
        String dev = line.substring(sp[2] + 1, sp[3]);
        int colon = dev.indexOf(':');
        if (colon < 0) throw new ProcException(source, no, "bad device '" + dev + "'");
        int major = (int) ProcIo.parseHex(dev.substring(0, colon), source, no, "device major");
        int minor = (int) ProcIo.parseHex(dev.substring(colon + 1), source, no, "device minor");
        long inode = ProcIo.parseUDec(line.substring(sp[3] + 1, sp[4]), source, no, "inode");
        // Names never start with a space: paths start with '/', others with '[' or a word.
        String name = sp[4] + 1 >= line.length() ? "" : line.substring(sp[4] + 1).stripLeading();
        try {
            new Vma(start, end, perms, pgoff, major, minor, inode, name, Set.of(), -1, -1, -1);
        } catch (IllegalArgumentException e) {
            throw new ProcException(source, no, e.getMessage() + ": '" + line + "'");
        }
        return new Header(start, end, perms, pgoff, major, minor, inode, name);
    }

    /** "     24 kB" in bytes. */
    private static long kb(String value, Path source, int no, String key) throws ProcException {
        String[] t = ProcIo.tokens(value);
        if (t.length != 2 || !t[1].equals("kB")) throw new ProcException(source, no, "bad " + key + " value '" + value + "'");
        return ProcIo.parseUDec(t[0], source, no, key) * 1024;
    }

    private static Set<String> vmFlags(String value, Path source, int no) throws ProcException {
        Set<String> s = new LinkedHashSet<>();
        for (String t : ProcIo.tokens(value)) {
            if (t.length() != 2) throw new ProcException(source, no, "bad VmFlags code '" + t + "'");
            s.add(t);
        }
        return s;
    }
}

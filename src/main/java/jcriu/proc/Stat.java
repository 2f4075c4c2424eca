package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads /proc/PID/stat and /proc/PID/task/TID/stat. */
public final class Stat {
    /** Fields up to exit_code (52), all present since Linux 3.5. */
    static final int MIN_FIELDS = 52;

    private Stat() {}

    public static ProcStat read(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("stat");
        return parse(ProcIo.readText(procRoot, pid, f), f);
    }

    /**
     * The stat of every process visible in {@code procRoot}; processes that exit during the scan
     * are left out.
     */
    public static List<ProcStat> all(Path procRoot) throws IOException {
        List<ProcStat> out = new ArrayList<>();
        try (var ds = java.nio.file.Files.newDirectoryStream(procRoot, p -> p.getFileName().toString().matches("[0-9]+"))) {
            for (Path p : ds) {
                try {
                    out.add(read(procRoot, Integer.parseInt(p.getFileName().toString())));
                } catch (ProcessGoneException | java.nio.file.NoSuchFileException gone) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }

    /**
     * Every process that keeps the number {@code pid} in use: the process itself, and those
     * whose process group or session it names (the kernel frees a PID only when none is left).
     */
    public static List<ProcStat> usersOf(Path procRoot, int pid) throws IOException {
        return all(procRoot).stream().filter(p -> p.pid() == pid || p.pgrp() == pid || p.session() == pid).toList();
    }

    /** One thread's stat: its own state, comm and times. */
    public static ProcStat readTask(Path procRoot, int pid, int tid) throws IOException {
        Path f = ProcIo.taskDir(procRoot, pid, tid).resolve("stat");
        return parse(ProcIo.readTaskText(procRoot, pid, tid, f), f);
    }

    /**
     * Parses stat text. comm is printed raw (a task may name itself "a) b (c" or put a newline
     * in it), so it is taken from the first '(' to the last ')', and the remaining fields are
     * split on spaces after that.
     */
    public static ProcStat parse(String text, Path source) throws ProcException {
        int open = text.indexOf('(');
        int close = text.lastIndexOf(')');
        if (open < 0 || close < open) throw new ProcException(source, 1, "no (comm) in '" + text.strip() + "'");
        List<String> f = new ArrayList<>();
        f.add(text.substring(0, open).strip());
        f.add(text.substring(open + 1, close));
        String rest = text.substring(close + 1);
        if (rest.endsWith("\n")) rest = rest.substring(0, rest.length() - 1);
        if (!rest.startsWith(" ")) throw new ProcException(source, 1, "no space after (comm)");
        for (String t : rest.substring(1).split(" ", -1)) {
            if (t.isEmpty()) throw new ProcException(source, 1, "empty field after (comm)");
            f.add(t);
        }
        if (f.size() < MIN_FIELDS) {
            throw new ProcException(source, 1, "only " + f.size() + " fields, expected at least " + MIN_FIELDS);
        }
        if (f.get(2).length() != 1) throw new ProcException(source, 1, "bad state '" + f.get(2) + "'");
        // Line number 1 for every field: stat is one line, but comm can hold newlines.
        P p = new P(f, source);
        return new ProcStat(p.i(1), f.get(1), f.get(2).charAt(0), p.i(4), p.i(5), p.i(6), p.i(7), p.i(8),
                p.u(9), p.u(14), p.u(15), p.l(18), p.l(19), p.i(20), p.u(22), p.u(23), p.u(24),
                p.u(26), p.u(27), p.u(28), p.i(38), p.i(39), p.i(40), p.i(41),
                p.u(45), p.u(46), p.u(47), p.u(48), p.u(49), p.u(50), p.u(51), p.i(52), f);
    }

    /** Field access by proc(5) number with errors that say which field. */
    private record P(List<String> f, Path source) {
        int i(int n) throws ProcException {
            return ProcIo.parseInt(f.get(n - 1), source, 1, "field " + n);
        }

        long l(int n) throws ProcException {
            return ProcIo.parseDec(f.get(n - 1), source, 1, "field " + n);
        }

        long u(int n) throws ProcException {
            return ProcIo.parseUDec(f.get(n - 1), source, 1, "field " + n);
        }
    }
}

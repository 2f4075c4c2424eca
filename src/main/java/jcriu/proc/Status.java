package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/** Reads /proc/PID/status and /proc/PID/task/TID/status. */
public final class Status {
    private Status() {}

    public static ProcStatus read(Path procRoot, int pid) throws IOException {
        Path f = ProcIo.pidDir(procRoot, pid).resolve("status");
        return parse(ProcIo.readText(procRoot, pid, f), f);
    }

    /** A thread's status: its own Pid, State, SigPnd and SigBlk. */
    public static ProcStatus readTask(Path procRoot, int pid, int tid) throws IOException {
        Path f = ProcIo.taskDir(procRoot, pid, tid).resolve("status");
        return parse(ProcIo.readTaskText(procRoot, pid, tid, f), f);
    }

    /** The status of the reading process itself ({@code procRoot/self/status}). */
    public static ProcStatus readSelf(Path procRoot) throws IOException {
        Path f = procRoot.resolve("self").resolve("status");
        return parse(ProcIo.slurpText(f), f);
    }

    public static ProcStatus parse(String text, Path source) throws ProcException {
        Map<String, String> fields = new LinkedHashMap<>();
        Map<String, Integer> lineOf = new HashMap<>();
        String[] lines = ProcIo.lines(text);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            int colon = l.indexOf(':');
            if (colon <= 0) throw new ProcException(source, i + 1, "not a 'Key: value' line: '" + l + "'");
            String key = l.substring(0, colon);
            // Name is printed "Name:\t" + name and the name may itself begin or end with blanks.
            String value = key.equals("Name") && l.startsWith("Name:\t") ? l.substring(6) : l.substring(colon + 1).strip();
            if (fields.put(key, value) != null) throw new ProcException(source, i + 1, "duplicate " + key + " line");
            lineOf.put(key, i + 1);
        }
        F f = new F(fields, lineOf, source);
        String stateField = f.req("State");
        if (stateField.isEmpty()) throw new ProcException(source, lineOf.get("State"), "empty State");
        String cpus = fields.get("Cpus_allowed_list");
        if (cpus != null) {
            try {
                ProcStatus.parseCpuList(cpus);
            } catch (IllegalArgumentException e) {
                throw new ProcException(source, lineOf.get("Cpus_allowed_list"), e.getMessage());
            }
        }
        return new ProcStatus(unescapeName(f.req("Name")),
                fields.containsKey("Umask") ? OptionalInt.of((int) ProcIo.parseOct(fields.get("Umask"), source,
                        lineOf.get("Umask"), "Umask")) : OptionalInt.empty(),
                stateField.charAt(0), f.i("Tgid"), f.i("Pid"), f.i("PPid"), f.i("TracerPid"),
                f.ids("Uid"), f.ids("Gid"), f.list("Groups", true), f.list("NStgid", false), f.list("NSpid", false),
                f.i("Threads"), f.sigQ(), f.hex("SigPnd"), f.hex("ShdPnd"), f.hex("SigBlk"), f.hex("SigIgn"),
                f.hex("SigCgt"),
                new Capabilities(f.hex("CapInh"), f.hex("CapPrm"), f.hex("CapEff"), f.hex("CapBnd"), f.hex("CapAmb")),
                f.bool("NoNewPrivs"), f.i("Seccomp"),
                fields.containsKey("Seccomp_filters") ? OptionalInt.of(f.i("Seccomp_filters")) : OptionalInt.empty(),
                Optional.ofNullable(fields.get("Speculation_Store_Bypass")),
                Optional.ofNullable(fields.get("SpeculationIndirectBranch")),
                Optional.ofNullable(cpus), fields);
    }

    /** proc_task_name() escapes only newline and backslash in status (seq_escape_str "\n\\"). */
    static String unescapeName(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                if (n == 'n') { b.append('\n'); i++; continue; }
                if (n == '\\') { b.append('\\'); i++; continue; }
            }
            b.append(c);
        }
        return b.toString();
    }

    /** Typed access to the collected lines, with errors naming the line. */
    private record F(Map<String, String> m, Map<String, Integer> lineOf, Path source) {
        String req(String key) throws ProcException {
            String v = m.get(key);
            if (v == null) throw new ProcException(source, "no " + key + " line");
            return v;
        }

        int line(String key) {
            return lineOf.getOrDefault(key, 0);
        }

        int i(String key) throws ProcException {
            return ProcIo.parseInt(req(key), source, line(key), key);
        }

        long hex(String key) throws ProcException {
            return ProcIo.parseHex(req(key), source, line(key), key);
        }

        boolean bool(String key) throws ProcException {
            return switch (req(key)) {
                case "0" -> false;
                case "1" -> true;
                default -> throw new ProcException(source, line(key), "bad " + key + " '" + m.get(key) + "'");
            };
        }

        Ids ids(String key) throws ProcException {
            String[] t = ProcIo.tokens(req(key));
            if (t.length != 4) throw new ProcException(source, line(key), key + " needs 4 values, got '" + m.get(key) + "'");
            return new Ids(ProcIo.parseUInt(t[0], source, line(key), key), ProcIo.parseUInt(t[1], source, line(key), key),
                    ProcIo.parseUInt(t[2], source, line(key), key), ProcIo.parseUInt(t[3], source, line(key), key));
        }

        /** Space-separated ids; {@code required} lines must exist but may be empty (no groups). */
        List<Integer> list(String key, boolean required) throws ProcException {
            String v = required ? req(key) : m.get(key);
            List<Integer> out = new ArrayList<>();
            if (v == null) return out;
            for (String t : ProcIo.tokens(v)) out.add(ProcIo.parseUInt(t, source, line(key), key));
            return out;
        }

        SigQueue sigQ() throws ProcException {
            String v = req("SigQ");
            int slash = v.indexOf('/');
            if (slash < 0) throw new ProcException(source, line("SigQ"), "bad SigQ '" + v + "'");
            return new SigQueue(ProcIo.parseUDec(v.substring(0, slash), source, line("SigQ"), "SigQ"),
                    ProcIo.parseUDec(v.substring(slash + 1), source, line("SigQ"), "SigQ limit"));
        }
    }
}

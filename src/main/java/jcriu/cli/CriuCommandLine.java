package jcriu.cli;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jcriu.cli.CriuOptions.Opt;
import jcriu.cli.CriuOptions.Verb;

/**
 * Reads a command line the way CRIU 4.2 does (criu/config.c): the default configuration files
 * ({@code /etc/criu/default.conf}, {@code ~/.criu/default.conf}, unless {@code
 * --no-default-config} or {@code --config FILE}), the file named by {@code CRIU_CONFIG_FILE},
 * {@code --config FILE}, then the arguments, each read by getopt in that order so that later
 * ones override earlier ones. The result is the command and its options in one canonical
 * spelling ({@code --NAME=VALUE}) for the picocli command that runs it, plus notes for the log
 * about options accepted with no effect; an option jcriu cannot honour stops everything here.
 */
public final class CriuCommandLine {
    private CriuCommandLine() {}

    /** Where configuration comes from; {@link #system()} outside tests. */
    public record Env(Path globalConfig, Path home, String configFromEnv) {
        public static Env system() {
            String home = System.getenv("HOME");
            return new Env(Path.of("/etc/criu/default.conf"), home == null ? null : Path.of(home),
                    System.getenv("CRIU_CONFIG_FILE"));
        }

        /** No configuration file at all (a CRIU service worker starts from scratch for each client). */
        public static Env none() { return new Env(null, null, null); }

        Path userConfig() { return home == null ? null : home.resolve(".criu/default.conf"); }
    }

    public sealed interface Outcome permits Run, Help, Version, Fail, Own {}

    /** Run {@code tokens} (the command first) through picocli; {@code notes} go to the command's log. */
    public record Run(Verb verb, List<String> tokens, List<String> notes, List<String> argvOptions)
            implements Outcome {}

    /** Show the help, of one command or of all. */
    public record Help(Optional<Verb> verb) implements Outcome {}

    public record Version() implements Outcome {}

    /** Stop with this exit code and message (2: usage or an option jcriu cannot honour; 1: as CRIU). */
    public record Fail(int exitCode, String message) implements Outcome {}

    /** One of jcriu's own commands (no CRIU options, no configuration files). */
    public record Own(List<String> args) implements Outcome {}

    static final Set<String> OWN_COMMANDS = Set.of("demo", "rseq");
    private static final Set<String> NUMERIC = Set.of("tree", "timeout", "close", "status-fd");
    private static final Set<String> SPECIAL = Set.of("config", "no-default-config", "help", "version");

    /** An option as read, and from where. */
    record Read(Getopt.Occurrence occ, String source) {}

    static Outcome interpret(List<String> args, Env env) {
        return interpret(List.of(), args, env, null);
    }

    /**
     * As CRIU reads an RPC request: {@code defaults} before everything (CRIU's defaults for RPC),
     * then the configuration files, the arguments (the request's options), and last the request's
     * own configuration file {@code rpcConfig}, which overrides everything.
     */
    public static Outcome interpret(List<String> defaults, List<String> args, Env env, Path rpcConfig) {
        if (!args.isEmpty() && OWN_COMMANDS.contains(args.getFirst())) return new Own(args);
        // CRIU's pre-parse: help first of all, and which configuration files are wanted.
        boolean noDefault = false;
        String cfg = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) return new Help(firstVerb(args));
            if (a.equals("--no-default-config")) noDefault = true;
            if (a.equals("--config") && i + 1 < args.size()) {
                cfg = args.get(i + 1);
                noDefault = true;
            } else if (a.startsWith("--config=")) {
                cfg = a.substring("--config=".length());
                noDefault = true;
            }
        }
        List<Read> read = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<String> operands;
        try {
            for (Getopt.Occurrence o : Getopt.parse(defaults).options()) read.add(new Read(o, "jcriu's RPC defaults"));
            if (!noDefault && env.globalConfig() != null) {
                readConfig(env.globalConfig(), false, read, notes);
                if (env.userConfig() != null) readConfig(env.userConfig(), false, read, notes);
            }
            if (env.configFromEnv() != null) readConfig(Path.of(env.configFromEnv()), true, read, notes);
            if (cfg != null) readConfig(Path.of(cfg), true, read, notes);
            Getopt.Result r = Getopt.parse(args);
            for (Getopt.Occurrence o : r.options()) read.add(new Read(o, "the command line"));
            operands = r.operands();
            if (rpcConfig != null) readConfig(rpcConfig, true, read, notes);
        } catch (Getopt.UsageException | ConfigFile.FormatException e) {
            return new Fail(Main.USAGE, e.getMessage());
        } catch (IOException e) {
            return new Fail(Main.USAGE, "cannot read config file: " + e.getMessage());
        }
        for (Read r : read) if (r.occ().opt().name().equals("version")) return new Version();
        if (operands.isEmpty()) return new Fail(Main.USAGE, "command is required");
        String word = operands.getFirst();
        if (OWN_COMMANDS.contains(word)) {
            return new Fail(Main.USAGE, "jcriu " + word + " takes its own options: write the command first");
        }
        if (CriuOptions.MISSING_VERBS.containsKey(word)) {
            return new Fail(Main.USAGE, "jcriu has no \"" + word + "\" command: " + CriuOptions.MISSING_VERBS.get(word));
        }
        Optional<Verb> v = Verb.of(word);
        if (v.isEmpty()) return new Fail(Main.USAGE, "unknown command: " + word);
        Verb verb = v.get();
        List<String> rest = operands.subList(1, operands.size());
        if (verb == Verb.SWRK) {
            if (rest.size() != 1) return new Fail(Main.USAGE, "usage: jcriu swrk <fd>");
        } else if (!rest.isEmpty()) {
            return new Fail(Main.USAGE, "excessive parameter" + (rest.size() > 1 ? "s" : "") + " for command "
                    + word + ": " + String.join(" ", rest));
        }
        return evaluate(verb, read, rest, notes);
    }

    /** The command line's own options, each in one spelling getopt reads back the same. */
    private static List<String> argvOptions(List<Read> read) {
        List<String> out = new ArrayList<>();
        for (Read r : read) {
            if (!r.source().equals("the command line")) continue;
            Getopt.Occurrence o = r.occ();
            if (SPECIAL.contains(o.opt().name())) continue;
            String name = "--" + (o.negated() ? "no-" : "") + o.opt().name();
            out.add(o.value() == null ? name : name + "=" + o.value());
        }
        return out;
    }

    private static Optional<Verb> firstVerb(List<String> args) {
        for (String a : args) {
            Optional<Verb> v = Verb.of(a);
            if (v.isPresent()) return v;
        }
        return Optional.empty();
    }

    /** A default file may be missing; a file asked for explicitly may not. */
    private static void readConfig(Path file, boolean asked, List<Read> read, List<String> notes)
            throws IOException, ConfigFile.FormatException, Getopt.UsageException {
        List<String> tokens;
        try {
            tokens = ConfigFile.read(file);
        } catch (NoSuchFileException e) {
            if (asked) throw new NoSuchFileException(file + " (no such file)");
            return;
        }
        Getopt.Result r;
        try {
            r = Getopt.parse(tokens);
        } catch (Getopt.UsageException e) {
            throw new Getopt.UsageException("config file " + file + ": " + e.getMessage());
        }
        for (Getopt.Occurrence o : r.options()) {
            if (o.opt().name().equals("help") || o.opt().name().equals("config")) {
                throw new Getopt.UsageException("config file " + file + ": " + o.spelling() + " cannot be set there");
            }
            read.add(new Read(o, "config file " + file));
        }
        for (String op : r.operands()) {
            notes.add("config file " + file + ": '" + op + "' is not attached to an option and is ignored, as CRIU"
                    + " does (write NAME=VALUE options as \"NAME VALUE\" only for options with a required value)");
        }
    }

    /** What the options come to for one command: the last word wins, lists add up, -v counts. */
    private static Outcome evaluate(Verb verb, List<Read> read, List<String> operands, List<String> notes) {
        Map<String, Opt> opts = new LinkedHashMap<>();
        Map<String, List<String>> values = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        int verbosity = 2;
        boolean verbositySet = false;
        for (Read r : read) {
            Getopt.Occurrence o = r.occ();
            String key = key(o.opt());
            if (SPECIAL.contains(key)) continue;
            if (key.equals("verbosity")) {
                verbosity = nextVerbosity(verbosity, o.value());
                verbositySet = true;
                continue;
            }
            // CRIU keeps one final state: the later of -R and -s wins
            if (key.equals("leave-running")) values.remove("leave-stopped");
            if (key.equals("leave-stopped")) values.remove("leave-running");
            opts.put(key, key.equals(o.opt().name()) ? o.opt() : CriuOptions.byName(key).orElseThrow());
            sources.put(key, r.source());
            List<String> vs = values.computeIfAbsent(key, k -> new ArrayList<>());
            if (o.opt().flag()) {
                vs.clear();
                if (!o.negated()) vs.add("true");
            } else if (o.opt().repeated()) {
                vs.add(o.value());
            } else {
                vs.clear();
                vs.add(o.value());
            }
        }
        List<String> tokens = new ArrayList<>();
        tokens.add(verb.word);
        if (verbositySet) tokens.add("--verbosity=" + verbosity);
        List<String> refusals = new ArrayList<>();
        for (var e : opts.entrySet()) {
            Opt o = e.getValue();
            List<String> vs = values.get(e.getKey());
            if (vs == null || vs.isEmpty()) continue; // a flag turned off again (--no-NAME)
            String from = sources.get(e.getKey()).equals("the command line") ? "" : " (from " + sources.get(e.getKey())
                    + ")";
            CriuOptions.Handling h = o.verbs().get(verb);
            if (h == null) {
                notes.add(o.spelling() + from + ": no effect on " + verb.word + " (CRIU ignores it there too)");
                continue;
            }
            switch (h) {
                case CriuOptions.Passed p -> {
                    for (String val : vs) {
                        String bad = checkNumber(o, val);
                        if (bad != null) return new Fail(Main.USAGE, bad + from);
                        if (NUMERIC.contains(o.name())) val = Integer.toString(atoi(val));
                        tokens.add(o.flag() || val == null ? o.spelling() : o.spelling() + "=" + val);
                    }
                }
                case CriuOptions.NoEffect n -> notes.add(o.spelling() + from + ": accepted with no effect: " + n.why());
                case CriuOptions.Refused r -> refusals.add(o.spelling() + from + ": " + r.why());
                case CriuOptions.ByValue b -> {
                    for (String val : vs) {
                        String shown = o.spelling() + (val == null ? "" : "=" + val) + from;
                        switch (b.judge().judge(verb, val)) {
                            case CriuOptions.Pass p -> tokens.add(val == null ? o.spelling() : o.spelling() + "=" + val);
                            case CriuOptions.Accept a -> notes.add(shown + ": accepted with no effect: " + a.why());
                            case CriuOptions.Refuse r -> refusals.add(shown + ": " + r.why());
                            case CriuOptions.Bad bad -> {
                                return new Fail(Main.USAGE, shown + ": " + bad.why());
                            }
                        }
                    }
                }
            }
        }
        if (!refusals.isEmpty()) {
            return new Fail(Main.USAGE, "jcriu cannot honour " + (refusals.size() == 1 ? "this option" : "these options")
                    + " yet:\n  " + String.join("\n  ", refusals));
        }
        tokens.addAll(operands);
        return new Run(verb, List.copyOf(tokens), List.copyOf(notes), argvOptions(read));
    }

    /** --daemon is CRIU's other name for --restore-detached (one field in its options). */
    private static String key(Opt o) {
        return o.name().equals("daemon") ? "restore-detached" : o.name();
    }

    /** -v adds one, -vv... adds their number, -vN and --verbosity=N set N (C's atoi, as CRIU). */
    static int nextVerbosity(int level, String value) {
        if (value == null) return level + 1;
        if (value.startsWith("v")) return level + value.length() + 1;
        return atoi(value);
    }

    /** C's atoi: optional blanks and sign, then digits; anything else ends the number (0 if none). */
    static int atoi(String s) {
        int i = 0;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        boolean neg = false;
        if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) neg = s.charAt(i++) == '-';
        long n = 0;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9' && n < Integer.MAX_VALUE) {
            n = n * 10 + (s.charAt(i++) - '0');
        }
        return (int) (neg ? -n : Math.min(n, Integer.MAX_VALUE));
    }

    /** The numeric options, read as CRIU reads them; a message when CRIU would refuse the value. */
    private static String checkNumber(Opt o, String v) {
        return switch (o.name()) {
            case "tree" -> atoi(v) <= 0 ? "invalid argument for --tree: " + v : null;
            case "timeout", "close" -> v.strip().matches("[+-]?\\d+.*") ? null
                    : "invalid argument for " + o.spelling() + ": " + v + " (a number)";
            case "status-fd" -> v.strip().matches("[+-]?\\d+.*") ? null : "unable to parse a value of --status-fd";
            default -> null;
        };
    }

}

package jcriu.cli;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * glibc's getopt_long as CRIU calls it, so that every spelling CRIU accepts means the same here:
 * operands may come anywhere (they are permuted to the end), short options cluster ({@code -dR},
 * {@code -t123}), an optional argument must be attached ({@code -v4}, {@code --verbosity=4};
 * {@code -v 4} makes 4 an operand), a long option may be abbreviated to an unambiguous prefix,
 * and {@code --} ends the options.
 */
final class Getopt {
    private Getopt() {}

    /** A long spelling: {@code negated} for the --no-NAME form of CRIU's BOOL_OPTs. */
    record LongName(String name, CriuOptions.Opt opt, boolean negated) {}

    /** One option as written: {@code value} is null when absent; {@code spelling} is what the user typed. */
    record Occurrence(CriuOptions.Opt opt, String value, boolean negated, String spelling) {}

    record Result(List<Occurrence> options, List<String> operands) {}

    /** A command line CRIU's getopt would reject, with glibc's wording. */
    static final class UsageException extends Exception {
        UsageException(String msg) { super(msg); }
    }

    static Result parse(List<String> args) throws UsageException {
        List<Occurrence> opts = new ArrayList<>();
        List<String> operands = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--")) {
                operands.addAll(args.subList(i + 1, args.size()));
                break;
            }
            if (a.startsWith("--")) {
                i = parseLong(args, i, opts);
            } else if (a.startsWith("-") && a.length() > 1) {
                i = parseShort(args, i, opts);
            } else {
                operands.add(a);
            }
        }
        return new Result(opts, operands);
    }

    private static int parseLong(List<String> args, int i, List<Occurrence> out) throws UsageException {
        String a = args.get(i);
        String body = a.substring(2);
        int eq = body.indexOf('=');
        String name = eq < 0 ? body : body.substring(0, eq);
        String attached = eq < 0 ? null : body.substring(eq + 1);
        LongName ln = match(name, a);
        CriuOptions.Opt o = ln.opt();
        String value = null;
        switch (o.arg()) {
            case NONE -> {
                if (attached != null) throw new UsageException("option '--" + ln.name() + "' doesn't allow an argument");
            }
            case REQUIRED -> {
                if (attached != null) {
                    value = attached;
                } else if (i + 1 < args.size()) {
                    value = args.get(++i);
                } else {
                    throw new UsageException("option '--" + ln.name() + "' requires an argument");
                }
            }
            case OPTIONAL -> value = attached;
        }
        out.add(new Occurrence(o, value, ln.negated(), "--" + ln.name()));
        return i;
    }

    /** Exact name first, else the one option all prefix matches agree on (glibc's rule). */
    private static LongName match(String name, String as) throws UsageException {
        List<LongName> all = CriuOptions.longNames();
        for (LongName ln : all) if (ln.name().equals(name)) return ln;
        List<LongName> prefixed = new ArrayList<>();
        for (LongName ln : all) if (!name.isEmpty() && ln.name().startsWith(name)) prefixed.add(ln);
        if (prefixed.isEmpty()) throw new UsageException("unrecognized option '" + as + "'");
        Set<String> distinct = new LinkedHashSet<>();
        for (LongName ln : prefixed) distinct.add(ln.opt().name() + (ln.negated() ? "/no" : ""));
        if (distinct.size() > 1) {
            List<String> names = new ArrayList<>();
            for (LongName ln : prefixed) names.add("'--" + ln.name() + "'");
            throw new UsageException("option '" + as + "' is ambiguous; possibilities: " + String.join(" ", names));
        }
        return prefixed.getFirst();
    }

    private static int parseShort(List<String> args, int i, List<Occurrence> out) throws UsageException {
        String a = args.get(i);
        for (int k = 1; k < a.length(); k++) {
            char c = a.charAt(k);
            CriuOptions.Opt o = CriuOptions.byShort(c)
                    .orElseThrow(() -> new UsageException("invalid option -- '" + c + "'"));
            String rest = a.substring(k + 1);
            switch (o.arg()) {
                case NONE -> {
                    out.add(new Occurrence(o, null, false, "-" + c));
                    continue;
                }
                case REQUIRED -> {
                    String v;
                    if (!rest.isEmpty()) {
                        v = rest;
                    } else if (i + 1 < args.size()) {
                        v = args.get(++i);
                    } else {
                        throw new UsageException("option requires an argument -- '" + c + "'");
                    }
                    out.add(new Occurrence(o, v, false, "-" + c));
                }
                case OPTIONAL -> out.add(new Occurrence(o, rest.isEmpty() ? null : rest, false, "-" + c));
            }
            return i; // an option with an argument ends the cluster
        }
        return i;
    }
}

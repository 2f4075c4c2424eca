package jcriu.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CRIU's configuration file format: one option per line, its long name without the leading
 * dashes, then optionally one value (double-quoted if it holds spaces, with \" for a quote);
 * {@code #} starts a comment. Each line becomes {@code --NAME [VALUE]} for getopt, as CRIU does,
 * so an optional argument written after a space ({@code verbosity 4}) is not attached and does
 * not count, exactly as with CRIU.
 */
final class ConfigFile {
    private ConfigFile() {}

    /** A line CRIU would refuse, naming the file and line. */
    static final class FormatException extends Exception {
        FormatException(String msg) { super(msg); }
    }

    static List<String> read(Path file) throws IOException, FormatException {
        return parse(file.toString(), Files.readAllLines(file));
    }

    static List<String> parse(String source, List<String> lines) throws FormatException {
        List<String> out = new ArrayList<>();
        int n = 0;
        for (String raw : lines) {
            n++;
            String line = raw.stripLeading();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int sp = firstBlank(line);
            if (sp < 0) {
                out.add("--" + line);
                continue;
            }
            out.add("--" + line.substring(0, sp));
            String rest = line.substring(sp + 1).stripLeading();
            if (rest.isEmpty() || rest.startsWith("#")) continue;
            if (rest.startsWith("\"")) {
                out.add(quoted(source, n, rest));
                continue;
            }
            int hash = rest.indexOf('#');
            String v = (hash < 0 ? rest : rest.substring(0, hash)).strip();
            if (firstBlank(v) >= 0) throw bad(source, n, "one value per option; quote a value that has spaces");
            out.add(v.replace("\\\"", "\""));
        }
        return out;
    }

    private static String quoted(String source, int n, String rest) throws FormatException {
        StringBuilder v = new StringBuilder();
        int i = 1;
        for (; i < rest.length(); i++) {
            char c = rest.charAt(i);
            if (c == '\\' && i + 1 < rest.length() && rest.charAt(i + 1) == '"') {
                v.append('"');
                i++;
            } else if (c == '"') {
                break;
            } else {
                v.append(c);
            }
        }
        if (i >= rest.length()) throw bad(source, n, "unterminated quote");
        String after = rest.substring(i + 1).strip();
        if (!after.isEmpty() && !after.startsWith("#")) throw bad(source, n, "text after the quoted value");
        return v.toString();
    }

    private static int firstBlank(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) == ' ' || s.charAt(i) == '\t') return i;
        return -1;
    }

    private static FormatException bad(String source, int line, String why) {
        return new FormatException("config file " + source + " line " + line + ": unsupported format (" + why + ")");
    }
}

package jcriu.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The part of a command's --help about CRIU's other options, generated from {@link CriuOptions}. */
final class OptionHelp {
    private OptionHelp() {}

    static String footer(CriuOptions.Verb verb) {
        Map<String, List<String>> noEffect = new LinkedHashMap<>();
        Map<String, List<String>> refused = new LinkedHashMap<>();
        List<String> byValue = new ArrayList<>();
        for (CriuOptions.Opt o : CriuOptions.all()) {
            CriuOptions.Handling h = o.verbs().get(verb);
            switch (h) {
                case null -> { }
                case CriuOptions.Passed p -> { }
                case CriuOptions.NoEffect n -> noEffect.computeIfAbsent(n.why(), k -> new ArrayList<>()).add(o.spelling());
                case CriuOptions.Refused r -> refused.computeIfAbsent(r.why(), k -> new ArrayList<>()).add(o.spelling());
                case CriuOptions.ByValue b -> byValue.add(o.spelling() + ": " + b.summary());
            }
        }
        StringBuilder sb = new StringBuilder("%nCRIU's other options on " + verb.word + ":%n");
        if (!noEffect.isEmpty()) {
            sb.append("  Accepted with no effect:%n");
            noEffect.forEach((why, names) -> sb.append("    ").append(String.join(", ", names)).append(": ")
                    .append(why).append("%n"));
        }
        if (!byValue.isEmpty()) {
            sb.append("  Depending on the value:%n");
            for (String b : byValue) sb.append("    ").append(b).append("%n");
        }
        if (!refused.isEmpty()) {
            sb.append("  Refused (exit 2), jcriu cannot honour them yet:%n");
            refused.forEach((why, names) -> sb.append("    ").append(String.join(", ", names)).append(": ")
                    .append(why).append("%n"));
        }
        sb.append("  Any other CRIU option has no effect on ").append(verb.word).append(", as in CRIU.%n");
        return sb.toString().replace("%n", "\n").replace("%", "%%").replace("\n", "%n");
    }
}

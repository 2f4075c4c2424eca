package jcriu.proc;

import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * /proc/PID/status. Fields a 6.x kernel prints for every user process are plain values;
 * fields that depend on kernel configuration or kind of task are optional.
 *
 * @param name      Name, unescaped (the kernel writes newline as {@code \n}, backslash as {@code \\})
 * @param umask     absent for tasks without fs_struct
 * @param state     the letter of State (R S D T t X Z P I)
 * @param nsTgid    NStgid: tgid in each pid namespace, outermost first (empty without CONFIG_PID_NS)
 * @param nsPid     NSpid, likewise
 * @param sigPnd    thread's pending signals; bit n-1 stands for signal n
 * @param shdPnd    process-wide (shared) pending signals
 * @param seccomp   0 disabled, 1 strict, 2 filter
 * @param fields    every line as key -> value (value with leading whitespace removed), in file order
 */
public record ProcStatus(
        String name, OptionalInt umask, char state, int tgid, int pid, int ppid, int tracerPid,
        Ids uid, Ids gid, List<Integer> groups, List<Integer> nsTgid, List<Integer> nsPid, int threads,
        SigQueue sigQ, long sigPnd, long shdPnd, long sigBlk, long sigIgn, long sigCgt, Capabilities caps,
        boolean noNewPrivs, int seccomp, OptionalInt seccompFilters, Optional<String> speculationStoreBypass,
        Optional<String> speculationIndirectBranch, Optional<String> cpusAllowedList, Map<String, String> fields) {

    public ProcStatus {
        groups = List.copyOf(groups);
        nsTgid = List.copyOf(nsTgid);
        nsPid = List.copyOf(nsPid);
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /** The raw value of any line, e.g. {@code field("VmRSS")} -> {@code "1660 kB"}. */
    public Optional<String> field(String key) {
        return Optional.ofNullable(fields.get(key));
    }

    /** Cpus_allowed_list ("0-3,8") as a set of CPU numbers; empty if the line is absent. */
    public BitSet cpusAllowed() {
        return cpusAllowedList.map(ProcStatus::parseCpuList).orElseGet(BitSet::new);
    }

    /** Parses the kernel's cpu list format ("0-3,8,10-11"); IllegalArgumentException if malformed. */
    public static BitSet parseCpuList(String list) {
        BitSet s = new BitSet();
        try {
            for (String part : list.strip().split(",")) {
                if (part.isEmpty()) continue;
                int dash = part.indexOf('-');
                if (dash < 0) {
                    s.set(Integer.parseInt(part));
                } else {
                    s.set(Integer.parseInt(part.substring(0, dash)), Integer.parseInt(part.substring(dash + 1)) + 1);
                }
            }
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("bad cpu list '" + list + "'", e);
        }
        return s;
    }
}

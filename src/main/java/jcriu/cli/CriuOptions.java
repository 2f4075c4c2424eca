package jcriu.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * CRIU 4.2's command-line options (the long and short option tables of its criu/config.c)
 * and what jcriu does with each, per command. An option is either passed to the command
 * ({@link Passed}), accepted because CRIU's meaning is already met by what jcriu does
 * ({@link NoEffect}: mostly permissions for objects jcriu refuses by name anyway), refused
 * ({@link Refused}: jcriu cannot honour it yet, exit 2), or judged by its value
 * ({@link ByValue}). On a command where CRIU ignores an option, jcriu ignores it too and says
 * so in the log; never silently.
 */
public final class CriuOptions {
    private CriuOptions() {}

    /** CRIU's commands that jcriu has. */
    public enum Verb {
        DUMP("dump"), PRE_DUMP("pre-dump"), RESTORE("restore"), CHECK("check"), SERVICE("service"), SWRK("swrk");

        final String word;

        Verb(String word) { this.word = word; }

        static Optional<Verb> of(String word) {
            for (Verb v : values()) if (v.word.equals(word)) return Optional.of(v);
            return Optional.empty();
        }
    }

    /** CRIU's commands jcriu does not have, with why. */
    static final Map<String, String> MISSING_VERBS = Map.of(
            "page-server", "jcriu has no page server: images are written to and read from a directory",
            "lazy-pages", "jcriu has no lazy restore: every page is in place before the process runs",
            "dedup", "jcriu does not deduplicate parent images",
            "cpuinfo", "jcriu writes no cpuinfo image (it checks the vDSO and restores the whole XSAVE area)",
            "exec", "\"exec\" is deprecated in CRIU too (replaced by the compel library)",
            "show", "\"show\" is deprecated in CRIU too: use crit decode -i FILE --pretty");

    enum Arg { NONE, REQUIRED, OPTIONAL }

    /** What jcriu does with an option on a command where CRIU gives it a meaning. */
    sealed interface Handling permits Passed, NoEffect, Refused, ByValue {}

    /** Honoured: handed to the command as {@code --NAME[=VALUE]}. */
    record Passed() implements Handling {}

    /** Accepted: CRIU's meaning is already met by what jcriu does, for the reason given. */
    record NoEffect(String why) implements Handling {}

    /** jcriu cannot honour it yet. */
    record Refused(String why) implements Handling {}

    /** Judged by the command and value: passed, accepted with no effect, refused, or a bad value. */
    record ByValue(Judge judge, String summary) implements Handling {}

    /** The verdict on one value of a {@link ByValue} option. */
    sealed interface Verdict permits Pass, Accept, Refuse, Bad {}

    record Pass() implements Verdict {}

    record Accept(String why) implements Verdict {}

    record Refuse(String why) implements Verdict {}

    record Bad(String why) implements Verdict {}

    @FunctionalInterface
    interface Judge {
        Verdict judge(Verb verb, String value);
    }

    /**
     * One option. {@code negatable}: CRIU's BOOL_OPT, which also has a {@code --no-NAME} form;
     * {@code repeated}: every occurrence counts (a list), otherwise the last one wins.
     * {@code verbs}: where CRIU gives it a meaning, each with jcriu's handling.
     */
    record Opt(String name, char shortName, Arg arg, boolean negatable, boolean repeated,
               Map<Verb, Handling> verbs, String help) {
        boolean flag() { return arg == Arg.NONE; }

        String spelling() { return "--" + name; }
    }

    private static final Set<Verb> DP = EnumSet.of(Verb.DUMP, Verb.PRE_DUMP);
    private static final Set<Verb> DR = EnumSet.of(Verb.DUMP, Verb.RESTORE);
    private static final Set<Verb> DPR = EnumSet.of(Verb.DUMP, Verb.PRE_DUMP, Verb.RESTORE);
    private static final Set<Verb> ALL = EnumSet.allOf(Verb.class);

    private static final String MOUNTS = "jcriu saves and restores no mount namespace";
    private static final String NETNS = "jcriu saves and restores no network namespace";
    private static final String DELETED = "jcriu refuses deleted and unlinked files by name";
    private static final String INOTIFY = "jcriu saves no inotify/fanotify watches; a process holding one is refused";
    private static final String PAGE_SERVER = "jcriu has no page server";
    private static final String CGROUPS = "jcriu saves and restores no cgroup membership or properties";

    private static final Map<String, Opt> BY_NAME = new LinkedHashMap<>();
    private static final Map<Character, Opt> BY_SHORT = new LinkedHashMap<>();

    private static Map<Verb, Handling> on(Set<Verb> verbs, Handling h) {
        Map<Verb, Handling> m = new LinkedHashMap<>();
        for (Verb v : verbs) m.put(v, h);
        return m;
    }

    @SafeVarargs
    private static Map<Verb, Handling> merge(Map<Verb, Handling>... parts) {
        Map<Verb, Handling> m = new LinkedHashMap<>();
        for (Map<Verb, Handling> p : parts) m.putAll(p);
        return m;
    }

    private static void add(String name, char shortName, Arg arg, boolean negatable, boolean repeated,
                            Map<Verb, Handling> verbs, String help) {
        Opt o = new Opt(name, shortName, arg, negatable, repeated, Collections.unmodifiableMap(verbs), help);
        if (BY_NAME.put(name, o) != null) throw new IllegalStateException("duplicate option " + name);
        if (shortName != 0) BY_SHORT.put(shortName, o);
    }

    private static void bool(String name, char shortName, Map<Verb, Handling> verbs, String help) {
        add(name, shortName, Arg.NONE, true, false, verbs, help);
    }

    private static void flag(String name, char shortName, Map<Verb, Handling> verbs, String help) {
        add(name, shortName, Arg.NONE, false, false, verbs, help);
    }

    private static void value(String name, char shortName, Map<Verb, Handling> verbs, String help) {
        add(name, shortName, Arg.REQUIRED, false, false, verbs, help);
    }

    private static void list(String name, Map<Verb, Handling> verbs, String help) {
        add(name, (char) 0, Arg.REQUIRED, false, true, verbs, help);
    }

    private static NoEffect noEffect(String why) { return new NoEffect(why); }

    private static Refused refused(String why) { return new Refused(why); }

    private static final Passed PASS = new Passed();

    static {
        // Processes and images
        value("tree", 't', on(DP, PASS), "process to dump");
        flag("leave-stopped", 's', merge(on(EnumSet.of(Verb.DUMP, Verb.RESTORE), PASS),
                on(EnumSet.of(Verb.PRE_DUMP), noEffect("a pre-dump always leaves the process running"))),
                "leave the process stopped after dump or restore");
        flag("leave-running", 'R', merge(on(EnumSet.of(Verb.DUMP), PASS),
                on(EnumSet.of(Verb.PRE_DUMP), noEffect("a pre-dump always leaves the process running"))),
                "leave the process running after dump");
        bool("restore-detached", 'd', on(EnumSet.of(Verb.RESTORE, Verb.SERVICE), PASS),
                "restore: return once the process runs; service: run in the background");
        bool("daemon", (char) 0, on(EnumSet.of(Verb.RESTORE, Verb.SERVICE), PASS), "same as --restore-detached");
        bool("restore-sibling", 'S', on(EnumSet.of(Verb.RESTORE), refused(
                "jcriu cannot yet make the restored process a child of its own parent")), "restore as jcriu's sibling");
        value("images-dir", 'D', on(EnumSet.of(Verb.DUMP, Verb.PRE_DUMP, Verb.RESTORE, Verb.SERVICE), PASS),
                "images directory (default: the current directory)");
        value("work-dir", 'W', on(ALL, PASS), "directory for logs, pidfiles and scripts (default: the images directory)");
        value("log-file", 'o', on(ALL, PASS), "log file, relative to the work directory; - is standard output");
        value("join-ns", 'J', on(EnumSet.of(Verb.RESTORE), refused("jcriu restores into no namespace")),
                "join an existing namespace");
        value("root", 'r', on(DR, new ByValue(CriuOptions::judgeRoot, "only / (jcriu cannot use another root yet)")), "root of the process's file system");
        add("ext-unix-sk", 'x', Arg.OPTIONAL, false, true, on(DR, PASS), "allow external unix sockets");
        bool("tcp-established", (char) 0, on(DR, PASS), "checkpoint established TCP connections");
        value("close", (char) 0, on(ALL, PASS), "close this inherited file descriptor of jcriu first");
        bool("log-pid", (char) 0, on(ALL, noEffect("jcriu dumps and restores from one process, so one log file"
                + " holds everything")), "a log file per process");
        bool("evasive-devices", (char) 0, on(DR, noEffect("jcriu reopens device files by their path; if it is gone"
                + " the restore fails and says so")), "use any path to a device file");
        value("pidfile", (char) 0, on(EnumSet.of(Verb.RESTORE, Verb.SERVICE), PASS),
                "write the restored (or service) PID to FILE, relative to the work directory");
        list("veth-pair", on(EnumSet.of(Verb.RESTORE), noEffect(NETNS)), "veth pair mapping (deprecated)");
        list("action-script", on(EnumSet.of(Verb.DUMP, Verb.RESTORE, Verb.SERVICE, Verb.SWRK), PASS),
                "run FILE at CRIU's hook points, with CRTOOLS_SCRIPT_ACTION set");
        bool("link-remap", (char) 0, on(DR, noEffect(DELETED)), "link unlinked files back");
        bool("shell-job", 'j', on(DR, PASS), "allow a shell job (fds 0-2 on a terminal)");
        bool("file-locks", 'l', merge(on(EnumSet.of(Verb.DUMP), PASS),
                on(EnumSet.of(Verb.RESTORE), noEffect("the locks in the images are taken again either way"))),
                "dump file locks (flock, POSIX, OFD); without it a process holding one is refused");
        bool("page-server", (char) 0, on(DP, refused(PAGE_SERVER)), "send pages to a page server");
        value("address", (char) 0, merge(on(EnumSet.of(Verb.SERVICE), PASS),
                on(DP, noEffect("it only matters with --page-server"))), "service socket path");
        value("port", (char) 0, on(DP, noEffect("it only matters with --page-server")), "page server port");
        value("prev-images-dir", (char) 0, on(DP, PASS), "a previous (pre-)dump, relative to the images directory");
        flag("ms", (char) 0, on(ALL, refused("--ms is deprecated in CRIU too; see check --help")), "(deprecated)");
        bool("track-mem", (char) 0, on(DP, noEffect("jcriu finds unchanged pages by comparing contents with"
                + " --prev-images-dir, without the kernel's soft-dirty tracking")), "track memory changes");
        bool("auto-dedup", (char) 0, on(DPR, refused("jcriu does not punch holes in parent images")),
                "deduplicate parent images");
        value("libdir", 'L', on(DPR, refused("jcriu loads no plugins")), "plugin directory");
        add("cpu-cap", (char) 0, Arg.OPTIONAL, false, false, on(DR, new ByValue(CriuOptions::judgeCpuCap, "only none (jcriu writes and checks no cpuinfo image)")),
                "CPU capabilities to write or check");
        bool("force-irmap", (char) 0, on(EnumSet.of(Verb.DUMP), noEffect(INOTIFY)), "resolve inotify paths");
        add("ext-mount-map", 'M', Arg.REQUIRED, false, true, on(DR, noEffect(MOUNTS)), "external mount mapping");
        flag("exec-cmd", (char) 0, on(EnumSet.of(Verb.RESTORE), refused(
                "jcriu cannot exec a command after the restore yet")), "exec a command after restore");
        add("manage-cgroups", (char) 0, Arg.OPTIONAL, false, false, on(DR, new ByValue(CriuOptions::judgeCgroups, "only ignore (" + CGROUPS + ")")),
                "cgroup handling mode");
        list("cgroup-root", on(DR, refused(CGROUPS)), "cgroup root");
        list("inherit-fd", merge(on(EnumSet.of(Verb.RESTORE), PASS),
                on(DP, refused("--inherit-fd is a restore option (CRIU refuses it here too)"))),
                "use fd N of jcriu for KEY (fd[N]:pipe:[INODE]: a pipe whose other end was outside the dump)");
        value("feature", (char) 0, on(EnumSet.of(Verb.CHECK), PASS), "check one feature");
        list("skip-mnt", on(EnumSet.of(Verb.DUMP), noEffect(MOUNTS)), "skip a mount");
        list("enable-fs", on(DR, noEffect(MOUNTS)), "file systems to dump mounts of");
        flag("enable-external-sharing", (char) 0, on(DR, noEffect(MOUNTS)), "external mount sharing");
        flag("enable-external-masters", (char) 0, on(DR, noEffect(MOUNTS)), "external mount masters");
        value("freeze-cgroup", (char) 0, on(DP, refused("jcriu freezes with ptrace only")), "cgroup freezer");
        value("ghost-limit", (char) 0, on(EnumSet.of(Verb.DUMP), PASS), "deleted file size limit");
        list("irmap-scan-path", on(EnumSet.of(Verb.DUMP), noEffect(INOTIFY)), "inotify path hints");
        value("lsm-profile", (char) 0, on(EnumSet.of(Verb.RESTORE), refused("jcriu sets no LSM profile")), "LSM profile");
        value("timeout", (char) 0, on(DP, PASS), "seconds allowed to freeze the process (default 10, 0: no limit)");
        list("external", on(DR, new ByValue(CriuOptions::judgeExternal, "mnt[], veth[], macvlan[], netdev[], unix[], tty[] and, on restore,"
                + " dev[] are accepted with no effect; file[] and, on dump, dev[] are refused")), "external resource");
        value("empty-ns", (char) 0, on(DR, refused(NETNS)), "empty namespace");
        flag("lazy-pages", (char) 0, on(DPR, refused("jcriu has no lazy restore")), "restore pages on demand");
        bool("extra", (char) 0, on(EnumSet.of(Verb.CHECK), PASS), "also check extra features");
        bool("experimental", (char) 0, on(EnumSet.of(Verb.CHECK), PASS), "also check experimental features");
        flag("all", (char) 0, on(EnumSet.of(Verb.CHECK), PASS), "same as --extra --experimental");
        value("cgroup-props", (char) 0, on(DR, refused(CGROUPS)), "cgroup properties");
        value("cgroup-props-file", (char) 0, on(DR, refused(CGROUPS)), "cgroup properties file");
        list("cgroup-dump-controller", on(DR, refused(CGROUPS)), "cgroup controller to dump");
        bool("skip-in-flight", (char) 0, on(DR, PASS), "skip in-flight TCP connections");
        bool("deprecated", (char) 0, on(ALL, noEffect("jcriu has no deprecated features to allow")),
                "allow deprecated features");
        bool("display-stats", (char) 0, on(DPR, PASS), "print dump/restore statistics");
        bool("weak-sysctls", (char) 0, on(EnumSet.of(Verb.RESTORE), noEffect("jcriu restores no sysctls")),
                "skip missing sysctls");
        value("status-fd", (char) 0, on(EnumSet.of(Verb.SERVICE), PASS), "write \\0 to FD and close it once ready");
        bool("tcp-close", (char) 0, on(DR, PASS), "restore TCP connections closed");
        add("verbosity", 'v', Arg.OPTIONAL, false, true, on(ALL, PASS), "log level 0-4 (-v: one more)");
        value("ps-socket", (char) 0, on(DP, refused(PAGE_SERVER)), "page server socket");
        bool("stream", (char) 0, on(DPR, refused("jcriu does not stream images")), "use criu-image-streamer");
        value("config", (char) 0, on(ALL, PASS), "read options from FILE (no default config files then)");
        flag("no-default-config", (char) 0, on(ALL, PASS), "read no default config file");
        String tls = "it only matters with a page server, which jcriu does not have";
        value("tls-cacert", (char) 0, on(DP, noEffect(tls)), "TLS CA certificate");
        value("tls-cacrl", (char) 0, on(DP, noEffect(tls)), "TLS CA revocation list");
        value("tls-cert", (char) 0, on(DP, noEffect(tls)), "TLS certificate");
        value("tls-key", (char) 0, on(DP, noEffect(tls)), "TLS key");
        bool("tls", (char) 0, on(DP, noEffect(tls)), "use TLS");
        flag("tls-no-cn-verify", (char) 0, on(DP, noEffect(tls)), "no TLS common name check");
        value("cgroup-yard", (char) 0, on(DR, refused(CGROUPS)), "cgroup yard");
        value("pre-dump-mode", (char) 0, on(DP, new ByValue(CriuOptions::judgePreDumpMode, "splice or read, no effect (one way of reading pages)")), "splice or read");
        value("file-validation", (char) 0, on(DR, new ByValue(CriuOptions::judgeFileValidation,
                "buildid, no effect (what jcriu always does)")), "file validation method");
        bool("skip-file-rwx-check", (char) 0, on(EnumSet.of(Verb.RESTORE), PASS),
                "use files reopened by path or mapped even if their permissions, size or build-id changed since the dump");
        value("lsm-mount-context", (char) 0, on(EnumSet.of(Verb.RESTORE), refused("jcriu mounts nothing")),
                "LSM mount context");
        value("network-lock", (char) 0, merge(on(DP, new ByValue(CriuOptions::judgeNetworkLock,
                        "nftables (the default) or skip on dump; iptables is refused")),
                on(EnumSet.of(Verb.RESTORE), noEffect("CRIU ignores it on restore too"))), "network locking method");
        bool("mntns-compat-mode", (char) 0, merge(on(EnumSet.of(Verb.RESTORE), noEffect(MOUNTS)),
                on(DP, refused("--mntns-compat-mode is a restore option (CRIU refuses it here too)"))),
                "mount engine compatibility mode");
        bool("unprivileged", (char) 0, on(ALL, noEffect("jcriu needs only CAP_SYS_PTRACE and CAP_CHECKPOINT_RESTORE"
                + " and uses nothing more")), "accept non-root limitations");
        bool("ghost-fiemap", (char) 0, on(EnumSet.of(Verb.DUMP), noEffect(DELETED)), "fiemap for deleted files");
        bool("allow-uprobes", (char) 0, on(EnumSet.of(Verb.DUMP), noEffect(
                "a process with a uprobes mapping is refused by name")), "allow uprobes mappings");
        flag("help", 'h', on(ALL, PASS), "show help");
        flag("version", 'V', on(ALL, PASS), "show the version");
    }

    static Optional<Opt> byName(String name) { return Optional.ofNullable(BY_NAME.get(name)); }

    static Optional<Opt> byShort(char c) { return Optional.ofNullable(BY_SHORT.get(c)); }

    static List<Opt> all() { return List.copyOf(BY_NAME.values()); }

    /** Every long spelling getopt knows: each name, and --no-NAME for CRIU's BOOL_OPTs. */
    static List<Getopt.LongName> longNames() {
        List<Getopt.LongName> out = new ArrayList<>();
        for (Opt o : BY_NAME.values()) {
            out.add(new Getopt.LongName(o.name(), o, false));
            if (o.negatable()) out.add(new Getopt.LongName("no-" + o.name(), o, true));
        }
        return out;
    }

    // ---- judges for options accepted only with some values ----

    private static Verdict judgeRoot(Verb verb, String value) {
        String norm = java.nio.file.Path.of(value).normalize().toString();
        if (norm.equals("/")) return new Accept("the root is / already");
        return new Refuse("jcriu cannot dump or restore in another root yet (" + value + ")");
    }

    private static Verdict judgeCpuCap(Verb verb, String value) {
        if (value != null && value.equals("none")) return new Accept("jcriu writes and checks no CPU capabilities");
        return new Refuse("jcriu writes and checks no cpuinfo image; only --cpu-cap=none is accepted");
    }

    private static Verdict judgeCgroups(Verb verb, String value) {
        if (value == null) value = "soft";
        return switch (value) {
            case "ignore" -> new Accept(CGROUPS);
            case "none", "props", "soft", "full", "strict" -> new Refuse(CGROUPS + "; only --manage-cgroups=ignore"
                    + " is accepted");
            default -> new Bad("unknown cgroups mode '" + value + "'");
        };
    }

    private static Verdict judgeFileValidation(Verb verb, String value) {
        return switch (value) {
            case "buildid" -> new Accept("jcriu always checks the size and mode of files, and the build-id of ELF files");
            case "filesize" -> new Refuse("jcriu always checks build-ids; to use a changed file restore with"
                    + " --skip-file-rwx-check");
            default -> new Bad("unknown file validation method: " + value);
        };
    }

    private static Verdict judgePreDumpMode(Verb verb, String value) {
        return switch (value) {
            case "splice", "read" -> new Accept("jcriu has one way of reading pages, with the same result");
            default -> new Bad("unable to parse value of --pre-dump-mode: " + value);
        };
    }

    private static Verdict judgeNetworkLock(Verb verb, String value) {
        return switch (value) {
            case "iptables", "nftables", "skip", "none" -> verb == Verb.PRE_DUMP
                    ? new Accept("a pre-dump locks nothing (neither does CRIU's)")
                    : value.equals("iptables")
                    ? new Refuse("jcriu's dump locks the network with nftables only (--network-lock=nftables, the"
                            + " table inet CRIU-RUNID that CRIU's restore deletes too, or --network-lock=skip)")
                    : new Pass();
            default -> new Bad("invalid value for --network-lock: " + value);
        };
    }

    /**
     * External resources, as CRIU's formats: mounts and network devices concern namespaces jcriu
     * neither saves nor restores, a tty marked external is a permission for an object jcriu refuses
     * anyway, and jcriu's own rule for unix sockets outside (--ext-unix-sk) applies to them. A file or a device marked external would be dumped by jcriu as an
     * ordinary file instead of being left to --inherit-fd at restore: refused.
     */
    static Verdict judgeExternal(Verb verb, String value) {
        String kind = value.contains("[") ? value.substring(0, value.indexOf('[')) : value;
        return switch (kind) {
            case "mnt" -> new Accept(MOUNTS);
            case "veth", "macvlan", "netdev" -> new Accept(NETNS);
            case "unix" -> new Accept("jcriu lets a unix socket keep a peer outside the processes with"
                    + " --ext-unix-sk (a connection is then restored with --inherit-fd fd[N]:socket:[INODE])");
            case "tty" -> new Accept("jcriu saves the pty pairs whose master is in the dumped processes and"
                    + " takes fds 0-2 of a --shell-job from its own terminal; a process with another terminal is refused");
            case "dev" -> verb == Verb.RESTORE ? new Accept("images written by jcriu name no external device")
                    : new Refuse("jcriu cannot leave a device out of the images yet");
            case "file" -> new Refuse("jcriu cannot leave a file out of the images yet (it would dump it)");
            default -> new Bad("unknown external resource '" + value + "'");
        };
    }
}

package jcriu.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import jcriu.api.Control;
import jcriu.api.Log;
import jcriu.check.CriuFeatures;
import jcriu.check.Features;
import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.restore.RestoreHooks;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.rseq.RseqConfigSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * The command line. CRIU's commands are read as CRIU 4.2 reads them ({@link CriuCommandLine}:
 * configuration files, getopt spellings, options jcriu cannot honour refused by name) and then
 * handed to these picocli commands in one canonical spelling; the work is done by the Java API.
 */
@Command(name = "jcriu", mixinStandardHelpOptions = true, versionProvider = Main.VersionLines.class,
        description = {"Checkpoint/restore in userspace for Linux processes, with CRIU's command line, configuration"
                + " files and image format.",
                "CRIU's options are accepted in all of CRIU's spellings (-v4, --verbosity=4, -vv, --no-NAME, options"
                        + " before the command) and read from /etc/criu/default.conf, ~/.criu/default.conf,"
                        + " $CRIU_CONFIG_FILE and --config FILE unless --no-default-config; an option jcriu cannot"
                        + " honour yet is refused by name (exit 2). Each command's --help lists them."},
        subcommands = {Main.Dump.class, Main.PreDump.class, Main.Restore.class, Main.Check.class,
                jcriu.rpc.ServiceCommand.class, jcriu.rpc.SwrkCommand.class, Demo.class, RseqCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the dump, restore or check failed (the message says why)",
                "2:usage error, or an option jcriu cannot honour yet",
                "255:dump: a post-dump action script failed (the process keeps running), as CRIU",
                "130/143:dump, pre-dump or restore interrupted by SIGINT/SIGTERM and rolled back (the message says"
                        + " what was left as it was)",
                "N:restore without -d: the restored process's exit status (128+signal if killed)"})
public final class Main implements Callable<Integer> {
    public static final int OK = 0, FAILED = 1, USAGE = 2, SCRIPT_FAILED = 255;
    /** The CRIU release whose command line, RPC protocol and images jcriu follows. */
    public static final String CRIU_VERSION = "4.2";
    public static final String JCRIU_VERSION = "0.1.0";

    /** Options accepted with no effect, for the command's log. */
    List<String> notes = List.of();
    /** The command line's own options (a swrk worker applies them to every request, as CRIU). */
    List<String> argvOptions = List.of();

    public List<String> notes() { return notes; }

    public List<String> argvOptions() { return argvOptions; }

    /** A size as CRIU reads --ghost-limit: a number of bytes with an optional K, M or G suffix. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String v) {
            String t = v.strip();
            long unit = 1;
            if (!t.isEmpty() && "KkMmGg".indexOf(t.charAt(t.length() - 1)) >= 0) {
                unit = switch (Character.toUpperCase(t.charAt(t.length() - 1))) {
                    case 'K' -> 1L << 10;
                    case 'M' -> 1L << 20;
                    default -> 1L << 30;
                };
                t = t.substring(0, t.length() - 1);
            }
            try {
                long n = Long.parseLong(t);
                if (n < 0) throw new NumberFormatException();
                return Math.multiplyExact(n, unit);
            } catch (NumberFormatException | ArithmeticException e) {
                throw new CommandLine.TypeConversionException("not a size: '" + v + "' (bytes, or with K, M or G)");
            }
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return run(CriuCommandLine.Env.system(), args);
    }

    static int run(CriuCommandLine.Env env, String... args) {
        CriuCommandLine.Outcome o = CriuCommandLine.interpret(List.of(args), env);
        switch (o) {
            case CriuCommandLine.Own own -> {
                return picocli(new Main()).execute(own.args().toArray(String[]::new));
            }
            case CriuCommandLine.Help h -> {
                CommandLine cl = picocli(new Main());
                (h.verb().isPresent() ? cl.getSubcommands().get(h.verb().get().word) : cl).usage(System.out);
                return OK;
            }
            case CriuCommandLine.Version v -> {
                VersionLines.print(System.out);
                return OK;
            }
            case CriuCommandLine.Fail f -> {
                System.err.println("jcriu: " + f.message());
                if (f.exitCode() == USAGE) System.err.println("Try jcriu --help, or jcriu COMMAND --help.");
                return f.exitCode();
            }
            case CriuCommandLine.Run r -> {
                Main m = new Main();
                if (!picocli(m).getSubcommands().containsKey(r.verb().word)) {
                    System.err.println("jcriu: jcriu has no \"" + r.verb().word + "\" command yet");
                    return USAGE;
                }
                List<String> notes = new ArrayList<>(r.notes());
                List<String> tokens = closeFds(r.tokens(), notes);
                m.notes = List.copyOf(notes);
                m.argvOptions = r.argvOptions();
                return picocli(m).execute(tokens.toArray(String[]::new));
            }
        }
    }

    public static CommandLine picocli(Main m) {
        CommandLine cl = new CommandLine(m);
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("jcriu: " + ex.getMessage());
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, p) -> {
            c.getErr().println("jcriu: " + ex.getMessage());
            return FAILED;
        });
        for (CommandLine sub : cl.getSubcommands().values()) {
            Object cmd = sub.getCommand();
            if (cmd instanceof CriuCommand cc) {
                String footer = OptionHelp.footer(cc.verb());
                sub.getCommandSpec().usageMessage().footer(footer);
            }
        }
        return cl;
    }

    /** CRIU's --close: jcriu closes an inherited descriptor before it starts. */
    private static List<String> closeFds(List<String> tokens, List<String> notes) {
        List<String> out = new ArrayList<>();
        for (String t : tokens) {
            if (t.startsWith("--close=")) {
                int fd = Integer.parseInt(t.substring("--close=".length()));
                long r = jcriu.sys.Sys.raw(jcriu.sys.Nr.CLOSE, fd, 0, 0, 0, 0, 0);
                notes.add("--close=" + fd + ": " + (r == 0 ? "closed" : "not open (" + jcriu.sys.Errno.name((int) -r)
                        + ")"));
            } else {
                out.add(t);
            }
        }
        return out;
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.err);
        return USAGE;
    }

    /** {@code jcriu -V}: CRIU's format (scripts read the "Version:" line), then jcriu's own line. */
    static final class VersionLines implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"Version: " + CRIU_VERSION,
                    "jcriu: " + JCRIU_VERSION + " (CRIU " + CRIU_VERSION + "'s command line and image format)"};
        }

        static void print(PrintStream out) {
            for (String l : new VersionLines().getVersion()) out.println(l);
        }
    }

    /** A command whose options are CRIU's. */
    public interface CriuCommand {
        CriuOptions.Verb verb();
    }

    /** A command that failed: its exit code and message (the first error, as CRIU reports it). */
    public static final class Failure extends Exception {
        private final int exitCode;

        Failure(int exitCode, String message, Throwable cause) {
            super(message, cause);
            this.exitCode = exitCode;
        }

        public int exitCode() { return exitCode; }
    }

    /** Options every command that logs shares: CRIU's -v, -o and -W. */
    public static final class LogOptions {
        @Option(names = {"-v", "--verbosity"}, paramLabel = "N",
                description = "log level: 0 errors that end the command, 1 errors, 2 warnings (default), 3 information,"
                        + " 4 debug; -v adds one, -vv two, -vN and --verbosity=N set N")
        int verbosity = 2;

        @Option(names = {"-o", "--log-file"}, paramLabel = "FILE",
                description = "log to FILE, relative to the work directory, created 0600 (- is standard output;"
                        + " default standard error)")
        String logFile;

        @Option(names = {"-W", "--work-dir"}, paramLabel = "DIR",
                description = "directory of the log, pidfile and action scripts (default: the images directory)")
        Path workDir;

        public int verbosity() { return verbosity; }

        public Path workDir(Path imagesDir) { return workDir != null ? workDir : imagesDir; }

        /** The log file's path (null: standard error or output), resolved as CRIU does. */
        public Path resolvedLogFile(Path imagesDir) {
            if (logFile == null || logFile.equals("-")) return null;
            Path f = Path.of(logFile);
            return f.isAbsolute() ? f : workDir(imagesDir).resolve(f);
        }

        public Log open(Path imagesDir, List<String> notes) throws IOException {
            Log l;
            Path f = resolvedLogFile(imagesDir);
            if (f == null) {
                l = new Log(verbosity, "-".equals(logFile) ? System.out : System.err);
            } else {
                Files.createDirectories(f.toAbsolutePath().getParent());
                Files.deleteIfExists(f);
                Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                l = new Log(verbosity, new PrintStream(new FileOutputStream(f.toFile(), true), true));
            }
            for (String n : notes) l.info(n);
            return l;
        }

        /** The message must reach the terminal even when the log goes to a file or is silenced. */
        void tellUser(String message) {
            if (resolvedLogFile(Path.of(".")) != null || verbosity < Log.ERROR) System.err.println("jcriu: " + message);
        }
    }

    private static List<String> notesOf(Main m) { return m == null ? List.of() : m.notes; }

    /** A command cancelled by a signal exits with 128 + the signal, as the shell reports one; else {@code otherwise}. */
    private static int exitCode(Throwable e, int otherwise) {
        return e.getCause() instanceof Control.CancelledException c ? Signals.exitStatus(c.by()) : otherwise;
    }

    private static Throwable hookFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof CriuHooks.HookFailure) return t;
        return null;
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "Checkpoint a process and all its descendants into an images directory; they are killed once "
                    + "the images are on disk (or left running, or stopped).")
    public static final class Dump implements Callable<Integer>, CriuCommand {
        @ParentCommand Main main;

        @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID",
                description = "root of the process tree to dump (the process and its descendants)")
        int pid;

        @Option(names = {"-D", "--images-dir"}, paramLabel = "DIR",
                description = "directory for the images (created 0700; default: the current directory)")
        Path dir = Path.of(".");

        @Option(names = {"-R", "--leave-running"}, description = "leave the processes running after the dump")
        boolean leaveRunning;

        @Option(names = {"-s", "--leave-stopped"}, description = "leave the process stopped (SIGSTOP) after the dump")
        boolean leaveStopped;

        @Option(names = {"-j", "--shell-job"}, description = "allow fds 0-2 on a terminal; restore takes its own")
        boolean shellJob;

        @Option(names = "--prev-images-dir", paramLabel = "DIR",
                description = "a pre-dump of this process (relative to -D): pages unchanged since are not written again")
        Path prev;

        @Option(names = "--timeout", paramLabel = "SECONDS",
                description = "time allowed to stop every thread (default 10, as CRIU; 0: no limit)")
        int timeout = 10;

        @Option(names = "--action-script", paramLabel = "FILE",
                description = "run FILE at pre-dump and post-dump with CRTOOLS_SCRIPT_ACTION, CRTOOLS_IMAGE_DIR and"
                        + " CRTOOLS_INIT_PID set; a failing post-dump script keeps the process running (exit 255)")
        List<Path> scripts = new ArrayList<>();

        @Option(names = {"-l", "--file-locks"}, description = "dump the file locks the processes hold (flock, POSIX,"
                + " OFD); without it a process holding one is refused")
        boolean fileLocks;

        @Option(names = "--ghost-limit", paramLabel = "SIZE", converter = SizeConverter.class,
                description = "save deleted files up to SIZE bytes (K, M, G suffixes; default 1M); a larger one"
                        + " fails the dump")
        long ghostLimit = 1 << 20;

        @Option(names = "--display-stats", description = "print the dump's statistics on standard output")
        boolean displayStats;

        @Option(names = "--network-lock", paramLabel = "METHOD", converter = NetworkLockMethod.class,
                description = "nftables (default): the saved TCP connections and ports are locked in the nftables"
                        + " table inet CRIU-RUNID until the restore (CRIU's or jcriu's) deletes it; skip (or none):"
                        + " nothing is locked; iptables is refused")
        String networkLock = "nftables";

        @CommandLine.Mixin
        final SocketFlags sockets = new SocketFlags();

        @CommandLine.Mixin
        final LogOptions log = new LogOptions();

        @Override
        public CriuOptions.Verb verb() { return CriuOptions.Verb.DUMP; }

        DumpOptions options() { return options(jcriu.dump.DumpHooks.NONE); }

        DumpOptions options(jcriu.dump.DumpHooks hooks) {
            return new DumpOptions(pid, dir, leaveRunning || leaveStopped, shellJob, prev, RseqConfigSource.PTRACE,
                    timeout > 0 ? Duration.ofSeconds(timeout) : null, hooks,
                    new DumpOptions.FileOptions(ghostLimit, fileLocks)).withNet(sockets.net(networkLock.equals("skip")));
        }

        @Override
        public Integer call() throws IOException {
            Control control = Control.fromProperties();
            try (Signals s = Signals.cancelOn(control)) {
                perform(null, notesOf(main), control);
                return OK;
            } catch (Failure f) {
                log.tellUser(f.getMessage());
                return f.exitCode();
            }
        }

        /** The dump as CRIU runs it, for the command line and for an RPC client (which may be notified). */
        public Checkpointer.Result perform(CriuHooks.Notifier client, List<String> notes) throws Failure, IOException {
            return perform(client, notes, Control.none());
        }

        /** As {@link #perform(CriuHooks.Notifier, List)}; {@code control} cancels it (SIGINT, SIGTERM). */
        Checkpointer.Result perform(CriuHooks.Notifier client, List<String> notes, Control control)
                throws Failure, IOException {
            Files.createDirectories(dir);
            Path work = log.workDir(dir);
            Log l = log.open(dir, notes);
            CriuHooks hooks = new CriuHooks(scripts, work, dir, log.resolvedLogFile(dir), client, l);
            hooks.setInitPid(pid);
            try {
                hooks.run("pre-dump");
            } catch (IOException e) {
                l.error("pre-dump: " + e.getMessage());
                throw new Failure(FAILED, "pre-dump: " + e.getMessage(), e);
            }
            try {
                Checkpointer.Result r = Checkpointer.dump(options(hooks.forDump(fileLocks, leaveStopped, verb())), l,
                        control);
                if (control.cancelled()) l.warn("interrupted after the images were published: the dump was completed");
                l.info("dump of " + r.pid() + " done: " + r.processes() + " process(es), " + r.mappings() + " mappings, "
                        + (r.pageBytes() >> 10)
                        + " KiB of pages, frozen for " + r.frozenFor().toMillis() + " ms"
                        + (leaveStopped ? ", left stopped" : ""));
                if (displayStats) Stats.dump(System.out, r);
                return r;
            } catch (Checkpointer.DumpException e) {
                l.error(e.getMessage());
                throw new Failure(exitCode(e, hookFailure(e) != null ? SCRIPT_FAILED : FAILED), e.getMessage(), e);
            }
        }
    }

    /** CRIU's socket flags, which dump and restore share (a restore needs those the dump needed). */
    public static final class SocketFlags {
        @Option(names = "--ext-unix-sk", arity = "0..1", fallbackValue = "", converter = NoInodeList.class,
                paramLabel = "", description = "allow a unix socket connected to a socket outside the processes:"
                + " a datagram socket is connected to its name again, a connection is dumped as external (restore"
                + " with --inherit-fd fd[N]:socket:[INODE])")
        Boolean extUnixSk;

        @Option(names = "--tcp-established", description = "save established TCP connections (TCP_REPAIR) and restore"
                + " them; the network of the processes is locked from the dump to the restore")
        boolean tcpEstablished;

        @Option(names = "--tcp-close", description = "established TCP connections are restored closed")
        boolean tcpClose;

        @Option(names = "--skip-in-flight", description = "connections waiting in a TCP listener's accept queue are"
                + " dropped (their clients get a reset) instead of failing the dump")
        boolean skipInFlight;

        jcriu.net.NetOptions net() {
            return net(false);
        }

        jcriu.net.NetOptions net(boolean skipLock) {
            return new jcriu.net.NetOptions(extUnixSk != null && extUnixSk, tcpEstablished, tcpClose, skipInFlight,
                    skipLock);
        }

        /** CRIU's --ext-unix-sk may name inodes; jcriu allows every outside peer or none. */
        static final class NoInodeList implements CommandLine.ITypeConverter<Boolean> {
            @Override
            public Boolean convert(String value) {
                if (value.isEmpty() || value.equals("true")) return true; // bare: picocli gives a Boolean "true"
                throw new CommandLine.TypeConversionException("jcriu allows every outside peer of a unix socket or"
                        + " none; it takes no list of inodes (" + value + ")");
            }
        }
    }

    /** CRIU's --network-lock values jcriu honours (none is CRIU's other name for skip); iptables is refused by name. */
    static final class NetworkLockMethod implements CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            return switch (value) {
                case "nftables" -> "nftables";
                case "skip", "none" -> "skip";
                case "iptables" -> throw new CommandLine.TypeConversionException("--network-lock=iptables is not"
                        + " supported: jcriu's dump locks the network with nftables (or skip)");
                default -> throw new CommandLine.TypeConversionException("invalid value for --network-lock: " + value
                        + " (nftables, skip or none)");
            };
        }
    }

    @Command(name = "pre-dump", mixinStandardHelpOptions = true,
            description = "Save the memory of a running process tree (it is frozen only for the copy and keeps running); "
                    + "a later dump --prev-images-dir writes only what changed.")
    public static final class PreDump implements Callable<Integer>, CriuCommand {
        @ParentCommand Main main;

        @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID",
                description = "root of the process tree to pre-dump")
        int pid;

        @Option(names = {"-D", "--images-dir"}, paramLabel = "DIR",
                description = "directory for the images (created 0700; default: the current directory)")
        Path dir = Path.of(".");

        @Option(names = "--prev-images-dir", paramLabel = "DIR",
                description = "an earlier pre-dump (relative to -D): only pages changed since are written")
        Path prev;

        @Option(names = "--timeout", paramLabel = "SECONDS",
                description = "time allowed to stop every thread (default 10, as CRIU; 0: no limit)")
        int timeout = 10;

        @Option(names = "--display-stats", description = "print the pre-dump's statistics on standard output")
        boolean displayStats;

        @CommandLine.Mixin
        final LogOptions log = new LogOptions();

        @Override
        public CriuOptions.Verb verb() { return CriuOptions.Verb.PRE_DUMP; }

        @Override
        public Integer call() throws IOException {
            Control control = Control.fromProperties();
            try (Signals s = Signals.cancelOn(control)) {
                perform(notesOf(main), control);
                return OK;
            } catch (Failure f) {
                log.tellUser(f.getMessage());
                return f.exitCode();
            }
        }

        public Checkpointer.Result perform(List<String> notes) throws Failure, IOException {
            return perform(notes, Control.none());
        }

        Checkpointer.Result perform(List<String> notes, Control control) throws Failure, IOException {
            Files.createDirectories(dir);
            Log l = log.open(dir, notes);
            try {
                Checkpointer.Result r = Checkpointer.preDump(new DumpOptions(pid, dir, true, false, prev,
                        RseqConfigSource.PTRACE, timeout > 0 ? Duration.ofSeconds(timeout) : null,
                        jcriu.dump.DumpHooks.NONE), l, control);
                if (control.cancelled()) l.warn("interrupted after the images were published: the pre-dump was completed");
                l.info("pre-dump of " + r.pid() + " done: " + (r.pageBytes() >> 10) + " KiB of pages, frozen for "
                        + r.frozenFor().toMillis() + " ms");
                if (displayStats) Stats.dump(System.out, r);
                return r;
            } catch (Checkpointer.DumpException e) {
                l.error(e.getMessage());
                throw new Failure(exitCode(e, FAILED), e.getMessage(), e);
            }
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Restore a process tree from an images directory, with its original PIDs. Without -d, wait for "
                    + "it and exit with its exit status.")
    public static final class Restore implements Callable<Integer>, CriuCommand {
        @ParentCommand Main main;

        @Option(names = {"-D", "--images-dir"}, paramLabel = "DIR",
                description = "images directory (default: the current directory)")
        Path dir = Path.of(".");

        @Option(names = {"-d", "--restore-detached", "--daemon"},
                description = "return once the tree runs (its root is reparented to init)")
        boolean detach;

        @Option(names = "--pidfile", paramLabel = "FILE",
                description = "write the restored PID to FILE (relative to the work directory; created new, 0600)")
        Path pidfile;

        @Option(names = {"-s", "--leave-stopped"}, description = "leave the restored processes stopped")
        boolean leaveStopped;

        @Option(names = {"-j", "--shell-job"}, description = "fds 0-2 that were a terminal take jcriu's")
        boolean shellJob;

        @Option(names = "--action-script", paramLabel = "FILE",
                description = "run FILE at pre-restore, post-restore (a failure undoes the restore), pre-resume and"
                        + " post-resume, with CRTOOLS_SCRIPT_ACTION, CRTOOLS_IMAGE_DIR and CRTOOLS_INIT_PID set")
        List<Path> scripts = new ArrayList<>();

        @Option(names = "--display-stats", description = "print the restore's statistics on standard output")
        boolean displayStats;

        @Option(names = "--inherit-fd", paramLabel = "fd[N]:KEY", description = "use jcriu's fd N for KEY;"
                + " KEY pipe:[INODE] is a pipe whose other end was outside the dumped processes, socket:[INODE] a unix"
                + " connection whose peer was (the dump logs its key)")
        List<String> inheritFds = new ArrayList<>();

        @Option(names = "--skip-file-rwx-check", description = "use files reopened by path or mapped even if their"
                + " permissions, size or ELF build-id changed since the dump (otherwise the restore refuses them, naming"
                + " the file)")
        boolean skipFileCheck;

        @CommandLine.Mixin
        final SocketFlags sockets = new SocketFlags();

        @CommandLine.Mixin
        final LogOptions log = new LogOptions();

        @Override
        public CriuOptions.Verb verb() { return CriuOptions.Verb.RESTORE; }

        private java.util.Map<String, Integer> inherited() throws Failure {
            try {
                return RestoreOptions.parseInheritFds(inheritFds);
            } catch (IllegalArgumentException e) {
                throw new Failure(2, e.getMessage(), e);
            }
        }

        RestoreOptions options() {
            return new RestoreOptions(dir, detach, leaveStopped, shellJob, RestoreHooks.NONE, skipFileCheck,
                    RestoreOptions.parseInheritFds(inheritFds)).withNet(sockets.net());
        }

        @Override
        public Integer call() throws IOException {
            Restorer.Result r;
            Control control = Control.fromProperties();
            // once the processes are restored, jcriu may be stopped as any parent can be
            try (Signals s = Signals.cancelOn(control)) {
                r = perform(null, notesOf(main), !detach, control);
            } catch (Failure f) {
                log.tellUser(f.getMessage());
                return f.exitCode();
            }
            if (detach) return OK;
            int status = Restorer.waitForExit(r.pid());
            if (log.verbosity >= Log.INFO) System.err.println("jcriu: restored process " + r.pid()
                    + " exited with status " + status);
            return status;
        }

        /**
         * The restore as CRIU runs it. {@code parent}: jcriu stays the process's parent (it is its
         * child, to wait for); otherwise it is reparented to init.
         */
        public Restorer.Result perform(CriuHooks.Notifier client, List<String> notes, boolean parent)
                throws Failure, IOException {
            return perform(client, notes, parent, Control.none());
        }

        /** As {@link #perform(CriuHooks.Notifier, List, boolean)}; {@code control} cancels it (SIGINT, SIGTERM). */
        Restorer.Result perform(CriuHooks.Notifier client, List<String> notes, boolean parent, Control control)
                throws Failure, IOException {
            Path work = log.workDir(dir);
            Log l = log.open(dir, notes);
            Pidfile pf = null;
            try {
                if (pidfile != null) pf = Pidfile.create(work.resolve(pidfile));
                CriuHooks hooks = new CriuHooks(scripts, work, dir, log.resolvedLogFile(dir), client, l);
                hooks.run("pre-restore");
                long t0 = System.nanoTime();
                Restorer.Result r = Restorer.restore(new RestoreOptions(dir, !parent, leaveStopped, shellJob,
                        hooks.forRestore(pf), skipFileCheck, inherited()).withNet(sockets.net()), l, control);
                if (control.cancelled()) l.warn("interrupted while the restored processes were being let go: the"
                        + " restore was completed");
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                hooks.runLogged("post-resume");
                if (displayStats) Stats.restore(System.out, took);
                return r;
            } catch (IOException e) {
                l.error(e.getMessage());
                throw new Failure(exitCode(e, FAILED), e.getMessage(), e);
            } finally {
                if (pf != null) pf.discardUnlessWritten();
            }
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Probe the kernel features jcriu needs (required) or can use; exit 0 if all required ones are"
                    + " there. With --feature NAME (CRIU's names): exit 0 if jcriu supports it here.")
    public static final class Check implements Callable<Integer>, CriuCommand {
        @Option(names = "--feature", paramLabel = "NAME",
                description = "check one of CRIU's features: exit 0 and \"NAME is supported\" if jcriu can checkpoint"
                        + " and restore what it is for on this kernel, else 1")
        String feature;

        @Option(names = "--extra", description = "also answer every CRIU feature (exit 1 if one is missing)")
        boolean extra;

        @Option(names = "--experimental", description = "same as --extra (jcriu has no experimental features)")
        boolean experimental;

        @Option(names = "--all", description = "same as --extra --experimental")
        boolean all;

        @CommandLine.Mixin
        final LogOptions log = new LogOptions();

        @Override
        public CriuOptions.Verb verb() { return CriuOptions.Verb.CHECK; }

        @Override
        public Integer call() throws Exception {
            if (feature != null && !CriuFeatures.known(feature)) {
                System.err.println("jcriu: unknown feature " + feature + " (one of: "
                        + String.join(", ", CriuFeatures.names()) + ")");
                return FAILED;
            }
            List<Features.Feature> probed = Features.probe();
            if (feature != null) {
                CriuFeatures.Answer a = CriuFeatures.answer(feature, probed);
                if (a.supported()) {
                    System.out.println(feature + " is supported");
                    if (log.verbosity >= Log.INFO) System.out.println("  " + a.why());
                    return OK;
                }
                if (log.verbosity >= Log.WARN) System.err.println("Warn: " + feature + " is not supported: " + a.why());
                return FAILED;
            }
            boolean ok = true;
            for (Features.Feature f : probed) {
                System.out.printf("%-32s %-3s %s%s%n", f.name() + ":", f.present() ? "yes" : "no",
                        f.required() ? "[required] " : "", f.detail());
                if (f.required() && !f.present()) ok = false;
            }
            if (!ok) {
                System.out.println("Does not look good: required features are missing.");
                return FAILED;
            }
            boolean missing = false;
            if (extra || experimental || all) {
                System.out.println("CRIU's features, as far as jcriu is concerned:");
                for (String n : CriuFeatures.names()) {
                    CriuFeatures.Answer a = CriuFeatures.answer(n, probed);
                    System.out.printf("  %-26s %-3s %s%n", n + ":", a.supported() ? "yes" : "no", a.why());
                    missing |= !a.supported();
                }
            }
            System.out.println(missing ? "Looks good, but some features are missing: a dump or restore that needs"
                    + " them fails and says why." : "Looks good.");
            return missing ? FAILED : OK;
        }
    }
}

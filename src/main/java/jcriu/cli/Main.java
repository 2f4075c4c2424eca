package jcriu.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;

import jcriu.api.Log;
import jcriu.check.Features;
import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The command line: parsing, log set-up, exit codes; the work is done by the Java API. */
@Command(name = "jcriu", mixinStandardHelpOptions = true, version = "jcriu 0.1.0",
        description = "Checkpoint/restore in userspace for Linux processes.",
        subcommands = {Main.Dump.class, Main.PreDump.class, Main.Restore.class, Main.Check.class, Demo.class,
                RseqCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the dump, restore or check failed (the message says why)", "2:usage error",
                "N:restore without -d: the restored process's exit status (128+signal if killed)"})
public final class Main implements Callable<Integer> {
    public static final int OK = 0, FAILED = 1, USAGE = 2;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("jcriu: " + ex.getMessage());
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, p) -> {
            c.getErr().println("jcriu: " + ex.getMessage());
            return FAILED;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.err);
        return USAGE;
    }

    /** Options every command that logs shares: CRIU's -v and -o. */
    public static final class LogOptions {
        @Option(names = "-v", arity = "0..1", fallbackValue = "4", paramLabel = "N",
                description = "verbosity 0-4 (CRIU's levels; -v alone means 4); default 2")
        int verbosity = 2;

        @Option(names = {"-o", "--log-file"}, paramLabel = "FILE",
                description = "log to FILE (relative to the images directory), created 0600")
        Path logFile;

        /** The log file's path, resolved as CRIU does: relative to the images directory. */
        Path resolvedLogFile(Path imagesDir) {
            if (logFile == null) return null;
            return logFile.isAbsolute() ? logFile : imagesDir.resolve(logFile);
        }

        Log open(Path imagesDir) throws IOException {
            Path f = resolvedLogFile(imagesDir);
            if (f == null) return new Log(verbosity, System.err);
            Files.createDirectories(f.toAbsolutePath().getParent());
            Files.deleteIfExists(f);
            Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return new Log(verbosity, new PrintStream(new FileOutputStream(f.toFile(), true), true));
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "Checkpoint a process and all its descendants into an images directory; they are killed once "
                    + "the images are on disk.")
    static final class Dump implements Callable<Integer> {
        @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID",
                description = "root of the process tree to dump (the process and its descendants)")
        int pid;

        @Option(names = {"-D", "--images-dir"}, required = true, paramLabel = "DIR",
                description = "directory for the images (created 0700)")
        Path dir;

        @Option(names = {"-R", "--leave-running"}, description = "leave the processes running after the dump")
        boolean leaveRunning;

        @Option(names = {"-j", "--shell-job"}, description = "allow fds 0-2 on a terminal; restore takes its own")
        boolean shellJob;

        @Option(names = "--prev-images-dir", paramLabel = "DIR",
                description = "a pre-dump of this process (relative to -D): pages unchanged since are not written again")
        Path prev;

        @CommandLine.Mixin
        final SocketFlags sockets = new SocketFlags();

        @CommandLine.Mixin
        final LogOptions log = new LogOptions();

        DumpOptions options() {
            return new DumpOptions(pid, dir, leaveRunning, shellJob, prev).withExtUnixSk(sockets.extUnixSk);
        }

        @Override
        public Integer call() throws IOException {
            return runDump(log, dir, l -> {
                Checkpointer.Result r = Checkpointer.dump(options(), l);
                return "dump of " + r.pid() + " done: " + r.processes() + " process(es), " + r.mappings() + " mappings, "
                        + (r.pageBytes() >> 10)
                        + " KiB of pages, frozen for " + r.frozenFor().toMillis() + " ms";
            });
        }
    }

    /** CRIU's socket flags, which dump and restore share (a restore needs those the dump needed). */
    public static final class SocketFlags {
        @Option(names = "--ext-unix-sk", description = "allow a unix datagram socket connected to a named socket outside"
                + " the processes; the restore connects it to that name again")
        boolean extUnixSk;
    }

    /** A dump-like command: the log in (or relative to) the images directory, exit 0 or 1. */
    interface DumpWork {
        String run(Log log) throws Checkpointer.DumpException;
    }

    static int runDump(LogOptions log, Path dir, DumpWork work) throws IOException {
        Files.createDirectories(dir);
        Log l = log.open(dir);
        try {
            l.info(work.run(l));
            return OK;
        } catch (Checkpointer.DumpException e) {
            l.error(e.getMessage());
            // the message must reach the terminal even when the log goes to a file or is silenced
            if (log.logFile != null || log.verbosity < Log.ERROR) System.err.println("jcriu: " + e.getMessage());
            return FAILED;
        }
    }

    @Command(name = "pre-dump", mixinStandardHelpOptions = true,
            description = "Save the memory of a running process tree (it is frozen only for the copy and keeps running); "
                    + "a later dump --prev-images-dir writes only what changed.")
    static final class PreDump implements Callable<Integer> {
        @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID",
                description = "root of the process tree to pre-dump")
        int pid;

        @Option(names = {"-D", "--images-dir"}, required = true, paramLabel = "DIR",
                description = "directory for the images (created 0700)")
        Path dir;

        @Option(names = "--prev-images-dir", paramLabel = "DIR",
                description = "an earlier pre-dump (relative to -D): only pages changed since are written")
        Path prev;

        @CommandLine.Mixin
        final LogOptions log = new LogOptions();

        @Override
        public Integer call() throws IOException {
            return runDump(log, dir, l -> {
                Checkpointer.Result r = Checkpointer.preDump(new DumpOptions(pid, dir, true, false, prev), l);
                return "pre-dump of " + r.pid() + " done: " + (r.pageBytes() >> 10) + " KiB of pages, frozen for "
                        + r.frozenFor().toMillis() + " ms";
            });
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Restore a process tree from an images directory, with its original PIDs. Without -d, wait for "
                    + "it and exit with its exit status.")
    static final class Restore implements Callable<Integer> {
        @Option(names = {"-D", "--images-dir"}, required = true, paramLabel = "DIR", description = "images directory")
        Path dir;

        @Option(names = {"-d", "--restore-detached"},
                description = "return once the tree runs (its root is reparented to init)")
        boolean detach;

        @Option(names = "--pidfile", paramLabel = "FILE", description = "write the restored PID to FILE")
        Path pidfile;

        @Option(names = "--leave-stopped", description = "leave the restored processes stopped")
        boolean leaveStopped;

        @Option(names = {"-j", "--shell-job"}, description = "fds 0-2 that were a terminal take jcriu's")
        boolean shellJob;

        @CommandLine.Mixin
        final SocketFlags sockets = new SocketFlags();

        @CommandLine.Mixin
        final LogOptions log = new LogOptions();

        RestoreOptions options() {
            return new RestoreOptions(dir, detach, leaveStopped, shellJob).withExtUnixSk(sockets.extUnixSk);
        }

        @Override
        public Integer call() throws IOException {
            Log l = log.open(dir);
            Restorer.Result r;
            try {
                r = Restorer.restore(options(), l);
            } catch (Restorer.RestoreException e) {
                l.error(e.getMessage());
                if (log.logFile != null || log.verbosity < Log.ERROR) System.err.println("jcriu: " + e.getMessage());
                return FAILED;
            }
            if (pidfile != null) {
                Files.writeString(pidfile, r.pid() + "\n", StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE);
            }
            if (detach) return OK;
            int status = Restorer.waitForExit(r.pid());
            l.info("restored process " + r.pid() + " exited with status " + status);
            return status;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Probe the kernel features jcriu needs (required) or can use; exit 0 if all required ones are there.")
    static final class Check implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            boolean ok = true;
            for (Features.Feature f : Features.probe()) {
                System.out.printf("%-32s %-3s %s%s%n", f.name() + ":", f.present() ? "yes" : "no",
                        f.required() ? "[required] " : "", f.detail());
                if (f.required() && !f.present()) ok = false;
            }
            System.out.println(ok ? "Looks good." : "Required features are missing.");
            return ok ? OK : FAILED;
        }
    }
}

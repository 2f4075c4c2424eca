package jcriu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import jcriu.check.Features;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;
import picocli.CommandLine;

/** The command line: parsing, exit codes, and the real commands run as separate processes. */
class CliTest {

    /** A dump command line read as CRIU reads it (no configuration files), as picocli then sees it. */
    private static Main.Dump parseDump(String... args) {
        List<String> all = new ArrayList<>(List.of("dump"));
        all.addAll(List.of(args));
        var env = new CriuCommandLine.Env(Path.of("/nonexistent/default.conf"), null, null);
        CriuCommandLine.Run r = (CriuCommandLine.Run) CriuCommandLine.interpret(all, env);
        Main.Dump d = new Main.Dump();
        new CommandLine(d).parseArgs(r.tokens().subList(1, r.tokens().size()).toArray(String[]::new));
        return d;
    }

    @Test
    void verbosityAndLogFileFollowCriu() {
        assertEquals(3, parseDump("-t", "1", "-D", "d", "-v").log.verbosity, "CRIU: -v adds one to 2");
        assertEquals(3, parseDump("-t", "1", "-D", "d", "-v3").log.verbosity);
        assertEquals(2, parseDump("-t", "1", "-D", "d").log.verbosity);
        Main.Dump d = parseDump("-t", "7", "-D", "/imgs", "-o", "dump.log", "--leave-running");
        assertEquals(Path.of("/imgs/dump.log"), d.log.resolvedLogFile(d.dir));
        assertEquals(7, d.options().pid());
        assertTrue(d.options().leaveRunning());
        Main.Dump abs = parseDump("-t", "7", "-D", "/imgs", "-o", "/tmp/x.log");
        assertEquals(Path.of("/tmp/x.log"), abs.log.resolvedLogFile(abs.dir));
        Main.Dump w = parseDump("-t", "7", "-D", "/imgs", "-W", "/work", "-o", "x.log");
        assertEquals(Path.of("/work/x.log"), w.log.resolvedLogFile(w.dir), "relative to the work directory");
        assertEquals(null, parseDump("-t", "7", "-o", "-").log.resolvedLogFile(Path.of(".")), "- is stdout");
    }

    @Test
    void usageErrorsExitWith2() {
        assertEquals(Main.USAGE, Main.run("dump", "-D", "somewhere"));
        assertEquals(Main.USAGE, Main.run("restore", "-D", "x", "extra"));
        assertEquals(Main.USAGE, Main.run("no-such-command"));
        assertEquals(Main.OK, Main.run("--help"));
    }

    @Test
    void dumpOfMissingProcessExitsWith1() throws IOException {
        Path dir = Files.createTempDirectory("jcriu-cli");
        assertEquals(Main.FAILED, Main.run("dump", "-t", "4000001", "-D", dir.toString()));
    }

    @Test
    void checkFindsWhatThisMachineHas() throws Exception {
        var byName = new java.util.HashMap<String, Boolean>();
        for (Features.Feature f : Features.probe()) byName.put(f.name(), f.present());
        for (String yes : List.of("CAP_SYS_PTRACE", "CAP_CHECKPOINT_RESTORE", "PTRACE_GET_RSEQ_CONFIGURATION",
                "PR_SET_MM_MAP", "clone3 set_tid", "PAGEMAP_SCAN", "userfaultfd write-protect")) {
            assertEquals(Boolean.TRUE, byName.get(yes), yes + " is there on this machine");
        }
        assertEquals(Boolean.FALSE, byName.get("soft-dirty"), "this kernel has no CONFIG_MEM_SOFT_DIRTY");
        assertEquals(Main.OK, Main.run("check"));
    }

    private static Process jcriu(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Gcc.projectDir().resolve("jcriu").toString());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static String finish(Process p, int expectedExit) throws Exception {
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jcriu did not finish:\n" + out);
        assertEquals(expectedExit, p.exitValue(), out);
        return out;
    }

    @Test
    void dumpAndForegroundRestorePassTheExitStatusThrough() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("exitcode"), "37")) {
            w.awaitOutput("ready");
            Path dir = w.dir().resolve("images");
            finish(jcriu("dump", "-t", Integer.toString(w.pid()), "-D", dir.toString(), "-v4", "-o", "dump.log"), 0);
            String log = Files.readString(dir.resolve("dump.log"));
            assertTrue(log.contains("images written"), log);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("dump.log"))));
            w.awaitGone(Duration.ofSeconds(30));
            Path pidfile = w.dir().resolve("restored.pid");
            Process restore = jcriu("restore", "-D", dir.toString(), "--pidfile", pidfile.toString());
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!Files.exists(pidfile) || Files.readString(pidfile).isBlank()) {
                assertTrue(System.nanoTime() < end, "no pidfile");
                Thread.sleep(50);
            }
            assertEquals(w.pid(), Integer.parseInt(Files.readString(pidfile).strip()));
            assertEquals(restore.pid(), Workload.stat(w.pid()).orElseThrow().ppid(), "jcriu restore is the parent");
            Sig.kill(w.pid(), Sig.SIGUSR1);
            finish(restore, 37);
            assertFalse(w.text().contains("BAD"));
        }
    }

    @Test
    void restoreWhenThePidIsTakenExitsWith1AndSaysWhy() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path dir = w.dir().resolve("images");
            finish(jcriu("dump", "-t", Integer.toString(w.pid()), "-D", dir.toString(), "--leave-running"), 0);
            String out = finish(jcriu("restore", "-d", "-D", dir.toString()), 1);
            assertTrue(out.contains("PID " + w.pid() + " is taken by a running process: counter"), out);
        }
    }

    /** CRIU's habit: pre-dump into one directory, then dump into another with --prev-images-dir ../it. */
    @Test
    void preDumpThenIncrementalDumpAndRestore() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path pre = w.dir().resolve("pre"), dir = w.dir().resolve("final");
            String out = finish(jcriu("pre-dump", "-t", Integer.toString(w.pid()), "-D", pre.toString(), "-v3"), 0);
            assertTrue(out.contains("pre-dump of " + w.pid() + " done"), out);
            long at = Workload.number(w.awaitOutput("count="), "count");
            w.awaitOutput("count=" + (at + 3)); // still running, and moving on
            finish(jcriu("dump", "-t", Integer.toString(w.pid()), "-D", dir.toString(), "--prev-images-dir", "../pre"), 0);
            assertEquals(Path.of("../pre"), Files.readSymbolicLink(dir.resolve("parent")));
            w.awaitGone(Duration.ofSeconds(30));
            long last = -1;
            for (String l : w.lines()) if (l.startsWith("count=")) last = Workload.number(l, "count");
            int seen = w.lineCount();
            finish(jcriu("restore", "-d", "-D", dir.toString()), 0);
            try (Workload r = Workload.adopt(w.pid(), w.dir()).seek(seen)) {
                assertEquals(last + 1, Workload.number(r.awaitOutput("count="), "count"));
            }
        }
    }
}

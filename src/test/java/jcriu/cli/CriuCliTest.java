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

import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/** CRIU's options that change what a dump or restore does, run as separate jcriu processes. */
class CriuCliTest {

    private static Process jcriu(Path cwd, String... args) throws IOException {
        return jcriu.testsupport.JcriuCli.start(cwd, args);
    }

    private static String finish(Process p, int expectedExit) throws Exception {
        return jcriu.testsupport.JcriuCli.finish(p, expectedExit);
    }

    /** A script recording its action and CRIU's environment, failing on {@code failOn}. */
    private static Path hookScript(Path dir, String failOn) throws IOException {
        Path s = dir.resolve("hook.sh");
        Files.writeString(s, "#!/bin/sh\n"
                + "echo \"$CRTOOLS_SCRIPT_ACTION pid=$CRTOOLS_INIT_PID dir=$CRTOOLS_IMAGE_DIR cwd=$(pwd)\" >> "
                + dir.resolve("hooks.txt") + "\n"
                + "[ \"$CRTOOLS_SCRIPT_ACTION\" = \"" + failOn + "\" ] && exit 3\nexit 0\n");
        Files.setPosixFilePermissions(s, PosixFilePermissions.fromString("rwx------"));
        return s;
    }

    private static List<String> hooks(Path dir) throws IOException {
        Path f = dir.resolve("hooks.txt");
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }

    @Test
    void actionScriptsWorkDirPidfileAndStatsAsCriu() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path imgs = w.dir().resolve("imgs"), work = w.dir().resolve("work");
            Files.createDirectories(work);
            Path hook = hookScript(w.dir(), "none");
            String out = finish(jcriu(w.dir(), "dump", "-t", Integer.toString(w.pid()), "-D", "imgs", "-W", "work",
                    "-o", "dump.log", "-v4", "--action-script", hook.toString(), "--display-stats",
                    "--tcp-established", "--file-locks", "--ext-unix-sk"), 0);
            assertTrue(out.contains("Displaying dump stats:") && out.contains("Memory pages written: "), out);
            assertTrue(Files.exists(work.resolve("dump.log")), "the log goes to the work directory");
            assertFalse(Files.exists(imgs.resolve("dump.log")));
            String log = Files.readString(work.resolve("dump.log"));
            assertFalse(log.contains("--tcp-established: accepted with no effect"), "a socket flag is passed on: " + log);
            String common = " dir=" + imgs + " cwd=" + work;
            assertEquals(List.of("pre-dump pid=" + w.pid() + common, "post-dump pid=" + w.pid() + common), hooks(w.dir()));
            w.awaitGone(Duration.ofSeconds(30));
            int seen = w.lineCount();

            out = finish(jcriu(w.dir(), "restore", "-d", "-D", "imgs", "-W", "work", "--pidfile", "r.pid",
                    "--action-script", hook.toString(), "--display-stats"), 0);
            assertTrue(out.contains("Displaying restore stats:") && out.contains("Restore time: "), out);
            assertEquals(Integer.toString(w.pid()), Files.readString(work.resolve("r.pid")),
                    "CRIU's pidfile: relative to the work directory, no newline");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(work.resolve("r.pid"))));
            assertEquals(List.of("pre-restore pid=" + common, "post-restore pid=" + w.pid() + common,
                    "pre-resume pid=" + w.pid() + common, "post-resume pid=" + w.pid() + common),
                    hooks(w.dir()).subList(2, hooks(w.dir()).size()));
            try (Workload r = Workload.adopt(w.pid(), w.dir()).seek(seen)) {
                r.awaitOutput("count=");
                assertFalse(r.text().contains("BAD"), r.text());
                r.signal(Sig.SIGKILL);
                r.awaitGone(Duration.ofSeconds(30));
            }

            // an existing pidfile fails the restore before anything is created, as CRIU refuses to overwrite it
            out = finish(jcriu(w.dir(), "restore", "-d", "-D", "imgs", "-W", "work", "--pidfile", "r.pid"), 1);
            assertTrue(out.contains("exists already"), out);
            assertFalse(Files.exists(Path.of("/proc", Integer.toString(w.pid()))), "nothing restored");
        }
    }

    @Test
    void failingPostDumpScriptKeepsTheProcessRunningAndExits255() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path hook = hookScript(w.dir(), "post-dump");
            String out = finish(jcriu(w.dir(), "dump", "-t", Integer.toString(w.pid()), "-D", "imgs",
                    "--action-script", hook.toString()), 255);
            assertTrue(out.contains("post-dump") && out.contains("exited with 3"), out);
            assertTrue(w.alive(), "the process runs on");
            assertEquals(0, Workload.tracerPid(w.pid()), "and is not traced");
            long at = Workload.number(w.skipToEnd().awaitOutput("count="), "count");
            w.awaitOutput("count=" + (at + 2));
            try (var s = Files.list(w.dir().resolve("imgs"))) {
                assertEquals(List.of(), s.toList(), "no images that could pass for a checkpoint");
            }
        }
    }

    @Test
    void failingPreDumpScriptLeavesTheProcessAlone() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path hook = hookScript(w.dir(), "pre-dump");
            String out = finish(jcriu(w.dir(), "dump", "-t", Integer.toString(w.pid()), "-D", "imgs",
                    "--action-script", hook.toString()), 1);
            assertTrue(out.contains("pre-dump"), out);
            assertEquals(List.of("pre-dump"), hooks(w.dir()).stream().map(l -> l.split(" ")[0]).toList(),
                    "nothing after a failed pre-dump script");
            assertTrue(w.alive());
        }
    }

    @Test
    void dumpLeaveStoppedStopsTheProcessInsteadOfKillingIt() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            finish(jcriu(w.dir(), "dump", "-t", Integer.toString(w.pid()), "-D", "imgs", "--leave-stopped"), 0);
            assertEquals('T', w.awaitState("T"), "stopped by SIGSTOP");
            int lines = w.lineCount();
            Thread.sleep(300);
            assertEquals(lines, w.lineCount(), "it runs nothing while stopped");
            assertEquals(0, Workload.tracerPid(w.pid()));
            w.signal(Sig.SIGCONT);
            long at = Workload.number(w.skipToEnd().awaitOutput("count="), "count");
            w.awaitOutput("count=" + (at + 1));
            assertFalse(w.text().contains("BAD"), w.text());
        }
    }

    @Test
    void timeoutEndsAFreezeThatCannotComplete() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("vfork_wait"))) {
            String ready = w.awaitOutput("ready");
            int child = (int) Workload.number(ready, "child");
            w.awaitState("D");
            long t0 = System.nanoTime();
            String out = finish(jcriu(w.dir(), "dump", "-t", Integer.toString(w.pid()), "-D", "imgs", "--timeout",
                    "1"), 1);
            assertTrue(out.contains("did not stop within the 1 s timeout"), out);
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(120).toNanos());
            assertEquals(0, Workload.tracerPid(w.pid()), "released");
            Sig.kill(child, Sig.SIGKILL);
            w.awaitOutput("exit code=0"); // the parent goes on once its vfork child is gone
        }
    }

    @Test
    void fileLocksAreDumpedOnlyWithTheOptionAndHeldAgainAfterTheRestore() throws Exception {
        for (String kind : List.of("flock", "posix")) {
            try (Workload w = Workload.start(Gcc.compile("locker"), kind)) {
                w.awaitOutput("ready");
                String out = finish(jcriu(w.dir(), "dump", "-t", Integer.toString(w.pid()), "-D", "imgs"), 1);
                assertTrue(out.contains("holds file locks") && out.contains("lock.file")
                        && out.contains("--file-locks"), out);
                assertTrue(w.alive());
                finish(jcriu(w.dir(), "dump", "-t", Integer.toString(w.pid()), "-D", "imgs", "--file-locks"), 0);
                w.awaitGone(Duration.ofSeconds(30));
                finish(jcriu(w.dir(), "restore", "-d", "-D", "imgs"), 0);
                try (Workload r = Workload.adopt(w.pid(), w.dir()).seek(w.lineCount())) {
                    r.awaitOutput("alive");
                    String lines = Files.readString(Path.of("/proc/locks"));
                    assertTrue(lines.lines().anyMatch(l -> l.contains((kind.equals("flock") ? "FLOCK" : "POSIX"))
                            && l.contains(" " + w.pid() + " ")), "the restored process holds its lock again:\n" + lines);
                    r.kill9AndAwaitGone();
                }
            }
        }
    }

    /**
     * counter "extpipe" holds (fd 3) the read end of a pipe whose write end a process outside
     * it keeps, as a process started by a supervisor or a shell pipeline does: dumped as
     * external; restored only with --inherit-fd, here a pipe on jcriu's stdin moved to its fd 3.
     */
    @Test
    void aPipeToAProcessOutsideIsDumpedAsExternalAndRestoredWithInheritFd() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"), "extpipe")) {
            int writer = (int) Workload.number(w.awaitOutput("extpipe writer pid="), "pid");
            try {
                w.awaitOutput("count=3");
                String ino = Files.readSymbolicLink(Path.of("/proc/" + w.pid() + "/fd/3")).toString();
                String out = finish(jcriu(w.dir(), "dump", "-t", Integer.toString(w.pid()), "-D", "imgs", "-v4",
                        "-o", "-"), 0);
                assertTrue(out.contains("fd 3 of process " + w.pid() + " is " + ino) && out.contains("external"), out);
                w.awaitGone(Duration.ofSeconds(30));

                out = finish(jcriu(w.dir(), "restore", "-d", "-D", "imgs"), 1);
                assertTrue(out.contains("fd 3 of process " + w.pid() + " is " + ino)
                        && out.contains("--inherit-fd fd[N]:" + ino), out);
                assertFalse(Files.exists(Path.of("/proc/" + w.pid())), "a refused restore creates nothing");

                Process p = new ProcessBuilder("sh", "-c", "exec 3<&0 0</dev/null; readlink /proc/$$/fd/3; exec \"$0\" restore -d -D imgs"
                        + " --inherit-fd \"fd[3]:" + ino + "\"", Gcc.projectDir().resolve("jcriu").toString())
                        .directory(w.dir().toFile()).redirectErrorStream(true).start(); // stdin: a pipe of this JVM
                try (var feed = p.getOutputStream()) {
                    String given = finish(p, 0).lines().findFirst().orElseThrow();
                    try (Workload r = Workload.adopt(w.pid(), w.dir()).seek(w.lineCount())) {
                        String now = Files.readSymbolicLink(Path.of("/proc/" + r.pid() + "/fd/3")).toString();
                        assertEquals(given, now, "fd 3 is the pipe given to jcriu as its fd 3");
                        long at = Workload.number(r.awaitOutput("^count="), "count");
                        r.awaitOutput("count=" + (at + 3));
                        r.signal(Sig.SIGTERM);
                        r.awaitOutput("exit code=0");
                    }
                }
            } finally {
                Sig.kill(writer, Sig.SIGKILL);
            }
        }
    }

    @Test
    void refusedOptionExitsWith2BeforeTouchingTheProcess() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            String out = finish(jcriu(w.dir(), "dump", "-t", Integer.toString(w.pid()), "-D", "imgs",
                    "--manage-cgroups=soft"), 2);
            assertTrue(out.contains("--manage-cgroups=soft"), out);
            assertFalse(Files.exists(w.dir().resolve("imgs")), "nothing done");
            assertTrue(w.alive());
        }
    }

    @Test
    void versionAndFeatureChecksInCriusForm() throws Exception {
        Path here = Gcc.projectDir();
        String out = finish(jcriu(here, "--version"), 0);
        assertTrue(out.startsWith("Version: " + Main.CRIU_VERSION + "\n"), out);
        assertTrue(out.contains("jcriu: " + Main.JCRIU_VERSION), out);
        assertEquals(out, finish(jcriu(here, "-V"), 0));
        // zdtm's probe, word for word
        out = finish(jcriu(here, "check", "--no-default-config", "-verbosity=0", "--feature", "get_rseq_conf"), 0);
        assertEquals("get_rseq_conf is supported\n", out);
        finish(jcriu(here, "check", "--no-default-config", "-verbosity=0", "--feature", "mem_dirty_track"), 0);
        out = finish(jcriu(here, "check", "--no-default-config", "-verbosity=0", "--feature", "seccomp_suspend"), 0);
        assertEquals("seccomp_suspend is supported\n", out);
        finish(jcriu(here, "check", "--no-default-config", "-verbosity=0", "--feature", "seccomp_filters"), 0);
        // kinds jcriu dumps and restores are supported when the kernel has what they need; the others are not
        for (String yes : List.of("timerfd", "kcmp_epoll", "fdinfo_lock", "loginuid", "sockopt_buf_lock")) {
            assertEquals(yes + " is supported\n", finish(jcriu(here, "check", "--no-default-config", "-verbosity=0",
                    "--feature", yes), 0));
        }
        finish(jcriu(here, "check", "--no-default-config", "-verbosity=0", "--feature", "aio_remap"), 1);
        out = finish(jcriu(here, "check", "--feature", "no_such_feature"), 1);
        assertTrue(out.contains("unknown feature no_such_feature"), out);
        out = finish(jcriu(here, "check", "--all"), 1);
        assertTrue(out.contains("clone3_set_tid:") && out.contains("timerfd:"), out);
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.proc.ProcStat;
import jcriu.proc.Stat;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * jcriu dumps one process. A process with children, or one whose PID other processes keep as
 * their process group or session, is refused before anything changes, since killing it would
 * orphan the children or leave its PID unusable for the restore.
 */
class ProcessTreeTest {
    private static final Path SH = Path.of("/bin/sh");

    @Test
    void aProcessWithAChildIsRefusedAndBothKeepRunning() throws Exception {
        Path counter = Gcc.compile("counter");
        try (Workload sh = Workload.start(SH, List.of("-c", counter + " & wait"), Map.of())) {
            sh.awaitOutput("count=2");
            int child = only(p -> p.ppid() == sh.pid());
            try {
                Path dir = Checkpoints.imageDir(sh);
                var e = assertThrows(Checkpointer.DumpException.class, () -> Checkpointer.dump(
                        new DumpOptions(sh.pid(), dir, false, false), Checkpoints.log(new ByteArrayOutputStream())));
                assertTrue(e.getMessage().contains("child process " + child + " (counter)")
                        && e.getMessage().contains("not supported"), e.getMessage());
                assertEmpty(dir);
                assertEquals('S', sh.awaitState("S"), "the shell still waits for its child");
                assertEquals(0, Workload.tracerPid(sh.pid()));
                assertEquals(0, Workload.tracerPid(child));
                long at = last(sh.text());
                sh.awaitOutput("count=" + (at + 2));
            } finally {
                Sig.kill(child, Sig.SIGTERM);
            }
            sh.awaitGone(Duration.ofSeconds(30)); // wait returns once the child exits: the shell ends too
            assertTrue(sh.text().contains("exit code=0"), sh.text());
        }
    }

    @Test
    void aGroupThatOutlivesItsLeaderIsRefusedUnlessLeftRunningAndThenRestoreNamesIt() throws Exception {
        Path counter = Gcc.compile("counter");
        // "groupmate": a double-forked sleep, not its child, stays in the counter's group and session.
        try (Workload w = Workload.start(counter, "groupmate")) {
            int sleeper = (int) Workload.number(w.awaitOutput("groupmate pid="), "pid");
            w.awaitOutput("count=2");
            assertEquals(w.pid(), Workload.stat(sleeper).orElseThrow().pgrp());
            try {
                Path dir = Checkpoints.imageDir(w);
                var e = assertThrows(Checkpointer.DumpException.class, () -> Checkpointer.dump(
                        new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(new ByteArrayOutputStream())));
                assertTrue(e.getMessage().contains(sleeper + " (sleep, in its process group)")
                        && e.getMessage().contains("--leave-running"), e.getMessage());
                assertEmpty(dir);
                long at = last(w.text());
                w.awaitOutput("count=" + (at + 2));

                // Left running, the dump is allowed; a restore after the counter ends names the holder.
                Checkpoints.dump(w, dir, true);
                w.kill9AndAwaitGone();
                var r = assertThrows(Restorer.RestoreException.class, () -> Restorer.restore(
                        new RestoreOptions(dir, true, false, false), Checkpoints.log(new ByteArrayOutputStream())));
                assertTrue(r.getMessage().contains("PID " + w.pid() + " is still in use: " + sleeper
                        + " (sleep) is in process group " + w.pid()), r.getMessage());
                assertTrue(Files.notExists(Path.of("/proc/" + w.pid())), "nothing created");

                // Once the group is empty the same images restore.
                Sig.kill(sleeper, Sig.SIGKILL);
                awaitGone(sleeper);
                int seen = w.lineCount();
                try (Workload back = Checkpoints.restore(dir, w.dir(), seen)) {
                    assertEquals(w.pid(), back.pid());
                    back.awaitOutput("count=" + (at + 3));
                    back.signal(Sig.SIGTERM);
                    back.awaitOutput("exit code=0");
                }
            } finally {
                Sig.kill(sleeper, Sig.SIGKILL);
            }
        }
    }

    private static int only(java.util.function.Predicate<ProcStat> p) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            List<Integer> found = Stat.all(Path.of("/proc")).stream().filter(p).map(ProcStat::pid).toList();
            if (found.size() == 1) return found.getFirst();
            assertTrue(found.size() < 2, "expected one process, found " + found);
            assertTrue(System.nanoTime() < deadline, "process not found");
            sleep();
        }
    }

    private static void awaitGone(int pid) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Files.exists(Path.of("/proc/" + pid))) {
            assertTrue(System.nanoTime() < deadline, "pid " + pid + " not reaped");
            sleep();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "a refused dump leaves no images");
        }
    }

    private static long last(String text) {
        var m = java.util.regex.Pattern.compile("count=(\\d+)").matcher(text);
        long v = -1;
        while (m.find()) v = Long.parseLong(m.group(1));
        return v;
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.proc.ProcStat;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Trees;
import jcriu.testsupport.Workload;

/**
 * Process trees: a dump takes the process and all its descendants, and a restore brings each
 * back with its PID, parent, session and group, its shared files and pipes, zombies and
 * stopped children included. What the programs observe must be what they would have
 * observed without the checkpoint.
 */
class ProcessTreeTest {
    private static final Path BASH = Path.of("/bin/bash");

    @Test
    void aShellLoopAndItsSleepGoOnCounting() throws Exception {
        List<String> loop = List.of("-c", "i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done");
        try (Workload w = Workload.start(BASH, loop, Map.of()); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("^3$");
            Trees.awaitMembers(w.pid(), 2); // bash and its sleep
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                int last = lastNumber(w.text());
                back.awaitOutput("^" + (last + 3) + "$");
                assertContiguous(back.text(), last + 3);
                assertEquals("bash", Trees.members(back.pid()).getFirst().comm());
            }
        }
    }

    @Test
    void aPipelineResumesWithoutLosingOrRepeatingALine() throws Exception {
        List<String> pipeline = List.of("-c", "seq 1 1000000000 | while read x; do echo $x; sleep 0.1; done");
        try (Workload w = Workload.start(BASH, pipeline, Map.of()); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("^3$");
            List<ProcStat> before = Trees.awaitMembers(w.pid(), 4); // bash, seq, the loop's subshell, its sleep
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                int last = lastNumber(w.text());
                back.awaitOutput("^" + (last + 5) + "$");
                assertContiguous(back.text(), last + 5);
                List<ProcStat> after = Trees.members(back.pid());
                assertTrue(after.stream().anyMatch(p -> p.comm().equals("seq")
                        && before.stream().anyMatch(b -> b.pid() == p.pid())), "seq is back with its PID");
            }
        }
    }

    @Test
    void fiftyProcessesInThreeLevelsKeepParentsSessionsAndGroups() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "fan", "7", "6"); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("tree ready n=50");
            List<ProcStat> before = Trees.awaitMembers(w.pid(), 50);
            long sessions = before.stream().map(ProcStat::session).distinct().count();
            long groups = before.stream().map(ProcStat::pgrp).distinct().count();
            assertEquals(2, sessions, "the workload made a second session");
            assertEquals(3, groups, "the workload made two more groups");
            Map<Integer, Long> ticks = Trees.ticks(w, before);
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                List<ProcStat> after = Trees.members(back.pid());
                assertEquals(shape(before), shape(after), "pid, parent, group and session of every process");
                Map<Integer, Long> later = Trees.ticks(back, after);
                for (ProcStat p : after) {
                    assertTrue(later.get(p.pid()) > ticks.get(p.pid()), "process " + p.pid() + " ticks on");
                }
                back.signal(Sig.SIGTERM);
                back.awaitOutput("reaped pid=" + back.pid() + " n=7 bad=0");
                back.awaitOutput("exit code=0");
                String text = back.text();
                for (ProcStat p : after) {
                    if (p.ppid() == back.pid()) {
                        assertTrue(text.contains("reaped pid=" + p.pid() + " n=6 bad=0"), p.pid() + ":\n" + text);
                    }
                }
            }
        }
    }

    @Test
    void aZombieIsReapedWithTheSameStatusAsWithoutTheCheckpoint() throws Exception {
        for (String how : List.of("42", "s9", "s15")) {
            String oracle = zombieStatus(how, false);
            String restored = zombieStatus(how, true);
            assertEquals(oracle, restored, "status of a zombie that exited with " + how);
        }
    }

    /** The status its parent reaps the workload's child with, stopped and continued or checkpointed while a zombie. */
    private static String zombieStatus(String how, boolean checkpoint) throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "zombie", how); var killW = Trees.killOnClose(w)) {
            int kid = (int) Workload.number(w.awaitOutput("child pid="), "pid");
            w.awaitOutput("zombie ready");
            assertEquals('Z', Workload.stat(kid).orElseThrow().state());
            Workload target = w;
            if (checkpoint) {
                target = Trees.cycle(w);
                assertEquals('Z', Workload.stat(kid).orElseThrow().state(), "restored as a zombie");
                assertEquals(target.pid(), Workload.stat(kid).orElseThrow().ppid());
            } else {
                w.stopAndContinue(Duration.ofMillis(100));
            }
            target.signal(Sig.SIGUSR1); // a restored tree has the same PIDs: killW covers it too
            String line = target.awaitOutput("reaped pid=" + kid);
            target.signal(Sig.SIGTERM);
            target.awaitOutput("exit code=0");
            return Workload.word(line, "status");
        }
    }

    @Test
    void aStoppedChildIsRestoredStoppedAndGoesOnWhenContinued() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "stopchild"); var killW = Trees.killOnClose(w)) {
            int kid = (int) Workload.number(w.awaitOutput("child pid="), "pid");
            w.awaitOutput("child count=3");
            Sig.kill(kid, Sig.SIGSTOP);
            awaitState(kid, 'T');
            Sig.kill(kid, Sig.SIGSTOP); // a second one stays queued while it is stopped (zdtm's stopped01)
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                assertEquals('T', Workload.stat(kid).orElseThrow().state(), "still stopped after restore");
                long last = lastCount(w.text());
                Sig.kill(kid, Sig.SIGCONT);
                back.awaitOutput("child count=" + (last + 3) + "$");
                assertEquals(1, back.text().split("child count=" + last + "\n", -1).length - 1,
                        "no count repeated");
                back.signal(Sig.SIGTERM);
                back.awaitOutput("exit code=0");
            }
        }
    }

    /** The parent's waitpid(WUNTRACED) reports the same stop signal, SIGTSTP here, after the restore. */
    @Test
    void aChildStoppedBySigtstpIsRestoredStoppedBySigtstp() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "stopchild", "pgrp"); var killW = Trees.killOnClose(w)) {
            int kid = (int) Workload.number(w.awaitOutput("child pid="), "pid");
            w.awaitOutput("child count=3");
            Sig.kill(kid, 20 /* SIGTSTP */);
            awaitState(kid, 'T');
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                assertEquals('T', Workload.stat(kid).orElseThrow().state(), "still stopped after restore");
                back.signal(Sig.SIGUSR1);
                assertEquals("child stopped by 20", back.awaitOutput("child ").strip());
                back.signal(Sig.SIGTERM);
                back.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void parentAndChildKeepSharingOneFileOffset() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "append"); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("ready pid=");
            Path shared = w.dir().resolve("shared.txt");
            awaitSize(shared, 13 * 20);
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                long at = Files.size(shared);
                awaitSize(shared, at + 13 * 20);
                back.signal(Sig.SIGTERM);
                String line = back.awaitOutput("wrote parent=");
                back.awaitOutput("exit code=0");
                long p = Workload.number(line, "parent"), c = Workload.number(line, "child");
                List<String> lines = Files.readAllLines(shared);
                assertEquals(p + c, lines.size(), "one line per write, none overwritten");
                for (long i = 1; i <= p; i++) assertTrue(lines.contains(String.format("p %010d", i)), "p " + i);
                for (long i = 1; i <= c; i++) assertTrue(lines.contains(String.format("c %010d", i)), "c " + i);
            }
        }
    }

    @Test
    void aPipeBetweenParentAndChildKeepsTheBytesInFlight() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "pipe"); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("got 20$");
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                long last = lastNumberAfter(w.text(), "got ");
                back.awaitOutput("got " + (last + 10) + "$");
                assertFalse(back.text().contains("BAD"), back.text());
                assertContiguousAfter(back.text(), "got ", last + 10);
            }
        }
    }

    /**
     * Pages of shared anonymous memory written only by a child that has since exited are in the
     * shmem object but in no page table of the survivor: they are read from the object itself.
     */
    @Test
    void sharedMemoryOnlyAnExitedChildTouchedSurvives() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("shm_orphan")); Trees.Killer k = Trees.killOnClose(w)) {
            w.awaitOutput("ready");
            try (Workload r = Trees.cycle(w); Trees.Killer kr = Trees.killOnClose(r)) {
                r.signal(Sig.SIGUSR1);
                assertEquals("verify ok", r.awaitOutput("verify ").strip());
                r.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void sharedAnonymousMemoryStaysOneObjectForParentAndChild() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "shm"); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("seen [1-9]");
            List<ProcStat> before = Trees.awaitMembers(w.pid(), 2);
            String object = sharedObject(w.pid());
            assertEquals(object, sharedObject(before.get(1).pid()), "one object before the dump");
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                long seen = Long.parseLong(back.awaitOutput("seen ").substring("seen ".length()));
                long later = seen;
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (later < seen + 20) { // only the child writes: the parent sees it only if shared
                    assertTrue(System.nanoTime() < deadline, "the parent's view stays at " + later);
                    later = Long.parseLong(back.awaitOutput("seen ").substring("seen ".length()));
                }
                assertEquals(sharedObject(back.pid()), sharedObject(before.get(1).pid()),
                        "one object after the restore");
                assertFalse(back.text().contains("BAD"), back.text());
                back.signal(Sig.SIGTERM);
                back.awaitOutput("exit code=0");
            }
        }
    }

    /** The inode of the process's 64 KiB shared anonymous mapping, from its maps. */
    private static String sharedObject(int pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/maps"))) {
            String[] f = l.trim().split("\\s+", 6);
            String[] range = f[0].split("-");
            long size = Long.parseLong(range[1], 16) - Long.parseLong(range[0], 16);
            if (size == 65536 && f.length == 6 && f[5].equals("/dev/zero (deleted)")) return f[4];
        }
        throw new AssertionError("no shared anonymous 64 KiB mapping in process " + pid);
    }

    @Test
    void aTreeThatForksAllTheTimeIsDumpedAndRestored() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "forkloop"); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("forks=200");
            for (int i = 0; i < 5; i++) { // left running: the forks go on between the dumps
                Checkpoints.dump(w, Checkpoints.imageDir(w), true);
                w.awaitOutput("forks=");
            }
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                long last = lastNumberAfter(w.text(), "forks=");
                back.awaitOutput("forks=" + (last + 500) + "$");
                back.signal(Sig.SIGTERM);
                back.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void aTreeLeftRunningIsUntouchedAndItsImagesRestoreLater() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "fan", "2", "2"); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("tree ready n=7");
            List<ProcStat> before = Trees.awaitMembers(w.pid(), 7);
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, true);
            for (ProcStat p : before) assertEquals(0, Workload.tracerPid(p.pid()), "detached: " + p.pid());
            Map<Integer, Long> ticks = Trees.ticks(w, before);
            assertEquals(7, ticks.size());
            Trees.kill(w.pid());
            Trees.awaitGone(Trees.idsIn(dir));
            try (Workload back = Checkpoints.restore(dir, w.dir(), w.lineCount());
                 var killBack = Trees.killOnClose(back)) {
                assertEquals(shape(before), shape(Trees.members(back.pid())));
                back.signal(Sig.SIGTERM);
                back.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void aPreDumpOfATreeIsTheParentOfItsDump() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "fan", "2", "2"); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("tree ready n=7");
            List<ProcStat> before = Trees.awaitMembers(w.pid(), 7);
            Path pre = Checkpoints.imageDir(w), dir = Checkpoints.imageDir(w);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            var r = Checkpointer.preDump(new DumpOptions(w.pid(), pre, true, false), Checkpoints.log(log));
            assertEquals(7, r.processes(), log.toString());
            Checkpointer.Result d = Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false,
                    Path.of("..").resolve(pre.getFileName())), Checkpoints.log(log));
            assertTrue(d.pageBytes() < r.pageBytes() / 2, "the dump wrote " + d.pageBytes() + " bytes after a "
                    + r.pageBytes() + "-byte pre-dump");
            Trees.awaitGone(Trees.idsIn(dir));
            try (Workload back = Checkpoints.restore(dir, w.dir(), w.lineCount());
                 var killBack = Trees.killOnClose(back)) {
                assertEquals(shape(before), shape(Trees.members(back.pid())));
                back.signal(Sig.SIGTERM);
                back.awaitOutput("reaped pid=" + back.pid() + " n=2 bad=0");
                back.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void aFailedRestoreOfATreeLeavesNoProcessBehind() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "fan", "2", "2")) {
            List<Integer> ids;
            Path dir;
            try {
                w.awaitOutput("tree ready n=7");
                dir = Checkpoints.imageDir(w);
                Checkpoints.dump(w, dir, false);
                ids = Trees.idsIn(dir);
                Trees.awaitGone(ids);
            } finally {
                Trees.kill(w.pid());
            }
            // The last process's vDSO differs from this kernel's: its rebuild fails after the others are
            // made. (A set damaged otherwise, a pages file cut short, is refused before anything is made.)
            Path lastPages;
            try (Stream<Path> s = Files.list(dir)) {
                lastPages = s.filter(p -> p.getFileName().toString().matches("pages-\\d+\\.img"))
                        .max((a, b) -> Integer.compare(pagesId(a), pagesId(b))).orElseThrow();
            }
            assertEquals(jcriu.image.StateCodec.imageId(6), pagesId(lastPages), "the seventh process's pages");
            jcriu.state.ProcessState last = jcriu.image.StateCodec.read(jcriu.image.ImageDir.open(dir)).processes().get(6);
            jcriu.state.VmaState vdso = last.mm().vmas().stream()
                    .filter(v -> v.kind() == jcriu.state.VmaState.Kind.VDSO).findFirst().orElseThrow();
            long off = 0;
            for (jcriu.state.PageRun run : last.mm().pages()) {
                if (run.addr() >= vdso.start() && run.addr() < vdso.end()) break;
                off += run.bytes();
            }
            try (var ch = java.nio.channels.FileChannel.open(lastPages, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) 0xcc}), off + 100);
            }
            jcriu.testsupport.Images.reseal(dir); // well-formed, as from another kernel: passes the set's check
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            var e = assertThrows(Restorer.RestoreException.class, () -> Restorer.restore(
                    new RestoreOptions(dir, true, false, false), Checkpoints.log(log)));
            // every process had been made by then: the last one's pages are read after its parent cloned it
            assertTrue(log.toString().contains("created pid " + ids.getFirst()), log.toString());
            assertTrue(e.getMessage().contains(lastPages.getFileName().toString()) || e.getMessage().contains("vDSO"),
                    e.getMessage());
            Trees.awaitGone(ids);
        }
    }

    @Test
    void aParentWaitingInVforkIsRefusedAndBothGoOn() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "vfork"); var killW = Trees.killOnClose(w)) {
            int kid = (int) Workload.number(w.awaitOutput("vfork child pid="), "pid");
            Path dir = Checkpoints.imageDir(w);
            var e = assertThrows(Checkpointer.DumpException.class, () -> Checkpointer.dump(
                    new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("process " + w.pid()) && e.getMessage().contains("vfork")
                    && e.getMessage().contains("child " + kid), e.getMessage());
            assertEmpty(dir);
            assertEquals(0, Workload.tracerPid(w.pid()));
            Sig.kill(kid, Sig.SIGKILL); // the vfork returns in the parent, which then ends
            w.awaitOutput("vfork done");
        }
    }

    @Test
    void aChildClonedWithAnotherExitSignalIsRefused() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "clonesig"); var killW = Trees.killOnClose(w)) {
            int kid = (int) Workload.number(w.awaitOutput("clonesig child pid="), "pid");
            Path dir = Checkpoints.imageDir(w);
            var e = assertThrows(Checkpointer.DumpException.class, () -> Checkpointer.dump(
                    new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("process " + kid) && e.getMessage().contains("exit signal 12"),
                    e.getMessage());
            assertEmpty(dir);
            assertEquals(0, Workload.tracerPid(kid));
            w.signal(Sig.SIGTERM);
            w.awaitOutput("exit code=0");
        }
    }

    @Test
    void critShowsTheDumpedTree() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("tree"), "fan", "2", "1"); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("tree ready n=5");
            List<ProcStat> before = Trees.awaitMembers(w.pid(), 5);
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, true);
            Process crit = new ProcessBuilder("crit", "x", dir.toString(), "ps").redirectErrorStream(true).start();
            String out = new String(crit.getInputStream().readAllBytes());
            assertEquals(0, crit.waitFor(), out);
            for (ProcStat p : before) {
                // crit prints each id right-aligned in 7 columns with no separator, so
                // 7-digit pids (pid_max is raised by test.sh) run together.
                String row = String.format("%7d%7d%7d   ", p.pid(), p.pgrp(), p.session());
                assertTrue(out.lines().anyMatch(l -> l.startsWith(row)), "'" + row + "' in:\n" + out);
            }
        }
    }

    @Test
    void aProcessInTheSessionOfAShellOutsideTheDumpNeedsShellJobAndThenJoinsJcriusSession() throws Exception {
        Path counter = Gcc.compile("counter");
        List<String> job = List.of("-c", counter + " & wait");
        try (Workload sh = Workload.start(Path.of("/bin/sh"), job, Map.of()); var killSh = Trees.killOnClose(sh)) {
            sh.awaitOutput("count=2");
            int child = Trees.awaitMembers(sh.pid(), 2).get(1).pid();
            Path dir = Checkpoints.imageDir(sh);
            var e = assertThrows(Checkpointer.DumpException.class, () -> Checkpointer.dump(
                    new DumpOptions(child, dir, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("session " + sh.pid()) && e.getMessage().contains("--shell-job"),
                    e.getMessage());
            assertEquals(0, Workload.tracerPid(child));
            long at = lastCount(sh.text());
            sh.awaitOutput("count=" + (at + 2));

            // With --shell-job it is dumped, and restored into the session and group of jcriu.
            Checkpointer.dump(new DumpOptions(child, dir, false, true), Checkpoints.log(new ByteArrayOutputStream()));
            Trees.awaitGone(List.of(child));
            int seen = sh.lineCount();
            var refused = assertThrows(Restorer.RestoreException.class, () -> Restorer.restore(
                    new RestoreOptions(dir, true, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(refused.getMessage().contains("--shell-job"), refused.getMessage());
            Restorer.restore(new RestoreOptions(dir, true, false, true), Checkpoints.log(new ByteArrayOutputStream()));
            try (Workload back = Workload.adopt(child, sh.dir()).seek(seen)) {
                ProcStat me = jcriu.proc.Stat.read(Path.of("/proc"), (int) ProcessHandle.current().pid());
                ProcStat it = jcriu.proc.Stat.read(Path.of("/proc"), child);
                assertEquals(me.session(), it.session(), "in jcriu's session");
                assertEquals(me.pgrp(), it.pgrp(), "in jcriu's process group");
                back.awaitOutput("count=" + (lastCount(sh.text()) + 2));
                back.signal(Sig.SIGTERM);
                back.awaitOutput("exit code=0");
            }
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
                assertTrue(e.getMessage().contains(sleeper + " (sleep, in process group " + w.pid() + ")")
                        && e.getMessage().contains("--leave-running"), e.getMessage());
                assertEmpty(dir);
                long at = lastCount(w.text());
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
                Trees.awaitGone(List.of(sleeper));
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

    // ------------------------------------------------------------------ helpers

    /** pid -> "ppid pgid sid comm", the root's parent left out (a detached restore reparents it). */
    private static Map<Integer, String> shape(List<ProcStat> ps) {
        Map<Integer, String> out = new HashMap<>();
        int root = ps.getFirst().pid();
        for (ProcStat p : ps) {
            out.put(p.pid(), (p.pid() == root ? "-" : Integer.toString(p.ppid())) + " " + p.pgrp() + " " + p.session()
                    + " " + p.comm());
        }
        return out;
    }


    private static int lastNumber(String text) {
        int v = -1;
        for (String l : text.split("\n")) if (l.matches("\\d+")) v = Integer.parseInt(l);
        return v;
    }

    /** The numbers printed, one per line, go 0 (or 1), 1, 2, ... up to at least {@code upTo}, none lost or repeated. */
    private static void assertContiguous(String text, int upTo) {
        List<Integer> got = new ArrayList<>();
        for (String l : text.split("\n")) if (l.matches("\\d+")) got.add(Integer.parseInt(l));
        int first = got.getFirst();
        for (int i = 0; i < got.size(); i++) {
            assertEquals(first + i, (int) got.get(i), "line " + i + " of the numbers: " + got);
        }
        assertTrue(got.getLast() >= upTo, got.toString());
    }

    private static long lastNumberAfter(String text, String prefix) {
        long v = -1;
        for (String l : text.split("\n")) {
            if (l.startsWith(prefix) && !l.contains("BAD")) v = Long.parseLong(l.substring(prefix.length()).strip());
        }
        return v;
    }

    private static void assertContiguousAfter(String text, String prefix, long upTo) {
        List<Long> got = new ArrayList<>();
        for (String l : text.split("\n")) if (l.startsWith(prefix)) got.add(Long.parseLong(l.substring(prefix.length())));
        for (int i = 1; i < got.size(); i++) assertEquals(got.get(i - 1) + 1, (long) got.get(i), got.toString());
        assertTrue(got.getLast() >= upTo, got.toString());
    }

    private static long lastCount(String text) {
        Matcher m = Pattern.compile("count=(\\d+)").matcher(text);
        long v = -1;
        while (m.find()) v = Long.parseLong(m.group(1));
        return v;
    }

    private static int pagesId(Path p) {
        String n = p.getFileName().toString();
        return Integer.parseInt(n.substring("pages-".length(), n.length() - ".img".length()));
    }

    private static void awaitSize(Path f, long atLeast) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(f) || Files.size(f) < atLeast) {
            assertTrue(System.nanoTime() < deadline, f + " stays below " + atLeast + " bytes");
            Thread.sleep(20);
        }
    }

    private static void awaitState(int pid, char state) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Workload.stat(pid).map(s -> s.state() != state).orElse(true)) {
            assertTrue(System.nanoTime() < deadline, "pid " + pid + " never reached state " + state);
            Thread.sleep(10);
        }
    }

    private static void assertEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "a refused dump leaves no images");
        }
    }
}

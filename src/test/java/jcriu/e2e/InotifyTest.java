package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jcriu.api.Log;
import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/** inotify watches come back with their descriptors and masks; a program waiting on them goes on. */
class InotifyTest {

    /**
     * GNU tail -f waits in poll(2) on its inotify fd and stdout. Stopped and continued, the kernel
     * restarts that poll; after jcriu's restore it goes on too (CRIU's restore makes it fail with
     * "error waiting for inotify and output events: Interrupted system call"), and lines written
     * while it was dead or after come out.
     */
    @Test
    void tailFollowsAFileAcrossARestore() throws Exception {
        Path tmp = Files.createTempDirectory(Gcc.projectDir().resolve("target"), "tail-");
        Path oracleFile = tmp.resolve("a.log"), file = tmp.resolve("b.log");
        Files.writeString(oracleFile, "line 1\n");
        Files.writeString(file, "line 1\n");
        Path tail = Path.of("/usr/bin/tail");
        try (Workload a = Workload.start(tail, List.of("-f", oracleFile.toString()), Map.of());
             Workload b = Workload.start(tail, List.of("-f", file.toString()), Map.of())) {
            for (Workload w : List.of(a, b)) {
                w.awaitOutput("^line 1$");
                w.awaitSyscall(7, Duration.ofSeconds(10)); // poll
                assertTrue(fdTargets(w.pid()).contains("anon_inode:inotify"), fdTargets(w.pid()).toString());
            }
            String watchBefore = watchLines(b.pid());

            a.stopAndContinue(Duration.ofMillis(300));
            append(oracleFile, "line 2\n");
            a.awaitOutput("^line 2$");

            Path dir = Checkpoints.imageDir(b);
            Checkpoints.dump(b, dir, false);
            b.awaitGone(Duration.ofSeconds(30));
            append(file, "line 2 (while dead)\n");
            // the file tail reads grew while it was dead: refused as changed since the dump (as CRIU
            // does), unless the restore is told to use it as it is
            var refused = org.junit.jupiter.api.Assertions.assertThrows(jcriu.restore.Restorer.RestoreException.class,
                    () -> jcriu.restore.Restorer.restore(new jcriu.restore.RestoreOptions(dir, true, false, false),
                            jcriu.api.Log.quiet()));
            assertTrue(refused.getMessage().contains(file + " changed since the dump"), refused.getMessage());
            try (Workload r = Checkpoints.restore(dir, b.dir(), b.lineCount(), true)) {
                assertEquals(watchBefore, watchLines(r.pid()), "the same watch: descriptor, inode, mask");
                append(file, "line 3\n");
                r.awaitOutput("^line 2 \\(while dead\\)$");
                r.awaitOutput("^line 3$");
                Thread.sleep(300);
                assertTrue(r.alive(), r.text());
                assertFalse(r.text().contains("tail:"), r.text());
                append(file, "line 4\n");
                r.awaitOutput("^line 4$");
                assertEquals(List.of("line 1", "line 2 (while dead)", "line 3", "line 4"), r.lines());
            }
            assertFalse(a.text().contains("tail:"), a.text());
        }
    }

    /** A C program blocked in read(2) on inotify: watch descriptors with a gap, masks, events after restore. */
    @Test
    void watchDescriptorsAndMasksComeBack() throws Exception {
        Path watched = Files.createTempDirectory(Gcc.projectDir().resolve("target"), "watched-");
        try (Workload w = Workload.start(Gcc.compile("inotify"), watched.toString())) {
            String ready = w.awaitOutput("^ready ");
            assertEquals(1, Workload.number(ready, "dir"));
            assertEquals(3, Workload.number(ready, "file"));
            String before = watchLines(w.pid());
            assertEquals(2, before.lines().count(), before);
            try (Workload r = Checkpoints.cycle(w)) {
                assertEquals(before, watchLines(r.pid()));
                Files.writeString(watched.resolve("new"), "x");
                r.awaitOutput("^event wd=1 mask=100 name=new$"); // IN_CREATE in the directory
                Files.writeString(watched.resolve("file"), "y");
                r.awaitOutput("^event wd=3 mask=2 name=-$"); // IN_MODIFY of the file
                r.awaitOutput("^event wd=3 mask=8 name=-$"); // IN_CLOSE_WRITE
                Files.delete(watched.resolve("new"));
                r.awaitOutput("^event wd=1 mask=200 name=new$"); // IN_DELETE
                r.signal(Sig.SIGTERM);
                r.awaitOutput("^exit code=0$");
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    /**
     * A watch on a file deleted while the process holds it open (zdtm's inotify00): the file is
     * made again with the tree's deleted files and watched again, so closing it gives the same
     * events as without a checkpoint (the kernel's run is the oracle).
     */
    @Test
    void aWatchOnADeletedFileHeldOpenComesBack() throws Exception {
        Path oracleDir = Files.createTempDirectory(Gcc.projectDir().resolve("target"), "watched-");
        Path watched = Files.createTempDirectory(Gcc.projectDir().resolve("target"), "watched-");
        Path bin = Gcc.compile("inotify");
        try (Workload a = Workload.start(bin, oracleDir.toString(), "held");
             Workload w = Workload.start(bin, watched.toString(), "held")) {
            assertEquals(4, Workload.number(a.awaitOutput("^ready "), "held"));
            assertEquals(4, Workload.number(w.awaitOutput("^ready "), "held"));
            a.stopAndContinue(Duration.ofMillis(200));
            a.signal(Sig.SIGUSR1);
            List<String> expected = closeEvents(a);
            assertEquals(3, watchLines(w.pid()).lines().count(), watchLines(w.pid()));
            try (Workload r = Checkpoints.cycle(w)) {
                assertEquals(3, watchLines(r.pid()).lines().count(), watchLines(r.pid())); // the held file's too
                r.signal(Sig.SIGUSR1);
                assertEquals(expected, closeEvents(r));
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    /** The events of wd 4 once the held file is closed: up to its IN_IGNORED. */
    private static List<String> closeEvents(Workload w) throws Exception {
        w.awaitOutput("^event wd=4 mask=8000 name=-$");
        return w.lines().stream().filter(l -> l.startsWith("event wd=4 ")).toList();
    }

    @Test
    void fanotifyIsRefusedAndTheProcessRunsOn() throws Exception {
        Path watched = Files.createTempDirectory(Gcc.projectDir().resolve("target"), "watched-");
        try (Workload w = Workload.start(Gcc.compile("inotify"), watched.toString(), "fanotify")) {
            w.awaitOutput("^ready ");
            Path dir = Checkpoints.imageDir(w);
            var e = assertThrows(Checkpointer.DumpException.class,
                    () -> Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false), Log.quiet()));
            assertTrue(e.getMessage().contains("fanotify") && e.getMessage().contains("anon_inode:[fanotify]"),
                    e.getMessage());
            Files.writeString(watched.resolve("new"), "x");
            w.awaitOutput("^event wd=1 mask=100 name=new$");
        }
    }

    private static void append(Path f, String s) throws IOException {
        Files.writeString(f, s, StandardOpenOption.APPEND);
    }

    private static List<String> fdTargets(int pid) throws IOException {
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.map(p -> {
                try {
                    return Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                    return "?";
                }
            }).toList();
        }
    }

    /** The "inotify wd:..." lines of every fd of the process. */
    private static String watchLines(int pid) throws IOException {
        StringBuilder b = new StringBuilder();
        try (var s = Files.list(Path.of("/proc/" + pid + "/fdinfo"))) {
            for (Path p : s.sorted().toList()) {
                for (String l : Files.readAllLines(p)) if (l.startsWith("inotify ")) b.append(l).append('\n');
            }
        }
        return b.toString();
    }
}

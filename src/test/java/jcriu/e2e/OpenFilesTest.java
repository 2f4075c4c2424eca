package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.api.Log;
import jcriu.dump.Checkpointer;
import jcriu.dump.DumpHooks;
import jcriu.dump.DumpOptions;
import jcriu.restore.RestoreHooks;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.rseq.RseqConfigSource;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * openfiles.c holds a deleted file (open and mapped), memfds (content, seals, a shared
 * mapping), a FIFO with unread bytes and an O_ASYNC owner, flock, POSIX and OFD locks, an
 * O_PATH fd, a directory, a /proc file and a character device node. What it observes of them
 * after a dump, kill and restore must be what it observed before; the locks must still keep
 * another process out; a file changed since the dump is refused by name.
 */
class OpenFilesTest {
    private static final int SIGRTMIN_2 = 36;

    @Test
    void openFilesComeBackWithTheirState() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("openfiles"))) {
            String ready = w.awaitOutput("^ready ");
            List<String> before = obs(w);
            assertTrue(before.getFirst().contains("nlink=0 pos=7"), before.toString());
            assertTrue(before.get(3).contains("unread=10"), before.toString());
            Path dir = Checkpoints.imageDir(w);

            // without --file-locks a lock is refused, by name, and the process runs on
            var refused = assertThrows(Checkpointer.DumpException.class, () -> dump(w, dir, 1 << 20, false));
            assertTrue(refused.getMessage().contains("lock.") && refused.getMessage().contains("--file-locks"),
                    refused.getMessage());
            assertTrue(w.alive());

            dump(w, dir, 1 << 20, true);
            w.awaitGone(Duration.ofSeconds(30));
            String crit = EventLoopTest.crit(dir.resolve("files.img"));
            for (String want : List.of("\"type\": \"MEMFD\"", "\"type\": \"FIFO\"", "/ghost.dat")) {
                assertTrue(crit.contains(want), "crit decode of files.img lacks " + want + ":\n" + crit);
            }
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals(before, obs(r), "what the process sees of its files");
                assertFalse(Files.exists(w.dir().resolve("ghost.dat")), "the deleted file is deleted again");

                // the locks still keep another process out (this JVM is one)
                Path d = w.dir();
                assertEquals(1, run(d, "flock", "-n", "lock.flock", "true"), "flock held");
                try (FileChannel c = FileChannel.open(d.resolve("lock.posix"), StandardOpenOption.WRITE)) {
                    assertNull(c.tryLock(0, 10, false), "POSIX write lock on bytes 0-9 held");
                    FileLock past = c.tryLock(10, 5, false);
                    assertNotNull(past, "bytes past 9 are free");
                    past.release();
                }
                try (FileChannel c = FileChannel.open(d.resolve("lock.ofd"), StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
                    assertNull(c.tryLock(100, 1000, false), "OFD read lock from 100 held against writers");
                    FileLock shared = c.tryLock(100, 1000, true);
                    assertNotNull(shared, "and it is a read lock");
                    shared.release();
                }

                String locks = Files.readString(Path.of("/proc/locks"));
                for (String kind : List.of("FLOCK  ADVISORY  WRITE " + r.pid(), "POSIX  ADVISORY  WRITE " + r.pid(),
                        "OFDLCK ADVISORY  READ -1")) {
                    assertTrue(locks.contains(kind), "held by the restored process: " + kind + " in\n" + locks);
                }

                // the FIFO's O_ASYNC owner gets its F_SETSIG signal when data arrives
                r.skipToEnd();
                Files.writeString(d.resolve("fifo"), "ping");
                String sigio = r.awaitOutput("^sigio ");
                assertEquals(Workload.number(ready, "fifo_r"), Workload.number(sigio, "fd"), sigio);
                assertEquals(SIGRTMIN_2, Workload.number(sigio, "sig"), sigio);
                assertEquals("fifo read=fifo-bytesping", r.awaitOutput("^fifo read="));

                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void aFileChangedSinceTheDumpIsRefusedUnlessTheCheckIsSkipped() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("openfiles"))) {
            w.awaitOutput("^ready ");
            Path dir = Checkpoints.imageDir(w), d = w.dir();
            dump(w, dir, 1 << 20, true);
            w.awaitGone(Duration.ofSeconds(30));

            Files.writeString(d.resolve("data.txt"), "more\n", StandardOpenOption.APPEND);
            String msg = restoreFails(dir, false);
            assertTrue(msg.contains("data.txt") && msg.contains("size is 11, it was 6")
                    && msg.contains("--skip-file-rwx-check"), msg);
            Files.writeString(d.resolve("data.txt"), "data!\n");
            Files.setPosixFilePermissions(d.resolve("data.txt"), java.nio.file.attribute.PosixFilePermissions
                    .fromString("rw-rw-rw-"));
            msg = restoreFails(dir, false);
            assertTrue(msg.contains("data.txt") && msg.contains("mode is 666, it was 644"), msg);

            Files.delete(d.resolve("dev.node"));
            assertEquals(0, run(d, "mknod", "-m", "600", "dev.node", "c", "1", "5"));
            msg = restoreFails(dir, true);
            assertTrue(msg.contains("dev.node") && msg.contains("device 1:5 now, it was 1:3"), msg);
            Files.delete(d.resolve("dev.node"));
            assertEquals(0, run(d, "mknod", "-m", "600", "dev.node", "c", "1", "3"));

            ByteArrayOutputStream log = new ByteArrayOutputStream();
            int pid = Restorer.restore(new RestoreOptions(dir, true, false, false, RestoreHooks.NONE, true),
                    Checkpoints.log(log)).pid();
            try (Workload r = Workload.adopt(pid, d).seek(w.lineCount())) {
                List<String> after = obs(r);
                assertTrue(after.get(4).contains("data=" + d.resolve("data.txt")), after.toString());
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void aDeletedFileAboveTheGhostLimitIsRefused() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("openfiles"), Integer.toString(3 << 20))) {
            String ready = w.awaitOutput("^ready ");
            Path dir = Checkpoints.imageDir(w);
            var e = assertThrows(Checkpointer.DumpException.class, () -> dump(w, dir, 1 << 20, true));
            assertTrue(e.getMessage().contains("fd " + Workload.number(ready, "ghost") + " of process " + w.pid())
                    && e.getMessage().contains("ghost.dat") && e.getMessage().contains("ghost limit of 1048576")
                    && e.getMessage().contains("--ghost-limit"), e.getMessage());
            assertTrue(w.alive(), "a refused dump leaves the process running");
            List<String> before = obs(w);

            dump(w, dir, 4 << 20, true);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals(before.getFirst(), obs(r).getFirst(), "3 MiB deleted file, content and offset");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    /** A parent and its child each hold a POSIX lock through one shared open file: each gets its own back. */
    @Test
    void posixLocksOfTwoProcessesSharingAFileComeBackToEach() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("locker"), "fork")) {
            String ready = w.awaitOutput("^ready ");
            int child = (int) Workload.number(ready, "child");
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir, 1 << 20, true);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                r.awaitOutput("^alive ");
                String locks = Files.readString(Path.of("/proc/locks"));
                assertTrue(locks.lines().anyMatch(l -> l.contains("POSIX  ADVISORY  WRITE " + w.pid() + " ")
                        && l.endsWith(" 0 9")), locks);
                assertTrue(locks.lines().anyMatch(l -> l.contains("POSIX  ADVISORY  WRITE " + child + " ")
                        && l.endsWith(" 20 29")), locks);
                Sig.kill(child, Sig.SIGKILL);
                r.kill9AndAwaitGone();
            }
        }
    }

    private static void dump(Workload w, Path dir, long ghostLimit, boolean locks) throws IOException {
        Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false, null, RseqConfigSource.PTRACE, null,
                DumpHooks.NONE, new DumpOptions.FileOptions(ghostLimit, locks)), Log.quiet());
    }

    /** The restore's error; nothing of it is left running. */
    private static String restoreFails(Path dir, boolean skipCheck) {
        var e = assertThrows(Restorer.RestoreException.class, () -> Restorer.restore(new RestoreOptions(dir, true,
                false, false, RestoreHooks.NONE, skipCheck), Log.quiet()));
        return e.getMessage();
    }

    private static List<String> obs(Workload w) {
        w.skipToEnd();
        w.signal(Sig.SIGUSR1);
        List<String> out = new ArrayList<>();
        for (String k : List.of("ghost", "mem", "ro", "fifo", "paths")) out.add(w.awaitOutput("^obs " + k + " "));
        return out;
    }

    private static int run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }
}

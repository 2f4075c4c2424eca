package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * ghostdirs.c works in directories it removed: its cwd, and a directory it holds through an
 * O_RDONLY|O_DIRECTORY fd and an O_PATH fd. After a dump, kill and restore it must see each
 * as before (a directory, removed: nlink 0, getcwd failing with ENOENT, nothing can be
 * created in it; the same mode and mtime; its fds and cwd on one directory as they were), and
 * the restore must leave nothing at the old paths.
 */
class GhostDirectoriesTest {

    @Test
    void aDeletedCwdAndFdsOnADeletedDirectoryComeBackDeleted() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("ghostdirs"))) {
            w.awaitOutput("^ready ");
            List<String> names = GhostFilesTest.names(w.dir());
            List<String> before = obs(w, 2);
            String dir = w.dir().toRealPath().toString();
            assertEquals("obs cwd getcwd=ENOENT link=" + dir + "/cwdgone (deleted) nlink=0 mode=40751 mtime=1100000000"
                    + " samecfd=1 creat=ENOENT", withoutIno(before.get(0)));
            // a removed directory cannot be listed either (getdents: ENOENT)
            assertEquals("obs dirs dnlink=0 dmode=40705 dmtime=1200000000 dlink=" + dir + "/fdgone (deleted) plink=" + dir
                    + "/fdgone (deleted) same=1 dflags=300000 pflags=10200000 dcreat=ENOENT dmkdir=ENOENT pcreat=ENOENT"
                    + " dents=-1", before.get(1));
            Path img = Checkpoints.imageDir(w);
            Checkpoints.dump(w, img, false);
            w.awaitGone(Duration.ofSeconds(30));
            // CRIU's layout: a GHOST remap per entry, one ghost-file image (mode S_IFDIR|perm) per directory
            assertTrue(crit(img.resolve("remap-fpath.img")).contains("\"remap_type\": \"GHOST\""));
            String ghosts = crit(img.resolve("ghost-file-1.img")) + crit(img.resolve("ghost-file-2.img"));
            assertTrue(ghosts.contains("\"mode\": " + 040751) && ghosts.contains("\"mode\": " + 040705), ghosts);
            try (Workload r = Checkpoints.restore(img, w.dir(), w.lineCount())) {
                List<String> after = obs(r, 2);
                assertEquals(withoutIno(before.get(0)), withoutIno(after.get(0)), "the deleted cwd");
                assertEquals(before.get(1), after.get(1), "the fds on the deleted directory");
                assertEquals(names, GhostFilesTest.names(w.dir()), "nothing left at the old paths or beside them");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    /**
     * The fds' directory's parent was removed too: both are made again (the parent first, with
     * its own mode and times) and removed again (the child first).
     */
    @Test
    void aDeletedDirectoryWhoseParentWasRemovedTooComesBackSo() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("ghostdirs"), "nested")) {
            w.awaitOutput("^ready ");
            List<String> names = GhostFilesTest.names(w.dir());
            String before = obs(w, 2).get(1);
            String dir = w.dir().toRealPath().toString();
            assertEquals("obs dirs dnlink=0 dmode=40705 dmtime=1200000000 dlink=" + dir + "/outer/inner (deleted) plink="
                    + dir + "/outer/inner (deleted) same=1 dflags=300000 pflags=10200000 dcreat=ENOENT dmkdir=ENOENT"
                    + " pcreat=ENOENT dents=-1 up=0/40750/1300000000", before);
            Path img = Checkpoints.imageDir(w);
            Checkpoints.dump(w, img, false);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(img, w.dir(), w.lineCount())) {
                assertEquals(before, obs(r, 2).get(1), "the fds on the deleted directory and its deleted parent");
                assertEquals(names, GhostFilesTest.names(w.dir()), "nothing left at the old paths");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    /**
     * A tree: the root, a forked child and a child cloned with CLONE_FS share the deleted cwd;
     * the restore makes the directory once and each process is in that one directory again.
     */
    @Test
    void processesSharingADeletedCwdShareOneDirectoryAgain() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("ghostdirs"), "tree")) {
            w.awaitOutput("^ready ");
            List<String> before = obs(w, 4);
            assertOneCwd(w, before);
            Path img = Checkpoints.imageDir(w);
            Checkpoints.dump(w, img, false);
            w.awaitGone(Duration.ofSeconds(30));
            assertTrue(Files.exists(img.resolve("ghost-file-2.img")) && !Files.exists(img.resolve("ghost-file-3.img")),
                    "one ghost for the cwd the three share, one for the fds' directory");
            try (Workload r = Checkpoints.restore(img, w.dir(), w.lineCount())) {
                List<String> after = obs(r, 4);
                assertOneCwd(w, after);
                assertEquals(withoutIno(before.get(0)), withoutIno(after.get(0)));
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
                assertEquals(List.of(), GhostFilesTest.names(w.dir()).stream().filter(n -> n.contains("gone")).toList());
            }
        }
    }

    /**
     * Something else at the old path at restore (a directory with a file in it): it is left as
     * it is, the deleted directory is made beside it and removed again.
     */
    @Test
    void aPathTakenMeanwhileIsLeftAlone() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("ghostdirs"))) {
            w.awaitOutput("^ready ");
            List<String> before = obs(w, 2);
            Path img = Checkpoints.imageDir(w);
            Checkpoints.dump(w, img, false);
            w.awaitGone(Duration.ofSeconds(30));
            Path taken = Files.createDirectory(w.dir().resolve("cwdgone"));
            Files.writeString(taken.resolve("keep"), "mine");
            List<String> names = GhostFilesTest.names(w.dir());
            try (Workload r = Checkpoints.restore(img, w.dir(), w.lineCount())) {
                List<String> after = obs(r, 2);
                String link = Workload.word(after.get(0), "link");
                assertTrue(link.startsWith(w.dir().toRealPath() + "/cwdgone.jcriu-ghost."), after.get(0));
                assertEquals(before.get(0).replaceAll(" link=\\S+", "").replaceAll(" ino=\\d+", ""),
                        after.get(0).replaceAll(" link=\\S+", "").replaceAll(" ino=\\d+", ""));
                assertEquals("mine", Files.readString(taken.resolve("keep")));
                assertEquals(names, GhostFilesTest.names(w.dir()), "the other directory stays, nothing is added");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    /** Each process of the tree sees the deleted cwd, one inode for all three. */
    private static void assertOneCwd(Workload w, List<String> obs) throws IOException {
        String link = w.dir().toRealPath() + "/cwdgone (deleted)";
        long ino = Workload.number(obs.get(0), "ino");
        for (String child : obs.subList(2, 4)) {
            assertTrue(child.contains(" link=" + link + " ino=" + ino + " nlink=0"), child + " vs " + obs.get(0));
        }
    }

    /** The obs lines: the root's two, then the children's (with {@code n} 4), in order of their names. */
    private static List<String> obs(Workload w, int n) {
        w.skipToEnd();
        long kidsBefore = childLines(w).size();
        w.signal(Sig.SIGUSR1);
        List<String> out = new ArrayList<>();
        out.add(w.awaitOutput("^obs cwd "));
        out.add(w.awaitOutput("^obs dirs "));
        if (n > 2) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (childLines(w).size() < kidsBefore + 2 && System.nanoTime() < deadline) sleep();
            List<String> kids = childLines(w);
            assertEquals(kidsBefore + 2, kids.size(), w.text());
            out.addAll(kids.subList(kids.size() - 2, kids.size()).stream().sorted().toList());
        }
        return out;
    }

    private static List<String> childLines(Workload w) {
        return w.lines().stream().filter(l -> l.startsWith("obs child ")).toList();
    }

    private static void sleep() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static String withoutIno(String line) {
        return line.replaceAll(" ino=\\d+", "");
    }

    private static String crit(Path image) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("crit", "decode", "-i", image.toString(), "--pretty").redirectErrorStream(true)
                .start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "crit timed out");
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * ghosts.c holds files that have no name any more: a FIFO with unread bytes, an O_PATH fd on
 * a symlink that was unlinked (and one on a dangling symlink that was not), a file made with
 * O_TMPFILE. After a dump, kill and restore the process must see each as before (same
 * content, modes, link targets, still unlinked) and no name may be left behind in its
 * directory.
 */
class GhostFilesTest {

    @Test
    void unlinkedFifosSymlinksAndTmpfilesComeBackUnlinked() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("ghosts"))) {
            w.awaitOutput("^ready ");
            List<String> names = names(w.dir());
            List<String> before = obs(w);
            assertTrue(before.get(0).contains("nlink=0 mode=10640 unread=16"), before.toString());
            assertTrue(before.get(1).contains("to=nowhere dislnk=1 dnlink=0 dto=gone-target"), before.toString());
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals(before.subList(0, 3), obs(r).subList(0, 3), "what the process sees of its unlinked files");
                assertEquals(names, names(w.dir()), "names in the process's directory (nothing left behind)");
                r.signal(Sig.SIGTERM);
                assertEquals("fifo read=ghost-fifo-bytes", r.awaitOutput("^fifo read="));
                r.awaitOutput("exit code=0");
            }
        }
    }

    /**
     * An unlinked file of 8 MiB with three pages of data: only the data counts against the
     * ghost limit (1 MiB here), and it comes back with the same holes, size, mode and times.
     */
    @Test
    void aDeletedFileKeepsItsHolesModeAndTimes() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("ghosts"), "holes")) {
            w.awaitOutput("^ready ");
            String before = obs(w).get(3);
            assertTrue(before.contains("nlink=0 mode=100640 size=8388612 data=0-4096,1048576-1052672,8388608-8388612"
                    + " blocks_le_64k=1") && before.contains("atime=1000000000 mtime=1100000000"), before);
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                // atime: set back at restore, but any read (relatime) may move it on
                assertEquals(before.replaceAll(" atime=\\d+", ""), obs(r).get(3).replaceAll(" atime=\\d+", ""),
                        "the deleted file's holes, data, mode and mtime");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    /**
     * A deleted file and a memfd, each mapped private with a page copied on write: the pages
     * the process did not write come from the file made again, the written ones from the
     * images, and the file under them keeps its own bytes.
     */
    @Test
    void deletedFilesMappedPrivateComeBack() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("ghosts"), "map")) {
            w.awaitOutput("^ready ");
            String before = mapObs(w);
            assertEquals("obs map b0=a b4096=X file4096=b deleted=1 m0=Y m1=m memfd=1", before);
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals(before, mapObs(r), "the private mappings of a deleted file and of a memfd");
                assertTrue(names(w.dir()).stream().noneMatch(n -> n.startsWith("mapped.dat")), names(w.dir()).toString());
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    private static String mapObs(Workload w) {
        w.skipToEnd();
        w.signal(Sig.SIGUSR1);
        return w.awaitOutput("^obs map ");
    }

    static List<String> obs(Workload w) {
        w.skipToEnd();
        w.signal(Sig.SIGUSR1);
        List<String> out = new ArrayList<>();
        for (String k : List.of("fifo", "link", "tmp", "holes")) out.add(w.awaitOutput("^obs " + k + " "));
        return out;
    }

    /** The names in {@code dir}, sorted, image directories left out. */
    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("img-")).sorted().toList();
        }
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import jcriu.image.ImageDir;
import jcriu.image.ImageFile;
import jcriu.image.ImageInput;
import jcriu.image.ImageOutput;
import jcriu.image.Manifest;
import jcriu.image.Pagemap;
import jcriu.image.pb.FdinfoEntry;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.InventoryEntry;
import jcriu.image.pb.PagemapEntry;
import jcriu.image.pb.PstreeEntry;
import jcriu.image.pb.TaskKobjIdsEntry;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Images;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Damaged and impossible images: the restore refuses before it creates anything, naming the
 * file and what is wrong. One dump (a counter with a pipe, so that every kind of file jcriu
 * writes is there) is copied and altered for each case.
 */
class DamagedImagesTest {
    private static Workload w;
    private static Path pristine;
    private static int pid;

    @BeforeAll
    static void dumpOnce() throws Exception {
        w = Workload.start(Gcc.compile("counter"), "pipe");
        w.awaitOutput("count=2");
        pid = w.pid();
        pristine = Checkpoints.imageDir(w);
        Checkpoints.dump(w, pristine, false);
        w.awaitGone(Duration.ofSeconds(30));
    }

    @AfterAll
    static void close() {
        if (w != null) w.close();
    }

    private static int n;

    private static Path copy() throws IOException {
        return Images.copy(pristine, pristine.resolveSibling("case-" + (n++)));
    }

    /** The restore's refusal; asserts that nothing was created with the image's PID. */
    private static String refused(Path dir) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Restorer.RestoreException e;
        long began = uptimeTicks();
        try {
            Restorer.restore(new RestoreOptions(dir, true, false, false), Checkpoints.log(log));
            Sig.kill(pid, Sig.SIGKILL); // not to leave it to the next case
            throw new AssertionError("restore of " + dir + " succeeded\n" + log);
        } catch (Restorer.RestoreException x) {
            e = x;
        }
        assertFalse(Workload.stat(pid).map(s -> s.startTime() >= began).orElse(false),
                "a process with PID " + pid + " was left: " + e.getMessage());
        return e.getMessage();
    }

    /**
     * Now in clock ticks since boot, as /proc/PID/stat's start time: a process with the image's
     * PID that started since was made by the restore (the PID, free since the dump, may also be
     * reused by anyone's thread on a busy machine, which is not the restore's doing).
     */
    private static long uptimeTicks() {
        try {
            double s = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            return (long) (s * 100) - 1; // USER_HZ is 100 on Linux
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void assertNames(String msg, String... parts) {
        for (String p : parts) assertTrue(msg.contains(p), "<" + p + "> missing from: " + msg);
    }

    /** Every file of the set, one flipped bit each: refused, the file named. Then the set itself restores. */
    @Test
    void aFlippedByteInAnyImageFileIsRefusedNamingTheFile() throws Exception {
        // the set: what its manifest lists, and the manifest (not the statistics written beside it)
        List<String> names = new ArrayList<>(Manifest.read(pristine).files().keySet());
        names.add(Manifest.NAME);
        java.util.Collections.sort(names);
        assertTrue(names.contains(Manifest.NAME) && names.contains("pipes-data.img") && names.contains("pages-2.img")
                && names.size() >= 12, names.toString());
        Random rnd = new Random(10);
        for (String name : names) {
            Path dir = copy();
            Path f = dir.resolve(name);
            long size = Files.size(f);
            long at = (long) (rnd.nextDouble() * size);
            try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
                r.seek(at);
                int b = r.read();
                r.seek(at);
                r.write(b ^ (1 << rnd.nextInt(8)));
            }
            String msg = refused(dir);
            assertNames(msg, f.toString());
            if (!name.equals(Manifest.NAME)) assertNames(msg, "content damaged");
        }
        int seen = w.lineCount();
        try (Workload r = Checkpoints.restore(copy(), w.dir(), seen)) {
            r.awaitOutput("count=");
            r.signal(Sig.SIGKILL);
            r.awaitGone(Duration.ofSeconds(30));
        }
    }

    @Test
    void aShortPagesFileIsReportedAsTruncatedNotAsAnotherKernel() throws Exception {
        Path dir = copy();
        Path pages = dir.resolve("pages-2.img");
        try (RandomAccessFile r = new RandomAccessFile(pages.toFile(), "rw")) {
            r.setLength(r.length() / 2);
        }
        Images.reseal(dir);
        String msg = refused(dir);
        assertNames(msg, pages.toString(), "truncated", "pagemap-" + pid + ".img lists");
        assertFalse(msg.contains("vDSO"), msg);
    }

    @Test
    void aPagesFileLongerThanItsPagemapIsRefused() throws Exception {
        Path dir = copy();
        Path pages = dir.resolve("pages-2.img");
        Files.write(pages, new byte[4096], java.nio.file.StandardOpenOption.APPEND);
        Images.reseal(dir);
        assertNames(refused(dir), pages.toString(), "longer than pagemap-" + pid + ".img says");
    }

    @Test
    void aMissingFileIsNamedAsMissing() throws Exception {
        Path dir = copy();
        Files.delete(dir.resolve("core-" + pid + ".img"));
        assertNames(refused(dir), dir.resolve("core-" + pid + ".img") + " is missing");
        Images.reseal(dir); // a manifest that agrees: the reader itself must say it
        assertNames(refused(dir), dir.resolve("core-" + pid + ".img") + ": image file missing from the set");
    }

    @Test
    void swappedOrHugePagemapEntriesAreRefused() throws Exception {
        Path dir = copy();
        ImageFile pmf = ImageFile.pagemap(pid);
        Pagemap pm;
        try (ImageInput in = ImageDir.open(dir).open(pmf)) {
            pm = Pagemap.read(in);
        }
        List<PagemapEntry> swapped = new ArrayList<>(pm.entries());
        swapped.set(0, pm.entries().get(1));
        swapped.set(1, pm.entries().get(0));
        writePagemap(dir, new Pagemap(pm.pagesId(), swapped));
        assertNames(refused(dir), dir.resolve(pmf.name()).toString(), "address order");

        List<PagemapEntry> huge = new ArrayList<>(pm.entries());
        huge.set(0, huge.get(0).toBuilder().setNrPages(1L << 40).build());
        writePagemap(dir, new Pagemap(pm.pagesId(), huge));
        assertNames(refused(dir), dir.resolve(pmf.name()).toString(), "beyond the user address space");
    }

    private static void writePagemap(Path dir, Pagemap pm) throws IOException {
        try (ImageOutput out = ImageDir.create(dir).create(ImageFile.pagemap(pid))) {
            pm.write(out);
        }
        Images.reseal(dir);
    }

    @Test
    void aPgidAbovePidMaxIsRefused() throws Exception {
        Path dir = copy();
        long max;
        try (var in = Files.newInputStream(Path.of("/proc/sys/kernel/pid_max"))) { // one read: see ImageSanity
            max = Long.parseLong(new String(in.readNBytes(64)).strip());
        }
        Images.edit(dir, ImageFile.pstree(), PstreeEntry.parser(),
                l -> List.of(l.getFirst().toBuilder().setPgid((int) max + 1).build()));
        assertNames(refused(dir), dir.resolve("pstree.img").toString(), "pgid " + (max + 1), "pid_max");
    }

    @Test
    void anFdMovedOntoAnotherOrOfAnotherKindIsRefused() throws Exception {
        Path dir = copy();
        Images.edit(dir, ImageFile.fdinfo(2), FdinfoEntry.parser(),
                l -> l.stream().map(e -> e.getFd() == 2 ? e.toBuilder().setFd(1).build() : e).toList());
        assertNames(refused(dir), dir.resolve("fdinfo-2.img").toString(), "fd 1 of process " + pid + " appears twice");

        Path kind = copy(); // fd 0 is /dev/null: call it a regular file
        Images.edit(kind, ImageFile.files(), FileEntry.parser(), l -> l.stream().map(f -> f.hasReg()
                && f.getReg().getName().equals("/dev/null")
                ? f.toBuilder().setReg(f.getReg().toBuilder().setMode(0100644)).build() : f).toList());
        assertNames(refused(kind), kind.resolve("files.img").toString(),
                "(/dev/null) was a regular file, which is a character device now");
    }

    @Test
    void inventoryAndIdsAreRead() throws Exception {
        Path dir = copy();
        Images.edit(dir, ImageFile.inventory(), InventoryEntry.parser(),
                l -> List.of(l.getFirst().toBuilder().setImgVersion(3).build()));
        assertNames(refused(dir), dir.resolve("inventory.img").toString(), "image version 3");

        Path ids = copy();
        Images.edit(ids, ImageFile.ids(pid), TaskKobjIdsEntry.parser(),
                l -> List.of(l.getFirst().toBuilder().setFilesId(7).build()));
        assertNames(refused(ids), ids.resolve("fdinfo-7.img") + ": image file missing from the set");
    }
}

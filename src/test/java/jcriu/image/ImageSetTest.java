package jcriu.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jcriu.api.Log;
import jcriu.image.pb.InventoryEntry;

/** Image sets: whole or refused, never mixed, and damage found with its place. */
class ImageSetTest {
    @TempDir
    Path tmp;

    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final Log log = new Log(4, new PrintStream(logged, true));

    private static byte[] bytes(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /** A set of raw files, left unpublished. */
    private ImageSet stage(Path dir, Map<String, byte[]> files) throws IOException {
        ImageSet set = ImageSet.begin(dir, log);
        for (var e : files.entrySet()) {
            try (FileChannel ch = set.dir().createRaw(e.getKey())) {
                ByteBuffer b = ByteBuffer.wrap(e.getValue());
                while (b.hasRemaining()) ch.write(b);
            }
        }
        return set;
    }

    private Manifest write(Path dir, Map<String, byte[]> files) throws IOException {
        try (ImageSet set = stage(dir, files)) {
            return set.publish(Manifest.Kind.DUMP, log);
        }
    }

    private static Map<String, byte[]> files(String... nameContent) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameContent.length; i += 2) m.put(nameContent[i], bytes(nameContent[i + 1]));
        return m;
    }

    private static TreeSet<String> names(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return new TreeSet<>(s.map(p -> p.getFileName().toString()).toList());
        }
    }

    private Manifest check(Path dir) throws IOException {
        try (ImageSetCheck.Opened o = ImageSetCheck.open(dir, log)) {
            return o.manifest();
        }
    }

    @Test
    void aNewSetReplacesTheOldOneWhollyAndLeavesOtherFilesAlone() throws Exception {
        Path dir = tmp.resolve("img");
        write(dir, files("core-1.img", "old core", "pipes-data.img", "old pipe", "pages-1.img", "old pages"));
        Files.writeString(dir.resolve("dump.log"), "a log of the user's");
        Manifest m = write(dir, files("core-1.img", "new core", "pages-1.img", "new pages"));
        assertEquals(new TreeSet<>(List.of("core-1.img", "pages-1.img", "dump.log", Manifest.NAME)), names(dir));
        assertEquals("new core", Files.readString(dir.resolve("core-1.img")));
        assertEquals("a log of the user's", Files.readString(dir.resolve("dump.log")));
        assertEquals(m.id(), check(dir).id());
    }

    /** A post-dump script's veto takes the published set out: no manifest, none of its files; a log stays. */
    @Test
    void aWithdrawnSetLeavesNothingThatCouldPassForACheckpoint() throws Exception {
        Path dir = tmp.resolve("img");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("dump.log"), "a log of the user's");
        try (ImageSet set = stage(dir, files("core-1.img", "new core", "pages-1.img", "new pages"))) {
            set.publish(Manifest.Kind.DUMP, log);
            set.withdraw(log);
        }
        assertEquals(new TreeSet<>(List.of("dump.log")), names(dir));
        assertThrows(IOException.class, () -> check(dir));
    }

    @Test
    void aDumpThatFailsLeavesTheOldSetAsItWas() throws Exception {
        Path dir = tmp.resolve("img");
        Manifest old = write(dir, files("core-1.img", "old core", "pages-1.img", "old pages"));
        TreeSet<String> before = names(dir);
        try (ImageSet set = stage(dir, files("core-1.img", "new core", "pages-1.img", "new"))) {
            assertTrue(Files.isDirectory(set.dir().path()));
            // closed without publishing: the dump failed
        }
        assertEquals(before, names(dir));
        assertEquals("old core", Files.readString(dir.resolve("core-1.img")));
        assertEquals(old.id(), check(dir).id());
    }

    @Test
    void aDumpKilledBeforeItsCommitLeavesTheOldSetAndItsLeftoverIsIgnoredThenRemoved() throws Exception {
        Path dir = tmp.resolve("img");
        Manifest old = write(dir, files("core-1.img", "old core", "pages-1.img", "old pages"));
        ImageSet killed = stage(dir, files("core-1.img", "half", "pages-1.img", "half written"));
        killed.seal(Manifest.Kind.DUMP); // even complete: DIR's manifest was not yet removed
        killed.crash();
        assertEquals(old.id(), check(dir).id());
        assertTrue(logged.toString().contains("did not complete"), logged.toString());
        assertEquals(1, ImageSet.stagingDirs(dir).size());
        Manifest next = write(dir, files("core-1.img", "next"));
        assertEquals(List.of(), ImageSet.stagingDirs(dir), "the next dump removes the leftover");
        assertEquals(next.id(), check(dir).id());
    }

    @Test
    void aPublicationCutShortIsCompletedByTheNextRestore() throws Exception {
        Path dir = tmp.resolve("img");
        write(dir, files("core-1.img", "old core", "pipes-data.img", "old pipe", "pages-1.img", "old pages"));
        ImageSet killed = stage(dir, files("core-1.img", "new core", "pages-1.img", "new pages"));
        Manifest m = killed.seal(Manifest.Kind.DUMP);
        // publication begun: old manifest gone, one new file moved, then jcriu was killed
        Files.delete(dir.resolve(Manifest.NAME));
        Files.move(killed.dir().path().resolve("core-1.img"), dir.resolve("core-1.img"),
                StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        killed.crash();
        assertEquals(m.id(), check(dir).id());
        assertEquals(new TreeSet<>(List.of("core-1.img", "pages-1.img", Manifest.NAME)), names(dir));
        assertEquals("new pages", Files.readString(dir.resolve("pages-1.img")));
        assertTrue(logged.toString().contains("completing the publication"), logged.toString());
    }

    @Test
    void oneDirectoryOneWriter() throws Exception {
        Path dir = tmp.resolve("img");
        try (ImageSet first = stage(dir, files("core-1.img", "x"))) {
            IOException e = assertThrows(IOException.class, () -> ImageSet.begin(dir, log));
            assertTrue(e.getMessage().contains("busy"), e.getMessage());
            IOException r = assertThrows(IOException.class, () -> check(dir));
            assertTrue(r.getMessage().contains("a dump is writing into it"), r.getMessage());
        }
    }

    @Test
    void missingGrownAndUnlistedFilesAreNamed() throws Exception {
        Path dir = tmp.resolve("img");
        write(dir, files("core-1.img", "core", "pages-1.img", "pages", "mm-1.img", "mm"));
        Files.delete(dir.resolve("core-1.img"));
        Files.writeString(dir.resolve("pages-1.img"), "pages and more");
        Files.writeString(dir.resolve("pipes-data.img"), "stale");
        Files.createSymbolicLink(dir.resolve("parent"), Path.of("elsewhere"));
        String msg = assertThrows(IOException.class, () -> check(dir)).getMessage();
        for (String want : List.of(dir.resolve("core-1.img") + " is missing",
                dir.resolve("pages-1.img") + " has 14 bytes where the manifest lists 5 (it grew)",
                dir.resolve("pipes-data.img") + " is not part of this image set",
                dir.resolve("parent") + " is not part of this image set")) {
            assertTrue(msg.contains(want), "lacks <" + want + "> in: " + msg);
        }
        assertFalse(msg.contains("mm-1.img"), msg);
    }

    @Test
    void aFlippedByteIsFoundWithItsFileAndChunk() throws Exception {
        Path dir = tmp.resolve("img");
        byte[] big = new byte[3 * ChunkedCrc.CHUNK + 100];
        new java.util.Random(1).nextBytes(big);
        Map<String, byte[]> f = files("core-1.img", "core");
        f.put("pages-1.img", big);
        write(dir, f);
        long at = 2L * ChunkedCrc.CHUNK + 12345;
        try (RandomAccessFile r = new RandomAccessFile(dir.resolve("pages-1.img").toFile(), "rw")) {
            r.seek(at);
            int b = r.read();
            r.seek(at);
            r.write(b ^ 0x10);
        }
        ImageException e = assertThrows(ImageException.class, () -> check(dir));
        assertEquals(dir.resolve("pages-1.img"), e.file());
        assertEquals(2L * ChunkedCrc.CHUNK, e.offset());
        assertTrue(e.getMessage().contains("content damaged"), e.getMessage());
    }

    @Test
    void aDamagedOrTornManifestIsRefused() throws Exception {
        Path dir = tmp.resolve("img");
        write(dir, files("core-1.img", "core"));
        Path mf = dir.resolve(Manifest.NAME);
        byte[] good = Files.readAllBytes(mf);
        byte[] bad = good.clone();
        bad[20] ^= 1;
        Files.write(mf, bad);
        ImageException e = assertThrows(ImageException.class, () -> check(dir));
        assertEquals(mf, e.file());
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
        Files.write(mf, java.util.Arrays.copyOf(good, good.length - 12));
        e = assertThrows(ImageException.class, () -> check(dir));
        assertTrue(e.getMessage().contains("incomplete"), e.getMessage());
    }

    private static void inventory(Path dir, boolean jcriu) throws IOException {
        InventoryEntry.Builder b = InventoryEntry.newBuilder().setImgVersion(2);
        if (jcriu) b.setJcriuManifest(Manifest.NAME);
        try (ImageOutput o = ImageDir.create(dir).create(ImageFile.inventory())) {
            o.write(b.build());
        }
    }

    @Test
    void aSetWithoutManifestIsCriusUnlessItsInventorySaysJcriu() throws Exception {
        Path criu = tmp.resolve("criu");
        inventory(criu, false);
        assertNull(check(criu));
        assertTrue(logged.toString().contains("taken as an image set written by CRIU"), logged.toString());

        Path lost = tmp.resolve("lost");
        inventory(lost, true);
        IOException e = assertThrows(IOException.class, () -> check(lost));
        assertTrue(e.getMessage().contains("written by jcriu but its " + Manifest.NAME + " is missing"), e.getMessage());

        Path empty = Files.createDirectory(tmp.resolve("empty"));
        e = assertThrows(IOException.class, () -> check(empty));
        assertTrue(e.getMessage().contains("holds no image set"), e.getMessage());
    }

    @Test
    void aParentReplacedByAnotherDumpIsRefused() throws Exception {
        Path pre = tmp.resolve("pre");
        Manifest first;
        try (ImageSet s = stage(pre, files("pages-1.img", "pre pages"))) {
            first = s.publish(Manifest.Kind.PRE_DUMP, log);
        }
        Path dir = tmp.resolve("img");
        Manifest child;
        try (ImageSet s = stage(dir, files("pages-1.img", "pages"))) {
            s.linkParent(Path.of("../pre"), pre);
            child = s.publish(Manifest.Kind.DUMP, log);
        }
        assertEquals(first.id(), child.parent().id());
        assertEquals("../pre", Files.readSymbolicLink(dir.resolve("parent")).toString());
        assertEquals(child.id(), check(dir).id());
        try (ImageSet s = stage(pre, files("pages-1.img", "another pre-dump"))) {
            s.publish(Manifest.Kind.PRE_DUMP, log);
        }
        IOException e = assertThrows(IOException.class, () -> check(dir));
        assertTrue(e.getMessage().contains("replaced by a later dump"), e.getMessage());
    }

    @Test
    void checksumsCoverEveryWrite() throws Exception {
        ChunkedCrc c = new ChunkedCrc(8);
        c.update(bytes("0123456789"), 0, 10);
        c.update(ByteBuffer.wrap(bytes("abcdefgh")));
        java.util.zip.CRC32C whole = new java.util.zip.CRC32C();
        whole.update(bytes("01234567"));
        assertEquals(18, c.size());
        assertEquals(3, c.values().length);
        assertEquals((int) whole.getValue(), c.values()[0]);
        Manifest.Entry e = Manifest.Entry.of("x.img", c);
        Manifest m = new Manifest("id", Manifest.Kind.DUMP, null, Map.of("x.img", e));
        Manifest back = Manifest.parse(tmp.resolve("m"), m.encode());
        assertArrayEquals(c.values(), back.files().get("x.img").crcs());
    }
}

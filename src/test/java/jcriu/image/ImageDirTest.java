package jcriu.image;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import jcriu.image.pb.FsEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDirTest {
    @TempDir
    Path tmp;

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    private static final FsEntry FS = FsEntry.newBuilder().setCwdId(1).setRootId(2).build();

    @Test
    void createsMissingDirectoryWith0700() throws IOException {
        Path d = tmp.resolve("a/b/dump");
        ImageDir dir = ImageDir.create(d);
        assertEquals(d, dir.path());
        assertTrue(Files.isDirectory(d));
        assertEquals("rwx------", mode(d));
    }

    @Test
    void tightensExistingDirectory() throws IOException {
        Path d = Files.createDirectory(tmp.resolve("dump"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
        ImageDir.create(d);
        assertEquals("rwx------", mode(d));
    }

    @Test
    void refusesNonDirectory() throws IOException {
        Path f = Files.writeString(tmp.resolve("plain"), "x");
        NotDirectoryException e = assertThrows(NotDirectoryException.class, () -> ImageDir.create(f));
        assertTrue(e.getMessage().contains("plain") && e.getMessage().contains("not a directory"), e.getMessage());
        assertThrows(NotDirectoryException.class, () -> ImageDir.open(f));
    }

    @Test
    void openRequiresExistingDirectory() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ImageDir.open(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void imageAndRawFilesAre0600() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("dump"));
        try (ImageOutput out = dir.create(ImageFile.fs(1))) {
            out.write(FS);
        }
        try (FileChannel ch = dir.createRaw("pages-1.img")) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[4096]));
        }
        assertEquals("rw-------", mode(dir.path().resolve("fs-1.img")));
        assertEquals("rw-------", mode(dir.path().resolve("pages-1.img")));
        assertTrue(dir.exists(ImageFile.fs(1)));
        assertTrue(dir.exists(ImageFile.pages(1)));
        assertFalse(dir.exists(ImageFile.fs(2)));
        dir.syncDir();
    }

    @Test
    void recreatingReplacesFileAndMode() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("dump"));
        Path old = Files.writeString(dir.path().resolve("fs-1.img"), "stale content, much longer than the new image");
        Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rw-r--r--"));
        try (ImageOutput out = dir.create(ImageFile.fs(1))) {
            out.write(FS);
        }
        assertEquals("rw-------", mode(old));
        try (ImageInput in = dir.open(ImageFile.fs(1))) {
            assertEquals(FS, in.single(FsEntry.parser()));
        }
    }

    @Test
    void doesNotWriteThroughSymlink() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("dump"));
        Path victim = Files.writeString(tmp.resolve("victim"), "keep me");
        Files.createSymbolicLink(dir.path().resolve("fs-1.img"), victim);
        Files.createSymbolicLink(dir.path().resolve("pages-1.img"), victim);
        try (ImageOutput out = dir.create(ImageFile.fs(1))) {
            out.write(FS);
        }
        dir.createRaw("pages-1.img").close();
        assertEquals("keep me", Files.readString(victim));
        assertFalse(Files.isSymbolicLink(dir.path().resolve("fs-1.img")));
        assertFalse(Files.isSymbolicLink(dir.path().resolve("pages-1.img")));
    }

    @Test
    void writeAfterCloseIsAnError() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("dump"));
        ImageOutput out = dir.create(ImageFile.fs(1));
        out.close();
        out.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> out.write(FS));
    }
}

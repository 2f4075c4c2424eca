package jcriu.image;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageSyncTest {
    @TempDir
    Path tmp;

    @Test
    void syncfsOnlyWhileOthersHaveLittleDirtyData() {
        long limit = ImageSync.FOREIGN_DIRTY_LIMIT;
        assertEquals(ImageSync.Way.SYNCFS, ImageSync.choose(limit, 0));
        assertEquals(ImageSync.Way.PARALLEL_FSYNC, ImageSync.choose(limit + 1, 0));
        // what jcriu itself wrote through the page cache is not someone else's
        assertEquals(ImageSync.Way.SYNCFS, ImageSync.choose(limit + (100L << 20), 100L << 20));
        assertEquals(ImageSync.Way.PARALLEL_FSYNC, ImageSync.choose(Long.MAX_VALUE, 1L << 30));
    }

    @Test
    void readsDirtyAndWritebackFromMeminfo() throws IOException {
        Path m = Files.writeString(tmp.resolve("meminfo"), "MemTotal:       24684000 kB\nDirty:              9404 kB\n"
                + "Writeback:            12 kB\nAnonPages:       1000 kB\n");
        assertEquals((9404L + 12) << 10, ImageSync.systemDirty(m));
        Path partial = Files.writeString(tmp.resolve("partial"), "Dirty:              9404 kB\n");
        assertEquals(Long.MAX_VALUE, ImageSync.systemDirty(partial), "an unknown amount never allows syncfs");
        assertEquals(Long.MAX_VALUE, ImageSync.systemDirty(tmp.resolve("absent")));
        assertTrue(ImageSync.systemDirty(Path.of("/proc/meminfo")) < Long.MAX_VALUE);
    }

    @Test
    void bothWaysSyncEveryFileAndNameAMissingOne() throws IOException {
        for (ImageSync.Way way : ImageSync.Way.values()) {
            Path d = Files.createDirectory(tmp.resolve(way.name()));
            List<String> names = new java.util.ArrayList<>();
            for (int i = 0; i < 9; i++) names.add(Files.writeString(d.resolve("f" + i), "x".repeat(i * 100)).getFileName().toString());
            ImageSync.sync(d, names, way);
            names.add("gone.img");
            IOException e = assertThrows(IOException.class, () -> ImageSync.sync(d, names, way));
            assertTrue(e.getMessage().contains(d.toString()) && e.getMessage().contains("durable"), e.getMessage());
        }
    }

    @Test
    void pagesWrittenWithODirectAreNotCountedAsBuffered() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("set"));
        try (FileChannel ch = dir.createRaw("pages-1.img")) {
            ch.write(ByteBuffer.allocate(5000));
        }
        Path direct = dir.createRawFile("pages-2.img");
        dir.checksumOf(direct).update(ByteBuffer.allocate(8192)); // as PageWriter does, beside its O_DIRECT writes
        try (FileChannel ch = FileChannel.open(direct, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8192));
        }
        assertEquals(5000, dir.bufferedBytes());
        assertNotNull(dir.syncDir());
    }
}

package jcriu.dump;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import jcriu.ptrace.TaskMemory;
import jcriu.state.PageRun;
import jcriu.sys.Sys;

/**
 * The pages writer on this JVM's own memory: every byte lands at its place in the file,
 * with runs cut across batches and buffers reused, with O_DIRECT on a disk file system.
 */
class PageWriterTest {
    private static final int PAGE = 4096;

    /** 70 MiB in runs of odd sizes (so batches end inside runs), more than the writer's buffers hold at once. */
    private static void roundTrip(Path dir, Boolean expectDirect) throws Exception {
        roundTrip(dir, expectDirect, 70L << 20, 2);
    }

    /** {@code size} bytes in runs of odd sizes; {@code writers}: the writer threads the writer is expected to start. */
    private static void roundTrip(Path dir, Boolean expectDirect, long size, int writers) throws Exception {
        try (Arena arena = Arena.ofConfined(); TaskMemory mem = TaskMemory.open(Sys.getpid(), false)) {
            MemorySegment m = arena.allocate(size, PAGE);
            for (long i = 0; i < size; i += 8) m.set(ValueLayout.JAVA_LONG, i, i * 0x9E3779B97F4A7C15L + 1);
            List<PageRun> runs = new ArrayList<>();
            long at = m.address();
            int[] pages = {1, 3, 700, 2049, 5, 4096, 1023};
            for (int k = 0; at < m.address() + size; k++) {
                int p = (int) Math.min(pages[k % pages.length], (m.address() + size - at) / PAGE);
                runs.add(new PageRun(at, p));
                at += (long) p * PAGE;
            }
            Path file = dir.resolve("pages-1.img");
            Files.deleteIfExists(file);
            Files.createFile(file);
            AtomicLong heard = new AtomicLong(); // progress is reported every 256 MiB: not here
            jcriu.image.ChunkedCrc crc = new jcriu.image.ChunkedCrc();
            try (PageWriter w = new PageWriter(Sys.getpid(), mem, file, null, heard::set, crc, jcriu.api.Control.none())) {
                if (expectDirect != null) assertEquals(expectDirect, w.direct(), "O_DIRECT where " + dir + " allows it");
                for (PageRun r : runs) w.add(r, true, true);
                w.flush();
                assertEquals(size, w.written());
                assertEquals(size >> 20, w.stats().bytesWritten() >> 20);
                assertEquals(size / PAGE, w.stats().pagesScanned());
                // adjacent runs of one mapping merge only where the caller's runs allow: each run is its own
                assertEquals(runs, w.present());
                assertTrue(w.inParent().isEmpty());
                assertEquals(writers, w.stats().writers(), "writer threads started");
            }
            byte[] got = Files.readAllBytes(file);
            assertEquals(size, got.length);
            assertArrayEquals(m.toArray(ValueLayout.JAVA_BYTE), got);
            // the checksum the manifest lists is that of the file as written, chunk by chunk
            jcriu.image.ChunkedCrc reread = new jcriu.image.ChunkedCrc();
            reread.update(got, 0, got.length);
            assertEquals(size, crc.size());
            assertArrayEquals(reread.values(), crc.values());
            Files.delete(file);
        }
    }

    @Test
    void diskFileSystemGetsEveryPageInPlaceWithODirect() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "jcriu-pagewriter");
        try {
            roundTrip(dir, true);
        } finally {
            Files.deleteIfExists(dir.resolve("pages-1.img"));
            Files.delete(dir);
        }
    }

    /** Pages that fit in one batch (a small process of a tree) are written without writer threads. */
    @Test
    void oneBatchIsWrittenByTheReadingThread() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "jcriu-pagewriter");
        try {
            roundTrip(dir, true, 300L * PAGE, 0);
        } finally {
            Files.deleteIfExists(dir.resolve("pages-1.img"));
            Files.delete(dir);
        }
    }

    /** tmpfs has O_DIRECT only since Linux 6.6; the writer takes whichever it gets. */
    @Test
    void tmpfsWorksWithOrWithoutODirect() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "jcriu-pagewriter");
        try {
            roundTrip(dir, null);
        } finally {
            Files.deleteIfExists(dir.resolve("pages-1.img"));
            Files.delete(dir);
        }
    }

    @Test
    void unwritableFileFailsNamingIt() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "jcriu-pagewriter");
        try (TaskMemory mem = TaskMemory.open(Sys.getpid(), false)) {
            Path missing = dir.resolve("gone/pages-1.img");
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> new PageWriter(Sys.getpid(), mem, missing, null, x -> { }, new jcriu.image.ChunkedCrc(),
                            jcriu.api.Control.none()));
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
            assertFalse(Files.exists(missing));
        } finally {
            Files.delete(dir);
        }
    }
}

package jcriu.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Makes the files of an image set durable, the cheaper of two equally durable ways.
 * <p>
 * One fsync per file costs a journal commit each on ext4: 350 small files took 0.9-2.1 s here
 * (a 50-process tree), even with their writeback started first. One syncfs(2) of the file
 * system took 21-200 ms for the same files, but it also waits for whatever else is dirty on
 * that file system; so it is used only while the rest of the system has little dirty data
 * ({@link #FOREIGN_DIRTY_LIMIT}). Otherwise the files are fsynced from several threads at once,
 * so that their journal commits overlap (90-480 ms for the same files).
 */
public final class ImageSync {
    /** Dirty data of others that syncfs may wait for: about a tenth of a second of this disk. */
    static final long FOREIGN_DIRTY_LIMIT = 32L << 20;
    private static final int THREADS = 4;

    private ImageSync() {}

    /** How the files are made durable. */
    public enum Way { SYNCFS, PARALLEL_FSYNC }

    /**
     * syncfs when the system's dirty and under-writeback data, less what jcriu wrote through the
     * page cache itself ({@code ownBuffered}), stays under {@link #FOREIGN_DIRTY_LIMIT}.
     */
    static Way choose(long systemDirty, long ownBuffered) {
        return systemDirty - ownBuffered <= FOREIGN_DIRTY_LIMIT ? Way.SYNCFS : Way.PARALLEL_FSYNC;
    }

    /** Dirty + Writeback of /proc/meminfo in bytes; Long.MAX_VALUE when unreadable (never syncfs then). */
    static long systemDirty(Path meminfo) {
        try {
            long kb = 0;
            int seen = 0;
            for (String l : Files.readAllLines(meminfo)) {
                if (l.startsWith("Dirty:") || l.startsWith("Writeback:")) {
                    kb += Long.parseLong(l.substring(l.indexOf(':') + 1).replace("kB", "").strip());
                    seen++;
                }
            }
            return seen == 2 ? kb << 10 : Long.MAX_VALUE;
        } catch (IOException | RuntimeException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Makes {@code files} (names in {@code dir}) durable; {@code ownBuffered} is how many of
     * their bytes went through the page cache. Returns the way taken. The directory itself is
     * the caller's to fsync.
     */
    public static Way sync(Path dir, List<String> files, long ownBuffered) throws IOException {
        Way way = files.isEmpty() ? Way.PARALLEL_FSYNC : choose(systemDirty(Path.of("/proc/meminfo")), ownBuffered);
        sync(dir, files, way);
        return way;
    }

    /** {@link #sync(Path, List, long)} the given way. */
    static void sync(Path dir, List<String> files, Way way) throws IOException {
        List<Integer> fds = new ArrayList<>();
        try {
            for (String name : files) fds.add(Sys.open(dir.resolve(name).toString(), 0 /* O_RDONLY */ | Sys.O_CLOEXEC));
            if (way == Way.SYNCFS) {
                Sys.syncfs(fds.getFirst());
            } else {
                // writeback of every file first, so that the disk sees them all at once
                for (int fd : fds) Sys.startWriteback(fd);
                fsyncAll(fds);
            }
        } catch (SysException e) {
            throw new IOException("cannot make the images in " + dir + " durable: " + e.getMessage(), e);
        } finally {
            for (int fd : fds) Sys.close(fd);
        }
    }

    private static void fsyncAll(List<Integer> fds) {
        int n = Math.min(THREADS, fds.size());
        SysException[] failed = new SysException[n];
        List<Thread> threads = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int first = k;
            threads.add(Thread.ofPlatform().name("jcriu-fsync-" + k).start(() -> {
                try {
                    for (int i = first; i < fds.size(); i += n) Sys.fsync(fds.get(i));
                } catch (SysException e) {
                    failed[first] = e;
                }
            }));
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the fsyncs are waited for all the same
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        for (SysException e : failed) if (e != null) throw e;
    }
}

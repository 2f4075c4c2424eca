package jcriu.image;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jcriu.api.Log;

/**
 * One image set being written into an images directory DIR, made visible only when it is
 * complete and durable, never mixed with an older set:
 * <ol>
 * <li>every file goes into a fresh hidden staging directory {@code DIR/.jcriu-staging-*}, so
 *     whatever DIR held stays as it was while the dump runs (a failed or killed dump leaves
 *     DIR's set intact and restorable);</li>
 * <li>the files are made durable, then the {@link Manifest} (every file, its size and
 *     checksums) is written into the staging directory and made durable: from then on the
 *     staging directory holds a complete set;</li>
 * <li>publication: DIR's old manifest is removed (the commit point: DIR's old set stops being
 *     one), old images the new set does not have are removed, the new files are renamed into
 *     DIR (rename replaces atomically), and the manifest last.</li>
 * </ol>
 * A publication cut short (jcriu killed) is completed by the next jcriu command that opens DIR
 * ({@link #settle}): the staging directory still holds a complete manifest and every file not
 * yet moved. DIR is locked ({@link DirLock}) while a set is written or read. Files that are not
 * images ({@code -o} logs, notes) are left alone.
 */
public final class ImageSet implements AutoCloseable {
    /** Prefix of staging directories inside DIR. */
    public static final String STAGING_PREFIX = ".jcriu-staging-";
    /**
     * Set (-D...=true, e.g. through JAVA_TOOL_OPTIONS) only by bench/checksums.sh for its baseline:
     * the dump computes no checksums, and its manifest says so, which makes restores refuse it.
     */
    public static final String SKIP_CHECKSUMS_PROPERTY = "jcriu.bench.skipChecksums";
    private static final boolean SKIP_CHECKSUMS = Boolean.getBoolean(SKIP_CHECKSUMS_PROPERTY);

    private final Path target;
    private final DirLock lock;
    private final ImageDir staging;
    private Manifest.Parent parent;
    private Manifest published;
    private boolean closed;
    private ImageSync.Way synced; // how seal made the files durable, for the log

    private ImageSet(Path target, DirLock lock, ImageDir staging) {
        this.target = target;
        this.lock = lock;
        this.staging = staging;
    }

    /**
     * Starts a set for {@code dir}: creates it (0700) if missing, locks it against other jcriu
     * commands, completes or removes what interrupted dumps left, and opens a fresh staging
     * directory inside it.
     */
    public static ImageSet begin(Path dir, Log log) throws IOException {
        ImageDir.create(dir);
        DirLock lock = DirLock.exclusive(dir);
        try {
            settle(dir, log);
            Path s = Files.createTempDirectory(dir, STAGING_PREFIX,
                    PosixFilePermissions.asFileAttribute(ImageDir.DIR_MODE));
            log.debug("writing the image set into " + s);
            ImageDir staging = ImageDir.create(s);
            if (SKIP_CHECKSUMS) {
                log.warn("-D" + SKIP_CHECKSUMS_PROPERTY + ": no checksums; the set cannot be restored");
                staging.computeChecksums = false;
            }
            return new ImageSet(dir, lock, staging);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Where the files are written until {@link #publish}. */
    public ImageDir dir() { return staging; }

    /** The images directory the set is for. */
    public Path target() { return target; }

    /**
     * Links {@code DIR/parent} to {@code linkTarget} (as given: relative paths count from DIR,
     * as CRIU's --prev-images-dir) and records which set it must lead to, so that a restore
     * notices when the parent was replaced by another dump. {@code resolved} is the parent
     * directory as seen from here; it must hold a complete set (or be a CRIU one).
     */
    public void linkParent(Path linkTarget, Path resolved) throws IOException {
        Manifest pm = ImageSetCheck.manifestOf(resolved);
        if (pm != null) ImageSetCheck.checkListing(resolved, pm);
        Files.createSymbolicLink(staging.path().resolve(PageStore.PARENT_LINK), linkTarget);
        parent = new Manifest.Parent(linkTarget.toString(), pm == null ? null : pm.id());
    }

    /**
     * Makes the set durable and visible in DIR, replacing whatever set DIR held. Returns the
     * manifest written.
     */
    public Manifest publish(Manifest.Kind kind, Log log) throws IOException {
        return publish(kind, log, jcriu.api.Control.none());
    }

    /**
     * As {@link #publish(Manifest.Kind, Log)}; {@code control} is committed just before the
     * old set is dropped: from there on the publication completes whatever happens.
     */
    public Manifest publish(Manifest.Kind kind, Log log, jcriu.api.Control control) throws IOException {
        Manifest m = seal(kind);
        long bytes = 0, nanos = 0;
        for (ChunkedCrc c : staging.checksums().values()) {
            bytes += c.size();
            nanos += c.nanos();
        }
        log.info(String.format("checksums: %d MiB in %d ms; %d files made durable by %s", bytes >> 20,
                nanos / 1_000_000, staging.checksums().size(), synced == ImageSync.Way.SYNCFS ? "one syncfs"
                        : "fsyncs from several threads"));
        control.reached("sealed");
        control.commit();
        finish(target, staging.path(), m, log);
        published = m;
        log.debug("image set " + m.id() + " published in " + target + " (" + m.files().size() + " files)");
        return m;
    }

    /**
     * Takes a published set back out of DIR (a post-dump action script vetoed the dump): its
     * manifest first, so that from then on DIR holds no set, then its files and parent link.
     * DIR's older set was replaced at publication: DIR is then left without one.
     */
    public void withdraw(Log log) throws IOException {
        if (published == null) throw new IllegalStateException("no set published in " + target);
        if (Files.deleteIfExists(target.resolve(Manifest.NAME))) fsyncDir(target);
        for (String n : published.files().keySet()) Files.deleteIfExists(target.resolve(n));
        if (published.parent() != null) Files.deleteIfExists(target.resolve(PageStore.PARENT_LINK));
        fsyncDir(target);
        log.debug("image set " + published.id() + " withdrawn from " + target);
    }

    /** Steps 1-2: the staging directory holds a complete, durable set. */
    Manifest seal(Manifest.Kind kind) throws IOException {
        if (published != null || closed) throw new IllegalStateException("set for " + target + " already published");
        synced = staging.syncDir();
        Map<String, Manifest.Entry> files = new java.util.LinkedHashMap<>();
        for (var e : staging.checksums().entrySet()) files.put(e.getKey(), Manifest.Entry.of(e.getKey(), e.getValue()));
        Manifest m = new Manifest(UUID.randomUUID().toString(), kind, parent, files, staging.computeChecksums);
        Path mf = staging.path().resolve(Manifest.NAME);
        try (FileChannel ch = FileChannel.open(mf, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(ImageDir.FILE_MODE))) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(m.encode());
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        fsyncDir(staging.path());
        return m;
    }

    /** Drops the lock as a killed jcriu would, leaving the staging directory as it is (tests). */
    void crash() {
        closed = true;
        lock.close();
    }

    /** Removes the staging directory unless the set was published, and releases DIR. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            if (published == null) deleteTree(staging.path());
        } catch (IOException ignored) {
            // best effort: a leftover staging directory is incomplete, ignored by restores and
            // removed by the next dump into this directory
        } finally {
            lock.close();
        }
    }

    /**
     * Completes an interrupted publication and removes other leftovers of interrupted dumps.
     * A staging directory with a whole manifest whose publication had begun (DIR has no
     * manifest of its own any more) is published; any other staging directory is incomplete,
     * or was never committed, and is removed. The caller holds DIR exclusively.
     */
    static void settle(Path dir, Log log) throws IOException {
        for (Path s : stagingDirs(dir)) {
            Manifest m = ImageSetCheck.manifestOrNull(s);
            if (m != null && !Files.exists(dir.resolve(Manifest.NAME), LinkOption.NOFOLLOW_LINKS)) {
                log.warn("completing the publication of image set " + m.id() + " in " + dir
                        + ", interrupted when its dump was stopped");
                finish(dir, s, m, log);
            } else {
                log.debug("removing " + s + ", left by an interrupted dump");
                deleteTree(s);
            }
        }
    }

    /** Staging directories in {@code dir} (never following symlinks). */
    static List<Path> stagingDirs(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, STAGING_PREFIX + "*")) {
            for (Path p : ds) if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) out.add(p);
        }
        return out;
    }

    /** Step 3 of the class comment, idempotent so that it can be repeated after an interruption. */
    static void finish(Path dir, Path staging, Manifest m, Log log) throws IOException {
        if (Files.deleteIfExists(dir.resolve(Manifest.NAME))) fsyncDir(dir); // DIR's old set ends here
        for (Path p : list(dir)) {
            String n = p.getFileName().toString();
            boolean stale = ImageSetCheck.isImageName(n) && !m.files().containsKey(n)
                    || n.equals(PageStore.PARENT_LINK) && m.parent() == null;
            if (stale) {
                log.debug("removing " + p + " of the previous image set");
                Files.delete(p);
            }
        }
        for (String n : m.files().keySet()) moveIfThere(staging, dir, n);
        if (m.parent() != null) moveIfThere(staging, dir, PageStore.PARENT_LINK);
        fsyncDir(dir);
        Files.move(staging.resolve(Manifest.NAME), dir.resolve(Manifest.NAME), StandardCopyOption.ATOMIC_MOVE);
        fsyncDir(dir);
        deleteTree(staging);
    }

    private static void moveIfThere(Path from, Path to, String name) throws IOException {
        Path src = from.resolve(name);
        if (!Files.exists(src, LinkOption.NOFOLLOW_LINKS)) return; // moved before an interruption
        Files.move(src, to.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    static void fsyncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            for (Path c : list(p)) deleteTree(c);
        }
        try {
            Files.delete(p);
        } catch (NoSuchFileException ignored) {
            // already gone
        }
    }
}

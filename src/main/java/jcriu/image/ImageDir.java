package jcriu.image;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Set;

/**
 * A directory of image files. Images hold memory contents and credentials, so
 * the directory is kept at 0700 and every file jcriu creates at 0600.
 */
public final class ImageDir {
    static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

    private final Path path;
    /**
     * Files created through this object, by name, with the checksum of what was written to
     * them; made durable together by {@link #syncDir}.
     */
    private final java.util.Map<String, ChunkedCrc> written = new java.util.LinkedHashMap<>();
    /** Files of {@link #written} whose writer bypasses the page cache (pages written with O_DIRECT). */
    private final java.util.Set<String> direct = new java.util.HashSet<>();
    /** False only for the benchmarks' baseline: sizes are recorded, contents not checksummed. */
    boolean computeChecksums = true;

    private ImageDir(Path path) {
        this.path = path;
    }

    /** Opens {@code dir} for dumping, creating it if missing; either way its mode becomes 0700. */
    public static ImageDir create(Path dir) throws IOException {
        Objects.requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            if (Files.exists(dir)) {
                throw new NotDirectoryException(dir + ": exists and is not a directory, cannot hold images");
            }
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
            } catch (FileAlreadyExistsException e) {
                // Someone else created it meanwhile; fine if it is a directory.
                if (!Files.isDirectory(dir)) {
                    throw new NotDirectoryException(dir + ": exists and is not a directory, cannot hold images");
                }
            }
        }
        // Applies to pre-existing directories and undoes umask on new ones.
        Files.setPosixFilePermissions(dir, DIR_MODE);
        return new ImageDir(dir);
    }

    /** Opens an existing image directory for reading. */
    public static ImageDir open(Path dir) throws IOException {
        Objects.requireNonNull(dir, "dir");
        if (!Files.exists(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "image directory does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new NotDirectoryException(dir + ": not a directory, cannot hold images");
        }
        return new ImageDir(dir);
    }

    public Path path() {
        return path;
    }

    /** Creates (or replaces) an image file and writes its magic header. */
    public ImageOutput create(ImageFile f) throws IOException {
        requireStructured(f);
        Path file = path.resolve(f.name());
        return new ImageOutput(file, f.magic(), createFile(file));
    }

    /** Opens an image file and checks its magic header. */
    public ImageInput open(ImageFile f) throws IOException {
        requireStructured(f);
        Path file = path.resolve(f.name());
        return new ImageInput(file, f.magic(), openExisting(file));
    }

    /** Opens a file of the set for reading; a missing one is named as such, not by its bare path. */
    private static FileChannel openExisting(Path file) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "image file missing from the set");
        }
    }

    public boolean exists(ImageFile f) {
        return Files.isRegularFile(path.resolve(f.name()));
    }

    /**
     * Creates (or replaces) a headerless file such as pages-N.img, mode 0600, open for
     * sequential writing (checksummed as written; positional writes are refused).
     */
    public FileChannel createRaw(String name) throws IOException {
        return createFile(path.resolve(new ImageFile(name, Magic.PAGES).name()));
    }

    /** Every file created through this object, in creation order, with the checksum of its content. */
    public java.util.Map<String, ChunkedCrc> checksums() {
        return java.util.Collections.unmodifiableMap(written);
    }

    /**
     * Creates (or replaces) an empty headerless file, mode 0600, made durable with the others
     * by {@link #syncDir}, for a writer that opens it its own way (pages written with O_DIRECT).
     * That writer must feed every byte, in file order, to {@link #checksumOf} of the file.
     */
    public Path createRawFile(String name) throws IOException {
        Path file = path.resolve(new ImageFile(name, Magic.PAGES).name());
        ChunkedCrc crc = computeChecksums ? new ChunkedCrc() : ChunkedCrc.sizeOnly();
        newFile(file).close();
        written.put(file.getFileName().toString(), crc);
        direct.add(file.getFileName().toString());
        return file;
    }

    /** The checksum being computed of a file created here (for {@link #createRawFile}'s writer). */
    public ChunkedCrc checksumOf(Path file) {
        ChunkedCrc c = written.get(file.getFileName().toString());
        if (c == null || !file.getParent().equals(path)) throw new IllegalArgumentException(file + " was not created in " + path);
        return c;
    }

    /** Opens a headerless file for reading. */
    public FileChannel openRaw(String name) throws IOException {
        return openExisting(path.resolve(new ImageFile(name, Magic.PAGES).name()));
    }

    /**
     * Makes every image written through this object durable, then the directory so that the
     * new names are too. The files are made durable together at the end rather than each as it
     * is closed ({@link ImageSync} picks the way). Returns the way taken.
     */
    public ImageSync.Way syncDir() throws IOException {
        ImageSync.Way way = ImageSync.sync(path, java.util.List.copyOf(written.keySet()), bufferedBytes());
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ch.force(true);
        }
        return way;
    }

    /** Bytes written through the page cache into files of this object (O_DIRECT writers' files excluded). */
    long bufferedBytes() {
        long buffered = 0;
        for (var e : written.entrySet()) if (!direct.contains(e.getKey())) buffered += e.getValue().size();
        return buffered;
    }

    @Override
    public String toString() {
        return "ImageDir[" + path + "]";
    }

    private static void requireStructured(ImageFile f) {
        Objects.requireNonNull(f, "f");
        if (f.magic().isRaw()) {
            throw new IllegalArgumentException(f.name() + " is a raw file; use createRaw/openRaw");
        }
    }

    // A stale file is removed rather than truncated, so that neither its old
    // mode nor a symlink planted in its place survives; CREATE_NEW then
    // refuses to follow anything that reappears.
    private FileChannel createFile(Path file) throws IOException {
        ChunkedCrc crc = computeChecksums ? new ChunkedCrc() : ChunkedCrc.sizeOnly();
        FileChannel ch = newFile(file);
        written.put(file.getFileName().toString(), crc);
        return new CrcFileChannel(ch, crc);
    }

    private static FileChannel newFile(Path file) throws IOException {
        Files.deleteIfExists(file);
        FileAttribute<Set<PosixFilePermission>> mode = PosixFilePermissions.asFileAttribute(FILE_MODE);
        FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), mode);
        try {
            Files.setPosixFilePermissions(file, FILE_MODE); // umask may have cleared owner bits
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return ch;
    }
}

package jcriu.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * CRIU's pidfile: created new (never over an existing file), 0600, holding the PID without a
 * newline. jcriu creates it before the work starts, so an existing file fails the command
 * before anything happens, and removes it if the work fails.
 */
final class Pidfile {
    private final Path path;
    private boolean written;

    private Pidfile(Path path) { this.path = path; }

    static Pidfile create(Path path) throws IOException {
        try {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            throw new IOException("pidfile " + path + " exists already (CRIU refuses to overwrite one too)");
        }
        return new Pidfile(path);
    }

    Path path() { return path; }

    void write(int pid) throws IOException {
        Files.write(path, Integer.toString(pid).getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        written = true;
    }

    /** Removes the file unless a PID was written (the work failed before). */
    void discardUnlessWritten() {
        if (written) return;
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // best effort: an empty pidfile names nobody
        }
    }
}

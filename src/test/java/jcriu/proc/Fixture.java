package jcriu.proc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A fake /proc tree in a temporary directory, for feeding readers hand-written files. */
final class Fixture {
    final Path root;

    Fixture(Path root) {
        this.root = root;
    }

    /** Writes {@code rel} (e.g. "1234/stat" or "sys/kernel/pid_max"), creating directories. */
    Fixture file(String rel, String content) {
        return bytes(rel, content.getBytes(StandardCharsets.UTF_8));
    }

    Fixture bytes(String rel, byte[] content) {
        try {
            Path p = root.resolve(rel);
            Files.createDirectories(p.getParent());
            Files.write(p, content);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A symlink {@code rel} -> {@code target}; the target need not exist (pipe:[12], ...). */
    Fixture link(String rel, String target) {
        try {
            Path p = root.resolve(rel);
            Files.createDirectories(p.getParent());
            Files.createSymbolicLink(p, Path.of(target));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Fixture dir(String rel) {
        try {
            Files.createDirectories(root.resolve(rel));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes 64-bit little-endian words at word index {@code index} of a (sparse) file. */
    Fixture words(String rel, long index, long... values) {
        try {
            Path p = root.resolve(rel);
            Files.createDirectories(p.getParent());
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                for (long v : values) b.putLong(v);
                b.flip();
                ch.write(b, index * 8);
            }
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path path(String rel) {
        return root.resolve(rel);
    }
}

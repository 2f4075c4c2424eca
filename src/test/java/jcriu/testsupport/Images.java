package jcriu.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;

import jcriu.image.ChunkedCrc;
import jcriu.image.ImageDir;
import jcriu.image.ImageFile;
import jcriu.image.ImageInput;
import jcriu.image.ImageOutput;
import jcriu.image.Manifest;

/** Image sets altered on purpose by tests. */
public final class Images {
    private Images() {}

    /**
     * Rewrites the manifest of {@code dir} for the files as they are now (same id, kind and
     * parent; files that are gone are dropped from the list): a test that alters an image to
     * feed the restore a well-formed but wrong value (a vDSO of another kernel, an impossible
     * field) must get past the checksums.
     */
    public static void reseal(Path dir) throws IOException {
        Manifest m = Manifest.read(dir);
        Map<String, Manifest.Entry> files = new LinkedHashMap<>();
        for (String name : m.files().keySet()) {
            if (!Files.exists(dir.resolve(name))) continue;
            ChunkedCrc crc = new ChunkedCrc();
            byte[] b = Files.readAllBytes(dir.resolve(name));
            crc.update(b, 0, b.length);
            files.put(name, Manifest.Entry.of(name, crc));
        }
        Files.write(dir.resolve(Manifest.NAME), new Manifest(m.id(), m.kind(), m.parent(), files).encode());
    }

    /** Replaces the entries of one image file (all of one message type) by {@code change}'s, then reseals. */
    public static <T extends MessageLite> void edit(Path dir, ImageFile f, Parser<T> parser,
                                                    UnaryOperator<List<T>> change) throws IOException {
        List<T> entries = new ArrayList<>();
        try (ImageInput in = ImageDir.open(dir).open(f)) {
            for (T e; (e = in.next(parser)) != null; ) entries.add(e);
        }
        List<T> changed = change.apply(entries);
        try (ImageOutput out = ImageDir.create(dir).create(f)) {
            for (T e : changed) out.write(e);
        }
        reseal(dir);
    }

    /** Copies an image set (files and the parent link) into a new directory. */
    public static Path copy(Path dir, Path to) throws IOException {
        Files.createDirectories(to);
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(p.getFileName());
                if (Files.isSymbolicLink(p)) Files.createSymbolicLink(q, Files.readSymbolicLink(p));
                else if (Files.isRegularFile(p)) Files.copy(p, q);
            }
        }
        return to;
    }
}

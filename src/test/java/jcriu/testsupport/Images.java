package jcriu.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import jcriu.image.ChunkedCrc;
import jcriu.image.Manifest;

/** Image sets altered on purpose by tests. */
public final class Images {
    private Images() {}

    /**
     * Rewrites the manifest of {@code dir} for the files as they are now (same id, kind, parent
     * and file list): a test that alters an image to feed the restore a well-formed but wrong
     * value (a vDSO of another kernel, an impossible field) must get past the checksums.
     */
    public static void reseal(Path dir) throws IOException {
        Manifest m = Manifest.read(dir);
        Map<String, Manifest.Entry> files = new LinkedHashMap<>();
        for (String name : m.files().keySet()) {
            ChunkedCrc crc = new ChunkedCrc();
            byte[] b = Files.readAllBytes(dir.resolve(name));
            crc.update(b, 0, b.length);
            files.put(name, Manifest.Entry.of(name, crc));
        }
        Files.write(dir.resolve(Manifest.NAME), new Manifest(m.id(), m.kind(), m.parent(), files).encode());
    }
}

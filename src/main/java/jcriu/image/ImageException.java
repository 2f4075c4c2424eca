package jcriu.image;

import java.io.IOException;
import java.nio.file.Path;

/** A malformed image file; the message names the file and the byte offset of the problem. */
public final class ImageException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offset;

    public ImageException(Path file, long offset, String problem) {
        this(file, offset, problem, null);
    }

    public ImageException(Path file, long offset, String problem, Throwable cause) {
        super(file + ": at offset " + offset + ": " + problem, cause);
        this.file = file;
        this.offset = offset;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}

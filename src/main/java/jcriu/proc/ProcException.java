package jcriu.proc;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A /proc file could not be understood. The message names the file and, when the problem is
 * on one line, the 1-based line number ({@code /proc/12/status:7: bad Uid line}).
 */
public class ProcException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    private final int line;

    /** A problem on one line of {@code file}; {@code line} is 1-based, 0 when no line applies. */
    public ProcException(Path file, int line, String message) {
        super(file + (line > 0 ? ":" + line : "") + ": " + message);
        this.file = file;
        this.line = line;
    }

    public ProcException(Path file, String message) {
        this(file, 0, message);
    }

    public ProcException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
        this.line = 0;
    }

    /** For failures that concern no single file (subclasses). */
    protected ProcException(String message, Throwable cause) {
        super(message, cause);
        this.file = null;
        this.line = 0;
    }

    /** The file at fault, or null. */
    public Path file() {
        return file;
    }

    /** The 1-based line at fault, or 0. */
    public int line() {
        return line;
    }
}

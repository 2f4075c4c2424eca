package jcriu.api;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A verbosity-filtered log, CRIU's levels: 0 nothing but errors that end the command,
 * 1 errors, 2 warnings, 3 information, 4 debug. Passed explicitly, never global.
 */
public final class Log {
    public static final int ERROR = 1, WARN = 2, INFO = 3, DEBUG = 4;
    private final int level;
    private final PrintStream sink;
    private final long startNanos = System.nanoTime();

    public Log(int level, PrintStream sink) {
        this.level = level;
        this.sink = sink;
    }

    public static Log quiet() { return new Log(0, System.err); }

    public int level() { return level; }

    public boolean enabled(int l) { return l <= level; }

    private void emit(int l, String tag, String msg) {
        if (l > level) return;
        Duration d = Duration.ofNanos(System.nanoTime() - startNanos);
        synchronized (sink) {
            sink.printf("(%3d.%06d) %s%s%n", d.toSeconds(), d.toNanosPart() / 1000, tag, msg);
            sink.flush();
        }
    }

    public void error(String msg) { emit(ERROR, "Error: ", msg); }

    public void warn(String msg) { emit(WARN, "Warn: ", msg); }

    public void info(String msg) { emit(INFO, "", msg); }

    public void debug(String msg) { emit(DEBUG, "", msg); }
}

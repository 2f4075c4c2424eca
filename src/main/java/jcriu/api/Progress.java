package jcriu.api;

import java.io.PrintStream;

import jcriu.sys.Sys;

/**
 * A one-line progress report on stderr for long dumps and restores: bytes done, rate and
 * time left, redrawn at most five times a second, and only once the work has run for a
 * second. Silent unless stderr is a terminal, so logs and pipes never see it. Thread-safe:
 * writers report from their own threads.
 */
public final class Progress {
    private static final long SHOW_AFTER_NS = 1_000_000_000L, EVERY_NS = 200_000_000L;

    private final String what;
    private final long total;
    private final PrintStream out;
    private final long start = System.nanoTime();
    private long lastDraw;
    private boolean drawn;

    private Progress(String what, long total, PrintStream out) {
        this.what = what;
        this.total = total;
        this.out = out;
    }

    /** Progress of {@code what} over {@code total} bytes: drawn on stderr if it is a terminal, else nothing. */
    public static Progress onTerminal(String what, long total) {
        return new Progress(what, total, Sys.isatty(2) ? System.err : null);
    }

    /** For tests: always drawn on {@code out}, without the one-second delay. */
    public static Progress to(PrintStream out, String what, long total) {
        Progress p = new Progress(what, total, out);
        p.drawn = true;
        return p;
    }

    public boolean shown() { return out != null; }

    /** {@code done} bytes so far. */
    public synchronized void update(long done) {
        if (out == null) return;
        long now = System.nanoTime();
        if (!drawn && now - start < SHOW_AFTER_NS) return;
        if (now - lastDraw < EVERY_NS && done < total) return;
        lastDraw = now;
        drawn = true;
        out.print("\r" + line(done, now - start) + "\u001b[K");
        out.flush();
    }

    /** Ends the line if anything was drawn. */
    public synchronized void finish() {
        if (out != null && drawn && lastDraw != 0) {
            out.println();
            out.flush();
        }
    }

    /** "dump: 512/1024 MiB, 1.20 GB/s, 0.4 s left" */
    String line(long done, long elapsedNs) {
        double secs = Math.max(elapsedNs, 1) / 1e9;
        double rate = done / secs;
        String left = rate > 0 && done < total ? String.format(", %.1f s left", (total - done) / rate) : "";
        return String.format("%s: %d/%d MiB, %.2f GB/s%s", what, done >> 20, total >> 20, rate / 1e9, left);
    }
}

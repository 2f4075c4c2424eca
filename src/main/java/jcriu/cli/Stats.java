package jcriu.cli;

import java.io.PrintStream;
import java.time.Duration;

import jcriu.dump.Checkpointer;

/** CRIU's --display-stats lines (labels as CRIU prints them), for what jcriu measures. */
final class Stats {
    private Stats() {}

    private static final long PAGE = 4096;

    static void dump(PrintStream out, Checkpointer.Result r) {
        long pages = r.pageBytes() / PAGE;
        out.println("Displaying dump stats:");
        out.println("Frozen time: " + r.frozenFor().toNanos() / 1000 + " us");
        out.printf("Memory pages written: %d (0x%x)%n", pages, pages);
    }

    static void restore(PrintStream out, Duration took) {
        out.println("Displaying restore stats:");
        out.println("Restore time: " + took.toNanos() / 1000 + " us");
    }
}

package jcriu.cli;

import java.util.ArrayList;
import java.util.List;

import jcriu.api.Control;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT and SIGTERM while a dump or restore runs: instead of the JVM's exit (which would
 * leave the target stopped with the registers of an injected call, or a half-built process),
 * they cancel the work, which rolls back and makes the command exit with 128 + the signal.
 * {@link #close} gives the signals back to the JVM once nothing is left to roll back.
 */
final class Signals implements AutoCloseable {
    private static final List<String> NAMES = List.of("INT", "TERM");
    private final List<SignalHandler> previous = new ArrayList<>();

    private Signals(Control control) {
        for (String n : NAMES) previous.add(Signal.handle(new Signal(n), s -> control.cancel("SIG" + s.getName())));
    }

    static Signals cancelOn(Control control) {
        return new Signals(control);
    }

    @Override
    public void close() {
        for (int i = 0; i < NAMES.size(); i++) Signal.handle(new Signal(NAMES.get(i)), previous.get(i));
    }

    /** The shell's status for a command ended by {@code signal} ("SIGINT": 130, "SIGTERM": 143). */
    static int exitStatus(String signal) {
        return 128 + switch (signal) {
            case "SIGINT" -> 2;
            case "SIGTERM" -> 15;
            default -> 0;
        };
    }
}

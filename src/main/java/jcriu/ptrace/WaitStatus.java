package jcriu.ptrace;

/** A decoded wait status, as a tracer sees it (man 2 ptrace, "Stopped states"). */
public record WaitStatus(int pid, int raw) {
    public boolean exited() { return (raw & 0x7f) == 0; }

    public int exitCode() { return (raw >> 8) & 0xff; }

    public boolean signaled() { return ((raw & 0x7f) + 1) >> 1 > 0 && !stopped() && !exited(); }

    public int termSignal() { return raw & 0x7f; }

    public boolean stopped() { return (raw & 0xff) == 0x7f; }

    public int stopSignal() { return (raw >> 8) & 0xff; }

    /** PTRACE_EVENT_* of an event stop, 0 otherwise. */
    public int event() { return stopped() ? (raw >> 16) & 0xff : 0; }

    /** A syscall-enter or -exit stop (PTRACE_O_TRACESYSGOOD sets bit 7 of the signal). */
    public boolean syscallStop() { return stopped() && stopSignal() == (5 | 0x80); }

    @Override
    public String toString() {
        if (exited()) return "pid " + pid + " exited with " + exitCode();
        if (stopped()) return "pid " + pid + " stopped by signal " + (stopSignal() & 0x7f)
                + (event() != 0 ? " event " + event() : "") + (syscallStop() ? " (syscall stop)" : "");
        return "pid " + pid + " killed by signal " + termSignal();
    }
}

package jcriu.rseq;

/**
 * What a thread's rseq looked like at dump, and what must be done about it (the cases of
 * the spec). Sealed, so dump, restore and leave-running must each handle every case.
 */
public sealed interface RseqState {
    int FLAG_NO_RESTART_ON_PREEMPT = 1, FLAG_NO_RESTART_ON_SIGNAL = 2, FLAG_NO_RESTART_ON_MIGRATE = 4;

    /** Registration to recreate at restore. */
    Registration registration();

    /** Instruction pointer the thread must resume at (may differ from the one it was stopped at). */
    long resumeIp(long stoppedIp);

    /** Pointer to write back into {@code struct rseq.rseq_cs} after registering, or 0. */
    default long rseqCsToRestore() { return 0; }

    record Registration(long pointer, int size, int signature) {}

    /** No rseq area registered: nothing to do, and nothing may be registered at restore. */
    record NotRegistered() implements RseqState {
        @Override public Registration registration() { return null; }
        @Override public long resumeIp(long ip) { return ip; }
    }

    /** Registered, and the thread is outside any critical section. */
    record Outside(Registration registration) implements RseqState {
        @Override public long resumeIp(long ip) { return ip; }
    }

    /** Inside a critical section that restarts: resume at its abort handler, as the kernel would. */
    record InsideAbort(Registration registration, RseqCs cs, long csPointer) implements RseqState {
        @Override public long resumeIp(long ip) { return cs.abortIp(); }
    }

    /** Inside a NO_RESTART_ON_SIGNAL section: keep rip, and put the rseq_cs pointer back. */
    record InsideNoRestart(Registration registration, RseqCs cs, long csPointer) implements RseqState {
        @Override public long resumeIp(long ip) { return ip; }
        @Override public long rseqCsToRestore() { return csPointer; }
    }
}

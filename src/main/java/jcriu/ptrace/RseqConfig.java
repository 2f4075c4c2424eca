package jcriu.ptrace;

/**
 * Answer of PTRACE_GET_RSEQ_CONFIGURATION ({@code struct ptrace_rseq_configuration}):
 * where a thread's {@code struct rseq} lives, its registered length and signature.
 * A zero pointer means the thread has no registration.
 */
public record RseqConfig(long pointer, int size, int signature, int flags) {
    public boolean registered() { return pointer != 0; }
}

package jcriu.state;

import java.util.Arrays;
import java.util.List;

/**
 * The seccomp state of one thread: its mode and, in filter mode, its filters, oldest first
 * (the kernel runs them newest first). Filters are per thread; a thread shares those it
 * inherited at its creation (or got by SECCOMP_FILTER_FLAG_TSYNC) with the others.
 *
 * @param mode    SECCOMP_MODE_DISABLED (0), STRICT (1) or FILTER (2)
 * @param filters the BPF programs (struct sock_filter, 8 bytes per instruction) with the flags
 *                they were installed with as far as the kernel tells (SECCOMP_FILTER_FLAG_LOG)
 */
public record Seccomp(int mode, List<Filter> filters) {
    public static final int DISABLED = 0, STRICT = 1, FILTER = 2;
    public static final Seccomp NONE = new Seccomp(DISABLED, List.of());

    public Seccomp {
        if (mode < DISABLED || mode > FILTER) throw new IllegalArgumentException("seccomp mode " + mode);
        if (mode != FILTER && !filters.isEmpty()) throw new IllegalArgumentException("filters without filter mode");
        filters = List.copyOf(filters);
    }

    /** One filter program; equal when the instructions and flags are. */
    public record Filter(byte[] program, int flags) {
        public Filter {
            if (program.length == 0 || program.length % 8 != 0) {
                throw new IllegalArgumentException("a seccomp filter of " + program.length + " bytes is not a list of"
                        + " 8-byte instructions");
            }
            program = program.clone();
        }

        public int instructions() { return program.length / 8; }

        @Override
        public byte[] program() { return program.clone(); }

        @Override
        public boolean equals(Object o) {
            return o instanceof Filter f && f.flags == flags && Arrays.equals(f.program, program);
        }

        @Override
        public int hashCode() { return Arrays.hashCode(program) * 31 + flags; }

        @Override
        public String toString() { return instructions() + " instructions, flags " + flags; }
    }
}

package jcriu.rseq;

import jcriu.ptrace.RseqConfig;
import jcriu.ptrace.Tracer;
import jcriu.sys.Errno;
import jcriu.sys.SysException;

/**
 * Where a dump gets a frozen thread's rseq registration: normally PTRACE_GET_RSEQ_CONFIGURATION.
 * A source answers exactly as the request would, failures included, so a kernel without the
 * request (before 5.13) and {@link #NO_PTRACE_REQUEST} take the same path in the dump.
 */
@FunctionalInterface
public interface RseqConfigSource {

    /** The thread's configuration; throws {@link SysException} as the ptrace request does. */
    RseqConfig read(Tracer tracer, int tid);

    /** The request itself; on an old kernel it fails with EIO, which the dump detects. */
    RseqConfigSource PTRACE = Tracer::getRseqConfig;

    /** What a kernel before 5.13 answers to the request (unknown request: EIO), whatever this kernel has. */
    RseqConfigSource NO_PTRACE_REQUEST = (tracer, tid) -> {
        throw new SysException("PTRACE_GET_RSEQ_CONFIGURATION (disabled by the dump options)", Errno.EIO, "tid " + tid);
    };

    /** Whether a failure of the request means the kernel does not have it (ptrace's answer to unknown requests). */
    static boolean missingRequest(SysException e) {
        return e.is(Errno.EIO) || e.is(Errno.EINVAL);
    }
}

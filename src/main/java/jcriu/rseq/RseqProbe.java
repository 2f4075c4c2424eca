package jcriu.rseq;

import java.io.IOException;

import jcriu.sys.Errno;

/**
 * Whether a thread has rseq registered, asked by an {@code rseq()} call injected into the thread,
 * for kernels without PTRACE_GET_RSEQ_CONFIGURATION. The call names an area in the kernel half
 * of the address space, aligned and sized as the kernel wants: a registered thread gets EINVAL
 * (the area differs from its registration), an unregistered one EFAULT (alignment and size pass,
 * {@code access_ok} fails). That address is never accessible from user space, so the call can
 * never register anything.
 */
public final class RseqProbe {
    /** The last page of the address space, kernel-only on every x86_64 paging mode; 32-byte aligned. */
    public static final long AREA = 0xffff_ffff_ffff_f000L;
    /** The original {@code struct rseq} size: the one length an unregistered thread accepts at 32-byte alignment. */
    public static final int LENGTH = 32;
    /** Any value: the signature is compared only when the area matches, which it never does. */
    public static final int SIGNATURE = 0x53053053;

    private RseqProbe() {}

    /**
     * The answer's meaning: rax of the injected call. ENOSYS (a kernel without rseq) means not
     * registered; anything but EINVAL, EFAULT and ENOSYS is unexpected and fails the dump.
     */
    public static boolean registered(int tid, long rax) throws IOException {
        int err = rax < 0 && rax > -4096 ? (int) -rax : 0;
        return switch (err) {
            case Errno.EINVAL -> true;
            case Errno.EFAULT, Errno.ENOSYS -> false;
            default -> throw new IOException("rseq of thread " + tid + ": the injected rseq() probe answered "
                    + (err == 0 ? Long.toString(rax) : Errno.name(err)) + " (expected EINVAL or EFAULT)");
        };
    }

    /** The answer as logged. */
    public static String describe(long rax) {
        return rax < 0 && rax > -4096 ? Errno.name((int) -rax) : Long.toString(rax);
    }
}

package jcriu.sys;

/**
 * A failed system call, carrying the errno so callers can react to a specific
 * failure (ESRCH: the process is gone, EBUSY: already registered, ...).
 */
public final class SysException extends RuntimeException {
    private final String call;
    private final int errno;

    public SysException(String call, int errno, String context) {
        super(call + " failed: " + Errno.name(errno) + " (" + Errno.describe(errno) + ")"
                + (context == null || context.isEmpty() ? "" : " [" + context + "]"));
        this.call = call;
        this.errno = errno;
    }

    public String call() { return call; }

    public int errno() { return errno; }

    public boolean is(int e) { return errno == e; }
}

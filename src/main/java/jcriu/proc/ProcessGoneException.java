package jcriu.proc;

/**
 * The process (or thread) whose /proc entry was being read does not exist, or exited while it
 * was read: its directory is gone (ENOENT) or the kernel answered ESRCH.
 */
public final class ProcessGoneException extends ProcException {
    private static final long serialVersionUID = 1L;
    private final int pid;

    public ProcessGoneException(int pid) {
        this(pid, null);
    }

    public ProcessGoneException(int pid, Throwable cause) {
        super("process " + pid + " does not exist (or exited)", cause);
        this.pid = pid;
    }

    /** A thread of a still existing process went away. */
    public static ProcessGoneException thread(int pid, int tid, Throwable cause) {
        return new ProcessGoneException(tid, "thread " + tid + " of process " + pid + " does not exist (or exited)",
                cause);
    }

    private ProcessGoneException(int id, String message, Throwable cause) {
        super(message, cause);
        this.pid = id;
    }

    /** The pid (or tid) that is gone. */
    public int pid() {
        return pid;
    }
}

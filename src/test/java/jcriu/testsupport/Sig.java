package jcriu.testsupport;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * x86_64 Linux signal numbers and kill(2), called directly through the FFM
 * API: ProcessHandle can only send SIGTERM/SIGKILL, and spawning /bin/kill
 * per signal would be slow and would hide errno.
 */
public final class Sig {
    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;
    public static final int SIGTERM = 15;
    public static final int SIGCHLD = 17;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;
    /** glibc's SIGRTMIN (the kernel's is 32; glibc keeps 32 and 33 for itself). */
    public static final int SIGRTMIN = 34;

    /** errno value of "no such process". */
    public static final int ESRCH = 3;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle KILL;

    static {
        Linker linker = Linker.nativeLinker();
        KILL = linker.downcallHandle(
                linker.defaultLookup().find("kill").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                Linker.Option.captureCallState("errno"));
    }

    private Sig() {
    }

    /**
     * kill(pid, sig).
     *
     * @return 0 on success, else the errno (e.g. {@link #ESRCH})
     */
    public static int kill(int pid, int sig) {
        if (pid <= 0) {
            // kill(0 or negative) targets process groups, never what a test means
            throw new IllegalArgumentException("refusing to signal pid " + pid);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) KILL.invokeExact(state, pid, sig);
            return rc == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("kill(" + pid + ", " + sig + ") could not be called", t);
        }
    }
}

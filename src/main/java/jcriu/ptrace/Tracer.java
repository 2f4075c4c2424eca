package jcriu.ptrace;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import jcriu.sys.Errno;
import jcriu.sys.Nr;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * ptrace requests, bound to the one platform thread that created this object. The kernel
 * ties a tracee to the OS thread that attached it, so every request (and every wait for
 * a tracee's stops) must come from that thread; this class checks that on every call.
 */
public final class Tracer {
    public static final int PTRACE_CONT = 7, PTRACE_KILL = 8, PTRACE_SINGLESTEP = 9, PTRACE_GETREGS = 12, PTRACE_SETREGS = 13,
            PTRACE_DETACH = 17, PTRACE_SYSCALL = 24, PTRACE_SETOPTIONS = 0x4200, PTRACE_GETEVENTMSG = 0x4201,
            PTRACE_GETSIGINFO = 0x4202, PTRACE_GETREGSET = 0x4204, PTRACE_SETREGSET = 0x4205,
            PTRACE_SEIZE = 0x4206, PTRACE_INTERRUPT = 0x4207, PTRACE_LISTEN = 0x4208,
            PTRACE_PEEKSIGINFO = 0x4209, PTRACE_GETSIGMASK = 0x420a, PTRACE_SETSIGMASK = 0x420b,
            PTRACE_SECCOMP_GET_FILTER = 0x420c, PTRACE_SECCOMP_GET_METADATA = 0x420d,
            PTRACE_GET_RSEQ_CONFIGURATION = 0x420f;
    public static final int O_TRACESYSGOOD = 1, O_TRACEFORK = 2, O_TRACEVFORK = 4, O_TRACECLONE = 8,
            O_TRACEEXIT = 0x40, O_EXITKILL = 0x100000, O_SUSPEND_SECCOMP = 1 << 21;
    public static final int EVENT_FORK = 1, EVENT_CLONE = 3, EVENT_EXIT = 6, EVENT_STOP = 128;
    public static final int NT_X86_XSTATE = 0x202;
    private static final int XSTATE_MAX = 16384;
    private static final int SIGINFO_SIZE = 128;

    private final Thread owner;

    private Tracer() {
        this.owner = Thread.currentThread();
    }

    /**
     * Runs {@code work} on a new platform thread that owns a fresh tracer, and returns its
     * result. Virtual threads can move between OS threads, so they can never be tracers.
     */
    public static <T> T run(String name, TracerWork<T> work) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name(name).unstarted(() -> {
            try {
                result.set(work.run(new Tracer()));
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        Throwable f = failure.get();
        if (f instanceof Exception e) throw e;
        if (f instanceof Error e) throw e;
        return result.get();
    }

    @FunctionalInterface
    public interface TracerWork<T> {
        T run(Tracer tracer) throws Exception;
    }

    private void checkThread() {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("ptrace request from thread " + Thread.currentThread().getName()
                    + "; tracees belong to " + owner.getName());
        }
    }

    private long ptrace(String what, int req, int tid, long addr, long data) {
        checkThread();
        return Sys.callFor("tid " + tid, what, Nr.PTRACE, req, tid, addr, data);
    }

    public void seize(int tid, int options) {
        ptrace("PTRACE_SEIZE", PTRACE_SEIZE, tid, 0, options);
    }

    public void interrupt(int tid) { ptrace("PTRACE_INTERRUPT", PTRACE_INTERRUPT, tid, 0, 0); }

    public void setOptions(int tid, int options) { ptrace("PTRACE_SETOPTIONS", PTRACE_SETOPTIONS, tid, 0, options); }

    public void cont(int tid, int sig) { ptrace("PTRACE_CONT", PTRACE_CONT, tid, 0, sig); }

    public void syscall(int tid, int sig) { ptrace("PTRACE_SYSCALL", PTRACE_SYSCALL, tid, 0, sig); }

    public void singleStep(int tid) { ptrace("PTRACE_SINGLESTEP", PTRACE_SINGLESTEP, tid, 0, 0); }

    public void detach(int tid, int sig) { ptrace("PTRACE_DETACH", PTRACE_DETACH, tid, 0, sig); }

    public void listen(int tid) { ptrace("PTRACE_LISTEN", PTRACE_LISTEN, tid, 0, 0); }

    public long eventMsg(int tid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(8, 8);
            ptrace("PTRACE_GETEVENTMSG", PTRACE_GETEVENTMSG, tid, 0, m.address());
            return m.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public Regs getRegs(int tid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(8L * Regs.COUNT, 8);
            ptrace("PTRACE_GETREGS", PTRACE_GETREGS, tid, 0, m.address());
            return new Regs(m.toArray(ValueLayout.JAVA_LONG));
        }
    }

    public void setRegs(int tid, Regs regs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocateFrom(ValueLayout.JAVA_LONG, regs.toArray());
            ptrace("PTRACE_SETREGS", PTRACE_SETREGS, tid, 0, m.address());
        }
    }

    /** The XSAVE area in standard (non-compacted) format, as long as the kernel reports. */
    public byte[] getXstate(int tid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(XSTATE_MAX, 64);
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ValueLayout.JAVA_LONG, 0, buf.address());
            iov.set(ValueLayout.JAVA_LONG, 8, XSTATE_MAX);
            ptrace("PTRACE_GETREGSET(NT_X86_XSTATE)", PTRACE_GETREGSET, tid, NT_X86_XSTATE, iov.address());
            long len = iov.get(ValueLayout.JAVA_LONG, 8);
            return buf.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    public void setXstate(int tid, byte[] xstate) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(xstate.length, 64);
            buf.copyFrom(MemorySegment.ofArray(xstate));
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ValueLayout.JAVA_LONG, 0, buf.address());
            iov.set(ValueLayout.JAVA_LONG, 8, xstate.length);
            ptrace("PTRACE_SETREGSET(NT_X86_XSTATE)", PTRACE_SETREGSET, tid, NT_X86_XSTATE, iov.address());
        }
    }

    public long getSigmask(int tid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(8, 8);
            ptrace("PTRACE_GETSIGMASK", PTRACE_GETSIGMASK, tid, 8, m.address());
            return m.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public void setSigmask(int tid, long mask) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(8, 8);
            m.set(ValueLayout.JAVA_LONG, 0, mask);
            ptrace("PTRACE_SETSIGMASK", PTRACE_SETSIGMASK, tid, 8, m.address());
        }
    }

    /** Every queued siginfo (128 bytes each) of the thread's private queue, or the process's shared one. */
    public List<byte[]> peekSiginfo(int tid, boolean shared) {
        List<byte[]> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            int batch = 32;
            MemorySegment args = a.allocate(16, 8);
            MemorySegment buf = a.allocate((long) SIGINFO_SIZE * batch, 8);
            long off = 0;
            while (true) {
                args.set(ValueLayout.JAVA_LONG, 0, off);
                args.set(ValueLayout.JAVA_INT, 8, shared ? 1 : 0);
                args.set(ValueLayout.JAVA_INT, 12, batch);
                long n = ptrace("PTRACE_PEEKSIGINFO", PTRACE_PEEKSIGINFO, tid, args.address(), buf.address());
                for (int i = 0; i < n; i++) {
                    out.add(buf.asSlice((long) i * SIGINFO_SIZE, SIGINFO_SIZE).toArray(ValueLayout.JAVA_BYTE));
                }
                if (n < batch) return out;
                off += n;
            }
        }
    }

    /** si_signo of the siginfo of the stop the tracee is in (PTRACE_GETSIGINFO): for a group stop, the signal that stopped it. */
    public int stopSigno(int tid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(SIGINFO_SIZE, 8);
            ptrace("PTRACE_GETSIGINFO", 0x4202, tid, 0, m.address());
            return m.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** The maximum size of a BPF program (BPF_MAXINSNS instructions of 8 bytes). */
    private static final int BPF_MAX_BYTES = 4096 * 8;

    /**
     * Seccomp filter {@code index} of the thread (0 the oldest), as its raw instructions, or
     * null past the oldest (ENOENT). Needs CAP_SYS_ADMIN and a tracer outside seccomp.
     */
    public byte[] seccompFilter(int tid, int index) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(BPF_MAX_BYTES, 8);
            long n;
            try {
                n = ptrace("PTRACE_SECCOMP_GET_FILTER(" + index + ")", PTRACE_SECCOMP_GET_FILTER, tid, index, buf.address());
            } catch (SysException e) {
                if (e.is(Errno.ENOENT)) return null;
                throw e;
            }
            return buf.asSlice(0, n * 8).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** The flags of seccomp filter {@code index} (struct seccomp_metadata: filter_off, flags). */
    public long seccompFilterFlags(int tid, int index) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(16, 8);
            m.set(ValueLayout.JAVA_LONG, 0, index);
            ptrace("PTRACE_SECCOMP_GET_METADATA(" + index + ")", PTRACE_SECCOMP_GET_METADATA, tid, 16, m.address());
            return m.get(ValueLayout.JAVA_LONG, 8);
        }
    }

    public RseqConfig getRseqConfig(int tid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(32, 8);
            long n = ptrace("PTRACE_GET_RSEQ_CONFIGURATION", PTRACE_GET_RSEQ_CONFIGURATION, tid, 32, m.address());
            if (n < 20) throw new SysException("PTRACE_GET_RSEQ_CONFIGURATION (short answer " + n + ")", Errno.EIO,
                    "tid " + tid);
            return new RseqConfig(m.get(ValueLayout.JAVA_LONG, 0), m.get(ValueLayout.JAVA_INT, 8),
                    m.get(ValueLayout.JAVA_INT, 12), m.get(ValueLayout.JAVA_INT, 16));
        }
    }

    /** Waits for a state change of {@code tid} (a tracee or a child), from the tracer thread. */
    public WaitStatus waitFor(int tid) {
        checkThread();
        int[] r = Sys.wait4(tid, Sys.WALL);
        return new WaitStatus(r[0], r[1]);
    }

    /** Non-blocking wait: null when nothing has changed. */
    public WaitStatus poll(int tid) {
        checkThread();
        int[] r = Sys.wait4(tid, Sys.WALL | Sys.WNOHANG);
        return r[0] == 0 ? null : new WaitStatus(r[0], r[1]);
    }
}

package jcriu.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The one gateway from Java to the kernel: glibc's {@code syscall(2)} wrapper bound
 * through {@code java.lang.foreign}, with errno captured per call. Every other class
 * reaches native code through here or {@link Spawn}, and sees longs, segments and
 * {@link SysException}.
 */
public final class Sys {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

    private Sys() {}

    static Linker linker() { return LINKER; }

    static StructLayout callState() { return CALL_STATE; }

    static int errnoOf(MemorySegment state) { return (int) ERRNO.get(state, 0L); }

    /** Runs a syscall and returns its result, or {@code -errno} on failure; never throws. */
    public static long raw(int nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long r = (long) SYSCALL.invokeExact(state, (long) nr, a1, a2, a3, a4, a5, a6);
            return r == -1 ? -errnoOf(state) : r;
        } catch (Throwable t) {
            throw new IllegalStateException("native syscall " + nr + " could not be invoked", t);
        }
    }

    /** Runs a syscall and throws {@link SysException} naming {@code what} on failure. */
    public static long call(String what, int nr, long... args) {
        long[] a = new long[6];
        System.arraycopy(args, 0, a, 0, args.length);
        long r = raw(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (r < 0 && r > -4096) {
            throw new SysException(what, (int) -r, null);
        }
        return r;
    }

    /** Same as {@link #call} with a context (typically the target PID) added to the message. */
    public static long callFor(String context, String what, int nr, long... args) {
        try {
            return call(what, nr, args);
        } catch (SysException e) {
            throw new SysException(what, e.errno(), context);
        }
    }

    public static int getpid() { return (int) call("getpid", Nr.GETPID); }

    public static int gettid() { return (int) call("gettid", Nr.GETTID); }

    public static void kill(int pid, int sig) { call("kill(" + pid + ", " + sig + ")", Nr.KILL, pid, sig); }

    public static void tgkill(int tgid, int tid, int sig) {
        call("tgkill(" + tgid + ", " + tid + ", " + sig + ")", Nr.TGKILL, tgid, tid, sig);
    }

    /** prlimit64 on another process: returns {cur, max} and optionally sets new values. */
    public static long[] prlimit(int pid, int resource, long[] newLimit) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(16, 8);
            MemorySegment nw = MemorySegment.NULL;
            if (newLimit != null) {
                nw = arena.allocate(16, 8);
                nw.set(ValueLayout.JAVA_LONG, 0, newLimit[0]);
                nw.set(ValueLayout.JAVA_LONG, 8, newLimit[1]);
            }
            callFor("pid " + pid, "prlimit64(resource " + resource + ")", Nr.PRLIMIT64,
                    pid, resource, nw.address(), old.address());
            return new long[] {old.get(ValueLayout.JAVA_LONG, 0), old.get(ValueLayout.JAVA_LONG, 8)};
        }
    }

    /**
     * process_vm_readv of {@code n} remote ranges into consecutive bytes of {@code local}, in
     * one call; returns the bytes read (short when a range is not readable).
     */
    public static long processVmReadv(int pid, MemorySegment local, long[] addr, long[] len, int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment liov = arena.allocate(16, 8);
            long total = 0;
            for (int i = 0; i < n; i++) total += len[i];
            liov.set(ValueLayout.JAVA_LONG, 0, local.address());
            liov.set(ValueLayout.JAVA_LONG, 8, total);
            MemorySegment riov = arena.allocate(16L * n, 8);
            for (int i = 0; i < n; i++) {
                riov.set(ValueLayout.JAVA_LONG, 16L * i, addr[i]);
                riov.set(ValueLayout.JAVA_LONG, 16L * i + 8, len[i]);
            }
            return callFor("pid " + pid, "process_vm_readv", Nr.PROCESS_VM_READV, pid, liov.address(), 1,
                    riov.address(), n, 0);
        }
    }

    /** clock_gettime in nanoseconds. */
    public static long clockNanos(int clock) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(16, 8);
            call("clock_gettime(" + clock + ")", Nr.CLOCK_GETTIME, clock, ts.address());
            return ts.get(ValueLayout.JAVA_LONG, 0) * 1_000_000_000L + ts.get(ValueLayout.JAVA_LONG, 8);
        }
    }

    /** get_robust_list for any thread we may ptrace: {head, len}. */
    public static long[] getRobustList(int tid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment head = arena.allocate(8, 8);
            MemorySegment len = arena.allocate(8, 8);
            callFor("tid " + tid, "get_robust_list", Nr.GET_ROBUST_LIST, tid, head.address(), len.address());
            return new long[] {head.get(ValueLayout.JAVA_LONG, 0), len.get(ValueLayout.JAVA_LONG, 0)};
        }
    }

    // struct sched_attr (include/uapi/linux/sched/types.h): size u32, policy u32, flags u64,
    // nice s32, priority u32, then runtime/deadline/period u64 and util clamps: 56 bytes.
    private static final int SCHED_ATTR_SIZE = 56;
    private static final long SCHED_FLAG_RESET_ON_FORK = 0x01;

    /** sched_getattr for any thread. */
    public static SchedAttr schedGetattr(int tid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(SCHED_ATTR_SIZE, 8);
            callFor("tid " + tid, "sched_getattr", Nr.SCHED_GETATTR, tid, a.address(), SCHED_ATTR_SIZE, 0);
            return new SchedAttr(a.get(ValueLayout.JAVA_INT, 4),
                    (a.get(ValueLayout.JAVA_LONG, 8) & SCHED_FLAG_RESET_ON_FORK) != 0,
                    a.get(ValueLayout.JAVA_INT, 16), a.get(ValueLayout.JAVA_INT, 20));
        }
    }

    /** sched_setattr for any thread (policy, reset-on-fork, nice, priority; no deadline parameters). */
    public static void schedSetattr(int tid, SchedAttr s) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(SCHED_ATTR_SIZE, 8);
            a.set(ValueLayout.JAVA_INT, 0, SCHED_ATTR_SIZE);
            a.set(ValueLayout.JAVA_INT, 4, s.policy());
            a.set(ValueLayout.JAVA_LONG, 8, s.resetOnFork() ? SCHED_FLAG_RESET_ON_FORK : 0);
            a.set(ValueLayout.JAVA_INT, 16, s.nice());
            a.set(ValueLayout.JAVA_INT, 20, s.priority());
            callFor("tid " + tid, "sched_setattr(" + s + ")", Nr.SCHED_SETATTR, tid, a.address(), 0);
        }
    }

    private static final int IOPRIO_WHO_PROCESS = 1;

    /** ioprio_get(IOPRIO_WHO_PROCESS, tid): the I/O priority of one thread. */
    public static int ioprioGet(int tid) {
        return (int) callFor("tid " + tid, "ioprio_get", Nr.IOPRIO_GET, IOPRIO_WHO_PROCESS, tid);
    }

    public static void ioprioSet(int tid, int prio) {
        callFor("tid " + tid, "ioprio_set(" + Integer.toHexString(prio) + ")", Nr.IOPRIO_SET, IOPRIO_WHO_PROCESS, tid,
                prio);
    }

    private static final int CPU_MASK_BYTES = 1024; // 8192 CPUs

    /** sched_getaffinity for any thread: the mask in 64-bit words, trailing zero words dropped. */
    public static long[] schedGetaffinity(int tid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(CPU_MASK_BYTES, 8);
            long n = callFor("tid " + tid, "sched_getaffinity", Nr.SCHED_GETAFFINITY, tid, CPU_MASK_BYTES, m.address());
            long[] words = m.asSlice(0, n).toArray(ValueLayout.JAVA_LONG);
            int len = words.length;
            while (len > 0 && words[len - 1] == 0) len--;
            return java.util.Arrays.copyOf(words, len);
        }
    }

    public static void schedSetaffinity(int tid, long[] mask) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(8L * Math.max(1, mask.length), 8);
            for (int i = 0; i < mask.length; i++) m.set(ValueLayout.JAVA_LONG, 8L * i, mask[i]);
            callFor("tid " + tid, "sched_setaffinity", Nr.SCHED_SETAFFINITY, tid, 8L * Math.max(1, mask.length),
                    m.address());
        }
    }

    /** The utilization clamps of sched_getattr: {util_min, util_max} (both 0 without CONFIG_UCLAMP_TASK). */
    public static int[] schedUtilClamp(int tid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(SCHED_ATTR_SIZE, 8);
            callFor("tid " + tid, "sched_getattr", Nr.SCHED_GETATTR, tid, a.address(), SCHED_ATTR_SIZE, 0);
            return new int[] {a.get(ValueLayout.JAVA_INT, 48), a.get(ValueLayout.JAVA_INT, 52)};
        }
    }

    /** prctl on the calling process (e.g. PR_SET_CHILD_SUBREAPER). */
    public static long prctl(int option, long a2, long a3, long a4, long a5) {
        return call("prctl(" + option + ")", Nr.PRCTL, option, a2, a3, a4, a5);
    }

    /** memfd_create: an anonymous file, here used to hold the generated restore helper. */
    public static int memfdCreate(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) call("memfd_create", Nr.MEMFD_CREATE, arena.allocateFrom(name).address(), flags);
        }
    }

    public static void write(int fd, byte[] data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_BYTE, data);
            long off = 0;
            while (off < data.length) {
                off += call("write", Nr.WRITE, fd, buf.address() + off, data.length - off);
            }
        }
    }

    public static void close(int fd) { call("close", Nr.CLOSE, fd); }

    /** sync_file_range(SYNC_FILE_RANGE_WRITE) of the whole file: starts its writeback, waits for none of it. */
    public static void startWriteback(int fd) { call("sync_file_range", Nr.SYNC_FILE_RANGE, fd, 0, 0, 2); }

    /** fsync(2). */
    public static void fsync(int fd) { call("fsync", Nr.FSYNC, fd); }

    /**
     * syncfs(2): writes back every dirty page and inode of the file system holding {@code fd}
     * and waits for it; fails with the first writeback error on it not yet reported to a file
     * opened there (Linux 5.8+).
     */
    public static void syncfs(int fd) { call("syncfs", Nr.SYNCFS, fd); }

    /** open(2), for files Java's own API cannot open as wanted (a pipe through /proc/PID/fd/N). */
    public static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) callFor(path, "open", Nr.OPEN, arena.allocateFrom(path).address(), flags, 0);
        }
    }

    /**
     * pwritev(2) of {@code n} ranges of this process's memory, written back to back at
     * {@code offset}; returns the bytes written (short only on a full disk and the like).
     */
    public static long pwritev(int fd, long[] addr, long[] len, int n, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(16L * n, 8);
            for (int i = 0; i < n; i++) {
                iov.set(ValueLayout.JAVA_LONG, 16L * i, addr[i]);
                iov.set(ValueLayout.JAVA_LONG, 16L * i + 8, len[i]);
            }
            return call("pwritev(fd " + fd + ", offset " + offset + ")", Nr.PWRITEV, fd, iov.address(), n, offset, 0);
        }
    }

    /**
     * Private anonymous memory from mmap(2), for large buffers: unlike an Arena's allocation it
     * is not zeroed by a pass over it first (the kernel hands out zero pages as they are touched),
     * and THP is asked for. Freed with {@link #unmap}.
     */
    public static MemorySegment mapAnonymous(long size) {
        long a = call("mmap(" + size + ")", Nr.MMAP, 0, size, 3 /* PROT_READ|PROT_WRITE */,
                0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
        raw(Nr.MADVISE, a, size, 14 /* MADV_HUGEPAGE */, 0, 0, 0); // advice only: failure is harmless
        return MemorySegment.ofAddress(a).reinterpret(size);
    }

    public static void unmap(MemorySegment m) {
        call("munmap", Nr.MUNMAP, m.address(), m.byteSize());
    }

    /** Whether {@code fd} is a terminal (TCGETS succeeds on it). */
    public static boolean isatty(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment termios = arena.allocate(64, 8);
            return raw(Nr.IOCTL, fd, 0x5401 /* TCGETS */, termios.address(), 0, 0, 0) == 0;
        }
    }

    /** fadvise64(2) over the whole file: e.g. POSIX_FADV_DONTNEED (4) drops its clean cached pages. */
    public static void fadvise(int fd, int advice) {
        call("fadvise64(fd " + fd + ", " + advice + ")", Nr.FADVISE64, fd, 0, 0, advice);
    }

    public static final int O_WRONLY = 01, O_CLOEXEC = 02000000, O_NOFOLLOW = 0400000, O_DIRECT = 040000;

    /** One read(2) of at most {@code max} bytes; an empty array at end of file. */
    public static byte[] read(int fd, int max) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(max, 1));
            long n = call("read", Nr.READ, fd, buf.address(), max);
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** One pread64(2) of at most {@code max} bytes at {@code off}; an empty array at end of file. */
    public static byte[] pread(int fd, int max, long off) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(max, 1));
            long n = call("pread64", Nr.PREAD64, fd, buf.address(), max, off);
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** flock(2) on an open fd; -errno (EWOULDBLOCK with LOCK_NB when held elsewhere) instead of throwing. */
    public static long flock(int fd, int op) {
        return raw(Nr.FLOCK, fd, op, 0, 0, 0, 0);
    }

    public static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    public static final int O_RDONLY = 0, O_DIRECTORY = 0200000;

    public static long fcntl(int fd, int cmd, long arg) {
        return call("fcntl(" + fd + ", " + cmd + ")", Nr.FCNTL, fd, cmd, arg);
    }

    public static final int F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030,
            F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032;

    /** mmap(2) of shared anonymous memory in jcriu itself: a new shmem object, reachable through /proc/self/map_files. */
    public static long mmapSharedAnonymous(long size) {
        return call("mmap(MAP_SHARED|MAP_ANONYMOUS, " + size + ")", Nr.MMAP, 0, size, 3 /* PROT_READ|PROT_WRITE */,
                0x01 | 0x20 /* MAP_SHARED|MAP_ANONYMOUS */, -1, 0);
    }

    public static void munmap(long addr, long size) {
        call("munmap", Nr.MUNMAP, addr, size);
    }

    public static long lseek(int fd, long offset, int whence) {
        return call("lseek(" + fd + ")", Nr.LSEEK, fd, offset, whence);
    }

    /**
     * lseek(SEEK_DATA) ({@code data}) or lseek(SEEK_HOLE) from {@code offset}: where the next
     * stretch of data or hole starts, or -1 when no data follows (ENXIO).
     */
    public static long seekDataOrHole(int fd, long offset, boolean data) {
        try {
            return call("lseek(" + fd + (data ? ", SEEK_DATA)" : ", SEEK_HOLE)"), Nr.LSEEK, fd, offset, data ? 3 : 4);
        } catch (SysException e) {
            if (e.errno() == 6 /* ENXIO */) return -1;
            throw e;
        }
    }

    /** kcmp(2): 0 when the two objects are the same, 1/2 for an order between different ones, 3 unordered. */
    public static int kcmp(int pid1, int pid2, int type, long idx1, long idx2) {
        return (int) call("kcmp(" + pid1 + ", " + pid2 + ", " + type + ", " + idx1 + ", " + idx2 + ")", Nr.KCMP, pid1,
                pid2, type, idx1, idx2);
    }

    public static final int KCMP_FILE = 0, KCMP_VM = 1, KCMP_FILES = 2, KCMP_FS = 3, KCMP_SIGHAND = 4;

    /** An ioctl that answers an int (FIONREAD). */
    public static int ioctlInt(int fd, long request) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(4, 4);
            call("ioctl(" + fd + ", " + Long.toHexString(request) + ")", Nr.IOCTL, fd, request, v.address());
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** pipe2(2): {read end, write end}. */
    public static int[] pipe2(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(8, 4);
            call("pipe2", Nr.PIPE2, fds.address(), flags);
            return new int[] {fds.get(ValueLayout.JAVA_INT, 0), fds.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    /** tee(2): copies up to {@code len} bytes between pipes without consuming them; -errno on failure. */
    public static long tee(int in, int out, long len, int flags) {
        return raw(Nr.TEE, in, out, len, flags, 0, 0);
    }

    /** wait4 with the given options: returns {pid, status}; pid 0 with WNOHANG when nothing changed. */
    public static int[] wait4(int pid, int options) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(4, 4);
            while (true) {
                long r = raw(Nr.WAIT4, pid, status.address(), options, 0, 0, 0);
                if (r == -Errno.EINTR) continue;
                if (r < 0) throw new SysException("wait4(" + pid + ")", (int) -r, null);
                return new int[] {(int) r, status.get(ValueLayout.JAVA_INT, 0)};
            }
        }
    }

    public static final int WNOHANG = 1, WUNTRACED = 2, WALL = 0x40000000, WNOTHREAD = 0x20000000;
}

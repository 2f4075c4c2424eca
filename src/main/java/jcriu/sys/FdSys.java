package jcriu.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * System calls on file descriptors of the special kinds (eventfd, timerfd, signalfd, epoll,
 * inotify, pidfd, locks, seals, terminals), with their numbers and constants: what jcriu
 * calls on its own fds when it dumps or remakes them, and what it injects into a restored
 * process. Structs are laid out as in the x86_64 uapi headers.
 */
public final class FdSys {
    private FdSys() {}

    // x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl)
    public static final int NR_FLOCK = 73, NR_MKNODAT = 259, NR_UNLINK = 87, NR_EPOLL_CTL = 233,
            NR_INOTIFY_ADD_WATCH = 254, NR_INOTIFY_RM_WATCH = 255, NR_TIMERFD_CREATE = 283,
            NR_TIMERFD_SETTIME = 286, NR_TIMERFD_GETTIME = 287, NR_SIGNALFD4 = 289, NR_EVENTFD2 = 290,
            NR_EPOLL_CREATE1 = 291, NR_INOTIFY_INIT1 = 294, NR_OPEN_BY_HANDLE_AT = 304, NR_NAME_TO_HANDLE_AT = 303,
            NR_SYMLINKAT = 266, NR_READLINKAT = 267;

    public static final int EPOLL_CTL_ADD = 1;
    /** _IOW('I', 0, int): the wd the next inotify_add_watch gets (CONFIG_CHECKPOINT_RESTORE). */
    public static final long INOTIFY_IOC_SETNEXTWD = 0x40044900L;
    public static final int F_SETLK = 6, F_GETLK = 5, F_SETOWN = 8, F_GETOWN = 9, F_SETSIG = 10, F_GETSIG = 11,
            F_SETOWN_EX = 15, F_GETOWN_EX = 16, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_SETLEASE = 1024, F_GETLEASE = 1025, F_ADD_SEALS = 1033,
            F_GET_SEALS = 1034;
    public static final int F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
    public static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4;
    /** _IOW('T', 0, u64): sets a timerfd's expiration count (CONFIG_CHECKPOINT_RESTORE). */
    public static final long TFD_IOC_SET_TICKS = 0x40085400L;

    /** pidfd_open(2): a pidfd of {@code pid} in jcriu (close-on-exec). */
    public static int pidfdOpen(int pid) {
        return (int) Sys.callFor("pid " + pid, "pidfd_open", Nr.PIDFD_OPEN, pid, 0);
    }

    /** pidfd_open(2) with {@code flags} (PIDFD_NONBLOCK, PIDFD_THREAD): a pidfd of {@code pid} in jcriu. */
    public static int pidfdOpen(int pid, int flags) {
        return (int) Sys.callFor("pid " + pid, "pidfd_open", Nr.PIDFD_OPEN, pid, flags);
    }

    /** pidfd_getfd(2): a new fd of jcriu's on the description behind {@code fd} of the pidfd's process. */
    public static int pidfdGetfd(int pidfd, int fd) {
        return (int) Sys.call("pidfd_getfd(" + fd + ")", Nr.PIDFD_GETFD, pidfd, fd, 0);
    }

    /**
     * kcmp(KCMP_EPOLL_TFD): 0 when fd {@code fd1} of {@code pid1} is the file that epoll
     * {@code efd} of {@code pid2} watches as the {@code toff}-th target registered under fd number
     * {@code tfd}; -errno (EBADF, ENOENT) when there is no such fd or target.
     */
    public static long kcmpEpollTarget(int pid1, int fd1, int pid2, int efd, int tfd, int toff) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment slot = a.allocate(12, 4);
            slot.set(ValueLayout.JAVA_INT, 0, efd);
            slot.set(ValueLayout.JAVA_INT, 4, tfd);
            slot.set(ValueLayout.JAVA_INT, 8, toff);
            return Sys.raw(Nr.KCMP, pid1, pid2, 7 /* KCMP_EPOLL_TFD */, fd1, slot.address(), 0);
        }
    }

    public static int eventfd(int flags) {
        return (int) Sys.call("eventfd2", NR_EVENTFD2, 0, flags);
    }

    public static int timerfdCreate(int clock, int flags) {
        return (int) Sys.call("timerfd_create(clock " + clock + ")", NR_TIMERFD_CREATE, clock, flags);
    }

    /** timerfd_gettime: {value ns, interval ns}; it also accounts for expirations not yet counted. */
    public static long[] timerfdGettime(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment its = a.allocate(32, 8);
            Sys.call("timerfd_gettime", NR_TIMERFD_GETTIME, fd, its.address());
            return new long[] {nanos(its, 16), nanos(its, 0)};
        }
    }

    /** timerfd_settime with {@code value} and {@code interval} in nanoseconds. */
    public static void timerfdSettime(int fd, int flags, long value, long interval) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment its = a.allocate(32, 8);
            putNanos(its, 0, interval);
            putNanos(its, 16, value);
            Sys.call("timerfd_settime", NR_TIMERFD_SETTIME, fd, flags, its.address(), 0);
        }
    }

    public static void timerfdSetTicks(int fd, long ticks) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(8, 8);
            v.set(ValueLayout.JAVA_LONG, 0, ticks);
            Sys.call("ioctl(TFD_IOC_SET_TICKS)", Nr.IOCTL, fd, TFD_IOC_SET_TICKS, v.address());
        }
    }

    public static int signalfd(long mask, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(8, 8);
            m.set(ValueLayout.JAVA_LONG, 0, mask);
            return (int) Sys.call("signalfd4", NR_SIGNALFD4, -1, m.address(), 8, flags);
        }
    }

    public static int epollCreate(int flags) {
        return (int) Sys.call("epoll_create1", NR_EPOLL_CREATE1, flags);
    }

    /** struct epoll_event is packed on x86_64: u32 events, u64 data. */
    public static byte[] epollEvent(int events, long data) {
        return java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(events).putLong(data)
                .array();
    }

    public static int inotifyInit(int flags) {
        return (int) Sys.call("inotify_init1", NR_INOTIFY_INIT1, flags);
    }

    /** inotify_add_watch: the watch descriptor, or -errno. */
    public static long inotifyAddWatch(int fd, String path, int mask) {
        try (Arena a = Arena.ofConfined()) {
            return Sys.raw(NR_INOTIFY_ADD_WATCH, fd, a.allocateFrom(path).address(), mask, 0, 0, 0);
        }
    }

    public static void inotifyRmWatch(int fd, int wd) {
        Sys.call("inotify_rm_watch(" + wd + ")", NR_INOTIFY_RM_WATCH, fd, wd);
    }

    /** open_by_handle_at(mountFd, {bytes, type, handle}, flags): an fd, or -errno. */
    public static long openByHandle(int mountFd, int type, byte[] handle, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fh = a.allocate(8 + handle.length, 8);
            fh.set(ValueLayout.JAVA_INT, 0, handle.length);
            fh.set(ValueLayout.JAVA_INT, 4, type);
            MemorySegment.copy(MemorySegment.ofArray(handle), 0, fh, 8, handle.length);
            return Sys.raw(NR_OPEN_BY_HANDLE_AT, mountFd, fh.address(), flags, 0, 0, 0);
        }
    }

    public static void flock(int fd, int op) {
        Sys.call("flock(" + fd + ", " + op + ")", NR_FLOCK, fd, op);
    }

    /**
     * fcntl with a struct flock (F_SETLK, F_OFD_SETLK, F_GETLK...): {type, whence, start, len,
     * pid} in, the struct as the kernel left it out; or -errno in element 0 of a 1-long array.
     */
    public static long[] fcntlLock(int fd, int cmd, int type, long start, long len, int pid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fl = a.allocate(32, 8);
            fl.set(ValueLayout.JAVA_SHORT, 0, (short) type);
            fl.set(ValueLayout.JAVA_SHORT, 2, (short) 0 /* SEEK_SET */);
            fl.set(ValueLayout.JAVA_LONG, 8, start);
            fl.set(ValueLayout.JAVA_LONG, 16, len);
            fl.set(ValueLayout.JAVA_INT, 24, pid);
            long r = Sys.raw(Nr.FCNTL, fd, cmd, fl.address(), 0, 0, 0);
            if (r < 0) return new long[] {r};
            return new long[] {fl.get(ValueLayout.JAVA_SHORT, 0), fl.get(ValueLayout.JAVA_LONG, 8),
                    fl.get(ValueLayout.JAVA_LONG, 16), fl.get(ValueLayout.JAVA_INT, 24)};
        }
    }

    /** struct flock for injection: l_type, l_whence (SEEK_SET), l_start, l_len, l_pid 0. */
    public static byte[] flockStruct(int type, long start, long len) {
        return java.nio.ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN).putShort((short) type)
                .putShort((short) 0).putInt(0).putLong(start).putLong(len).putInt(0).putInt(0).array();
    }

    public static final int POLLERR = 0x8, POLLHUP = 0x10;

    /** poll(2) of one fd without waiting: its revents. */
    public static int pollNow(int fd, int events) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8, 4);
            p.set(ValueLayout.JAVA_INT, 0, fd);
            p.set(ValueLayout.JAVA_SHORT, 4, (short) events);
            Sys.call("poll(" + fd + ")", 7 /* poll */, p.address(), 1, 0);
            return p.get(ValueLayout.JAVA_SHORT, 6) & 0xffff;
        }
    }

    /** F_GETOWN_EX: {type, pid}. */
    public static int[] getOwnEx(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment o = a.allocate(8, 4);
            Sys.call("fcntl(F_GETOWN_EX)", Nr.FCNTL, fd, F_GETOWN_EX, o.address());
            return new int[] {o.get(ValueLayout.JAVA_INT, 0), o.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    /** F_SETOWN_EX with {type, pid}. */
    public static void setOwnEx(int fd, int type, int pid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment o = a.allocate(8, 4);
            o.set(ValueLayout.JAVA_INT, 0, type);
            o.set(ValueLayout.JAVA_INT, 4, pid);
            Sys.call("fcntl(F_SETOWN_EX, " + pid + ")", Nr.FCNTL, fd, F_SETOWN_EX, o.address());
        }
    }

    /** mknodat(AT_FDCWD, path, mode, 0): a FIFO when mode has S_IFIFO. */
    public static void mknod(String path, int mode) {
        try (Arena a = Arena.ofConfined()) {
            Sys.callFor(path, "mknod", NR_MKNODAT, -100, a.allocateFrom(path).address(), mode, 0);
        }
    }

    /** symlinkat(target, AT_FDCWD, path). */
    public static void symlink(String target, String path) {
        try (Arena a = Arena.ofConfined()) {
            Sys.callFor(path, "symlink", NR_SYMLINKAT, a.allocateFrom(target).address(), -100,
                    a.allocateFrom(path).address());
        }
    }

    /** readlinkat(fd, "", ...): what the symlink that {@code fd} (O_PATH|O_NOFOLLOW) is on points to. */
    public static String readlinkOf(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int max = 4096;
            MemorySegment buf = a.allocate(max);
            long n = Sys.callFor("fd " + fd, "readlinkat", NR_READLINKAT, fd, a.allocateFrom("").address(),
                    buf.address(), max);
            byte[] b = new byte[(int) n];
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, b, 0, b.length);
            return new String(b, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    public static void unlink(String path) {
        try (Arena a = Arena.ofConfined()) {
            Sys.callFor(path, "unlink", NR_UNLINK, a.allocateFrom(path).address());
        }
    }

    /** An ioctl that reads or writes a struct of {@code size} bytes: {@code in} (may be null) in, the struct out. */
    public static byte[] ioctl(int fd, long request, byte[] in, int size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(size, 8), 8);
            if (in != null) MemorySegment.copy(MemorySegment.ofArray(in), 0, buf, 0, in.length);
            Sys.call("ioctl(" + fd + ", " + Long.toHexString(request) + ")", Nr.IOCTL, fd, request, buf.address());
            return buf.asSlice(0, size).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** An ioctl with a plain integer argument. */
    public static long ioctlValue(int fd, long request, long arg) {
        return Sys.call("ioctl(" + fd + ", " + Long.toHexString(request) + ")", Nr.IOCTL, fd, request, arg);
    }

    private static long nanos(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_LONG, off) * 1_000_000_000L + s.get(ValueLayout.JAVA_LONG, off + 8);
    }

    private static void putNanos(MemorySegment s, long off, long ns) {
        s.set(ValueLayout.JAVA_LONG, off, ns / 1_000_000_000L);
        s.set(ValueLayout.JAVA_LONG, off + 8, ns % 1_000_000_000L);
    }
}

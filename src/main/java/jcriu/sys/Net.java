package jcriu.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Socket system calls for jcriu's own use (jcriu creates, binds, connects and fills sockets
 * itself before handing them to a restored process, and reads a dumped one through a copy of
 * its fd). Addresses and option values are raw kernel structs as byte arrays; the callers in
 * {@code jcriu.net} build and parse them.
 */
public final class Net {
    private Net() {}

    // x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl)
    private static final int SOCKET = 41, CONNECT = 42, SENDTO = 44, RECVFROM = 45, SENDMSG = 46, RECVMSG = 47,
            SHUTDOWN = 48, BIND = 49, LISTEN = 50, GETSOCKNAME = 51, GETPEERNAME = 52, SOCKETPAIR = 53,
            SETSOCKOPT = 54, GETSOCKOPT = 55;

    public static final int AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17;
    public static final int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5,
            SOCK_NONBLOCK = 04000, SOCK_CLOEXEC = 02000000;
    public static final int MSG_PEEK = 2, MSG_CTRUNC = 8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;
    public static final int SOL_SOCKET = 1, SOL_IP = 0, SOL_TCP = 6, SOL_UDP = 17, SOL_IPV6 = 41;
    public static final int SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;
    public static final int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;

    /** What recvmsg(2) returned: {@code length} is the real size of a datagram with MSG_TRUNC. */
    public record Received(byte[] data, int length, byte[] name, byte[] control, int flags) {}

    public static int socket(int family, int type, int protocol) {
        return (int) Sys.call("socket(" + family + ", " + type + ", " + protocol + ")", SOCKET, family, type, protocol);
    }

    public static int[] socketpair(int family, int type, int protocol) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8, 4);
            Sys.call("socketpair(" + family + ", " + type + ")", SOCKETPAIR, family, type, protocol, fds.address());
            return new int[] {fds.get(ValueLayout.JAVA_INT, 0), fds.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    public static void bind(int fd, byte[] addr) {
        try (Arena a = Arena.ofConfined()) {
            Sys.call("bind", BIND, fd, bytes(a, addr).address(), addr.length);
        }
    }

    /** connect(2); returns 0 or -errno (EINPROGRESS on a non-blocking socket is for the caller to judge). */
    public static long connect(int fd, byte[] addr) {
        try (Arena a = Arena.ofConfined()) {
            return Sys.raw(CONNECT, fd, bytes(a, addr).address(), addr.length, 0, 0, 0);
        }
    }

    public static void listen(int fd, int backlog) {
        Sys.call("listen(" + backlog + ")", LISTEN, fd, backlog);
    }

    public static void shutdown(int fd, int how) {
        Sys.call("shutdown(" + how + ")", SHUTDOWN, fd, how);
    }

    public static byte[] getsockname(int fd) {
        return name(fd, GETSOCKNAME, "getsockname");
    }

    /** getpeername(2), or null when the socket has no peer (ENOTCONN). */
    public static byte[] getpeername(int fd) {
        try {
            return name(fd, GETPEERNAME, "getpeername");
        } catch (SysException e) {
            if (e.errno() == 107 /* ENOTCONN */) return null;
            throw e;
        }
    }

    private static byte[] name(int fd, int nr, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(128, 8), len = a.allocate(4, 4);
            len.set(ValueLayout.JAVA_INT, 0, 128);
            Sys.call(what, nr, fd, buf.address(), len.address());
            return buf.asSlice(0, Math.min(128, len.get(ValueLayout.JAVA_INT, 0))).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** getsockopt(2) of at most {@code max} bytes; the value as long as the kernel made it. */
    public static byte[] getsockopt(int fd, int level, int opt, int max) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(max, 4), 8), len = a.allocate(4, 4);
            len.set(ValueLayout.JAVA_INT, 0, max);
            Sys.call("getsockopt(" + level + ", " + opt + ")", GETSOCKOPT, fd, level, opt, buf.address(), len.address());
            int n = Math.min(len.get(ValueLayout.JAVA_INT, 0), (int) buf.byteSize()); // SO_GET_FILTER answers a count
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    public static int getsockoptInt(int fd, int level, int opt) {
        byte[] v = getsockopt(fd, level, opt, 4);
        if (v.length < 4) throw new SysException("getsockopt(" + level + ", " + opt + ") gave " + v.length + " bytes", 22, null);
        return java.nio.ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
    }

    public static void setsockopt(int fd, int level, int opt, byte[] value) {
        try (Arena a = Arena.ofConfined()) {
            Sys.call("setsockopt(" + level + ", " + opt + ")", SETSOCKOPT, fd, level, opt, bytes(a, value).address(),
                    value.length);
        }
    }

    public static void setsockoptInt(int fd, int level, int opt, int value) {
        setsockopt(fd, level, opt, java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(0, value).array());
    }

    /**
     * sendmsg(2) of {@code data} with an optional destination ({@code name}) and control
     * messages ({@code control}, cmsghdr structs); returns the bytes sent.
     */
    public static long sendmsg(int fd, byte[] data, byte[] name, byte[] control, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment msg = a.allocate(56, 8), iov = a.allocate(16, 8);
            MemorySegment d = bytes(a, data);
            iov.set(ValueLayout.JAVA_LONG, 0, d.address());
            iov.set(ValueLayout.JAVA_LONG, 8, data.length);
            if (name != null && name.length > 0) {
                msg.set(ValueLayout.JAVA_LONG, 0, bytes(a, name).address());
                msg.set(ValueLayout.JAVA_INT, 8, name.length);
            }
            msg.set(ValueLayout.JAVA_LONG, 16, iov.address());
            msg.set(ValueLayout.JAVA_LONG, 24, 1);
            if (control != null && control.length > 0) {
                msg.set(ValueLayout.JAVA_LONG, 32, bytes(a, control).address());
                msg.set(ValueLayout.JAVA_LONG, 40, control.length);
            }
            return Sys.call("sendmsg(" + data.length + " bytes)", SENDMSG, fd, msg.address(), flags);
        }
    }

    /**
     * Buffers for repeated recvmsg(2) calls (a queue read message after message), allocated
     * once rather than per call.
     */
    public static final class Buffer implements AutoCloseable {
        private final Arena arena = Arena.ofConfined();
        private final int max, maxControl;
        private final MemorySegment msg, iov, data, name, ctl;

        public Buffer(int max, int maxControl) {
            this.max = max;
            this.maxControl = maxControl;
            msg = arena.allocate(56, 8);
            iov = arena.allocate(16, 8);
            data = arena.allocate(Math.max(max, 1), 8);
            name = arena.allocate(128, 8);
            ctl = arena.allocate(Math.max(maxControl, 8), 8);
        }

        /** One recvmsg(2); null when it would block (EAGAIN). */
        public Received recvmsg(int fd, int flags) {
            msg.fill((byte) 0);
            iov.set(ValueLayout.JAVA_LONG, 0, data.address());
            iov.set(ValueLayout.JAVA_LONG, 8, max);
            msg.set(ValueLayout.JAVA_LONG, 0, name.address());
            msg.set(ValueLayout.JAVA_INT, 8, 128);
            msg.set(ValueLayout.JAVA_LONG, 16, iov.address());
            msg.set(ValueLayout.JAVA_LONG, 24, 1);
            if (maxControl > 0) {
                msg.set(ValueLayout.JAVA_LONG, 32, ctl.address());
                msg.set(ValueLayout.JAVA_LONG, 40, maxControl);
            }
            long r = Sys.raw(RECVMSG, fd, msg.address(), flags, 0, 0, 0);
            if (r == -Errno.EAGAIN) return null;
            if (r < 0) throw new SysException("recvmsg", (int) -r, null);
            int got = (int) Math.min(r, max);
            int nameLen = Math.min(128, msg.get(ValueLayout.JAVA_INT, 8));
            int ctlLen = maxControl > 0 ? (int) Math.min(maxControl, msg.get(ValueLayout.JAVA_LONG, 40)) : 0;
            return new Received(data.asSlice(0, got).toArray(ValueLayout.JAVA_BYTE), (int) r,
                    name.asSlice(0, nameLen).toArray(ValueLayout.JAVA_BYTE),
                    ctl.asSlice(0, ctlLen).toArray(ValueLayout.JAVA_BYTE), msg.get(ValueLayout.JAVA_INT, 48));
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** send(2) to a connected socket (or a netlink socket's kernel peer); returns the bytes sent. */
    public static long send(int fd, byte[] data, int flags) {
        try (Arena a = Arena.ofConfined()) {
            return Sys.call("send(" + data.length + " bytes)", SENDTO, fd, bytes(a, data).address(), data.length, flags,
                    0, 0);
        }
    }

    /** recv(2) of at most {@code max} bytes; null when it would block. */
    public static byte[] recv(int fd, int max, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(max, 1), 8);
            long r = Sys.raw(RECVFROM, fd, buf.address(), max, flags, 0, 0);
            if (r == -Errno.EAGAIN) return null;
            if (r < 0) throw new SysException("recv", (int) -r, null);
            return buf.asSlice(0, Math.min(r, max)).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * fchmodat2(2) with AT_SYMLINK_NOFOLLOW (Linux 6.6+): the mode of a socket file, which
     * cannot be opened to fchmod it, never through a symlink put in its place.
     */
    public static void chmodNoFollow(String path, int mode) {
        try (Arena a = Arena.ofConfined()) {
            Sys.callFor(path, "fchmodat2", FCHMODAT2, AT_FDCWD, a.allocateFrom(path).address(), mode, AT_SYMLINK_NOFOLLOW);
        }
    }

    private static final int FCHMODAT2 = 452, AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;

    /** pidfd_open(2) + pidfd_getfd(2): jcriu's own copy of fd {@code fd} of process {@code pid}, close-on-exec. */
    public static int copyFd(int pid, int fd) {
        int pidfd = (int) Sys.callFor("pid " + pid, "pidfd_open", Nr.PIDFD_OPEN, pid, 0);
        try {
            return (int) Sys.callFor("pid " + pid, "pidfd_getfd(" + fd + ")", Nr.PIDFD_GETFD, pidfd, fd, 0);
        } finally {
            Sys.close(pidfd);
        }
    }

    private static MemorySegment bytes(Arena a, byte[] b) {
        if (b.length == 0) return a.allocate(8, 8);
        return a.allocateFrom(ValueLayout.JAVA_BYTE, b);
    }
}

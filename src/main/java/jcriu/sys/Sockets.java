package jcriu.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Unix SOCK_SEQPACKET sockets, the transport of CRIU's RPC: every send is one packet and every
 * receive returns one whole packet, so messages need no framing. Descriptors are plain ints
 * (an inherited one for {@code swrk}, a listening one for {@code service}).
 */
public final class Sockets {
    private Sockets() {}

    private static final int AF_UNIX = 1, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1, SO_PEERCRED = 17;
    private static final int MSG_PEEK = 2, MSG_TRUNC = 0x20, MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH_MAX = 108;
    private static final int SHUT_RDWR = 2;

    /** struct sockaddr_un for {@code path}; its length as bind/connect want it. */
    private static long sockaddr(Arena a, MemorySegment sa, String path) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length >= SUN_PATH_MAX) {
            throw new SysException("unix socket path " + path + " (over " + (SUN_PATH_MAX - 1) + " bytes)", Errno.ENAMETOOLONG, null);
        }
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(p, 0, sa, ValueLayout.JAVA_BYTE, 2, p.length);
        return 2 + p.length + 1;
    }

    /** A listening SOCK_SEQPACKET socket bound at {@code path} (which must not exist). */
    public static int listen(String path, int backlog) {
        int fd = (int) Sys.call("socket(AF_UNIX, SOCK_SEQPACKET)", Nr.SOCKET, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(2 + SUN_PATH_MAX, 8);
            long len = sockaddr(a, sa, path);
            Sys.callFor(path, "bind", Nr.BIND, fd, sa.address(), len);
            Sys.callFor(path, "listen", Nr.LISTEN, fd, backlog);
            return fd;
        } catch (RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
    }

    /** The next connection on a listening socket (close-on-exec). */
    public static int accept(int listening) {
        while (true) {
            long r = Sys.raw(Nr.ACCEPT4, listening, 0, 0, SOCK_CLOEXEC, 0, 0);
            if (r == -Errno.EINTR) continue;
            if (r < 0) throw new SysException("accept4", (int) -r, null);
            return (int) r;
        }
    }

    /** A client connection to the SOCK_SEQPACKET socket at {@code path}. */
    public static int connect(String path) {
        int fd = (int) Sys.call("socket(AF_UNIX, SOCK_SEQPACKET)", Nr.SOCKET, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(2 + SUN_PATH_MAX, 8);
            long len = sockaddr(a, sa, path);
            Sys.callFor(path, "connect", Nr.CONNECT, fd, sa.address(), len);
            return fd;
        } catch (RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
    }

    /** A connected SOCK_SEQPACKET pair; with {@code cloexec} false both ends survive exec. */
    public static int[] pair(boolean cloexec) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8, 4);
            Sys.call("socketpair(AF_UNIX, SOCK_SEQPACKET)", Nr.SOCKETPAIR, AF_UNIX,
                    SOCK_SEQPACKET | (cloexec ? SOCK_CLOEXEC : 0), 0, fds.address());
            return new int[] {fds.get(ValueLayout.JAVA_INT, 0), fds.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    /** The next packet, whole; null when the peer has closed its end (or sent an empty packet, as CRIU reads it). */
    public static byte[] receive(int fd) {
        long len = recv(fd, MemorySegment.NULL, 0, MSG_PEEK | MSG_TRUNC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(len, 1));
            long n = recv(fd, buf, len, MSG_TRUNC);
            if (n == 0) return null;
            return buf.asSlice(0, Math.min(n, len)).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private static long recv(int fd, MemorySegment buf, long len, int flags) {
        while (true) {
            long r = Sys.raw(Nr.RECVFROM, fd, buf.address(), len, flags, 0, 0);
            if (r == -Errno.EINTR) continue;
            if (r < 0) throw new SysException("recv", (int) -r, "fd " + fd);
            return r;
        }
    }

    /** Sends one packet (never SIGPIPE: a vanished peer is an EPIPE SysException). */
    public static void send(int fd, byte[] msg) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocateFrom(ValueLayout.JAVA_BYTE, msg.length == 0 ? new byte[1] : msg);
            while (true) {
                long r = Sys.raw(Nr.SENDTO, fd, buf.address(), msg.length, MSG_NOSIGNAL, 0, 0);
                if (r == -Errno.EINTR) continue;
                if (r < 0) throw new SysException("send", (int) -r, "fd " + fd);
                return;
            }
        }
    }

    /** The PID of the process at the other end, as the kernel recorded it at connect or socketpair. */
    public static int peerPid(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cred = a.allocate(12, 4);
            MemorySegment len = a.allocate(4, 4);
            len.set(ValueLayout.JAVA_INT, 0, 12);
            Sys.call("getsockopt(SO_PEERCRED)", Nr.GETSOCKOPT, fd, SOL_SOCKET, SO_PEERCRED, cred.address(), len.address());
            return cred.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** Ends both directions, waking a thread blocked in receive on it. */
    public static void shutdown(int fd) {
        Sys.raw(Nr.SHUTDOWN, fd, SHUT_RDWR, 0, 0, 0, 0);
    }
}

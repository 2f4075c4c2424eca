package jcriu.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jcriu.sys.Net;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * An established TCP connection read and rebuilt with TCP_REPAIR (Linux 3.5+; CRIU's soccr):
 * in repair mode the socket neither sends nor answers anything, its sequence numbers and
 * queues can be read and set, connect() just makes it ESTABLISHED, and close() drops it
 * silently. The peer must not reach it meanwhile: {@link NetworkLock} drops its packets.
 */
final class TcpRepair {
    private static final int TCP_MAXSEG = 2, TCP_INFO = 11, TCP_REPAIR = 19, TCP_REPAIR_QUEUE = 20,
            TCP_QUEUE_SEQ = 21, TCP_REPAIR_OPTIONS = 22, TCP_TIMESTAMP = 24, TCP_REPAIR_WINDOW = 29;
    private static final int TCP_RECV_QUEUE = 1, TCP_SEND_QUEUE = 2;
    private static final int TCPOPT_MAXSEG = 2, TCPOPT_WINDOW = 3, TCPOPT_SACK_PERM = 4, TCPOPT_TIMESTAMP = 8;
    private static final int SIOCINQ = 0x541B, SIOCOUTQ = 0x5411, SIOCOUTQNSD = 0x894B;
    private static final int ENOPROTOOPT = 92;

    private TcpRepair() {}

    static void on(int fd) {
        Net.setsockoptInt(fd, Net.SOL_TCP, TCP_REPAIR, 1);
    }

    /** Leaves repair mode; the kernel sends a window probe, which makes the peer answer with its state. */
    static void off(int fd) {
        Net.setsockoptInt(fd, Net.SOL_TCP, TCP_REPAIR, 0);
    }

    /**
     * The state of a connection already in repair mode, queues read without consuming them (a
     * peek offset the program set, {@code peekOff} >= 0, is moved to 0 for the read and back).
     */
    static TcpStream save(int fd, int peekOff, String what) throws IOException {
        if (peekOff < 0) return save(fd, what);
        Net.setsockoptInt(fd, Net.SOL_SOCKET, SocketOptions.SO_PEEK_OFF, 0);
        try {
            return save(fd, what);
        } finally {
            Net.setsockoptInt(fd, Net.SOL_SOCKET, SocketOptions.SO_PEEK_OFF, peekOff);
        }
    }

    private static TcpStream save(int fd, String what) throws IOException {
        ByteBuffer info = le(Net.getsockopt(fd, Net.SOL_TCP, TCP_INFO, 8));
        int state = info.get(0) & 0xff;
        if (state != InetSocket.TCP_ESTABLISHED) {
            throw new IOException(what + " is in state " + InetSocket.stateName(state) + " now; only ESTABLISHED"
                    + " connections can be saved");
        }
        int outLen = Sys.ioctlInt(fd, SIOCOUTQ), unsent = Sys.ioctlInt(fd, SIOCOUTQNSD), inLen = Sys.ioctlInt(fd, SIOCINQ);
        int options = info.get(5) & 0xff, wscale = info.get(6) & 0xff;
        int mss = Net.getsockoptInt(fd, Net.SOL_TCP, TCP_MAXSEG);
        int ts = (options & TcpStream.TCPI_OPT_TIMESTAMPS) != 0 ? Net.getsockoptInt(fd, Net.SOL_TCP, TCP_TIMESTAMP) : 0;
        int[] window = null;
        try {
            ByteBuffer w = le(Net.getsockopt(fd, Net.SOL_TCP, TCP_REPAIR_WINDOW, 20));
            window = new int[] {w.getInt(0), w.getInt(4), w.getInt(8), w.getInt(12), w.getInt(16)};
        } catch (SysException e) {
            if (e.errno() != ENOPROTOOPT) throw e; // before Linux 4.8
        }
        int[] inSeq = new int[1], outSeq = new int[1];
        byte[] inq = queue(fd, TCP_RECV_QUEUE, inLen, inSeq, what);
        byte[] outq = queue(fd, TCP_SEND_QUEUE, outLen, outSeq, what);
        boolean ws = (options & TcpStream.TCPI_OPT_WSCALE) != 0;
        return new TcpStream(inSeq[0], outSeq[0], unsent, options, ws ? wscale & 0xf : 0, ws ? wscale >> 4 : 0, mss, ts,
                window, inq, outq);
    }

    /** One queue's sequence number and bytes; peeking in repair mode reads the selected queue. */
    private static byte[] queue(int fd, int which, int len, int[] seq, String what) throws IOException {
        Net.setsockoptInt(fd, Net.SOL_TCP, TCP_REPAIR_QUEUE, which);
        seq[0] = Net.getsockoptInt(fd, Net.SOL_TCP, TCP_QUEUE_SEQ);
        if (len == 0) return new byte[0];
        byte[] got = Net.recv(fd, len + 1, Net.MSG_PEEK | Net.MSG_DONTWAIT);
        if (got == null || got.length != len) {
            throw new IOException(what + ": its " + (which == TCP_RECV_QUEUE ? "receive" : "send") + " queue holds "
                    + len + " bytes but " + (got == null ? 0 : got.length) + " could be read");
        }
        return got;
    }

    /**
     * Makes jcriu's new socket {@code fd} the connection {@code s} in repair mode: bound, its
     * sequence numbers set, connected without a handshake, its negotiated options, both queues
     * and its window back. Bytes never sent wait for {@link #release}.
     */
    static void restore(int fd, InetSocket s) throws IOException {
        TcpStream t = s.stream();
        on(fd);
        Net.bind(fd, InetSocket.sockaddr(s.family(), s.src(), s.srcPort()));
        setQueueSeq(fd, TCP_RECV_QUEUE, t.inqSeq() - t.inq().length);
        setQueueSeq(fd, TCP_SEND_QUEUE, t.outqSeq() - t.outq().length);
        long r = Net.connect(fd, InetSocket.sockaddr(s.family(), s.dst(), s.dstPort()));
        if (r < 0) throw new SysException("connect in repair mode", (int) -r, s.describe());
        ByteBuffer opts = le(32);
        int n = 0;
        if ((t.optMask() & TcpStream.TCPI_OPT_SACK) != 0) n = opt(opts, n, TCPOPT_SACK_PERM, 0);
        if ((t.optMask() & TcpStream.TCPI_OPT_WSCALE) != 0) n = opt(opts, n, TCPOPT_WINDOW, t.sndWscale() + (t.rcvWscale() << 16));
        if ((t.optMask() & TcpStream.TCPI_OPT_TIMESTAMPS) != 0) n = opt(opts, n, TCPOPT_TIMESTAMP, 0);
        n = opt(opts, n, TCPOPT_MAXSEG, t.mssClamp());
        Net.setsockopt(fd, Net.SOL_TCP, TCP_REPAIR_OPTIONS, java.util.Arrays.copyOf(opts.array(), 8 * n));
        if ((t.optMask() & TcpStream.TCPI_OPT_TIMESTAMPS) != 0) Net.setsockoptInt(fd, Net.SOL_TCP, TCP_TIMESTAMP, t.timestamp());
        fill(fd, TCP_RECV_QUEUE, t.inq(), t.inq().length, s);
        fill(fd, TCP_SEND_QUEUE, t.outq(), t.outq().length - t.unsentLen(), s);
        if (t.window() != null) {
            ByteBuffer w = le(20);
            for (int i = 0; i < 5; i++) w.putInt(4 * i, t.window()[i]);
            Net.setsockopt(fd, Net.SOL_TCP, TCP_REPAIR_WINDOW, w.array());
        }
    }

    /** Out of repair mode, then the bytes that had never been sent are written as any others. */
    static void release(int fd, InetSocket s) throws IOException {
        off(fd);
        TcpStream t = s.stream();
        if (t.unsentLen() > 0) {
            byte[] rest = java.util.Arrays.copyOfRange(t.outq(), t.outq().length - t.unsentLen(), t.outq().length);
            long sent = Net.send(fd, rest, Net.MSG_DONTWAIT | Net.MSG_NOSIGNAL);
            if (sent != rest.length) {
                throw new IOException(s.describe() + ": only " + sent + " of " + rest.length + " unsent bytes fit again");
            }
        }
    }

    private static int opt(ByteBuffer b, int n, int code, int val) {
        b.putInt(8 * n, code).putInt(8 * n + 4, val);
        return n + 1;
    }

    private static void setQueueSeq(int fd, int queue, int seq) {
        Net.setsockoptInt(fd, Net.SOL_TCP, TCP_REPAIR_QUEUE, queue);
        Net.setsockoptInt(fd, Net.SOL_TCP, TCP_QUEUE_SEQ, seq);
    }

    /** The first {@code len} bytes of {@code data} into one queue; large chunks are halved if the kernel refuses them. */
    private static void fill(int fd, int queue, byte[] data, int len, InetSocket s) throws IOException {
        if (len == 0) return;
        Net.setsockoptInt(fd, Net.SOL_TCP, TCP_REPAIR_QUEUE, queue);
        int off = 0, chunk = len;
        while (off < len) {
            int n = Math.min(chunk, len - off);
            long sent;
            try {
                sent = Net.send(fd, java.util.Arrays.copyOfRange(data, off, off + n), Net.MSG_DONTWAIT | Net.MSG_NOSIGNAL);
            } catch (SysException e) {
                if (chunk > 1024) {
                    chunk /= 2; // a queue restored in repair mode takes one linear buffer per call
                    continue;
                }
                throw new IOException(s.describe() + ": cannot refill its " + (queue == TCP_RECV_QUEUE ? "receive"
                        : "send") + " queue: " + e.getMessage(), e);
            }
            if (sent <= 0) throw new IOException(s.describe() + ": its queue took no bytes");
            off += (int) sent;
        }
        Net.setsockoptInt(fd, Net.SOL_TCP, TCP_REPAIR_QUEUE, 0);
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(java.util.Arrays.copyOf(b, Math.max(b.length, 32))).order(ByteOrder.LITTLE_ENDIAN);
    }
}

package jcriu.net;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcriu.sys.Net;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * The kernel's socket tables through NETLINK_SOCK_DIAG (unix_diag and inet_diag, as {@code ss}
 * and CRIU read them): what a socket is connected to, its queues and names, which no getsockopt
 * tells. Every socket of jcriu's network namespace is listed; callers pick theirs by inode.
 */
public final class SockDiag {
    private static final int NETLINK_SOCK_DIAG = 4, SOCK_DIAG_BY_FAMILY = 20;
    private static final int NLM_F_REQUEST = 1, NLM_F_DUMP = 0x300, NLMSG_ERROR = 2, NLMSG_DONE = 3;
    private static final int UDIAG_SHOW_NAME = 1, UDIAG_SHOW_VFS = 2, UDIAG_SHOW_PEER = 4, UDIAG_SHOW_ICONS = 8,
            UDIAG_SHOW_RQLEN = 0x10;
    private static final int UNIX_DIAG_NAME = 0, UNIX_DIAG_VFS = 1, UNIX_DIAG_PEER = 2, UNIX_DIAG_ICONS = 3,
            UNIX_DIAG_RQLEN = 4, UNIX_DIAG_SHUTDOWN = 6;
    private static final int INET_DIAG_SHUTDOWN = 8, INET_DIAG_SKV6ONLY = 11;
    public static final int IPPROTO_TCP = 6, IPPROTO_UDP = 17;

    private SockDiag() {}

    /**
     * A unix socket. {@code name}: sun_path as bound (a leading 0 for an abstract name), null
     * if unbound; {@code vfsIno}/{@code vfsDev}: the inode of the socket file of a path name (0:
     * none); {@code peer}: the peer's inode (0: none, or a peer already closed); {@code icons}:
     * for a listening socket, the inodes of the clients whose connections wait to be accepted;
     * {@code rqlen}/{@code wqlen}: bytes queued to be read and sent but unread by the peer (a
     * listening socket: connections waiting, and its backlog).
     */
    public record UnixDiag(int ino, int type, int state, byte[] name, int vfsIno, int vfsDev, int peer, int[] icons,
                           int rqlen, int wqlen, int shutdown) {}

    /**
     * An IPv4 or IPv6 socket of one protocol. Addresses are 4 or 16 bytes in network order.
     * {@code rqlen}/{@code wqlen}: for a listening socket, connections waiting to be accepted
     * and its backlog.
     */
    public record InetDiag(int family, int protocol, int state, int srcPort, int dstPort, byte[] src, byte[] dst,
                           int ifindex, int rqlen, int wqlen, int ino, int shutdown, boolean v6only) {}

    /** Every unix socket of the namespace, by inode. */
    public static Map<Integer, UnixDiag> unix() {
        ByteBuffer req = le(24);
        req.put(0, (byte) Net.AF_UNIX);
        req.putInt(4, -1); // all states
        req.putInt(12, UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN);
        req.putInt(16, -1);
        req.putInt(20, -1);
        Map<Integer, UnixDiag> out = new HashMap<>();
        for (ByteBuffer m : query(req.array())) {
            int type = m.get(1) & 0xff, state = m.get(2) & 0xff, ino = m.getInt(4);
            byte[] name = null;
            int vfsIno = 0, vfsDev = 0, peer = 0, rq = 0, wq = 0, shutdown = 0;
            int[] icons = new int[0];
            for (Attr a : attrs(m, 16)) {
                switch (a.type) {
                    case UNIX_DIAG_NAME -> name = a.bytes(m);
                    case UNIX_DIAG_VFS -> {
                        vfsIno = m.getInt(a.at);
                        vfsDev = m.getInt(a.at + 4);
                    }
                    case UNIX_DIAG_PEER -> peer = m.getInt(a.at);
                    case UNIX_DIAG_ICONS -> {
                        icons = new int[a.len / 4];
                        for (int i = 0; i < icons.length; i++) icons[i] = m.getInt(a.at + 4 * i);
                    }
                    case UNIX_DIAG_RQLEN -> {
                        rq = m.getInt(a.at);
                        wq = m.getInt(a.at + 4);
                    }
                    case UNIX_DIAG_SHUTDOWN -> shutdown = m.get(a.at) & 0xff;
                    default -> { }
                }
            }
            out.put(ino, new UnixDiag(ino, type, state, name, vfsIno, vfsDev, peer, icons, rq, wq, shutdown));
        }
        return out;
    }

    /** Every socket of {@code family} (AF_INET, AF_INET6) and {@code protocol} (TCP, UDP), by inode (0 for sockets no fd holds). */
    public static List<InetDiag> inet(int family, int protocol) {
        ByteBuffer req = le(56);
        req.put(0, (byte) family);
        req.put(1, (byte) protocol);
        req.putInt(4, -1); // all states
        req.putInt(48, -1); // no cookie
        req.putInt(52, -1);
        List<InetDiag> out = new ArrayList<>();
        int alen = family == Net.AF_INET ? 4 : 16;
        for (ByteBuffer m : query(req.array())) {
            ByteBuffer be = m.duplicate().order(ByteOrder.BIG_ENDIAN);
            int state = m.get(1) & 0xff;
            int sport = be.getShort(4) & 0xffff, dport = be.getShort(6) & 0xffff;
            byte[] src = new byte[alen], dst = new byte[alen];
            m.get(8, src);
            m.get(24, dst);
            int ifindex = m.getInt(40);
            int rq = m.getInt(56), wq = m.getInt(60), ino = m.getInt(68);
            int shutdown = 0;
            boolean v6only = false;
            for (Attr a : attrs(m, 72)) {
                if (a.type == INET_DIAG_SHUTDOWN) shutdown = m.get(a.at) & 0xff;
                if (a.type == INET_DIAG_SKV6ONLY) v6only = m.get(a.at) != 0;
            }
            out.add(new InetDiag(family, protocol, state, sport, dport, src, dst, ifindex, rq, wq, ino, shutdown, v6only));
        }
        return out;
    }

    /** Every TCP and UDP socket over IPv4 and IPv6 that an fd holds, by inode. */
    public static Map<Integer, InetDiag> inet() {
        Map<Integer, InetDiag> out = new HashMap<>();
        for (int family : new int[] {Net.AF_INET, Net.AF_INET6}) {
            for (int proto : new int[] {IPPROTO_TCP, IPPROTO_UDP}) {
                for (InetDiag d : inet(family, proto)) if (d.ino() != 0) out.put(d.ino(), d);
            }
        }
        return out;
    }

    private record Attr(int type, int at, int len) {
        byte[] bytes(ByteBuffer m) {
            byte[] b = new byte[len];
            m.get(at, b);
            return b;
        }
    }

    private static List<Attr> attrs(ByteBuffer m, int from) {
        List<Attr> out = new ArrayList<>();
        int at = from;
        while (at + 4 <= m.limit()) {
            int len = m.getShort(at) & 0xffff, type = m.getShort(at + 2) & 0x3fff;
            if (len < 4 || at + len > m.limit()) break;
            out.add(new Attr(type, at + 4, len - 4));
            at += (len + 3) & ~3;
        }
        return out;
    }

    /** One dump request; the payloads of the answers (after each nlmsghdr). */
    private static List<ByteBuffer> query(byte[] payload) {
        int fd = Net.socket(Net.AF_NETLINK, Net.SOCK_RAW | Net.SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        try {
            ByteBuffer msg = le(16 + payload.length);
            msg.putInt(0, 16 + payload.length);
            msg.putShort(4, (short) SOCK_DIAG_BY_FAMILY);
            msg.putShort(6, (short) (NLM_F_REQUEST | NLM_F_DUMP));
            msg.putInt(8, 1);
            msg.put(16, payload);
            Net.send(fd, msg.array(), 0);
            List<ByteBuffer> out = new ArrayList<>();
            while (true) {
                byte[] got = Net.recv(fd, 65536, 0);
                if (got == null || got.length == 0) throw new SysException("sock_diag: no answer", 5, null);
                ByteBuffer b = ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN);
                int at = 0;
                while (at + 16 <= got.length) {
                    int len = b.getInt(at), type = b.getShort(at + 4) & 0xffff;
                    if (len < 16 || at + len > got.length) throw new SysException("sock_diag: bad message", 5, null);
                    if (type == NLMSG_DONE) return out;
                    if (type == NLMSG_ERROR) {
                        int err = -b.getInt(at + 16);
                        if (err != 0) throw new SysException("sock_diag", err, null);
                    } else {
                        out.add(ByteBuffer.wrap(Arrays.copyOfRange(got, at + 16, at + len)).order(ByteOrder.LITTLE_ENDIAN));
                    }
                    at += (len + 3) & ~3;
                }
            }
        } finally {
            Sys.close(fd);
        }
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}

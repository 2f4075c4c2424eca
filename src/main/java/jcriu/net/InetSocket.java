package jcriu.net;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import jcriu.image.pb.FownEntry;
import jcriu.image.pb.InetSkEntry;
import jcriu.image.pb.IpOptsEntry;
import jcriu.image.pb.SkShutdown;
import jcriu.image.pb.TcpOptsEntry;
import jcriu.sys.Net;

/**
 * A TCP or UDP socket over IPv4 or IPv6 (CRIU's InetSkEntry). Addresses are 4 or 16 bytes in
 * network order; a port of 0 means unbound (source) or unconnected (destination).
 * {@code stream}: an established connection's TCP_REPAIR state (null when it is restored closed
 * or the socket is not a connection); {@code queue}: datagrams waiting to be read (UDP).
 */
public record InetSocket(int ino, int family, int type, int protocol, int state, byte[] src, int srcPort, byte[] dst,
                         int dstPort, int flags, int backlog, SocketOptions opts, boolean v6only, IpOptions ip,
                         TcpOptions tcpOpts, int shutdown, TcpStream stream, List<QueuedMessage> queue) implements Socket {
    public static final int TCP_ESTABLISHED = 1, TCP_SYN_SENT = 2, TCP_SYN_RECV = 3, TCP_CLOSE = 7, TCP_LISTEN = 10;

    /** IP_TOS, IP_TTL (0: default), IP_FREEBIND, IP_PKTINFO. */
    public record IpOptions(int tos, int ttl, boolean freebind, boolean pktinfo) {}

    /** TCP_NODELAY, TCP_CORK, keepalive tuning (0: the system's default) and TCP_DEFER_ACCEPT (seconds). */
    public record TcpOptions(boolean nodelay, boolean cork, int keepcnt, int keepidle, int keepintvl, int deferAccept) {}

    public InetSocket {
        queue = List.copyOf(queue);
    }

    public boolean tcp() {
        return protocol == SockDiag.IPPROTO_TCP;
    }

    public boolean listening() {
        return state == TCP_LISTEN;
    }

    /** A TCP connection (established or half-closed): what --tcp-established is about. */
    public boolean connection() {
        return tcp() && state != TCP_LISTEN && state != TCP_CLOSE;
    }

    public InetSocket withQueue(List<QueuedMessage> q) {
        return new InetSocket(ino, family, type, protocol, state, src, srcPort, dst, dstPort, flags, backlog, opts,
                v6only, ip, tcpOpts, shutdown, stream, q);
    }

    public InetSocket withStream(TcpStream s) {
        return new InetSocket(ino, family, type, protocol, state, src, srcPort, dst, dstPort, flags, backlog, opts,
                v6only, ip, tcpOpts, shutdown, s, queue);
    }

    static String address(byte[] a, int port) {
        try {
            String h = InetAddress.getByAddress(a).getHostAddress();
            return (a.length == 16 ? "[" + h + "]" : h) + ":" + port;
        } catch (UnknownHostException e) {
            return "?:" + port;
        }
    }

    static String stateName(int state) {
        return switch (state) {
            case 1 -> "ESTABLISHED"; case 2 -> "SYN_SENT"; case 3 -> "SYN_RECV"; case 4 -> "FIN_WAIT1";
            case 5 -> "FIN_WAIT2"; case 6 -> "TIME_WAIT"; case 7 -> "CLOSE"; case 8 -> "CLOSE_WAIT";
            case 9 -> "LAST_ACK"; case 10 -> "LISTEN"; case 11 -> "CLOSING";
            default -> "state " + state;
        };
    }

    @Override
    public String describe() {
        String proto = (tcp() ? "TCP" : "UDP") + (family == Net.AF_INET6 ? "v6" : "");
        String where = address(src, srcPort) + (dstPort != 0 ? " -> " + address(dst, dstPort) : "");
        return proto + " socket:[" + Integer.toUnsignedString(ino) + "] " + (tcp() ? stateName(state) + " " : "") + where;
    }

    /** The sockaddr_in or sockaddr_in6 of an address and port. */
    static byte[] sockaddr(int family, byte[] addr, int port) {
        ByteBuffer b = ByteBuffer.allocate(family == Net.AF_INET ? 16 : 28).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) family);
        b.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) port);
        b.put(family == Net.AF_INET ? 4 : 8, addr);
        return b.array();
    }

    public InetSkEntry encode(int id, FownEntry fown) {
        InetSkEntry.Builder b = InetSkEntry.newBuilder().setId(id).setIno(ino).setFamily(family).setType(type)
                .setProto(protocol).setState(state).setSrcPort(srcPort).setDstPort(dstPort).setFlags(flags)
                .setBacklog(backlog).setFown(fown).setOpts(opts.encode());
        // only when shut down, as CRIU's dump: its restore calls shutdown(2) whenever the field is
        // present, and NONE decodes to an invalid "how" there (EINVAL on a listening socket)
        if ((shutdown & 3) != 0) b.setShutdown(SkShutdown.forNumber(shutdown & 3));
        for (int w : words(src)) b.addSrcAddr(w);
        for (int w : words(dst)) b.addDstAddr(w);
        if (family == Net.AF_INET6) b.setV6Only(v6only);
        IpOptsEntry.Builder io = IpOptsEntry.newBuilder().setFreebind(ip.freebind()).setPktinfo(ip.pktinfo());
        if (ip.tos() != 0) io.setTos(ip.tos());
        if (ip.ttl() != 0) io.setTtl(ip.ttl());
        b.setIpOpts(io);
        if (tcpOpts != null) {
            TcpOptions o = tcpOpts;
            TcpOptsEntry.Builder t = TcpOptsEntry.newBuilder().setNodelay(o.nodelay()).setCork(o.cork());
            if (o.keepcnt() != 0) t.setKeepcnt(o.keepcnt());
            if (o.keepidle() != 0) t.setKeepidle(o.keepidle());
            if (o.keepintvl() != 0) t.setKeepintvl(o.keepintvl());
            if (o.deferAccept() != 0) t.setJcriuDeferAccept(o.deferAccept());
            b.setTcpOpts(t);
        }
        return b.build();
    }

    public static InetSocket decode(InetSkEntry e) {
        IpOptions ip = new IpOptions(e.getIpOpts().getTos(), e.getIpOpts().getTtl(), e.getIpOpts().getFreebind(),
                e.getIpOpts().getPktinfo());
        TcpOptions tcp = e.hasTcpOpts() ? new TcpOptions(e.getTcpOpts().getNodelay(), e.getTcpOpts().getCork(),
                e.getTcpOpts().getKeepcnt(), e.getTcpOpts().getKeepidle(), e.getTcpOpts().getKeepintvl(),
                e.getTcpOpts().getJcriuDeferAccept()) : null;
        int len = e.getFamily() == Net.AF_INET ? 4 : 16;
        return new InetSocket(e.getIno(), e.getFamily(), e.getType(), e.getProto(), e.getState(),
                bytes(e.getSrcAddrList(), len), e.getSrcPort(), bytes(e.getDstAddrList(), len), e.getDstPort(),
                e.getFlags(), e.getBacklog(), SocketOptions.decode(e.getOpts()), e.getV6Only(), ip, tcp,
                e.getShutdown().getNumber(), null, List.of());
    }

    /** CRIU keeps addresses as u32 words in network order, i.e. the bytes read as little-endian words here. */
    private static int[] words(byte[] a) {
        ByteBuffer b = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
        int[] w = new int[a.length / 4];
        for (int i = 0; i < w.length; i++) w[i] = b.getInt(4 * i);
        return w;
    }

    private static byte[] bytes(List<Integer> words, int len) {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < Math.min(words.size(), len / 4); i++) b.putInt(4 * i, words.get(i));
        return b.array();
    }
}

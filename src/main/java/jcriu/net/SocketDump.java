package jcriu.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jcriu.api.Log;
import jcriu.proc.FdInfo;
import jcriu.sys.Net;
import jcriu.sys.SysException;

/**
 * Reads the sockets of a frozen tree, through jcriu's own copies of their fds (pidfd_getfd):
 * identity, peers and queues from sock_diag, options by getsockopt, queued messages by
 * peeking, established TCP connections through TCP_REPAIR behind a {@link NetworkLock}. What
 * cannot be restored is refused, naming the fd. Closing it undoes what the dump did to the
 * sockets (repair mode, the network lock) unless {@link #finish} took over.
 */
public final class SocketDump implements AutoCloseable {
    private static final int SO_TYPE = 3, SO_PROTOCOL = 38, IPV6_V6ONLY = 26, IP_TOS = 1, IP_TTL = 2, IP_PKTINFO = 8,
            IP_FREEBIND = 15, TCP_NODELAY = 1, TCP_CORK = 3, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6,
            TCP_DEFER_ACCEPT = 9, TCP_INFO = 11;

    /**
     * {@code extUnixSk}: a unix socket may be connected to a socket outside the tree (CRIU's
     * --ext-unix-sk): a datagram socket to a named one, a connection dumped as external; {@code tcpEstablished}: established TCP connections are saved
     * (--tcp-established); {@code tcpClose}: they are restored closed instead (--tcp-close);
     * {@code skipInFlight}: connections not accepted yet are dropped (--skip-in-flight);
     * {@code leaveRunning}: the processes go on, so nothing is locked for longer than the dump;
     * {@code lock}: the method and run id the inventory records, which name the lock.
     */
    public record Options(boolean extUnixSk, boolean tcpEstablished, boolean tcpClose, boolean skipInFlight,
                          boolean leaveRunning, LockInventory.Written lock) {}

    /** Gives an fd in flight, now jcriu's, to the dump's file table; answers its file id. */
    public interface InFlight {
        int fileId(int jcriuFd) throws IOException;
    }

    private final Options opts;
    private final Log log;
    private final NetworkLock lock;
    private Map<Integer, SockDiag.UnixDiag> unixTable;
    private Map<Integer, Integer> inflightClients; // client ino -> listening socket ino
    private Map<Integer, SockDiag.InetDiag> inetTable;
    /** jcriu's copies of the sockets' fds, by inode: kept until the end so that repair mode can be undone. */
    private final Map<Integer, Integer> copies = new LinkedHashMap<>();
    private final Map<Integer, Socket> saved = new LinkedHashMap<>();
    private final Map<Integer, String> where = new HashMap<>();
    private final Set<Integer> repaired = new HashSet<>();
    private final Set<Integer> saving = new HashSet<>();
    private boolean finished;

    public SocketDump(Options opts, Log log) {
        this.opts = opts;
        this.log = log;
        this.lock = new NetworkLock(opts.lock().table(), log);
    }

    /** The socket behind fd {@code fd} of process {@code pid}, or a refusal naming it. */
    public Socket save(int pid, FdInfo fd, InFlight inFlight) throws IOException {
        String what = "fd " + fd.fd() + " of process " + pid;
        int ino = (int) fd.ino();
        if (!saving.add(ino)) throw new IOException(what + ": socket:[" + ino + "] is in flight in its own queue");
        try {
            int copy = Net.copyFd(pid, fd.fd());
            copies.put(ino, copy);
            int family = Net.getsockoptInt(copy, Net.SOL_SOCKET, SocketOptions.SO_DOMAIN);
            Socket s = switch (family) {
                case Net.AF_UNIX -> unix(copy, ino, fd.flags() & ~FdInfo.O_CLOEXEC, what, inFlight);
                case Net.AF_INET, Net.AF_INET6 -> inet(copy, ino, family, fd.flags() & ~FdInfo.O_CLOEXEC, what);
                case Net.AF_NETLINK -> throw new IOException(what + " is a netlink socket (protocol "
                        + Net.getsockoptInt(copy, Net.SOL_SOCKET, SO_PROTOCOL) + "); netlink sockets are not supported");
                case Net.AF_PACKET -> throw new IOException(what + " is a packet socket; packet sockets are not supported");
                default -> throw new IOException(what + " is a socket of address family " + family + ", which jcriu"
                        + " does not support");
            };
            saved.put(ino, s);
            where.put(ino, what);
            log.debug(what + ": " + s.describe());
            return s;
        } finally {
            saving.remove(ino);
        }
    }

    // ------------------------------------------------------------------ unix

    private UnixSocket unix(int fd, int ino, int flags, String what, InFlight inFlight) throws IOException {
        SockDiag.UnixDiag d = unixTable().get(ino);
        if (d == null) {
            unixTable = null; // made after the table was read: read it again
            d = unixTable().get(ino);
        }
        if (d == null) throw new IOException(what + ": socket:[" + ino + "] is not in the kernel's unix socket table");
        String desc = what + " (unix socket:[" + ino + "] " + UnixSocket.nameText(d.name()) + ")";
        SocketOptions o = SocketOptions.read(fd, Net.AF_UNIX, desc);
        byte[] name = d.name() == null ? new byte[0] : d.name();
        if (name.length > 0 && name[0] != 0) {
            int end = 0;
            while (end < name.length && name[end] != 0) end++;
            name = java.util.Arrays.copyOf(name, end); // the kernel keeps a path's terminating NUL
        }
        UnixSocket.Perms perms = null;
        boolean deleted = false;
        if (name.length > 0 && name[0] != 0) {
            String path = new String(name, StandardCharsets.UTF_8);
            if (!path.startsWith("/")) {
                throw new IOException(desc + " is bound to the relative path " + path + "; not supported yet");
            }
            try {
                Map<String, Object> a = Files.readAttributes(Path.of(path), "unix:ino,mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
                if (((Long) a.get("ino")).intValue() == d.vfsIno()) {
                    perms = new UnixSocket.Perms((Integer) a.get("mode") & 07777, (Integer) a.get("uid"), (Integer) a.get("gid"));
                } else {
                    deleted = true;
                }
            } catch (NoSuchFileException e) {
                deleted = true;
            }
        }
        int peer = d.peer();
        Integer listener = inflightClients().get(ino);
        if (listener != null && d.state() == UnixSocket.TCP_ESTABLISHED) {
            // connected, not accepted yet: at restore it connects to the listening socket again
            if (d.wqlen() != 0) {
                throw new IOException(desc + " has sent " + d.wqlen() + " bytes on a connection not accepted yet;"
                        + " they cannot be read without accepting it");
            }
            peer = listener;
        }
        SockDiag.UnixDiag p = peer == 0 ? null : unixTable().get(peer);
        byte[] peerName = p != null && p.name() != null ? p.name() : null;
        boolean listening = d.state() == UnixSocket.TCP_LISTEN;
        List<QueuedMessage> queue = List.of();
        if (!listening && (d.rqlen() > 0 || d.type() != Net.SOCK_STREAM)) {
            queue = SocketQueue.peek(fd, true, d.type() == Net.SOCK_STREAM, desc, inFlight::fileId);
        }
        return new UnixSocket(ino, d.type(), d.state(), flags, listening ? d.wqlen() : 0, peer, name, d.shutdown(), o,
                perms, deleted, peerName, listening ? d.icons() : null, queue);
    }

    private Map<Integer, SockDiag.UnixDiag> unixTable() {
        if (unixTable == null) {
            unixTable = SockDiag.unix();
            inflightClients = null;
        }
        return unixTable;
    }

    private Map<Integer, Integer> inflightClients() {
        if (inflightClients == null) {
            inflightClients = new HashMap<>();
            for (SockDiag.UnixDiag d : unixTable().values()) {
                if (d.state() == UnixSocket.TCP_LISTEN) for (int c : d.icons()) if (c != 0) inflightClients.put(c, d.ino());
            }
        }
        return inflightClients;
    }

    // ------------------------------------------------------------------ inet

    private InetSocket inet(int fd, int ino, int family, int flags, String what) throws IOException {
        int type = Net.getsockoptInt(fd, Net.SOL_SOCKET, SO_TYPE), proto = Net.getsockoptInt(fd, Net.SOL_SOCKET, SO_PROTOCOL);
        String fam = family == Net.AF_INET6 ? "IPv6" : "IPv4";
        if (!(type == Net.SOCK_STREAM && proto == SockDiag.IPPROTO_TCP) && !(type == Net.SOCK_DGRAM && proto == SockDiag.IPPROTO_UDP)) {
            throw new IOException(what + " is an " + fam + " socket of type " + type + " and protocol " + proto
                    + "; only TCP and UDP are supported");
        }
        SockDiag.InetDiag d = inetTable().get(ino);
        if (d == null) {
            inetTable = null;
            d = inetTable().get(ino);
        }
        if (d == null) d = unbound(fd, ino, family, proto, what, fam);
        boolean tcp = proto == SockDiag.IPPROTO_TCP;
        String desc = what + " (" + describe(d) + ")";
        SocketOptions o = SocketOptions.read(fd, family, desc);
        boolean v6only = family == Net.AF_INET6 && Net.getsockoptInt(fd, Net.SOL_IPV6, IPV6_V6ONLY) != 0;
        InetSocket.IpOptions ip = family == Net.AF_INET ? new InetSocket.IpOptions(ipInt(fd, IP_TOS), ipInt(fd, IP_TTL),
                ipInt(fd, IP_FREEBIND) != 0, ipInt(fd, IP_PKTINFO) != 0) : new InetSocket.IpOptions(0, 0, false, false);
        InetSocket.TcpOptions t = tcp ? new InetSocket.TcpOptions(tcpInt(fd, TCP_NODELAY) != 0, tcpInt(fd, TCP_CORK) != 0,
                tcpInt(fd, TCP_KEEPCNT), tcpInt(fd, TCP_KEEPIDLE), tcpInt(fd, TCP_KEEPINTVL), tcpInt(fd, TCP_DEFER_ACCEPT)) : null;
        int state = d.state();
        int backlog = 0;
        TcpStream stream = null;
        List<QueuedMessage> queue = List.of();
        if (tcp) {
            switch (state) {
                case InetSocket.TCP_LISTEN -> {
                    if (!opts.leaveRunning()) {
                        // from now on a client's SYN waits for the restore; then no connection can have slipped in
                        lockQuietly(List.of(), List.of(d.srcPort()), List.of(), desc);
                        d = fresh(d);
                    }
                    if (d.rqlen() != 0 && opts.skipInFlight()) {
                        log.warn(desc + ": " + d.rqlen() + " connection(s) waiting to be accepted are dropped"
                                + " (--skip-in-flight); their clients get a reset");
                    } else if (d.rqlen() != 0) {
                        throw new IOException(desc + " has " + d.rqlen() + " connection(s) waiting to be accepted;"
                                + " they cannot be saved (--skip-in-flight drops them)");
                    }
                    backlog = d.wqlen();
                }
                case InetSocket.TCP_CLOSE -> { }
                case InetSocket.TCP_ESTABLISHED -> {
                    if (opts.tcpEstablished()) {
                        lock.lock(List.of(new NetworkLock.Connection(d.src(), d.srcPort(), d.dst(), d.dstPort())),
                                List.of(), List.of());
                        TcpRepair.on(fd);
                        repaired.add(ino);
                        stream = TcpRepair.save(fd, o.peekOff(), desc);
                        log.debug(desc + ": " + stream.inq().length + " bytes received and unread, " + stream.outq().length
                                + " sent and not acknowledged (" + stream.unsentLen() + " never sent)");
                    } else if (!opts.tcpClose()) {
                        throw new IOException(desc + " is an established TCP connection; dump with --tcp-established to"
                                + " keep it (or --tcp-close to restore it closed)");
                    }
                }
                case InetSocket.TCP_SYN_SENT, InetSocket.TCP_SYN_RECV -> throw new IOException(desc
                        + " is a TCP connection being set up (" + InetSocket.stateName(state) + "); try again once it is"
                        + " established");
                default -> {
                    if (!opts.tcpClose()) {
                        throw new IOException(desc + " is a half-closed TCP connection (" + InetSocket.stateName(state)
                                + "); not supported yet (--tcp-close restores it closed)");
                    }
                }
            }
        } else {
            if (d.srcPort() != 0 && !opts.leaveRunning()) lockQuietly(List.of(), List.of(), List.of(d.srcPort()), desc);
            queue = udpQueue(fd, d, desc);
        }
        return new InetSocket(ino, family, type, proto, state, d.src(), d.srcPort(), d.dst(), d.dstPort(), flags, backlog,
                o, v6only, ip, t, d.shutdown(), stream, queue);
    }

    /**
     * A socket made and never bound, connected or listened on (sock_diag lists only hashed
     * ones): what the tables would say of it, closed, with no address. Any other socket
     * missing from them is refused.
     */
    private static SockDiag.InetDiag unbound(int fd, int ino, int family, int proto, String what, String fam)
            throws IOException {
        byte[] name = Net.getsockname(fd);
        boolean noPort = name.length >= 4 && name[2] == 0 && name[3] == 0;
        // tcp_info starts with tcpi_state
        boolean closed = proto != SockDiag.IPPROTO_TCP || Net.getsockopt(fd, SockDiag.IPPROTO_TCP, TCP_INFO, 8)[0]
                == InetSocket.TCP_CLOSE;
        if (!noPort || !closed) {
            throw new IOException(what + ": socket:[" + ino + "] is not in the kernel's " + fam + " tables");
        }
        byte[] any = new byte[family == Net.AF_INET6 ? 16 : 4];
        boolean v6only = family == Net.AF_INET6 && Net.getsockoptInt(fd, Net.SOL_IPV6, IPV6_V6ONLY) != 0;
        return new SockDiag.InetDiag(family, proto, InetSocket.TCP_CLOSE, 0, 0, any, any.clone(), 0, 0, 0, ino, 0, v6only);
    }

    /** Datagrams waiting on a UDP socket, with their senders; dropped with a warning if the kernel cannot peek past the first. */
    private List<QueuedMessage> udpQueue(int fd, SockDiag.InetDiag d, String desc) throws IOException {
        if (d.rqlen() == 0) return List.of();
        try {
            return SocketQueue.peek(fd, false, false, desc, jcriuFd -> {
                throw new IOException(desc + ": a UDP datagram carries file descriptors?");
            });
        } catch (SysException e) {
            if (e.errno() != 95 /* EOPNOTSUPP: no SO_PEEK_OFF */) throw e;
            log.warn(desc + ": " + d.rqlen() + " bytes of datagrams waiting are dropped (this kernel has no SO_PEEK_OFF for UDP)");
            return List.of();
        }
    }

    /** The lock of a listening or UDP port is a courtesy to clients: without nft it is skipped, with a warning. */
    private void lockQuietly(List<NetworkLock.Connection> c, List<Integer> tcp, List<Integer> udp, String desc)
            throws IOException {
        try {
            lock.lock(c, tcp, udp);
        } catch (IOException e) {
            if (!e.getMessage().startsWith("cannot run nft")) throw e;
            log.warn(desc + ": its port is not locked while the process is gone: " + e.getMessage());
        }
    }

    /** The socket as the kernel shows it now. */
    private SockDiag.InetDiag fresh(SockDiag.InetDiag d) {
        for (SockDiag.InetDiag n : SockDiag.inet(d.family(), d.protocol())) if (n.ino() == d.ino()) return n;
        return d;
    }

    private Map<Integer, SockDiag.InetDiag> inetTable() {
        if (inetTable == null) inetTable = SockDiag.inet();
        return inetTable;
    }

    private static String describe(SockDiag.InetDiag d) {
        String proto = (d.protocol() == SockDiag.IPPROTO_TCP ? "TCP" : "UDP") + (d.family() == Net.AF_INET6 ? "v6" : "");
        return proto + " socket:[" + Integer.toUnsignedString(d.ino()) + "] "
                + (d.protocol() == SockDiag.IPPROTO_TCP ? InetSocket.stateName(d.state()) + " " : "")
                + InetSocket.address(d.src(), d.srcPort())
                + (d.dstPort() != 0 ? " -> " + InetSocket.address(d.dst(), d.dstPort()) : "");
    }

    private static int ipInt(int fd, int opt) {
        byte[] v = Net.getsockopt(fd, Net.SOL_IP, opt, 4);
        ByteBuffer b = ByteBuffer.wrap(java.util.Arrays.copyOf(v, 4)).order(ByteOrder.LITTLE_ENDIAN);
        return v.length == 1 ? v[0] & 0xff : b.getInt(0);
    }

    private static int tcpInt(int fd, int opt) {
        return Net.getsockoptInt(fd, Net.SOL_TCP, opt);
    }

    // ------------------------------------------------------------------ tree-wide

    /**
     * Once every socket of the tree is saved: each unix socket's peer must be restorable. A
     * connection to a process outside the tree is dumped as external with --ext-unix-sk (its
     * other end does not come back: the restore takes a socket the user gives with
     * --inherit-fd, as CRIU does); a datagram socket connected to a named socket outside can be
     * connected to it again, with --ext-unix-sk. A listening socket's pending connections whose clients are outside are lost
     * (the restore cannot make them again): that is only warned about.
     */
    public void check() throws IOException {
        for (Socket s : saved.values()) {
            if (!(s instanceof UnixSocket u)) continue;
            String desc = where.get(u.ino()) + " (" + u.describe() + ")";
            if (u.listening()) {
                for (int c : u.icons()) {
                    if (c == 0) {
                        throw new IOException(desc + " has a pending connection whose client has closed it already;"
                                + " what it sent cannot be saved");
                    }
                    if (!saved.containsKey(c)) {
                        log.warn(desc + ": a pending connection from socket:[" + Integer.toUnsignedString(c)
                                + "] outside the dumped processes will be reset");
                    }
                }
                continue;
            }
            if (u.peer() == 0) {
                if (u.connectionOriented() && u.state() == UnixSocket.TCP_ESTABLISHED && u.shutdown() != 3) {
                    throw new IOException(desc + " is connected to a socket that no longer exists");
                }
                continue;
            }
            Socket p = saved.get(u.peer());
            if (p == null) {
                String peer = "socket:[" + Integer.toUnsignedString(u.peer()) + "] "
                        + UnixSocket.nameText(u.peerName()) + ", which no dumped process holds";
                if (u.connectionOriented()) {
                    if (!opts.extUnixSk()) {
                        throw new IOException(desc + " is connected to " + peer + "; dump with --ext-unix-sk to dump it"
                                + " as external (the restore then takes a socket given with --inherit-fd fd[N]:"
                                + u.inheritKey() + ")");
                    }
                    // as an external pipe end: the restore plugs in the socket the user gives for it
                    log.warn(desc + " is connected to " + peer + ": dumped as external; restore with --inherit-fd fd[N]:"
                            + u.inheritKey() + (u.queue().isEmpty() ? "" : " (its " + u.queue().size()
                            + " unread message(s) are not restored: they cannot be put into the socket given then)"));
                    continue;
                }
                if (u.peerName() == null) throw new IOException(desc + " is connected to " + peer + " and has no name");
                if (!opts.extUnixSk()) {
                    throw new IOException(desc + " is connected to " + peer + "; dump with --ext-unix-sk to connect it"
                            + " to that name again at restore");
                }
                continue;
            }
            if (p instanceof UnixSocket pu && pu.peer() != u.ino() && !pu.named()) {
                throw new IOException(desc + " is connected to " + pu.describe() + ", which is connected elsewhere and"
                        + " has no name to connect to again");
            }
        }
    }

    /**
     * The dump is written: with the processes left running, every connection leaves repair
     * mode and the network is unlocked; otherwise the lock stays until the restore, and the
     * connections, still in repair mode, vanish silently when their last fd is closed.
     */
    public void finish() throws IOException {
        if (opts.leaveRunning()) undo();
        finished = true;
    }

    /** Repair mode off (SO_REUSEADDR as it was: leaving repair mode resets it), then the lock removed. */
    private void undo() throws IOException {
        IOException first = null;
        for (int ino : repaired) {
            try {
                int fd = copies.get(ino);
                TcpRepair.off(fd);
                if (saved.get(ino) instanceof InetSocket s && s.opts().reuseaddr()) {
                    Net.setsockoptInt(fd, Net.SOL_SOCKET, SocketOptions.SO_REUSEADDR, 1);
                }
            } catch (SysException e) {
                if (first == null) first = new IOException("socket:[" + ino + "]: cannot leave repair mode: " + e.getMessage(), e);
            }
        }
        repaired.clear();
        try {
            lock.unlock();
        } catch (IOException e) {
            if (first == null) first = e;
        }
        if (first != null) throw first;
    }

    /** Closes jcriu's copies; after a failure, first puts the sockets and the network back as they were. */
    @Override
    public void close() throws IOException {
        try {
            if (!finished) undo();
        } finally {
            for (int fd : copies.values()) SocketQueue.closeQuietly(fd);
            copies.clear();
        }
    }

    /** The lock's method and run id, as the inventory records them. */
    public LockInventory.Written lockRecord() {
        return opts.lock();
    }

    /** Whether this dump locked anything (the restore must unlock it). */
    public boolean locked() {
        return lock.locked();
    }

    /**
     * The peers outside the dumped processes of the tree's unix sockets (after {@link #check}),
     * as CRIU writes them beside the sockets: inode and name.
     */
    public List<UnixSocket> outsidePeers() {
        Map<Integer, UnixSocket> out = new LinkedHashMap<>();
        for (Socket s : saved.values()) {
            if (s instanceof UnixSocket u && !u.listening() && u.peer() != 0 && !saved.containsKey(u.peer())) {
                out.putIfAbsent(u.peer(), UnixSocket.outsidePeer(u.peer(), u.peerName() == null ? new byte[0] : u.peerName()));
            }
        }
        return new ArrayList<>(out.values());
    }

    List<Socket> sockets() {
        return new ArrayList<>(saved.values());
    }
}

package jcriu.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jcriu.api.Log;
import jcriu.sys.Net;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Makes the sockets of a tree again, in jcriu, before any restored process holds them: all of
 * them at once, since they depend on each other (a pair is made by socketpair, a name must be
 * bound before anyone connects to it, a queue is filled through its peer, a pending connection
 * is made by connecting to its listening socket again, in accept() order). Established TCP
 * connections are rebuilt in repair mode and leave it in {@link #finish}, after the network
 * is unlocked. The restored processes then receive jcriu's sockets by pidfd_getfd.
 */
public final class SocketRestore implements AutoCloseable {
    private static final int O_NONBLOCK = 04000, O_ASYNC = 020000, IPV6_V6ONLY = 26, IP_TOS = 1, IP_TTL = 2, IP_PKTINFO = 8, IP_FREEBIND = 15,
            TCP_NODELAY = 1, TCP_CORK = 3, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6, TCP_DEFER_ACCEPT = 9;
    private static final int EINPROGRESS = 115;

    /** The restore's socket flags, as {@link SocketDump.Options}; {@code lock}: the dump's network lock, from its inventory. */
    public record Options(boolean extUnixSk, boolean tcpEstablished, boolean tcpClose, LockInventory.Held lock) {}

    /** jcriu's fd of any file of the dump (a file in flight). */
    public interface Files {
        int fd(int fileId) throws IOException;
    }

    /** jcriu's own fd given with --inherit-fd for a key ({@code socket:[INODE]}); never closed here. */
    public interface Inherited {
        int fd(String key) throws IOException;
    }

    private final Map<Integer, Socket> byId;
    private final Map<Integer, Socket> byIno = new LinkedHashMap<>();
    private final Options opts;
    private final Files files;
    private final Inherited inherited;
    private final Log log;
    /** jcriu's fd of every socket made, by inode. */
    private final Map<Integer, Integer> fds = new HashMap<>();
    /** For a socket made by socketpair, the other end: what its queue is filled through. */
    private final Map<Integer, Integer> otherEnd = new HashMap<>();
    private final List<Integer> temporary = new ArrayList<>();
    private final List<InetSocket> repaired = new ArrayList<>();
    private boolean built, finished;

    /** {@code sockets}: file id to socket, every socket of the images. */
    public SocketRestore(Map<Integer, Socket> sockets, Options opts, Files files, Inherited inherited, Log log) {
        this.byId = Map.copyOf(sockets);
        for (Socket s : sockets.values()) byIno.put(s.ino(), s);
        this.opts = opts;
        this.files = files;
        this.inherited = inherited;
        this.log = log;
    }

    /**
     * Before anything is made: the flags the dump needed are given again (as CRIU asks), and
     * what a restore needs from the machine is there.
     */
    public static void preflight(Map<Integer, Socket> sockets, Options o) throws IOException {
        for (Socket s : sockets.values()) {
            if (s instanceof InetSocket i && i.connection()) {
                if (i.stream() != null && !o.tcpEstablished()) {
                    throw new IOException("the images hold an established TCP connection (" + i.describe()
                            + "): restore with --tcp-established");
                }
                if (i.stream() == null && !o.tcpClose()) {
                    throw new IOException("the images hold a TCP connection to be restored closed (" + i.describe()
                            + "): restore with --tcp-close");
                }
            }
            // a connection to a peer outside is the socket given with --inherit-fd: checked per fd by the caller
            if (s instanceof UnixSocket u && !u.listening() && !u.connectionOriented() && u.peer() != 0 && !sockets.values().stream()
                    .anyMatch(p -> p.ino() == u.peer()) && !o.extUnixSk()) {
                throw new IOException(u.describe() + " is connected to " + UnixSocket.nameText(u.peerName())
                        + " outside the dumped processes: restore with --ext-unix-sk");
            }
        }
        if (o.lock() instanceof LockInventory.Iptables) IptablesUnlock.check(connections(sockets));
    }

    /** The connections a restore rebuilds in repair mode (those a dump locked). */
    private static List<InetSocket> connections(Map<Integer, Socket> sockets) {
        List<InetSocket> conns = new ArrayList<>();
        for (Socket s : sockets.values()) if (s instanceof InetSocket i && i.connection() && i.stream() != null) conns.add(i);
        return conns;
    }

    /** A new fd of jcriu's (close-on-exec) on socket file {@code id}; every socket is made at the first call. */
    public int open(int id) throws IOException {
        if (!built) {
            built = true;
            build();
        }
        Socket s = byId.get(id);
        if (s == null) throw new IOException("file " + id + " is not a socket of the images");
        return (int) Sys.fcntl(fds.get(s.ino()), Sys.F_DUPFD_CLOEXEC, 0);
    }

    private void build() throws IOException {
        List<UnixSocket> unix = new ArrayList<>();
        List<InetSocket> inet = new ArrayList<>();
        for (Socket s : byIno.values()) {
            switch (s) {
                case UnixSocket u -> unix.add(u);
                case InetSocket i -> inet.add(i);
            }
        }
        buildUnix(unix);
        try (Datagrams dgrams = new Datagrams()) {
            for (InetSocket i : inet) buildInet(i, dgrams);
        }
        for (int fd : temporary) Sys.close(fd);
        temporary.clear();
        log.info("sockets made: " + unix.size() + " unix, " + inet.size() + " TCP/UDP (" + repaired.size()
                + " connection(s) in repair mode)");
    }

    // ------------------------------------------------------------------ unix

    private void buildUnix(List<UnixSocket> all) throws IOException {
        List<UnixSocket> unix = new ArrayList<>();
        for (UnixSocket u : all) {
            if (u.external(byIno.values())) {
                // its peer is outside: the socket the user gave is used as it is (its options,
                // queue and peer are the given socket's), only its O_NONBLOCK is the dumped one
                int fd = (int) Sys.fcntl(inherited.fd(u.inheritKey()), Sys.F_DUPFD_CLOEXEC, 0);
                fds.put(u.ino(), fd);
                Sys.fcntl(fd, Sys.F_SETFL, u.flags() & O_NONBLOCK);
                log.info(u.describe() + ": its peer was outside the dumped processes; the socket given with --inherit-fd"
                        + " takes its place");
            } else {
                unix.add(u);
            }
        }
        for (UnixSocket u : unix) {
            if (fds.containsKey(u.ino())) continue;
            int type = u.type() | Net.SOCK_CLOEXEC | Net.SOCK_NONBLOCK;
            UnixSocket p = byIno.get(u.peer()) instanceof UnixSocket x ? x : null;
            if (p != null && p.peer() == u.ino() && !u.listening() && !p.listening() && p.type() == u.type()) {
                int[] sp = Net.socketpair(Net.AF_UNIX, type, 0);
                fds.put(u.ino(), sp[0]);
                fds.put(p.ino(), sp[1]);
                otherEnd.put(u.ino(), sp[1]);
                otherEnd.put(p.ino(), sp[0]);
            } else if (u.peer() == 0 && u.connectionOriented() && u.state() == UnixSocket.TCP_ESTABLISHED) {
                // its peer had closed: a pair whose other end, once it has filled the queue, is closed too
                int[] sp = Net.socketpair(Net.AF_UNIX, type, 0);
                fds.put(u.ino(), sp[0]);
                otherEnd.put(u.ino(), sp[1]);
                temporary.add(sp[1]);
            } else {
                fds.put(u.ino(), Net.socket(Net.AF_UNIX, type, 0));
            }
        }
        for (UnixSocket u : unix) u.opts().apply(fd(u), false);
        for (UnixSocket u : unix) {
            // a connected stream socket's name is its listening socket's, which that one binds
            if (u.named() && !(u.connectionOriented() && u.state() == UnixSocket.TCP_ESTABLISHED)) bind(u);
        }
        for (UnixSocket u : unix) if (u.listening()) Net.listen(fd(u), u.backlog());
        // datagrams first: once a socket is connected, only its peer may send to it
        for (UnixSocket u : unix) if (!u.connectionOriented()) fillDatagrams(u);
        for (UnixSocket u : unix) {
            if (u.connectionOriented() || u.peer() == 0 || otherEnd.containsKey(u.ino())) continue;
            byte[] to = byIno.get(u.peer()) instanceof UnixSocket p ? p.name() : u.peerName();
            if (!(byIno.get(u.peer()) instanceof UnixSocket)) {
                log.info(u.describe() + ": connected again to " + UnixSocket.nameText(to) + " outside the restored processes");
            }
            connect(u, to);
        }
        for (UnixSocket l : unix) {
            if (!l.listening()) continue;
            for (int c : l.icons()) {
                if (byIno.get(c) instanceof UnixSocket client && client.peer() == l.ino()) connect(client, l.name());
            }
        }
        for (UnixSocket u : unix) if (u.connectionOriented()) fillStream(u);
        for (UnixSocket u : unix) {
            if ((u.shutdown() & 3) != 0 && !(u.peer() == 0 && u.connectionOriented() && u.state() == UnixSocket.TCP_ESTABLISHED)) {
                Net.shutdown(fd(u), (u.shutdown() & 3) - 1); // RCV (1) is SHUT_RD, SEND (2) SHUT_WR, both SHUT_RDWR
            }
        }
        for (UnixSocket u : unix) {
            u.opts().finish(fd(u));
            Sys.fcntl(fd(u), Sys.F_SETFL, u.flags() & O_NONBLOCK);
        }
    }

    /**
     * Binds to the socket's name. A path must be free: a socket file left by the dumped
     * process is removed (anything else there is refused); the file gets its owner and mode
     * back, or is removed again if it had been.
     */
    private void bind(UnixSocket u) throws IOException {
        Path path = null;
        if (!u.abstractName()) {
            path = Path.of(new String(u.name(), StandardCharsets.UTF_8));
            if (java.nio.file.Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                Object mode = java.nio.file.Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                if (((Integer) mode & 0170000) != 0140000) {
                    throw new IOException(u.describe() + ": " + path + " exists and is not a socket");
                }
                java.nio.file.Files.delete(path);
            }
        }
        try {
            Net.bind(fd(u), UnixSocket.sockaddr(u.name()));
        } catch (SysException e) {
            throw new IOException(u.describe() + ": cannot bind to " + UnixSocket.nameText(u.name()) + " again: "
                    + e.getMessage(), e);
        }
        if (path == null) return;
        if (u.deleted()) {
            java.nio.file.Files.delete(path);
        } else if (u.perms() != null) {
            java.nio.file.Files.setAttribute(path, "unix:uid", u.perms().uid(), LinkOption.NOFOLLOW_LINKS);
            java.nio.file.Files.setAttribute(path, "unix:gid", u.perms().gid(), LinkOption.NOFOLLOW_LINKS);
            Net.chmodNoFollow(path.toString(), u.perms().mode());
        }
    }

    private void connect(UnixSocket u, byte[] to) throws IOException {
        long r = Net.connect(fd(u), UnixSocket.sockaddr(to));
        if (r < 0) {
            throw new IOException(u.describe() + ": cannot connect to " + UnixSocket.nameText(to) + " again: "
                    + new SysException("connect", (int) -r, null).getMessage());
        }
    }

    /** A stream or seqpacket socket's queue, written by its peer (or by the stand-in for a peer gone). */
    private void fillStream(UnixSocket u) throws IOException {
        if (u.queue().isEmpty()) return;
        Integer from = otherEnd.get(u.ino());
        if (from == null) throw new IOException(u.describe() + ": " + u.queue().size() + " queued messages but no peer to send them");
        for (QueuedMessage m : u.queue()) SocketQueue.send(from, m, null, files::fd, u.describe());
        log.debug(u.describe() + ": " + u.queue().size() + " queued message(s) put back");
    }

    /**
     * A datagram socket's queue: each message sent by the restored socket bound to its
     * sender's name when there is one (so the reader sees the same sender), else through the
     * socket's pair, else from an unnamed socket to its name.
     */
    private void fillDatagrams(UnixSocket u) throws IOException {
        if (u.queue().isEmpty()) return;
        int anon = -1;
        try {
            for (QueuedMessage m : u.queue()) {
                UnixSocket sender = m.from() == null ? null : boundTo(Arrays.copyOfRange(m.from(), 2, m.from().length));
                if (sender != null && sender.ino() != u.ino() && u.named()) {
                    SocketQueue.send(fd(sender), m, UnixSocket.sockaddr(u.name()), files::fd, u.describe());
                } else if (otherEnd.containsKey(u.ino())) {
                    SocketQueue.send(otherEnd.get(u.ino()), m, null, files::fd, u.describe());
                } else if (u.named()) {
                    if (anon < 0) anon = Net.socket(Net.AF_UNIX, Net.SOCK_DGRAM | Net.SOCK_CLOEXEC, 0);
                    SocketQueue.send(anon, m, UnixSocket.sockaddr(u.name()), files::fd, u.describe());
                } else {
                    throw new IOException(u.describe() + ": datagrams are queued on it but it has no name and no pair"
                            + " to send them through");
                }
            }
        } finally {
            if (anon >= 0) Sys.close(anon);
        }
        log.debug(u.describe() + ": " + u.queue().size() + " queued datagram(s) put back");
    }

    /** The restored unix socket bound to {@code sunPath} (as a sockaddr's path bytes), or null. */
    private UnixSocket boundTo(byte[] sunPath) {
        int end = sunPath.length;
        if (end > 0 && sunPath[0] != 0) {
            end = 0;
            while (end < sunPath.length && sunPath[end] != 0) end++;
        }
        byte[] name = Arrays.copyOf(sunPath, end);
        for (Socket s : byIno.values()) {
            if (s instanceof UnixSocket u && u.named() && Arrays.equals(u.name(), name)
                    && !(u.connectionOriented() && u.state() == UnixSocket.TCP_ESTABLISHED)) {
                return u;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ inet

    private void buildInet(InetSocket i, Datagrams dgrams) throws IOException {
        int fd = Net.socket(i.family(), i.type() | Net.SOCK_CLOEXEC | Net.SOCK_NONBLOCK, i.protocol());
        fds.put(i.ino(), fd);
        try {
            if (i.family() == Net.AF_INET6) Net.setsockoptInt(fd, Net.SOL_IPV6, IPV6_V6ONLY, i.v6only() ? 1 : 0);
            i.opts().apply(fd, true); // several sockets may share an address (a listener, its connections)
            if (i.family() == Net.AF_INET) {
                if (i.ip().tos() != 0) Net.setsockoptInt(fd, Net.SOL_IP, IP_TOS, i.ip().tos());
                if (i.ip().ttl() != 0) Net.setsockoptInt(fd, Net.SOL_IP, IP_TTL, i.ip().ttl());
                if (i.ip().freebind()) Net.setsockoptInt(fd, Net.SOL_IP, IP_FREEBIND, 1);
                if (i.ip().pktinfo()) Net.setsockoptInt(fd, Net.SOL_IP, IP_PKTINFO, 1);
            }
            if (i.tcp()) {
                if (i.connection() && i.stream() != null) {
                    TcpRepair.restore(fd, i);
                    repaired.add(i);
                } else if (i.connection()) {
                    log.info(i.describe() + ": restored closed (--tcp-close)");
                } else if (i.srcPort() != 0) {
                    Net.bind(fd, InetSocket.sockaddr(i.family(), i.src(), i.srcPort()));
                }
                if (i.listening()) Net.listen(fd, i.backlog());
                InetSocket.TcpOptions t = i.tcpOpts();
                if (t != null) {
                    if (t.nodelay()) Net.setsockoptInt(fd, Net.SOL_TCP, TCP_NODELAY, 1);
                    if (t.cork()) Net.setsockoptInt(fd, Net.SOL_TCP, TCP_CORK, 1);
                    if (t.keepcnt() != 0) Net.setsockoptInt(fd, Net.SOL_TCP, TCP_KEEPCNT, t.keepcnt());
                    if (t.keepidle() != 0) Net.setsockoptInt(fd, Net.SOL_TCP, TCP_KEEPIDLE, t.keepidle());
                    if (t.keepintvl() != 0) Net.setsockoptInt(fd, Net.SOL_TCP, TCP_KEEPINTVL, t.keepintvl());
                    if (t.deferAccept() != 0) Net.setsockoptInt(fd, Net.SOL_TCP, TCP_DEFER_ACCEPT, t.deferAccept());
                }
            } else {
                if (i.srcPort() != 0) Net.bind(fd, InetSocket.sockaddr(i.family(), i.src(), i.srcPort()));
                for (QueuedMessage m : i.queue()) dgrams.inject(i, m); // before connect(): then only the peer gets in
                if (!i.queue().isEmpty()) log.debug(i.describe() + ": " + i.queue().size() + " datagram(s) put back");
                if (i.dstPort() != 0) {
                    long r = Net.connect(fd, InetSocket.sockaddr(i.family(), i.dst(), i.dstPort()));
                    if (r < 0 && r != -EINPROGRESS) throw new SysException("connect", (int) -r, i.describe());
                }
            }
            if (!repaired.contains(i)) {
                i.opts().finish(fd);
                Sys.fcntl(fd, Sys.F_SETFL, i.flags() & O_NONBLOCK);
            }
        } catch (SysException e) {
            throw new IOException(i.describe() + ": cannot be made again: " + e.getMessage(), e);
        }
    }

    /**
     * Every process holds its sockets now: the network lock of the dump goes (first, as CRIU
     * does, so that what the connections send on leaving repair mode gets through), then the
     * connections leave repair mode and send what had never been sent.
     */
    public void finish() throws IOException {
        if (finished) return;
        finished = true;
        boolean inet = byIno.values().stream().anyMatch(s -> s instanceof InetSocket);
        if (inet || always(opts.lock())) release(opts.lock(), repaired, log);
        for (InetSocket i : repaired) {
            int fd = fds.get(i.ino());
            TcpRepair.release(fd, i);
            i.opts().finish(fd);
            // O_ASYNC stays: the process has set it already, with its owner (files.Owner)
            Sys.fcntl(fd, Sys.F_SETFL, (Sys.fcntl(fd, Sys.F_GETFL, 0) & O_ASYNC) | (i.flags() & O_NONBLOCK));
            log.debug(i.describe() + ": out of repair mode");
        }
    }

    /**
     * After a failed restore, once its processes are gone: the dump's network lock goes too,
     * since nothing will take the saved connections over (their peers learn it, and the ports
     * are free again).
     */
    public static void abandon(Map<Integer, Socket> sockets, Options o, Log log, Throwable failure) {
        if (sockets.values().stream().noneMatch(s -> s instanceof InetSocket) && !always(o.lock())) return;
        try {
            if (release(o.lock(), connections(sockets), log)) {
                log.warn("the restore failed and the network was unlocked: the saved TCP connections are lost");
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** A restore of images without sockets: the table CRIU's dump makes in every case goes. */
    public static void finishWithoutSockets(LockInventory.Held lock, Log log) throws IOException {
        if (always(lock)) release(lock, List.of(), log);
    }

    private static boolean always(LockInventory.Held lock) {
        return lock instanceof LockInventory.Table t && t.always();
    }

    /**
     * Lifts the dump's lock: its nftables table goes (CRIU's or jcriu's; without nft, only an
     * error if connections need it), or CRIU's iptables rules of each connection restored in
     * repair mode. True if something was there.
     */
    public static boolean release(LockInventory.Held lock, List<InetSocket> connections, Log log) throws IOException {
        return switch (lock) {
            case LockInventory.Unlocked u -> false;
            case LockInventory.Iptables ip -> {
                IptablesUnlock.release(connections, log);
                yield !connections.isEmpty();
            }
            case LockInventory.Table t -> {
                try {
                    yield NetworkLock.release(t.name(), log);
                } catch (IOException e) {
                    if (!e.getMessage().startsWith("cannot run nft") || !connections.isEmpty()) throw e;
                    log.debug("no nft to remove a network lock with: " + e.getMessage());
                    yield false;
                }
            }
        };
    }

    private int fd(Socket s) {
        return fds.get(s.ino());
    }

    /** Closes jcriu's fds of the sockets (the restored processes hold their own); a connection still in repair mode vanishes silently. */
    @Override
    public void close() {
        for (int fd : temporary) SocketQueue.closeQuietly(fd);
        for (int fd : fds.values()) SocketQueue.closeQuietly(fd);
        temporary.clear();
        fds.clear();
    }
}

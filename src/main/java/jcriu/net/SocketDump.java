package jcriu.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.HashSet;

import jcriu.api.Log;
import jcriu.proc.FdInfo;
import jcriu.sys.Net;

/**
 * Reads the sockets of a frozen tree, through jcriu's own copies of their fds (pidfd_getfd):
 * identity, peers and queues from sock_diag, options by getsockopt, queued messages by
 * peeking. What cannot be restored is refused, naming the fd.
 */
public final class SocketDump implements AutoCloseable {
    private static final int SO_PROTOCOL = 38;

    /** Gives an fd in flight, now jcriu's, to the dump's file table; answers its file id. */
    public interface InFlight {
        int fileId(int jcriuFd) throws IOException;
    }

    private final NetOptions opts;
    private final Log log;
    private Map<Integer, SockDiag.UnixDiag> unixTable;
    private Map<Integer, Integer> inflightClients; // client ino -> listening socket ino
    /** jcriu's copies of the sockets' fds, by inode, closed when the dump ends. */
    private final Map<Integer, Integer> copies = new LinkedHashMap<>();
    private final Map<Integer, Socket> saved = new LinkedHashMap<>();
    private final Map<Integer, String> where = new HashMap<>();
    private final Set<Integer> saving = new HashSet<>();

    public SocketDump(NetOptions opts, Log log) {
        this.opts = opts;
        this.log = log;
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
                case Net.AF_INET, Net.AF_INET6 -> throw new IOException(what + " is an "
                        + (family == Net.AF_INET ? "IPv4" : "IPv6") + " socket; not supported yet");
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

    // ------------------------------------------------------------------ tree-wide

    /**
     * Once every socket of the tree is saved: each unix socket's peer must be restorable. A
     * connection to a process outside the tree cannot be (its other end would not come back);
     * a datagram socket connected to a named socket outside can be connected to it again, with
     * --ext-unix-sk. A listening socket's pending connections whose clients are outside are lost
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
                    throw new IOException(desc + " is connected to " + peer + "; a connection to another process"
                            + " cannot be restored");
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

    /** The dump is written; nothing to undo. */
    public void finish() {
    }

    /** Closes jcriu's copies of the sockets. */
    @Override
    public void close() {
        for (int fd : copies.values()) SocketQueue.closeQuietly(fd);
        copies.clear();
    }

    List<Socket> sockets() {
        return new ArrayList<>(saved.values());
    }
}

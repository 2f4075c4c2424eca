package jcriu.net;

import java.nio.charset.StandardCharsets;
import java.util.List;

import com.google.protobuf.ByteString;

import jcriu.image.pb.FilePermsEntry;
import jcriu.image.pb.FownEntry;
import jcriu.image.pb.SkShutdown;
import jcriu.image.pb.UnixSkEntry;

/**
 * A unix socket (CRIU's UnixSkEntry). {@code name}: sun_path as bound (a leading 0 byte for an
 * abstract name), empty when unbound; {@code peer}: the inode of the socket it is connected to
 * (for a connection not accepted yet, the listening socket's), 0 for none; {@code shutdown}:
 * the kernel's RCV (1) and SEND (2) bits; {@code perms}: owner and mode of the socket file of a
 * path name; {@code deleted}: that file was unlinked; {@code peerName}: the name of a peer outside
 * the dumped processes, which a restore connects to again (only with --ext-unix-sk);
 * {@code icons}: for a listening socket, its clients whose connections wait to be accepted, in
 * the order accept() would take them; {@code queue}: what waits in its receive queue.
 */
public record UnixSocket(int ino, int type, int state, int flags, int backlog, int peer, byte[] name, int shutdown,
                         SocketOptions opts, Perms perms, boolean deleted, byte[] peerName, int[] icons,
                         List<QueuedMessage> queue) implements Socket {
    public static final int TCP_ESTABLISHED = 1, TCP_CLOSE = 7, TCP_LISTEN = 10;
    static final int USK_EXTERN = 1;

    /** Owner and mode of a socket file. */
    public record Perms(int mode, int uid, int gid) {}

    public UnixSocket {
        name = name == null ? new byte[0] : name.clone();
        icons = icons == null ? new int[0] : icons.clone();
        queue = List.copyOf(queue);
    }

    public boolean named() {
        return name.length > 0;
    }

    public boolean abstractName() {
        return name.length > 0 && name[0] == 0;
    }

    public boolean listening() {
        return state == TCP_LISTEN;
    }

    /** Stream or seqpacket: connections, not datagrams. */
    public boolean connectionOriented() {
        return type != jcriu.sys.Net.SOCK_DGRAM;
    }

    public UnixSocket withPeerName(byte[] n) {
        return new UnixSocket(ino, type, state, flags, backlog, peer, name, shutdown, opts, perms, deleted, n, icons, queue);
    }

    /**
     * The entry CRIU writes for a peer outside the dumped processes (its uflags USK_EXTERN):
     * its inode and name; type and state as CRIU writes them (datagram, listening).
     */
    public static UnixSocket outsidePeer(int ino, byte[] name) {
        SocketOptions none = new SocketOptions(0, 0, 0, 0, 0, false, false, 0, 0, 0, false, false, false, false, false,
                false, false, -1, null, -1);
        return new UnixSocket(ino, jcriu.sys.Net.SOCK_DGRAM, TCP_LISTEN, 0, 0, 0, name, 0, none, null, false, null, null,
                List.of());
    }

    public UnixSocket withQueue(List<QueuedMessage> q) {
        return new UnixSocket(ino, type, state, flags, backlog, peer, name, shutdown, opts, perms, deleted, peerName,
                icons, q);
    }

    /** CRIU's --inherit-fd key of this socket: {@code socket:[INODE]}. */
    public String inheritKey() {
        return "socket:[" + Integer.toUnsignedString(ino) + "]";
    }

    /**
     * A connection (stream or seqpacket, not listening) whose peer is none of {@code all}, the
     * sockets of the images: its other end was outside the dumped processes, so the restore
     * takes the socket given for {@link #inheritKey} with --inherit-fd.
     */
    public boolean external(java.util.Collection<? extends Socket> all) {
        if (!connectionOriented() || listening() || peer == 0) return false;
        for (Socket s : all) if (s.ino() == peer) return false;
        return true;
    }

    /** The name as a reader would write it: a path, or {@code @name} for an abstract one. */
    public static String nameText(byte[] name) {
        if (name == null || name.length == 0) return "(unnamed)";
        if (name[0] == 0) return "@" + new String(name, 1, name.length - 1, StandardCharsets.UTF_8).replace('\0', '@');
        return new String(name, StandardCharsets.UTF_8);
    }

    @Override
    public String describe() {
        String kind = switch (type) {
            case 1 -> "stream";
            case 2 -> "datagram";
            case 5 -> "seqpacket";
            default -> "type " + type;
        };
        String st = switch (state) {
            case TCP_LISTEN -> "listening";
            case TCP_ESTABLISHED -> "connected";
            default -> "unconnected";
        };
        return "unix " + kind + " socket:[" + Integer.toUnsignedString(ino) + "] " + st
                + (named() ? " " + nameText(name) : "");
    }

    /** The sockaddr_un of {@code name}. */
    static byte[] sockaddr(byte[] name) {
        byte[] a = new byte[2 + name.length + (name.length > 0 && name[0] != 0 ? 1 : 0)];
        a[0] = (byte) jcriu.sys.Net.AF_UNIX;
        System.arraycopy(name, 0, a, 2, name.length);
        return a;
    }

    public UnixSkEntry encode(int id, FownEntry fown) {
        UnixSkEntry.Builder b = UnixSkEntry.newBuilder().setId(id).setIno(ino).setType(type).setState(state)
                .setFlags(flags).setUflags(0).setBacklog(backlog).setPeer(peer).setFown(fown).setOpts(opts.encode())
                .setName(ByteString.copyFrom(name));
        // only when shut down, as CRIU's dump: its restore calls shutdown(2) whenever the field is
        // present, and NONE decodes to an invalid "how" there (EINVAL on a listening socket)
        if ((shutdown & 3) != 0) b.setShutdown(SkShutdown.forNumber(shutdown & 3));
        if (perms != null) b.setFilePerms(FilePermsEntry.newBuilder().setMode(perms.mode()).setUid(perms.uid()).setGid(perms.gid()));
        if (deleted) b.setDeleted(true);
        if (peerName != null) b.setJcriuPeerName(ByteString.copyFrom(peerName));
        for (int i : icons) b.addJcriuIcons(i);
        return b.build();
    }

    public static UnixSocket decode(UnixSkEntry e) {
        Perms perms = e.hasFilePerms() ? new Perms(e.getFilePerms().getMode(), e.getFilePerms().getUid(),
                e.getFilePerms().getGid()) : null;
        int[] icons = e.getJcriuIconsList().stream().mapToInt(Integer::intValue).toArray();
        return new UnixSocket(e.getIno(), e.getType(), e.getState(), e.getFlags(), e.getBacklog(), e.getPeer(),
                e.getName().toByteArray(), e.getShutdown().getNumber(), SocketOptions.decode(e.getOpts()), perms,
                e.getDeleted(), e.hasJcriuPeerName() ? e.getJcriuPeerName().toByteArray() : null, icons, List.of());
    }
}

package jcriu.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import jcriu.sys.Net;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Reading a receive queue without consuming it, and filling one again. Reading peeks message
 * after message with SO_PEEK_OFF moving on (both put back as they were afterwards), so a dump
 * that leaves the process running takes nothing from it.
 */
final class SocketQueue {
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** The largest datagram read; a unix datagram is at most its sender's SO_SNDBUF. */
    static final int MAX_DATAGRAM = 4 << 20;
    private static final int STREAM_CHUNK = 1 << 16, CONTROL = 4096;
    private static final int PEEK = Net.MSG_PEEK | Net.MSG_DONTWAIT | MSG_CMSG_CLOEXEC;

    /** Takes an fd in flight, now jcriu's, and answers the file id it gets in the dump. */
    interface InFlight {
        int fileId(int jcriuFd) throws IOException;
    }

    private SocketQueue() {}

    /**
     * Every message queued on the socket behind jcriu's fd {@code fd}. {@code unix}: with the
     * sender's credentials (SO_PASSCRED is set for the read) and fds in flight; {@code stream}:
     * a byte stream, read in chunks that end where the writer's credentials change or after a
     * write that carried fds. Such a chunk may begin with earlier writes of the same writer, and
     * a peek cannot tell where they end (a 1-byte peek reports the fds of the next write too):
     * the fds come back with the whole chunk, so a reader that reads those earlier bytes alone
     * gets them one read early. CRIU's queues have the same limit.
     */
    static List<QueuedMessage> peek(int fd, boolean unix, boolean stream, String what, InFlight inFlight)
            throws IOException {
        int peekOff = Net.getsockoptInt(fd, Net.SOL_SOCKET, SocketOptions.SO_PEEK_OFF);
        int passcred = unix ? Net.getsockoptInt(fd, Net.SOL_SOCKET, SocketOptions.SO_PASSCRED) : 0;
        List<QueuedMessage> out = new ArrayList<>();
        try (Net.Buffer buf = new Net.Buffer(stream ? STREAM_CHUNK : MAX_DATAGRAM, CONTROL)) {
            if (unix) Net.setsockoptInt(fd, Net.SOL_SOCKET, SocketOptions.SO_PASSCRED, 1);
            Net.setsockoptInt(fd, Net.SOL_SOCKET, SocketOptions.SO_PEEK_OFF, 0);
            while (true) {
                Net.Received r = buf.recvmsg(fd, PEEK | (stream ? 0 : Net.MSG_TRUNC));
                if (r == null) break; // nothing more (EAGAIN)
                if (stream && r.length() == 0) break; // the writer is gone: end of the stream
                if (r.length() > r.data().length) {
                    throw new IOException(what + ": a queued datagram of " + r.length() + " bytes is larger than the "
                            + MAX_DATAGRAM + " jcriu reads");
                }
                QueuedMessage m = message(r, !stream, what, inFlight);
                out.add(m);
                if (out.size() > 1_000_000) throw new IOException(what + ": more than a million queued messages");
            }
        } finally {
            Net.setsockoptInt(fd, Net.SOL_SOCKET, SocketOptions.SO_PEEK_OFF, peekOff);
            if (unix) Net.setsockoptInt(fd, Net.SOL_SOCKET, SocketOptions.SO_PASSCRED, passcred);
        }
        return out;
    }

    private static QueuedMessage message(Net.Received r, boolean withSender, String what, InFlight inFlight)
            throws IOException {
        if ((r.flags() & Net.MSG_CTRUNC) != 0) {
            throw new IOException(what + ": the control data of a queued message do not fit in " + CONTROL + " bytes");
        }
        QueuedMessage.Creds creds = null;
        List<Integer> fds = new ArrayList<>();
        ByteBuffer c = ByteBuffer.wrap(r.control()).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + 16 <= r.control().length; ) {
            int len = (int) c.getLong(at), level = c.getInt(at + 8), type = c.getInt(at + 12);
            if (len < 16 || at + len > r.control().length) break;
            if (level == Net.SOL_SOCKET && type == Net.SCM_CREDENTIALS && len >= 28) {
                creds = new QueuedMessage.Creds(c.getInt(at + 16), c.getInt(at + 20), c.getInt(at + 24));
            } else if (level == Net.SOL_SOCKET && type == Net.SCM_RIGHTS) {
                for (int i = at + 16; i + 4 <= at + len; i += 4) fds.add(c.getInt(i));
            }
            at += (len + 7) & ~7;
        }
        int[] ids = new int[fds.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = inFlight.fileId(fds.get(i));
        byte[] from = withSender && r.name().length > 2 ? r.name() : null;
        return new QueuedMessage(r.data(), creds, ids, from);
    }

    /**
     * Sends {@code m} through jcriu's socket {@code fd} (to {@code to}, or its peer when null),
     * with the credentials recorded when the process they name still exists (root may claim
     * any), and its files in flight, which {@code fdOf} opens.
     */
    static void send(int fd, QueuedMessage m, byte[] to, FdOf fdOf, String what) throws IOException {
        byte[] creds = m.creds() == null ? new byte[0] : cmsg(Net.SCM_CREDENTIALS, le(12).putInt(0, m.creds().pid())
                .putInt(4, m.creds().uid()).putInt(8, m.creds().gid()).array());
        byte[] rights = new byte[0];
        if (m.fileIds().length > 0) {
            ByteBuffer b = le(4 * m.fileIds().length);
            for (int i = 0; i < m.fileIds().length; i++) b.putInt(4 * i, fdOf.fd(m.fileIds()[i]));
            rights = cmsg(Net.SCM_RIGHTS, b.array());
        }
        byte[] control = new byte[creds.length + rights.length];
        System.arraycopy(creds, 0, control, 0, creds.length);
        System.arraycopy(rights, 0, control, creds.length, rights.length);
        long n;
        try {
            n = Net.sendmsg(fd, m.data(), to, control, Net.MSG_DONTWAIT | Net.MSG_NOSIGNAL);
        } catch (SysException e) {
            if (e.errno() != 3 /* ESRCH: the sender is gone */ || m.creds() == null) {
                throw new IOException(what + ": cannot queue " + m.data().length + " bytes again: " + e.getMessage(), e);
            }
            n = Net.sendmsg(fd, m.data(), to, rights, Net.MSG_DONTWAIT | Net.MSG_NOSIGNAL);
        }
        if (n != m.data().length) {
            throw new IOException(what + ": only " + n + " of " + m.data().length + " queued bytes could be put back");
        }
    }

    /** jcriu's fd of a file of the dump. */
    interface FdOf {
        int fd(int fileId) throws IOException;
    }

    private static byte[] cmsg(int type, byte[] data) {
        int len = 16 + data.length;
        ByteBuffer b = le((len + 7) & ~7);
        b.putLong(0, len).putInt(8, Net.SOL_SOCKET).putInt(12, type).put(16, data);
        return b.array();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    static void closeQuietly(int fd) {
        try {
            Sys.close(fd);
        } catch (SysException ignored) {
            // already closed
        }
    }
}

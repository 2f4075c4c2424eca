package jcriu.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import jcriu.image.pb.SkOptsEntry;
import jcriu.sys.Net;
import jcriu.sys.SysException;

/**
 * The SOL_SOCKET options of a socket (CRIU's SkOptsEntry, plus SO_PEEK_OFF). Buffer sizes are
 * as getsockopt reports them (twice what was asked), {@code bufLock} tells which of them the
 * program set (so that TCP autotuning stays on for the others), {@code linger} is -1 when off,
 * {@code peekOff} -1 when off.
 */
public record SocketOptions(int sndbuf, int rcvbuf, int bufLock, long sndTimeoutUs, long rcvTimeoutUs,
                            boolean reuseaddr, boolean reuseport, int priority, int rcvlowat, int mark,
                            boolean passcred, boolean passsec, boolean dontroute, boolean noCheck, boolean broadcast,
                            boolean keepalive, boolean oobinline, int linger, String boundDev, int peekOff) {
    static final int SO_REUSEADDR = 2, SO_DONTROUTE = 5, SO_BROADCAST = 6, SO_SNDBUF = 7, SO_RCVBUF = 8,
            SO_KEEPALIVE = 9, SO_OOBINLINE = 10, SO_NO_CHECK = 11, SO_PRIORITY = 12, SO_LINGER = 13,
            SO_REUSEPORT = 15, SO_PASSCRED = 16, SO_RCVLOWAT = 18, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21,
            SO_BINDTODEVICE = 25, SO_GET_FILTER = 26, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33, SO_PASSSEC = 34,
            SO_MARK = 36, SO_DOMAIN = 39, SO_PEEK_OFF = 42, SO_BUF_LOCK = 72;
    private static final int EOPNOTSUPP = 95, ENOPROTOOPT = 92;

    /** The options of the socket behind jcriu's fd {@code fd}; a socket with a BPF filter is refused. */
    static SocketOptions read(int fd, int family, String what) throws IOException {
        // with no room, SO_GET_FILTER answers the number of filter instructions as the length
        if (Net.getsockopt(fd, Net.SOL_SOCKET, SO_GET_FILTER, 0).length != 0) throw new IOException(what + " has a socket filter (SO_ATTACH_FILTER); not supported yet");
        boolean unix = family == Net.AF_UNIX;
        ByteBuffer linger = le(Net.getsockopt(fd, Net.SOL_SOCKET, SO_LINGER, 8));
        byte[] dev = Net.getsockopt(fd, Net.SOL_SOCKET, SO_BINDTODEVICE, 16);
        int devLen = 0;
        while (devLen < dev.length && dev[devLen] != 0) devLen++;
        return new SocketOptions(get(fd, SO_SNDBUF), get(fd, SO_RCVBUF), optional(fd, SO_BUF_LOCK, 0),
                timeout(fd, SO_SNDTIMEO), timeout(fd, SO_RCVTIMEO), get(fd, SO_REUSEADDR) != 0,
                get(fd, SO_REUSEPORT) != 0, get(fd, SO_PRIORITY), get(fd, SO_RCVLOWAT), get(fd, SO_MARK),
                unix && get(fd, SO_PASSCRED) != 0, unix && get(fd, SO_PASSSEC) != 0, get(fd, SO_DONTROUTE) != 0,
                get(fd, SO_NO_CHECK) != 0, get(fd, SO_BROADCAST) != 0, get(fd, SO_KEEPALIVE) != 0,
                get(fd, SO_OOBINLINE) != 0, linger.getInt(0) != 0 ? linger.getInt(4) : -1,
                devLen == 0 ? null : new String(dev, 0, devLen, StandardCharsets.UTF_8), optional(fd, SO_PEEK_OFF, -1));
    }

    private static int get(int fd, int opt) {
        return Net.getsockoptInt(fd, Net.SOL_SOCKET, opt);
    }

    /** An option older kernels or some protocols do not have. */
    private static int optional(int fd, int opt, int otherwise) {
        try {
            return get(fd, opt);
        } catch (SysException e) {
            if (e.errno() == EOPNOTSUPP || e.errno() == ENOPROTOOPT) return otherwise;
            throw e;
        }
    }

    private static long timeout(int fd, int opt) {
        ByteBuffer tv = le(Net.getsockopt(fd, Net.SOL_SOCKET, opt, 16));
        return tv.getLong(0) * 1_000_000L + tv.getLong(8);
    }

    /**
     * Everything but what {@link #finish} sets, on a new socket, before it is bound. {@code reuseaddrNow} overrides SO_REUSEADDR until {@link #finish}: a listening
     * port whose connections linger in TIME_WAIT must be bindable again.
     */
    void apply(int fd, boolean reuseaddrNow) {
        setInt(fd, SO_SNDBUFFORCE, sndbuf / 2);
        setInt(fd, SO_RCVBUFFORCE, rcvbuf / 2);
        if (boundDev != null) Net.setsockopt(fd, Net.SOL_SOCKET, SO_BINDTODEVICE, boundDev.getBytes(StandardCharsets.UTF_8));
        setInt(fd, SO_REUSEADDR, reuseaddr || reuseaddrNow ? 1 : 0);
        if (reuseport) setInt(fd, SO_REUSEPORT, 1);
        if (priority != 0) setInt(fd, SO_PRIORITY, priority);
        if (rcvlowat != 1) setInt(fd, SO_RCVLOWAT, rcvlowat);
        if (mark != 0) setInt(fd, SO_MARK, mark);
        if (dontroute) setInt(fd, SO_DONTROUTE, 1);
        if (noCheck) setInt(fd, SO_NO_CHECK, 1);
        if (broadcast) setInt(fd, SO_BROADCAST, 1);
        if (keepalive) setInt(fd, SO_KEEPALIVE, 1);
        if (oobinline) setInt(fd, SO_OOBINLINE, 1);
        if (linger >= 0) Net.setsockopt(fd, Net.SOL_SOCKET, SO_LINGER, le(8).putInt(0, 1).putInt(4, linger).array());
        if (sndTimeoutUs != 0) Net.setsockopt(fd, Net.SOL_SOCKET, SO_SNDTIMEO, timeval(sndTimeoutUs));
        if (rcvTimeoutUs != 0) Net.setsockopt(fd, Net.SOL_SOCKET, SO_RCVTIMEO, timeval(rcvTimeoutUs));
    }

    /**
     * What waits until the socket is complete: SO_REUSEADDR as it was, which buffer sizes count
     * as the program's own (setting them locked both), the peek offset, and SO_PASSCRED (with
     * it, a unix socket that connects without a name binds an automatic one).
     */
    void finish(int fd) {
        if (passcred) setInt(fd, SO_PASSCRED, 1);
        if (passsec) setInt(fd, SO_PASSSEC, 1);
        setInt(fd, SO_REUSEADDR, reuseaddr ? 1 : 0);
        try {
            setInt(fd, SO_BUF_LOCK, bufLock);
        } catch (SysException e) {
            if (e.errno() != ENOPROTOOPT) throw e; // before Linux 5.14: sizes stay locked, as with CRIU there
        }
        if (peekOff >= 0) setInt(fd, SO_PEEK_OFF, peekOff);
    }

    private static void setInt(int fd, int opt, int v) {
        Net.setsockoptInt(fd, Net.SOL_SOCKET, opt, v);
    }

    private static byte[] timeval(long us) {
        return le(16).putLong(0, us / 1_000_000L).putLong(8, us % 1_000_000L).array();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(java.util.Arrays.copyOf(b, Math.max(b.length, 16))).order(ByteOrder.LITTLE_ENDIAN);
    }

    public SkOptsEntry encode() {
        SkOptsEntry.Builder b = SkOptsEntry.newBuilder().setSoSndbuf(sndbuf).setSoRcvbuf(rcvbuf)
                .setSoSndTmoSec(sndTimeoutUs / 1_000_000L).setSoSndTmoUsec(sndTimeoutUs % 1_000_000L)
                .setSoRcvTmoSec(rcvTimeoutUs / 1_000_000L).setSoRcvTmoUsec(rcvTimeoutUs % 1_000_000L)
                .setReuseaddr(reuseaddr).setSoReuseport(reuseport).setSoPriority(priority).setSoRcvlowat(rcvlowat)
                .setSoPasscred(passcred).setSoPasssec(passsec).setSoDontroute(dontroute).setSoNoCheck(noCheck)
                .setSoBroadcast(broadcast).setSoKeepalive(keepalive).setSoOobinline(oobinline ? 1 : 0)
                .setSoBufLock(bufLock);
        if (mark != 0) b.setSoMark(mark);
        if (linger >= 0) b.setSoLinger(linger);
        if (boundDev != null) b.setSoBoundDev(boundDev);
        if (peekOff >= 0) b.setJcriuPeekOff(peekOff);
        return b.build();
    }

    public static SocketOptions decode(SkOptsEntry e) {
        return new SocketOptions(e.getSoSndbuf(), e.getSoRcvbuf(), e.hasSoBufLock() ? e.getSoBufLock() : 3,
                e.getSoSndTmoSec() * 1_000_000L + e.getSoSndTmoUsec(), e.getSoRcvTmoSec() * 1_000_000L + e.getSoRcvTmoUsec(),
                e.getReuseaddr(), e.getSoReuseport(), e.getSoPriority(), e.hasSoRcvlowat() ? e.getSoRcvlowat() : 1,
                e.getSoMark(), e.getSoPasscred(), e.getSoPasssec(), e.getSoDontroute(), e.getSoNoCheck(),
                e.getSoBroadcast(), e.getSoKeepalive(), e.getSoOobinline() != 0, e.hasSoLinger() ? e.getSoLinger() : -1,
                e.hasSoBoundDev() ? e.getSoBoundDev() : null, e.hasJcriuPeekOff() ? e.getJcriuPeekOff() : -1);
    }
}

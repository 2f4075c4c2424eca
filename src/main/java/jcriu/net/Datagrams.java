package jcriu.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import jcriu.sys.Net;
import jcriu.sys.Sys;

/**
 * Puts a UDP datagram back into a restored socket's receive queue with its original sender:
 * jcriu writes the IP and UDP headers itself on a raw socket (IPPROTO_RAW, which may name any
 * source address) and sends the packet to the socket's own address, through loopback. The
 * packet carries {@link NetworkLock#MARK}, which the lock lets through.
 */
final class Datagrams implements AutoCloseable {
    private static final int IPPROTO_RAW = 255, IPPROTO_UDP = 17, SO_MARK = 36;
    private int raw4 = -1, raw6 = -1;

    /** Queues {@code m} (whose sender is {@code m.from()}, a sockaddr) on socket {@code s}. */
    void inject(InetSocket s, QueuedMessage m) throws IOException {
        if (m.from() == null || m.from().length < 8) throw new IOException(s.describe() + ": a queued datagram has no sender");
        ByteBuffer from = ByteBuffer.wrap(m.from()).order(ByteOrder.LITTLE_ENDIAN);
        int fam = from.getShort(0) & 0xffff;
        int sport = Short.toUnsignedInt(ByteBuffer.wrap(m.from()).order(ByteOrder.BIG_ENDIAN).getShort(2));
        byte[] src = fam == Net.AF_INET ? Arrays.copyOfRange(m.from(), 4, 8) : Arrays.copyOfRange(m.from(), 8, 24);
        byte[] dst = s.src();
        if (src.length == 16 && mappedV4(src)) src = Arrays.copyOfRange(src, 12, 16);
        if (src.length == 4 && dst.length == 16) dst = mappedV4(dst) ? Arrays.copyOfRange(dst, 12, 16) : new byte[4];
        if (allZero(dst)) dst = loopback(dst.length); // bound to the wildcard address: any local address reaches it
        if (src.length == 4) {
            send4(src, sport, dst, s.srcPort(), m.data());
        } else {
            send6(src, sport, dst, s.srcPort(), m.data());
        }
    }

    private void send4(byte[] src, int sport, byte[] dst, int dport, byte[] data) {
        if (raw4 < 0) raw4 = rawSocket(Net.AF_INET);
        ByteBuffer p = ByteBuffer.allocate(28 + data.length).order(ByteOrder.BIG_ENDIAN);
        p.put(0, (byte) 0x45).putShort(2, (short) (28 + data.length)).put(8, (byte) 64).put(9, (byte) IPPROTO_UDP)
                .put(12, src).put(16, dst); // the kernel fills in the IP id and checksum
        p.putShort(20, (short) sport).putShort(22, (short) dport).putShort(24, (short) (8 + data.length)).put(28, data);
        Net.sendmsg(raw4, p.array(), InetSocket.sockaddr(Net.AF_INET, dst, 0), null, 0);
    }

    private void send6(byte[] src, int sport, byte[] dst, int dport, byte[] data) {
        if (raw6 < 0) raw6 = rawSocket(Net.AF_INET6);
        int ulen = 8 + data.length;
        ByteBuffer p = ByteBuffer.allocate(40 + ulen).order(ByteOrder.BIG_ENDIAN);
        p.putInt(0, 6 << 28).putShort(4, (short) ulen).put(6, (byte) IPPROTO_UDP).put(7, (byte) 64).put(8, src).put(24, dst);
        p.putShort(40, (short) sport).putShort(42, (short) dport).putShort(44, (short) ulen).put(48, data);
        // UDP over IPv6 must carry a checksum: over the pseudo-header and the datagram
        long sum = 0;
        for (int i = 8; i < 40; i += 2) sum += p.getShort(i) & 0xffff;
        sum += ulen + IPPROTO_UDP;
        for (int i = 40; i < 40 + ulen; i += 2) {
            sum += i + 1 < 40 + ulen ? p.getShort(i) & 0xffff : (p.get(i) & 0xff) << 8;
        }
        while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
        int c = (int) (~sum & 0xffff);
        p.putShort(46, (short) (c == 0 ? 0xffff : c));
        Net.sendmsg(raw6, p.array(), InetSocket.sockaddr(Net.AF_INET6, dst, 0), null, 0);
    }

    private static int rawSocket(int family) {
        int fd = Net.socket(family, Net.SOCK_RAW | Net.SOCK_CLOEXEC, IPPROTO_RAW);
        Net.setsockoptInt(fd, Net.SOL_SOCKET, SO_MARK, NetworkLock.MARK);
        return fd;
    }

    private static boolean mappedV4(byte[] a) {
        for (int i = 0; i < 10; i++) if (a[i] != 0) return false;
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    private static boolean allZero(byte[] a) {
        for (byte b : a) if (b != 0) return false;
        return true;
    }

    private static byte[] loopback(int len) {
        byte[] a = new byte[len];
        if (len == 4) {
            a[0] = 127;
            a[3] = 1;
        } else {
            a[15] = 1;
        }
        return a;
    }

    @Override
    public void close() {
        if (raw4 >= 0) Sys.close(raw4);
        if (raw6 >= 0) Sys.close(raw6);
        raw4 = raw6 = -1;
    }
}

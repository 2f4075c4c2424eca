package jcriu.net;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jcriu.api.Log;

/**
 * Keeps the network away from the dumped sockets while their processes are gone: an nftables
 * table named as CRIU names its own (inet CRIU-RUNID, see {@link LockInventory}, so that
 * CRIU's restore deletes it too; chains input and output, sets conns4 and conns6 as CRIU's)
 * drops every packet of each locked TCP connection in
 * both directions, SYNs to locked listening ports (a client trying to connect then retries
 * after the restore instead of being refused) and datagrams to locked UDP ports (no ICMP
 * "port unreachable" either). Without it the kernel would answer the peer of a connection
 * whose socket is gone with a reset. The table is created by the dump, stays while the
 * processes are gone and is deleted by the restore once the sockets are back (or by the dump
 * itself when it fails or leaves the processes running). CRIU locks only the connections; the
 * sets tcpport and udpport are jcriu's additions to the same table.
 */
public final class NetworkLock {
    /** One direction-independent TCP connection: local and remote address and port. */
    public record Connection(byte[] local, int localPort, byte[] remote, int remotePort) {}

    /** Packets jcriu itself sends while the lock holds (datagrams put back into queues) carry this mark (CRIU's SOCCR_MARK). */
    static final int MARK = 0xC114;

    /** The table, or null with --network-lock skip (nothing is locked). */
    private final String table;
    private final Log log;
    private boolean created;

    NetworkLock(String table, Log log) {
        this.table = table;
        this.log = log;
    }

    /** Adds connections and ports to the lock (creating the table first); they are dropped once this returns. */
    void lock(List<Connection> conns, List<Integer> tcpPorts, List<Integer> udpPorts) throws IOException {
        if (table == null || conns.isEmpty() && tcpPorts.isEmpty() && udpPorts.isEmpty()) return;
        StringBuilder s = new StringBuilder();
        if (!created) {
            s.append("table inet ").append(table).append(" {\n")
                    .append("  set conns4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; }\n")
                    .append("  set conns6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; }\n")
                    .append("  set tcpport { type inet_service; }\n")
                    .append("  set udpport { type inet_service; }\n")
                    .append("  chain input { type filter hook input priority filter; policy accept;\n")
                    .append("    meta mark " + MARK + " accept\n")
                    .append("    ip saddr . tcp sport . ip daddr . tcp dport @conns4 drop\n")
                    .append("    ip6 saddr . tcp sport . ip6 daddr . tcp dport @conns6 drop\n")
                    .append("    tcp dport @tcpport tcp flags & (syn | ack) == syn drop\n")
                    .append("    udp dport @udpport drop\n  }\n")
                    .append("  chain output { type filter hook output priority filter; policy accept;\n")
                    .append("    ip saddr . tcp sport . ip daddr . tcp dport @conns4 drop\n")
                    .append("    ip6 saddr . tcp sport . ip6 daddr . tcp dport @conns6 drop\n  }\n}\n");
        }
        List<String> c4 = new ArrayList<>(), c6 = new ArrayList<>();
        for (Connection c : conns) {
            byte[] l = unmapped(c.local()), r = unmapped(c.remote());
            List<String> set = l.length == 4 ? c4 : c6;
            set.add(text(l) + " . " + c.localPort() + " . " + text(r) + " . " + c.remotePort());
            set.add(text(r) + " . " + c.remotePort() + " . " + text(l) + " . " + c.localPort());
        }
        element(s, "conns4", c4);
        element(s, "conns6", c6);
        element(s, "tcpport", tcpPorts.stream().distinct().map(String::valueOf).toList());
        element(s, "udpport", udpPorts.stream().distinct().map(String::valueOf).toList());
        nftScript(s.toString());
        created = true;
        log.info("network locked (nftables table inet " + table + "): " + conns.size() + " connection(s), TCP ports "
                + tcpPorts + ", UDP ports " + udpPorts);
    }

    boolean locked() {
        return created;
    }

    /** Deletes the table if this object made it. */
    void unlock() throws IOException {
        if (!created) return;
        nft("delete table inet " + table + "\n");
        created = false;
        log.info("network unlocked (nftables table inet " + table + " deleted)");
    }

    /** After a restore: deletes the table {@code t} a dump left, if it is there; true if it was. */
    public static boolean release(String t, Log log) throws IOException {
        try {
            nft("delete table inet " + t + "\n");
        } catch (IOException e) {
            if (e.getMessage().contains("No such file or directory")) return false;
            throw e;
        }
        log.info("network unlocked (nftables table inet " + t + " deleted)");
        return true;
    }

    private static void element(StringBuilder s, String set, List<String> elems) {
        if (!elems.isEmpty()) s.append("add element inet ").append("%TABLE%").append(' ').append(set).append(" { ")
                .append(String.join(", ", elems)).append(" }\n");
    }

    static byte[] unmapped(byte[] a) {
        if (a.length == 16) {
            boolean mapped = a[10] == (byte) 0xff && a[11] == (byte) 0xff;
            for (int i = 0; i < 10 && mapped; i++) mapped = a[i] == 0;
            if (mapped) return Arrays.copyOfRange(a, 12, 16); // an IPv6 socket talking IPv4: the packets are IPv4
        }
        return a;
    }

    static String text(byte[] a) {
        try {
            return InetAddress.getByAddress(a).getHostAddress().replaceAll("%.*$", "");
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + a.length + " bytes", e);
        }
    }

    private void nftScript(String script) throws IOException {
        nft(script.replace("%TABLE%", table));
    }

    /** Runs {@code nft -f -} with {@code script}; its message if it fails. */
    private static void nft(String script) throws IOException {
        run(List.of("nft", "-f", "-"), script, "to lock the network (Debian package nftables)");
    }

    /**
     * Runs {@code cmd} with {@code input} on its standard input; an IOException with its output
     * if it fails, or naming {@code need} ("cannot run ...") if it cannot be started.
     */
    static void run(List<String> cmd, String input, String need) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + cmd.getFirst() + " " + need + ": " + e.getMessage(), e);
        }
        try (var in = p.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd.getFirst() + " did not finish within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while " + cmd.getFirst() + " ran", e);
        }
        if (p.exitValue() != 0) throw new IOException(cmd.getFirst() + " failed (" + p.exitValue() + "): " + out);
    }
}

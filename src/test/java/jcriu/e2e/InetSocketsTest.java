package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.net.NetOptions;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * TCP and UDP: a listening server comes back on its address with its options; an established
 * connection whose client (this JVM, outside the dumped process) never notices the checkpoint:
 * what it sends while the server is gone arrives afterwards, and nothing resets it; a UDP
 * server's queued datagrams are still there, with their senders.
 */
class InetSocketsTest {
    private static final Pattern PORT = Pattern.compile("port=(\\d+)");
    /** Image directories of dumps whose restore a failing test may not have reached: their locks are removed after each test. */
    private static final java.util.Set<Path> dumped = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @org.junit.jupiter.api.AfterEach
    void dropLocksOfFailedRuns() throws Exception {
        dropLocks();
    }

    static void dropLocks() throws Exception {
        for (Path dir : dumped) {
            if (!java.nio.file.Files.exists(dir.resolve("inventory.img"))) continue;
            if (jcriu.net.LockInventory.held(dir, 0) instanceof jcriu.net.LockInventory.Table t) {
                new ProcessBuilder("nft", "delete", "table", "inet", t.name()).redirectErrorStream(true).start().waitFor();
            }
        }
        dumped.clear();
    }

    static int port(Workload w) {
        Matcher m = PORT.matcher(w.awaitOutput("ready pid="));
        assertTrue(m.find());
        return Integer.parseInt(m.group(1));
    }

    static Workload tcpServer(String addr) {
        return Workload.start(Gcc.compile("inet_sockets"), "tcp-echo", addr);
    }

    static Checkpointer.Result dump(Workload w, Path dir, boolean leaveRunning, boolean tcpEstablished, boolean tcpClose,
                                    ByteArrayOutputStream log) throws IOException {
        dumped.add(dir);
        return Checkpointer.dump(new DumpOptions(w.pid(), dir, leaveRunning, false)
                .withNet(new NetOptions(false, tcpEstablished, tcpClose)), Checkpoints.log(log));
    }

    static Workload restore(Workload w, Path dir, boolean tcpEstablished, boolean tcpClose) throws IOException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try {
            Restorer.Result r = Restorer.restore(new RestoreOptions(dir, true, false, false)
                    .withNet(new NetOptions(false, tcpEstablished, tcpClose)), Checkpoints.log(log));
            return Workload.adopt(r.pid(), w.dir()).seek(w.lineCount());
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("restore failed: " + e.getMessage() + "\n" + log, e);
        }
    }

    /** An echo round trip on a connection: what is sent comes back. */
    static void echo(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
        assertEquals(text, read(s.getInputStream(), text.length()));
    }

    static String read(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        return new String(b, StandardCharsets.UTF_8);
    }

    static String crit(Path img) throws Exception {
        Process p = new ProcessBuilder("crit", "decode", "-i", img.toString(), "--pretty").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "crit decode " + img);
        assertEquals(0, p.exitValue(), "crit decode " + img + ":\n" + out);
        return out;
    }

    /**
     * Whether the lock the inventory of {@code dir} names is there: an nftables table named as
     * CRIU names its own (CRIU-, then the run id the inventory holds), which CRIU's restore deletes.
     */
    static boolean lockedAt(Path dir) throws Exception {
        jcriu.net.LockInventory.Held held = jcriu.net.LockInventory.held(dir, 0);
        jcriu.net.LockInventory.Table t = org.junit.jupiter.api.Assertions.assertInstanceOf(
                jcriu.net.LockInventory.Table.class, held, "the inventory names an nftables table");
        assertTrue(t.name().matches("CRIU-[0-9a-f-]{21}"), "CRIU's name, cut as CRIU cuts it: " + t.name());
        return nft("list", "table", "inet", t.name()) != null;
    }

    /** Whether any network lock's table (jcriu's or CRIU's) mentions {@code port}. */
    static boolean lockOn(int port) throws Exception {
        String tables = nft("list", "tables");
        assertTrue(tables != null, "nft list tables");
        Pattern p = Pattern.compile("(?<![\\w.])" + port + "(?![\\w.])");
        Matcher m = Pattern.compile("table inet ((CRIU|jcriu)-\\S+)").matcher(tables);
        while (m.find()) {
            String t = nft("list", "table", "inet", m.group(1));
            if (t != null && p.matcher(t).find()) return true;
        }
        return false;
    }

    /** nft's output, or null if it failed. */
    static String nft(String... args) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("nft"));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p.exitValue() == 0 ? out : null;
    }

    @Test
    void aListeningServerComesBackWithItsOptionsAndServesANewClientIPv4() throws Exception {
        listeningServer("127.0.0.1");
    }

    @Test
    void aListeningServerComesBackWithItsOptionsAndServesANewClientIPv6() throws Exception {
        listeningServer("::1");
    }

    private static void listeningServer(String addr) throws Exception {
        try (Workload w = tcpServer(addr)) {
            int port = port(w);
            w.signal(Sig.SIGUSR1);
            String opts = w.awaitOutput("opts ");
            assertTrue(opts.contains("defer=1 listening=1"), opts);
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir, false, false, false, new ByteArrayOutputStream());
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = restore(w, dir, false, false)) {
                r.signal(Sig.SIGUSR1);
                assertEquals(opts, r.awaitOutput("opts "), "options of the listening socket");
                try (Socket s = new Socket(InetAddress.getByName(addr), port)) {
                    s.setSoTimeout(10_000);
                    echo(s, "after the restore\n");
                }
                r.awaitOutput("accepted n=1");
            }
        }
    }

    @Test
    void anEstablishedConnectionSurvivesAndDataSentDuringTheDowntimeArrivesIPv4() throws Exception {
        established("127.0.0.1");
    }

    @Test
    void anEstablishedConnectionSurvivesAndDataSentDuringTheDowntimeArrivesIPv6() throws Exception {
        established("::1");
    }

    private static void established(String addr) throws Exception {
        try (Workload w = tcpServer(addr);
             Socket s = new Socket()) {
            int port = port(w);
            s.connect(new InetSocketAddress(InetAddress.getByName(addr), port), 10_000);
            s.setSoTimeout(60_000);
            echo(s, "before\n");
            w.awaitOutput("accepted n=1");
            // bytes in flight both ways at the dump: sent by the client, not read by the server yet
            Path dir = Checkpoints.imageDir(w);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            IOException refused = assertThrows(IOException.class, () -> dump(w, dir, false, false, false, log));
            assertTrue(refused.getMessage().contains("established TCP connection")
                    && refused.getMessage().contains("--tcp-established"), refused.getMessage());
            echo(s, "still served after the refusal\n");

            dump(w, dir, false, true, false, log);
            assertTrue(lockedAt(dir), "the network stays locked while the server is gone");
            assertTrue(lockOn(port), "the lock holds the connection");
            // CRIU's images: the socket in files.img, its TCP_REPAIR state in tcp-stream-INO.img
            assertTrue(crit(dir.resolve("files.img")).contains("\"type\": \"INETSK\""), "INETSK in files.img");
            try (var imgs = java.nio.file.Files.list(dir)) {
                Path stream = imgs.filter(p -> p.getFileName().toString().startsWith("tcp-stream-")).findFirst()
                        .orElseThrow(() -> new AssertionError("no tcp-stream image in " + dir));
                String decoded = crit(stream);
                assertTrue(decoded.contains("\"inq_seq\"") && decoded.contains("\"mss_clamp\""), decoded);
            }
            String during = "sent while the server is gone\n";
            long t0 = System.nanoTime();
            s.getOutputStream().write(during.getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = restore(w, dir, true, false)) {
                assertFalse(lockedAt(dir), "the restore unlocked the network");
                assertFalse(lockOn(port), "no table of a lock holds the port");
                assertEquals(during, read(s.getInputStream(), during.length()));
                long waited = System.nanoTime() - t0;
                System.out.printf("TCP %s: a request sent during the checkpoint was answered after %d ms%n", addr,
                        waited / 1_000_000);
                echo(s, "after\n");
                assertEquals("accepted n=1", r.lines().stream().filter(l -> l.startsWith("accepted")).findFirst()
                        .orElse("accepted n=1"), "no new connection: the old one goes on");
                assertFalse(r.text().contains("closed"), r.text());
            }
        }
    }

    /**
     * --tcp-established with --leave-running: the connection leaves repair mode and the lock goes
     * as the dump ends; bytes sent during the dump are echoed, none is lost or doubled.
     */
    @Test
    void aDumpThatLeavesTheServerRunningKeepsItsConnectionWorking() throws Exception {
        try (Workload w = tcpServer("127.0.0.1");
             Socket s = new Socket("127.0.0.1", port(w))) {
            s.setSoTimeout(30_000);
            echo(s, "before\n");
            w.awaitOutput("accepted n=1");
            int port = s.getPort();
            s.getOutputStream().write("unread at the dump\n".getBytes(StandardCharsets.UTF_8));
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir, true, true, false, new ByteArrayOutputStream());
            assertFalse(lockedAt(dir), "no lock after a dump that leaves the server running");
            assertFalse(lockOn(port), "no lock after a dump that leaves the server running");
            assertEquals("unread at the dump\n", read(s.getInputStream(), "unread at the dump\n".length()));
            echo(s, "after the dump\n");
            assertTrue(w.alive());
            assertFalse(w.text().contains("closed"), w.text());
        }
    }

    /**
     * A listener with a connection the kernel completed but the program has not accepted: the
     * dump fails, naming --skip-in-flight, and leaves the server running and unlocked; with the
     * flag the connection is dropped (its client gets a reset) and the listener comes back.
     */
    @Test
    void aConnectionNotAcceptedYetFailsTheDumpUnlessSkipInFlightDropsIt() throws Exception {
        int port = RealServersTest.freePort();
        String server = String.join("\n", "import socket, time", "s = socket.socket(socket.AF_INET6)",
                "s.bind(('::1', " + port + "))", "s.listen(5)", "print('listening', flush=True)", "time.sleep(3600)");
        try (Workload w = Workload.start(Path.of("/usr/bin/python3"), java.util.List.of("-u", "-c", server),
                java.util.Map.of());
             Socket pending = new Socket()) {
            w.awaitOutput("listening");
            pending.connect(new InetSocketAddress("::1", port), 10_000); // completed by the kernel, never accepted
            Path dir = Checkpoints.imageDir(w);
            IOException e = assertThrows(IOException.class, () -> dump(w, dir, false, false, false,
                    new ByteArrayOutputStream()));
            assertTrue(e.getMessage().contains("1 connection(s) waiting to be accepted")
                    && e.getMessage().contains("--skip-in-flight"), e.getMessage());
            assertFalse(lockOn(port), "a failed dump leaves no lock");
            assertTrue(w.alive());

            dumped.add(dir);
            Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false)
                    .withNet(new NetOptions(false, false, false, true)), Checkpoints.log(new ByteArrayOutputStream()));
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = restore(w, dir, false, false);
                 Socket again = new Socket()) {
                again.connect(new InetSocketAddress("::1", port), 10_000); // the listener is back
                pending.setSoTimeout(10_000);
                assertThrows(java.net.SocketException.class, () -> {
                    pending.getOutputStream().write('x');
                    pending.getInputStream().read();
                }, "the dropped connection is reset");
            }
        }
    }

    /**
     * A connection being set up (SYN_SENT: the server's accept queue is full, so its SYN is
     * dropped) cannot be saved: the dump fails, naming the state, and the client keeps running.
     */
    @Test
    void aConnectionBeingSetUpIsRefusedByName() throws Exception {
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, lo)) {
            java.util.List<java.nio.channels.SocketChannel> queued = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) { // more than the backlog: later SYNs are dropped
                    java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open();
                    queued.add(c);
                    c.configureBlocking(false);
                    c.connect(new InetSocketAddress(lo, full.getLocalPort()));
                }
                String client = String.join("\n", "import socket, time", "s = socket.socket()", "s.setblocking(False)",
                        "s.connect_ex(('127.0.0.1', " + full.getLocalPort() + "))", "print('connecting', flush=True)",
                        "time.sleep(3600)");
                try (Workload w = Workload.start(Path.of("/usr/bin/python3"), java.util.List.of("-u", "-c", client),
                        java.util.Map.of())) {
                    w.awaitOutput("connecting");
                    IOException e = assertThrows(IOException.class, () -> dump(w, Checkpoints.imageDir(w), false, true,
                            false, new ByteArrayOutputStream()));
                    assertTrue(e.getMessage().contains("being set up (SYN_SENT)"), e.getMessage());
                    assertTrue(w.alive());
                    assertFalse(lockOn(full.getLocalPort()));
                }
            } finally {
                for (java.nio.channels.SocketChannel c : queued) c.close();
            }
        }
    }

    /**
     * The reverse of CRIU's restore of a jcriu dump: the images as CRIU's dump writes them with
     * --network-lock nftables (no manifest; inventory.img with network_lock_method 1 and its
     * run id, criu/image.c) and CRIU's table inet CRIU-RUNID in place of jcriu's, here made to
     * drop SYNs to the server's port: jcriu's restore deletes that table, and a new client is served.
     */
    @Test
    void aRestoreLiftsTheLockOfTheRunIdCriusInventoryNames() throws Exception {
        try (Workload w = tcpServer("127.0.0.1")) {
            int port = port(w);
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir, false, false, false, new ByteArrayOutputStream());
            w.awaitGone(Duration.ofSeconds(30));
            dropLocks(); // jcriu's own table goes: CRIU's dump would have made only its own
            String runId = java.util.UUID.randomUUID().toString(), table = jcriu.net.LockInventory.criuTable(runId);
            withLockOnly(table, port);
            java.nio.file.Files.delete(dir.resolve(jcriu.image.Manifest.NAME));
            rewriteInventory(dir, inv -> inv.clearJcriuManifest().setNetworkLockMethod(1).setDumpCriuRunId(runId));
            assertTrue(nft("list", "table", "inet", table) != null);
            try (Workload r = restore(w, dir, false, false);
                 Socket s = new Socket()) {
                assertTrue(nft("list", "table", "inet", table) == null, "the restore deleted CRIU's table " + table);
                s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                s.setSoTimeout(10_000);
                echo(s, "after the restore\n");
            } finally {
                nft("delete", "table", "inet", table);
            }
        }
    }

    /**
     * CRIU's dump with nftables makes its table even for processes without sockets (criu/net.c
     * network_lock), and its restore deletes it in every case: so does jcriu's.
     */
    @Test
    void aRestoreOfCriusImagesWithoutSocketsDeletesCriusTable() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("fpu_regs"))) {
            w.awaitOutput("tick 2");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            String runId = java.util.UUID.randomUUID().toString(), table = jcriu.net.LockInventory.criuTable(runId);
            withLockOnly(table, 9);
            java.nio.file.Files.delete(dir.resolve(jcriu.image.Manifest.NAME));
            rewriteInventory(dir, inv -> inv.clearJcriuManifest().setNetworkLockMethod(1).setDumpCriuRunId(runId));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertTrue(nft("list", "table", "inet", table) == null, "the restore deleted CRIU's table " + table);
                r.awaitOutput("tick");
                r.signal(Sig.SIGKILL);
            } finally {
                nft("delete", "table", "inet", table);
            }
        }
    }

    /**
     * Images written by jcriu before it named its lock as CRIU does (inventory without method
     * nor run id, table inet jcriu-ROOTPID): the restore deletes that table.
     */
    @Test
    void aRestoreOfAnOlderJcriuDumpLiftsItsTable() throws Exception {
        try (Workload w = tcpServer("127.0.0.1")) {
            int port = port(w);
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir, false, false, false, new ByteArrayOutputStream());
            w.awaitGone(Duration.ofSeconds(30));
            dropLocks();
            String table = "jcriu-" + w.pid();
            withLockOnly(table, port);
            rewriteInventory(dir, inv -> inv.clearNetworkLockMethod().clearDumpCriuRunId());
            resealInventory(dir);
            try (Workload r = restore(w, dir, false, false);
                 Socket s = new Socket()) {
                assertTrue(nft("list", "table", "inet", table) == null, "the restore deleted " + table);
                s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                s.setSoTimeout(10_000);
                echo(s, "after the restore\n");
            } finally {
                nft("delete", "table", "inet", table);
            }
        }
    }

    /**
     * CRIU's default lock, iptables: its dump inserts two rules per established connection
     * (criu/netfilter.c IPTABLES_CONN_CMD: INPUT drops the peer's packets, OUTPUT the
     * connection's own, both sparing the mark 0xC114) and its inventory says method 0. The
     * restore deletes both rules, and what the client sent while they held arrives.
     */
    @Test
    void aRestoreDeletesCriusIptablesRulesOfEachConnection() throws Exception {
        try (Workload w = tcpServer("127.0.0.1");
             Socket s = new Socket("127.0.0.1", port(w))) {
            s.setSoTimeout(60_000);
            echo(s, "before\n");
            w.awaitOutput("accepted n=1");
            int port = s.getPort(), client = s.getLocalPort();
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir, false, true, false, new ByteArrayOutputStream());
            w.awaitGone(Duration.ofSeconds(30));
            dropLocks(); // CRIU's dump would have made its rules instead of jcriu's table
            java.util.List<java.util.List<String>> rules = java.util.List.of(
                    criuRule("INPUT", client, port), criuRule("OUTPUT", port, client));
            try {
                for (java.util.List<String> r : rules) assertEquals(0, iptables("-I", r), "iptables -I " + r);
                java.nio.file.Files.delete(dir.resolve(jcriu.image.Manifest.NAME));
                rewriteInventory(dir, inv -> inv.clearJcriuManifest().setNetworkLockMethod(0).clearDumpCriuRunId());
                String during = "sent while CRIU's rules hold\n";
                s.getOutputStream().write(during.getBytes(StandardCharsets.UTF_8));
                s.getOutputStream().flush();
                try (Workload r = restore(w, dir, true, false)) {
                    for (java.util.List<String> rule : rules) {
                        assertEquals(1, iptables("-C", rule), "the restore deleted CRIU's rule " + rule);
                    }
                    assertEquals(during, read(s.getInputStream(), during.length()));
                    echo(s, "after\n");
                }
            } finally {
                for (java.util.List<String> r : rules) iptables("-D", r);
            }
        }
    }

    /** CRIU's rule spec (both addresses 127.0.0.1) for packets from port {@code sport} to {@code dport}. */
    private static java.util.List<String> criuRule(String chain, int sport, int dport) {
        return java.util.List.of(chain, "--protocol", "tcp", "-m", "mark", "!", "--mark", "0xC114", "--source",
                "127.0.0.1", "--sport", String.valueOf(sport), "--destination", "127.0.0.1", "--dport",
                String.valueOf(dport), "-j", "DROP");
    }

    /** iptables' exit status; fails loudly if iptables is not installed (Debian package iptables). */
    private static int iptables(String op, java.util.List<String> rule) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("iptables", "-w", "-t", "filter", op));
        cmd.addAll(rule);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("iptables is needed (Debian package iptables): " + e.getMessage(), e);
        }
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p.exitValue();
    }

    /** An nftables table {@code name} (chains as CRIU's) that drops new connections to {@code port}. */
    private static void withLockOnly(String name, int port) throws Exception {
        Process p = new ProcessBuilder("nft", "-f", "-").redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(("table inet " + name + " {\n"
                    + "  chain output { type filter hook output priority 0; meta mark 0xc114 accept; }\n"
                    + "  chain input { type filter hook input priority 0; meta mark 0xc114 accept;\n"
                    + "    tcp dport " + port + " tcp flags & (syn | ack) == syn drop; }\n}\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    private static void rewriteInventory(Path dir, java.util.function.UnaryOperator<jcriu.image.pb.InventoryEntry.Builder> edit)
            throws IOException {
        jcriu.image.ImageDir d = jcriu.image.ImageDir.open(dir);
        jcriu.image.pb.InventoryEntry inv;
        try (jcriu.image.ImageInput in = d.open(jcriu.image.ImageFile.inventory())) {
            inv = in.single(jcriu.image.pb.InventoryEntry.parser());
        }
        try (jcriu.image.ImageOutput o = d.create(jcriu.image.ImageFile.inventory())) {
            o.write(edit.apply(inv.toBuilder()).build());
        }
    }

    /** The manifest's checksums of inventory.img made again, as a dump would have written them. */
    private static void resealInventory(Path dir) throws IOException {
        jcriu.image.Manifest m = jcriu.image.Manifest.read(dir);
        byte[] b = java.nio.file.Files.readAllBytes(dir.resolve("inventory.img"));
        jcriu.image.ChunkedCrc crc = new jcriu.image.ChunkedCrc();
        crc.update(b, 0, b.length);
        java.util.Map<String, jcriu.image.Manifest.Entry> files = new java.util.LinkedHashMap<>(m.files());
        files.put("inventory.img", jcriu.image.Manifest.Entry.of("inventory.img", crc));
        java.nio.file.Files.write(dir.resolve(jcriu.image.Manifest.NAME),
                new jcriu.image.Manifest(m.id(), m.kind(), m.parent(), files, m.checksummed()).encode());
    }

    /**
     * A dump that fails after it locked the network and put a connection in repair mode takes
     * both back: the lock is gone and the connection goes on as if nothing happened.
     */
    @Test
    void aFailedDumpUnlocksTheNetworkAndTheConnectionGoesOn() throws Exception {
        try (Workload w = tcpServer("127.0.0.1");
             Socket s = new Socket("127.0.0.1", port(w))) {
            s.setSoTimeout(30_000);
            echo(s, "before\n");
            int port = s.getPort();
            w.signal(Sig.SIGUSR2);
            w.awaitOutput("netlink fd=");
            IOException e = assertThrows(IOException.class, () -> dump(w, Checkpoints.imageDir(w), false, true, false,
                    new ByteArrayOutputStream()));
            assertTrue(e.getMessage().contains("netlink"), e.getMessage());
            assertFalse(lockOn(port), "no lock left");
            echo(s, "after the failed dump\n");
        }
    }

    /**
     * --tcp-close: the dump does not save the connection; the restore needs the flag (a restore
     * refused for it leaves no lock) and brings the server back.
     */
    @Test
    void tcpCloseRestoresTheServerWithoutItsConnection() throws Exception {
        try (Workload w = tcpServer("127.0.0.1")) {
            int port = port(w);
            Path dir = Checkpoints.imageDir(w);
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(30_000);
                echo(s, "before\n");
                dump(w, dir, false, false, true, new ByteArrayOutputStream());
            }
            w.awaitGone(Duration.ofSeconds(30));
            IOException e = assertThrows(IOException.class, () -> Restorer.restore(
                    new RestoreOptions(dir, true, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("--tcp-close"), e.getMessage());
            assertFalse(lockedAt(dir), "a failed restore leaves no lock behind");
            try (Workload r = restore(w, dir, false, true);
                 Socket again = new Socket("127.0.0.1", port)) {
                again.setSoTimeout(30_000);
                echo(again, "a new connection\n");
            }
        }
    }

    @Test
    void aUdpServerKeepsItsQueuedDatagramsAndTheirSendersIPv4() throws Exception {
        udp("127.0.0.1");
    }

    @Test
    void aUdpServerKeepsItsQueuedDatagramsAndTheirSendersIPv6() throws Exception {
        udp("::1");
    }

    private static void udp(String addr) throws Exception {
        InetAddress host = InetAddress.getByName(addr);
        try (Workload w = Workload.start(Gcc.compile("inet_sockets"), "udp-echo", addr);
             DatagramSocket c = new DatagramSocket(new InetSocketAddress(host, 0))) {
            int port = port(w);
            c.setSoTimeout(30_000);
            assertEquals("hello", udpEcho(c, host, port, "hello"));
            w.signal(Sig.SIGUSR2);
            w.awaitOutput("paused");
            send(c, host, port, "queued-1");
            send(c, host, port, "queued-2");
            Path dir = Checkpoints.imageDir(w);
            dump(w, dir, false, false, false, new ByteArrayOutputStream());
            send(c, host, port, "lost while the server is gone");
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = restore(w, dir, false, false)) {
                r.signal(Sig.SIGUSR2);
                r.awaitOutput("reading");
                assertEquals("queued-1", receive(c));
                assertEquals("queued-2", receive(c));
                assertEquals("after", udpEcho(c, host, port, "after"));
                String text = r.text();
                assertTrue(text.contains("echoed queued-1 from " + host.getHostAddress().replace("0:0:0:0:0:0:0:1", "::1")
                        + ":" + c.getLocalPort()), text);
            }
        }
    }

    /**
     * A connected UDP client comes back bound to its port and connected to its server (this
     * JVM): what it sends after the restore comes from the same port, and the answer reaches it.
     */
    @Test
    void aConnectedUdpClientKeepsItsPortAndItsPeer() throws Exception {
        InetAddress host = InetAddress.getByName("::1");
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(host, 0))) {
            server.setSoTimeout(30_000);
            try (Workload w = Workload.start(Gcc.compile("inet_sockets"), "udp-client", "::1",
                    Integer.toString(server.getLocalPort()))) {
                int port = port(w);
                w.signal(Sig.SIGUSR1);
                DatagramPacket p = new DatagramPacket(new byte[64], 64);
                server.receive(p);
                assertEquals(port, p.getPort());
                server.send(new DatagramPacket("pong-1".getBytes(StandardCharsets.UTF_8), 6, p.getSocketAddress()));
                w.awaitOutput("got pong-1 from port " + port);
                Path dir = Checkpoints.imageDir(w);
                dump(w, dir, false, false, false, new ByteArrayOutputStream());
                w.awaitGone(Duration.ofSeconds(30));
                try (Workload r = restore(w, dir, false, false)) {
                    r.signal(Sig.SIGUSR1);
                    server.receive(p);
                    assertEquals("ping-2", new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
                    assertEquals(port, p.getPort(), "sent from the port of before");
                    server.send(new DatagramPacket("pong-2".getBytes(StandardCharsets.UTF_8), 6, p.getSocketAddress()));
                    r.awaitOutput("got pong-2 from port " + port);
                }
            }
        }
    }

    private static void send(DatagramSocket c, InetAddress host, int port, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        c.send(new DatagramPacket(b, b.length, host, port));
    }

    private static String receive(DatagramSocket c) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        c.receive(p);
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    }

    private static String udpEcho(DatagramSocket c, InetAddress host, int port, String text) throws IOException {
        send(c, host, port, text);
        return receive(c);
    }

    /**
     * Sockets made and never bound (zdtm's sock_opts02) are in none of the kernel's socket
     * tables; they come back with their family, type, options and locked buffer sizes, and the
     * program can still bind and listen on them.
     */
    @Test
    void unboundSocketsComeBackUsable() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("unbound_sockets"))) {
            w.awaitOutput("^ready ");
            w.signal(Sig.SIGUSR1);
            String before = w.awaitOutput("^obs ");
            try (Workload r = Checkpoints.cycle(w)) {
                r.signal(Sig.SIGUSR1);
                assertEquals(before, r.awaitOutput("^obs "));
                r.signal(Sig.SIGUSR2);
                assertEquals("used listen=0 bind=0", r.awaitOutput("^used "));
            }
        }
    }
}

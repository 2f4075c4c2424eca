package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Workload;

/**
 * Real servers, not written for jcriu, dumped and restored, each serving a request after the
 * restore; a request made while the server is gone waits (the network lock drops its SYN, the
 * client retries) and is answered once the restore is done.
 */
class RealServersTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @org.junit.jupiter.api.AfterEach
    void dropLocksOfFailedRuns() throws Exception {
        InetSocketsTest.dropLocks();
    }

    @Test
    void pythonHttpServerServesAgainAndARequestMadeDuringTheDowntimeIsAnswered() throws Exception {
        assertTrue(Files.isExecutable(PYTHON), PYTHON + " is needed (Debian package python3)");
        int port = freePort();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(60)).build();
        URI uri = URI.create("http://127.0.0.1:" + port + "/index.txt");
        try (Workload w = Workload.start(PYTHON, List.of("-u", "-m", "http.server", Integer.toString(port), "--bind",
                "127.0.0.1"), Map.of())) {
            Files.writeString(w.dir().resolve("index.txt"), "served by the original\n");
            w.awaitOutput("Serving HTTP on");
            assertEquals("served by the original\n", get(uri, w, 1));

            Path dir = Checkpoints.imageDir(w);
            InetSocketsTest.dump(w, dir, false, false, false, new ByteArrayOutputStream());
            w.awaitGone(Duration.ofSeconds(30));
            assertTrue(InetSocketsTest.lockedAt(dir), "the listening port stays locked while the server is gone");
            Files.writeString(w.dir().resolve("index.txt"), "served after the restore\n");
            long t0 = System.nanoTime();
            CompletableFuture<HttpResponse<String>> during = http.sendAsync(HttpRequest.newBuilder(uri)
                    .timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofString());
            Thread.sleep(1000); // the request is on its way: its SYN is dropped, not refused
            assertFalse(during.isDone(), "the request waits for the server: " + (during.isDone() ? during.get() : ""));
            try (Workload r = InetSocketsTest.restore(w, dir, false, false)) {
                HttpResponse<String> resp = during.get(90, TimeUnit.SECONDS);
                long waited = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(200, resp.statusCode());
                assertEquals("served after the restore\n", resp.body());
                System.out.printf("python3 -m http.server: a request made during the checkpoint was answered after"
                        + " %d ms%n", waited);
                assertFalse(InetSocketsTest.lockedAt(dir), "the restore unlocked the network");
                assertEquals("served after the restore\n", get(uri, r, 1));
                r.awaitOutput("GET /index.txt");
            }
        }
    }

    /**
     * redis-server (epoll, a pipe, timers) with a client connection open across the dump and
     * the restore (--tcp-established): a command sent while the server is gone is answered
     * after the restore on the same connection, the data set before is there, and redis-cli
     * connects anew.
     */
    @Test
    void redisServerKeepsItsDataAndAClientConnectionAcrossTheRestore() throws Exception {
        Path redis = Path.of("/usr/bin/redis-server");
        assertTrue(Files.isExecutable(redis), redis + " is needed (Debian package redis-server)");
        int port = freePort();
        // a copy named redis-server: the Debian binary is a link to redis-check-rdb, which acts by
        // the name it is run as, and workloads are run by their real path
        Path copy = jcriu.testsupport.Gcc.projectDir().resolve("target").resolve("redis-server");
        if (!Files.exists(copy)) Files.copy(redis, copy, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        try (Workload w = Workload.start(copy, List.of("--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no"), Map.of());
             java.net.Socket c = new java.net.Socket()) {
            w.awaitOutput("Ready to accept connections");
            c.connect(new java.net.InetSocketAddress("127.0.0.1", port), 10_000);
            c.setSoTimeout(60_000);
            assertEquals("+OK", redis(c, "SET", "kept", "set-before-the-dump"));
            assertEquals("$19 set-before-the-dump", redis(c, "GET", "kept"));

            Path dir = Checkpoints.imageDir(w);
            InetSocketsTest.dump(w, dir, false, true, false, new ByteArrayOutputStream());
            w.awaitGone(Duration.ofSeconds(30));
            long t0 = System.nanoTime();
            send(c, "GET", "kept"); // while the server is gone
            try (Workload r = InetSocketsTest.restore(w, dir, true, false)) {
                assertEquals("$19 set-before-the-dump", reply(c), "the answer on the connection of before");
                System.out.printf("redis-server: a command sent during the checkpoint was answered after %d ms%n",
                        (System.nanoTime() - t0) / 1_000_000);
                assertEquals("+OK", redis(c, "SET", "kept", "after"));
                assertEquals("after\n", run("/usr/bin/redis-cli", "-p", Integer.toString(port), "GET", "kept"));
                assertTrue(r.alive());
            }
        }
    }

    /** node's http server (libuv: epoll, eventfds, pipes, worker threads) serves again after a restore. */
    @Test
    void nodeHttpServerServesAgain() throws Exception {
        Path node = Path.of("/usr/bin/node");
        assertTrue(Files.isExecutable(node), node + " is needed (Debian package nodejs)");
        int port = freePort();
        URI uri = URI.create("http://127.0.0.1:" + port + "/path");
        try (Workload w = Workload.start(node, List.of("-e", "let n = 0; require('http').createServer((q, s) =>"
                + " s.end('node ' + q.url + ' ' + (++n) + '\\n')).listen(" + port + ", '127.0.0.1', () =>"
                + " console.log('listening'))"), Map.of())) {
            w.awaitOutput("listening");
            assertEquals("node /path 1\n", get(uri, w, 1));
            Path dir = Checkpoints.imageDir(w);
            InetSocketsTest.dump(w, dir, false, false, false, new ByteArrayOutputStream());
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = InetSocketsTest.restore(w, dir, false, false)) {
                assertEquals("node /path 2\n", get(uri, r, 1), "the server's state (its counter) came back");
            }
        }
    }

    /**
     * A python asyncio echo server (epoll, and the socketpair asyncio makes to wake itself) with
     * a connection kept across the restore (--tcp-established).
     */
    @Test
    void pythonAsyncioEchoServerKeepsItsConnection() throws Exception {
        assertTrue(Files.isExecutable(PYTHON), PYTHON + " is needed (Debian package python3)");
        int port = freePort();
        String server = String.join("\n",
                "import asyncio",
                "async def echo(r, w):",
                "    while line := await r.readline():",
                "        w.write(b'echo ' + line)",
                "        await w.drain()",
                "async def main():",
                "    s = await asyncio.start_server(echo, '127.0.0.1', " + port + ")",
                "    print('serving', flush=True)",
                "    await s.serve_forever()",
                "asyncio.run(main())");
        try (Workload w = Workload.start(PYTHON, List.of("-u", "-c", server), Map.of())) {
            w.awaitOutput("serving");
            echoAcrossRestore(w, port);
        }
    }

    /** A JVM's NIO echo server (a Selector: epoll, eventfd; a dozen threads) with a connection kept across the restore. */
    @Test
    void jvmNioEchoServerKeepsItsConnection() throws Exception {
        Path classes = jcriu.testsupport.Gcc.projectDir().resolve("target").resolve("nio-workload");
        Files.createDirectories(classes);
        Path src = jcriu.testsupport.Gcc.projectDir().resolve("src/test/resources/workloads/NioEcho.java");
        javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "-d", classes.toString(), src.toString()), "javac " + src);
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        int port = freePort();
        try (Workload w = Workload.start(javaBin, List.of("-XX:-UsePerfData", "-cp", classes.toString(), "NioEcho",
                Integer.toString(port)), Map.of())) {
            w.awaitOutput("listening", Duration.ofSeconds(60));
            echoAcrossRestore(w, port);
        }
    }

    /**
     * One connection to the echo server {@code w} on {@code port}, kept across a dump with
     * --tcp-established and a restore: a line before, one sent while the server is gone, one after.
     */
    private static void echoAcrossRestore(Workload w, int port) throws Exception {
        try (java.net.Socket c = new java.net.Socket()) {
            c.connect(new java.net.InetSocketAddress("127.0.0.1", port), 10_000);
            c.setSoTimeout(60_000);
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(c.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8));
            c.getOutputStream().write("before\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertEquals("echo before", in.readLine());
            Path dir = Checkpoints.imageDir(w);
            InetSocketsTest.dump(w, dir, false, true, false, new ByteArrayOutputStream());
            w.awaitGone(Duration.ofSeconds(30));
            c.getOutputStream().write("during\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            try (Workload r = InetSocketsTest.restore(w, dir, true, false)) {
                assertEquals("echo during", in.readLine());
                c.getOutputStream().write("after\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                assertEquals("echo after", in.readLine());
            }
        }
    }

    /** Sends a command in RESP and reads its reply. */
    private static String redis(java.net.Socket c, String... words) throws IOException {
        send(c, words);
        return reply(c);
    }

    private static void send(java.net.Socket c, String... words) throws IOException {
        StringBuilder b = new StringBuilder("*" + words.length + "\r\n");
        for (String w : words) b.append('$').append(w.length()).append("\r\n").append(w).append("\r\n");
        c.getOutputStream().write(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        c.getOutputStream().flush();
    }

    /** A simple or bulk reply: "+OK", or "$LEN DATA". */
    private static String reply(java.net.Socket c) throws IOException {
        String head = line(c);
        if (!head.startsWith("$") || head.equals("$-1")) return head;
        return head + " " + line(c);
    }

    private static String line(java.net.Socket c) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (int ch; (ch = c.getInputStream().read()) != '\n'; ) {
            if (ch < 0) throw new IOException("the connection was closed after " + b);
            if (ch != '\r') b.write(ch);
        }
        return b.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", cmd));
        return out;
    }

    /**
     * The body of a GET of {@code uri} (status 200), on a connection closed after it; then waits
     * until the server holds no socket but its {@code sockets} own (a connection still closing
     * would be refused by a dump without --tcp-established).
     */
    private static String get(URI uri, Workload server, int sockets) throws Exception {
        String body;
        try (java.net.Socket c = new java.net.Socket(uri.getHost(), uri.getPort())) {
            c.setSoTimeout(30_000);
            c.getOutputStream().write(("GET " + uri.getPath() + " HTTP/1.1\r\nHost: " + uri.getHost()
                    + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String resp = new String(c.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(resp.startsWith("HTTP/1.") && resp.split("\r\n")[0].contains(" 200 "), resp);
            body = resp.substring(resp.indexOf("\r\n\r\n") + 4);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (socketCount(server.pid()) > sockets) {
            assertTrue(System.nanoTime() < deadline, "the server still holds the connection");
            Thread.sleep(20);
        }
        return body;
    }

    private static long socketCount(int pid) throws IOException {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.filter(f -> {
                try {
                    return Files.readSymbolicLink(f).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

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
            assertEquals("served by the original\n", get(http, uri));

            Path dir = Checkpoints.imageDir(w);
            InetSocketsTest.dump(w, dir, false, false, false, new ByteArrayOutputStream());
            w.awaitGone(Duration.ofSeconds(30));
            assertTrue(InetSocketsTest.nftTable(w.pid()), "the listening port stays locked while the server is gone");
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
                assertFalse(InetSocketsTest.nftTable(w.pid()), "the restore unlocked the network");
                assertEquals("served after the restore\n", get(http, uri));
                r.awaitOutput("GET /index.txt");
            }
        }
    }

    private static String get(HttpClient http, URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

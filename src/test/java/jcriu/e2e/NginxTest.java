package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jcriu.proc.ProcStat;
import jcriu.testsupport.Trees;
import jcriu.testsupport.Workload;

/**
 * nginx with a master and two workers: a listening TCP socket shared by all three, socketpairs
 * between master and workers, an epoll instance and an eventfd in each worker. After the restore
 * the same three PIDs serve again, and the tree takes no more memory than before (PSS summed).
 */
class NginxTest {

    @Test
    void masterAndTwoWorkersServeAgainWithTheirPidsAndMemorySharing() throws Exception {
        Path nginx = Path.of("/usr/sbin/nginx");
        assertTrue(Files.isExecutable(nginx), "nginx is not installed (test.sh installs nginx-light)");
        Path dir = Files.createTempDirectory("jcriu-nginx");
        int port = freePort();
        Files.writeString(dir.resolve("nginx.conf"), String.join("\n",
                "worker_processes 2;", "daemon off;", "pid " + dir.resolve("nginx.pid") + ";",
                "error_log " + dir.resolve("error.log") + ";", "events { worker_connections 64; }",
                "http {", "  access_log off;", "  client_body_temp_path " + dir.resolve("body") + ";",
                "  proxy_temp_path " + dir.resolve("proxy") + ";", "  fastcgi_temp_path " + dir.resolve("fcgi") + ";",
                "  uwsgi_temp_path " + dir.resolve("uwsgi") + ";", "  scgi_temp_path " + dir.resolve("scgi") + ";",
                "  server { listen 127.0.0.1:" + port + "; root " + dir.resolve("www") + ";",
                "    location / { add_header X-Worker $pid; } }",
                "}", ""));
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(dir.resolve("www/index.html"), "a file served by nginx\n");
        // the workers run as nginx's unprivileged user (a uid other than the master's, restored too)
        for (Path p : List.of(dir, dir.resolve("www"), dir.resolve("www/index.html"))) {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(
                    Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
        }
        try (Workload w = Workload.start(nginx, List.of("-c", dir.resolve("nginx.conf").toString(), "-p",
                dir.toString()), Map.of()); Trees.Killer k = Trees.killOnClose(w)) {
            List<ProcStat> before = Trees.awaitMembers(w.pid(), 3);
            get(port);
            long pssBefore = pss(w.pid());
            try (Workload r = Trees.cycle(w); Trees.Killer kr = Trees.killOnClose(r)) {
                List<ProcStat> after = Trees.awaitMembers(r.pid(), 3);
                assertEquals(before.stream().map(ProcStat::pid).toList(), after.stream().map(ProcStat::pid).toList());
                long pssAfter = pss(r.pid());
                // every request is answered, with the file, by one of the two restored workers
                for (int i = 0; i < 20; i++) {
                    int worker = get(port);
                    assertTrue(after.stream().skip(1).anyMatch(p -> p.pid() == worker), worker + " not in " + after);
                }
                System.out.println("nginx: sum of PSS " + pssBefore + " kB before the dump, " + pssAfter
                        + " kB after the restore (ratio " + String.format("%.3f", (double) pssAfter / pssBefore) + ")");
                assertTrue(pssAfter <= pssBefore * 1.1, "sum of PSS " + pssAfter + " kB after the restore, "
                        + pssBefore + " kB before");
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * One HTTP/1.0 request for the file on a connection of its own, closed by nginx after the
     * answer (none left open); returns the PID of the worker that answered.
     */
    private static int get(int port) throws IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes());
            String answer = new String(s.getInputStream().readAllBytes());
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            assertTrue(answer.endsWith("\r\n\r\na file served by nginx\n"), answer);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\r\nX-Worker: (\\d+)\r\n").matcher(answer);
            assertTrue(m.find(), answer);
            return Integer.parseInt(m.group(1));
        }
    }

    private static long pss(int root) throws IOException {
        long sum = 0;
        for (var p : Trees.members(root)) {
            for (String l : Files.readAllLines(Path.of("/proc/" + p.pid() + "/smaps_rollup"))) {
                if (l.startsWith("Pss:")) sum += Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return sum;
    }
}

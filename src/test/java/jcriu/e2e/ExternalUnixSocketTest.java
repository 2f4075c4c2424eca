package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * A unix stream connection to a process outside the dumped tree (a daemon, a supervisor), as
 * CRIU handles it: refused at dump without --ext-unix-sk; with it, dumped as external, and
 * the restore plugs in the socket the user gives with --inherit-fd fd[N]:socket:[INODE]
 * (refused, creating nothing, without it). Through jcriu's command line, end to end.
 */
class ExternalUnixSocketTest {
    @Test
    void aConnectionToAServerOutsideIsRestoredOnTheSocketGivenWithInheritFd() throws Exception {
        Path bin = Gcc.compile("ext_unix");
        try (Workload server = Workload.start(bin, "server", "srv.sock")) {
            server.awaitOutput("ready pid=");
            String sock = server.dir().resolve("srv.sock").toString();
            try (Workload client = Workload.start(bin, "client", sock)) {
                long ino = Workload.number(client.awaitOutput("ready pid="), "ino");
                String key = "socket:[" + ino + "]";
                int pid = client.pid();
                server.awaitOutput("accepted");

                // the oracle: stopped and continued, the connection goes on
                client.stopAndContinue(Duration.ofMillis(200));
                client.signal(Sig.SIGUSR1);
                assertTrue(client.awaitOutput("^reply ").startsWith("reply ack ping-1 fd3=" + key), client.text());
                server.awaitOutput("got ping-1");

                String out = finish(jcriu(client.dir(), "dump", "-t", Integer.toString(pid), "-D", "imgs", "-v4", "-o",
                        "-"), 1);
                assertTrue(out.contains("fd 3 of process " + pid) && out.contains(key) && out.contains("--ext-unix-sk"), out);
                assertTrue(client.alive(), "a refused dump leaves the process running");
                client.signal(Sig.SIGUSR1);
                assertTrue(client.awaitOutput("^reply ack ping-2").contains("fd3=" + key), client.text());
                server.awaitOutput("got ping-2");

                out = finish(jcriu(client.dir(), "dump", "-t", Integer.toString(pid), "-D", "imgs", "--ext-unix-sk",
                        "-v4", "-o", "-"), 0);
                assertTrue(out.contains("dumped as external") && out.contains("--inherit-fd fd[N]:" + key), out);
                String files = crit(client.dir().resolve("imgs/files.img"));
                assertTrue(files.contains("\"uflags\": 1") || files.contains("\"uflags\": \"0x1\""), files);
                client.awaitGone(Duration.ofSeconds(30));
                server.awaitOutput("closed");

                out = finish(jcriu(client.dir(), "restore", "-d", "-D", "imgs"), 1);
                assertTrue(out.contains("fd 3 of process " + pid + " is " + key)
                        && out.contains("--inherit-fd fd[N]:" + key), out);
                assertFalse(Files.exists(Path.of("/proc/" + pid)), "a refused restore creates nothing");

                // a new connection to the server, on jcriu's fd 5, takes the place of the old one
                List<String> cmd = new ArrayList<>(List.of(bin.toString(), "connect-exec", sock, "5",
                        Gcc.projectDir().resolve("jcriu").toString(), "restore", "-d", "-D", "imgs",
                        "--inherit-fd", "fd[5]:" + key));
                finish(new ProcessBuilder(cmd).directory(client.dir().toFile()).redirectErrorStream(true).start(), 0);
                server.awaitOutput("accepted");
                // files.img names the server's socket as CRIU does (USK_EXTERN), and the restore leaves its name alone
                assertTrue(Files.exists(Path.of(sock)), "the server's socket file is still there");
                try (Workload r = Workload.adopt(pid, client.dir()).seek(client.lineCount())) {
                    String now = Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/3")).toString();
                    assertNotEquals(key, now, "fd 3 is the socket given to the restore");
                    r.signal(Sig.SIGUSR1);
                    assertEquals("reply ack ping-3 fd3=" + now, r.awaitOutput("^reply ").strip(), r.text());
                    server.awaitOutput("got ping-3");
                    r.signal(Sig.SIGTERM);
                    r.awaitOutput("exit code=0");
                }
            }
        }
    }

    private static String crit(Path img) throws Exception {
        Process p = new ProcessBuilder("crit", "decode", "-i", img.toString(), "--pretty").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "crit decode " + img);
        assertEquals(0, p.exitValue(), "crit decode " + img + ":\n" + out);
        return out;
    }

    private static Process jcriu(Path cwd, String... args) throws IOException {
        return jcriu.testsupport.JcriuCli.start(cwd, args);
    }

    private static String finish(Process p, int expectedExit) throws Exception {
        return jcriu.testsupport.JcriuCli.finish(p, expectedExit);
    }
}

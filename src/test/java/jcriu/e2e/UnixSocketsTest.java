package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.net.NetOptions;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Trees;
import jcriu.testsupport.Workload;

/**
 * Unix sockets: pairs of every type with data queued both ways (an fd in flight and the
 * sender's credentials included), a listening socket with a connection not accepted yet, a
 * datagram server with queued datagrams and their sender's name, a shut-down stream, a socket
 * whose file was unlinked. The workload checks everything itself; without a checkpoint it
 * says "check ok", and must say so after a restore too.
 */
class UnixSocketsTest {
    @Test
    void withoutACheckpointTheWorkloadChecksOk() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("unix_sockets"), "all", dirArg())) {
            w.awaitOutput("ready pid=");
            w.signal(Sig.SIGUSR1);
            w.awaitOutput("check ");
            assertTrue(w.text().contains("check ok"), w.text());
        }
    }

    @Test
    void everyKindOfUnixSocketComesBackWithItsQueuesAndNames() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("unix_sockets"), "all", dirArg())) {
            w.awaitOutput("ready pid=");
            try (Workload r = Trees.cycle(w)) {
                r.signal(Sig.SIGUSR1);
                r.awaitOutput("check ");
                assertTrue(r.text().contains("check ok"), r.text());
            }
        }
    }

    /**
     * Pairs split between a process and its child (stream and seqpacket), data queued both ways:
     * each process of the restored tree gets its own end, and reads what the other had sent.
     */
    @Test
    void pairsBetweenAParentAndItsChildComeBackWithTheirQueues() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("unix_sockets"), "fork-pair")) {
            w.awaitOutput("ready pid=");
            try (Workload r = Trees.cycle(w)) {
                r.signal(Sig.SIGUSR1);
                r.awaitOutput("check ");
                assertTrue(r.text().contains("check ok"), r.text());
            }
        }
    }

    /** Queues are read by peeking: a dump that leaves the process running takes nothing from them. */
    @Test
    void aDumpThatLeavesTheProcessRunningTakesNothingFromItsQueues() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("unix_sockets"), "all", dirArg())) {
            w.awaitOutput("ready pid=");
            Checkpoints.dump(w, Checkpoints.imageDir(w), true);
            w.signal(Sig.SIGUSR1);
            w.awaitOutput("check ");
            assertTrue(w.text().contains("check ok"), w.text());
        }
    }

    /**
     * The images are CRIU's: unix sockets in files.img, their queued messages in sk-queues.img,
     * both decoded by crit.
     */
    @Test
    void critDecodesTheSocketImages() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("unix_sockets"), "all", dirArg())) {
            w.awaitOutput("ready pid=");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, true);
            String files = crit(dir.resolve("files.img"));
            assertTrue(files.contains("\"type\": \"UNIXSK\""), files);
            assertTrue(files.contains("\"state\": 10") || files.contains("LISTEN"), "a listening socket: " + files);
            String queues = crit(dir.resolve("sk-queues.img"));
            assertTrue(queues.contains("\"id_for\""), queues);
            assertTrue(queues.contains("\"scm\""), "the fd in flight: " + queues);
        }
    }

    private static String crit(Path img) throws Exception {
        Process p = new ProcessBuilder("crit", "decode", "-i", img.toString(), "--pretty").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "crit decode " + img);
        assertEquals(0, p.exitValue(), "crit decode " + img + ":\n" + out);
        return out;
    }

    /**
     * A datagram socket connected to a named socket of a process outside the dump: refused
     * without --ext-unix-sk (the process keeps running); with it, the restore connects it to
     * that name again and what it sends arrives.
     */
    @Test
    void aDatagramSocketConnectedOutsideNeedsExtUnixSkAndIsConnectedAgain() throws Exception {
        String name = "jcriu-ext-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Path bin = Gcc.compile("unix_sockets");
        try (Workload server = Workload.start(bin, "dgram-server", name);
             Workload client = startAfter(server, bin, "dgram-client", name)) {
            client.awaitOutput("ready pid=");
            Path dir = Checkpoints.imageDir(client);
            IOException refused = assertThrows(IOException.class, () -> dump(client, dir, false, false));
            assertTrue(refused.getMessage().contains("fd 3 of process " + client.pid())
                    && refused.getMessage().contains("--ext-unix-sk"), refused.getMessage());
            client.signal(Sig.SIGUSR1);
            client.awaitOutput("sent ping-1");
            server.awaitOutput("got ping-1");

            dump(client, dir, false, true);
            client.awaitGone(Duration.ofSeconds(30));
            IOException noFlag = assertThrows(IOException.class, () -> Restorer.restore(
                    new RestoreOptions(dir, true, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(noFlag.getMessage().contains("--ext-unix-sk"), noFlag.getMessage());
            Restorer.Result res = Restorer.restore(new RestoreOptions(dir, true, false, false).withNet(new NetOptions(true, false, false)), Checkpoints.log(new ByteArrayOutputStream()));
            try (Workload r = Workload.adopt(res.pid(), client.dir()).seek(client.lineCount())) {
                r.signal(Sig.SIGUSR1);
                r.awaitOutput("sent ping-2");
                server.awaitOutput("got ping-2");
            }
        }
    }

    /**
     * A stream connection to a process outside the dump is refused without --ext-unix-sk (with
     * it, it is dumped as external: {@code ExternalUnixSocketTest}).
     */
    @Test
    void aStreamConnectionToAProcessOutsideIsRefusedWithoutExtUnixSk() throws Exception {
        Path bin = Gcc.compile("unix_sockets");
        try (Workload tree = Workload.start(bin, "all", dirArg())) {
            tree.awaitOutput("ready pid=");
            Path sock = tree.dir().resolve("listen.sock");
            try (Workload client = Workload.start(bin, "stream-client", sock.toString())) {
                client.awaitOutput("ready pid=");
                IOException e = assertThrows(IOException.class, () -> dump(client, Checkpoints.imageDir(client), false,
                        false));
                assertTrue(e.getMessage().contains("fd 3 of process " + client.pid())
                        && e.getMessage().contains("--ext-unix-sk"), e.getMessage());
                client.signal(Sig.SIGUSR1);
                client.awaitOutput("sent ping");
            }
        }
    }

    private static Workload startAfter(Workload first, Path bin, String... args) {
        first.awaitOutput("ready pid=");
        return Workload.start(bin, args);
    }

    /** The run's own directory (the workload makes it absolute: names of bound sockets are absolute paths). */
    private static String dirArg() {
        return ".";
    }

    private static Checkpointer.Result dump(Workload w, Path dir, boolean leaveRunning, boolean extUnixSk)
            throws IOException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        return Checkpointer.dump(new DumpOptions(w.pid(), dir, leaveRunning, false).withNet(new NetOptions(extUnixSk, false, false)),
                Checkpoints.log(log));
    }
}

package jcriu.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import jcriu.rpc.pb.Opts;
import jcriu.rpc.pb.Req;
import jcriu.rpc.pb.ReqType;
import jcriu.rpc.pb.Resp;
import jcriu.sys.Sockets;
import jcriu.sys.Sys;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Workload;

/** {@code jcriu service}: a long-lived process serving CRIU's RPC on a unix socket, driven from Java. */
class ServiceTest {
    private static final int O_DIRECTORY = 0200000;

    /** A client connection; requests and responses one packet each. */
    private record Conn(int fd) implements AutoCloseable {
        static Conn open(Path sock) { return new Conn(Sockets.connect(sock.toString())); }

        Resp call(Req r) throws Exception {
            Sockets.send(fd, r.toByteArray());
            return next();
        }

        Resp next() throws Exception {
            byte[] b = Sockets.receive(fd);
            assertTrue(b != null, "the service closed the connection without answering");
            return Resp.parseFrom(b);
        }

        void send(Req r) { Sockets.send(fd, r.toByteArray()); }

        @Override
        public void close() { Sys.close(fd); }
    }

    private static Process service(Path dir, Path sock) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Gcc.projectDir().resolve("jcriu").toString(), "service",
                "--address", sock.toString(), "--pidfile", "svc.pid", "-W", dir.toString(), "-o", "svc.log", "-v4"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("svc.out").toFile()).start();
        long end = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (!Files.exists(dir.resolve("svc.pid")) || Files.readString(dir.resolve("svc.pid")).isEmpty()) {
            assertTrue(p.isAlive(), "the service died: " + Files.readString(dir.resolve("svc.out")));
            assertTrue(System.nanoTime() < end, "the service did not start");
            Thread.sleep(50);
        }
        return p;
    }

    @Test
    void dumpAndRestoreThroughALongLivedService() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path sock = w.dir().resolve("svc.sock");
            Process svc = service(w.dir(), sock);
            try {
                assertEquals(Long.toString(svc.pid()), Files.readString(w.dir().resolve("svc.pid")));
                assertEquals("rw-rw-rw-", java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(sock)), "anyone may connect, as to CRIU's service");

                try (Conn c = Conn.open(sock)) {
                    Resp v = c.call(Req.newBuilder().setType(ReqType.VERSION).setKeepOpen(true).build());
                    assertTrue(v.getSuccess());
                    assertEquals(4, v.getVersion().getMajorNumber());
                    Resp f = c.call(Req.newBuilder().setType(ReqType.FEATURE_CHECK)
                            .setFeatures(jcriu.rpc.pb.Features.newBuilder().setMemTrack(true)).build());
                    assertTrue(f.getSuccess() && f.getFeatures().getMemTrack(), "keep_open: a second request");
                }

                try (Conn c = Conn.open(sock)) {
                    Resp r = c.call(Req.newBuilder().setType(ReqType.DUMP).setKeepOpen(true)
                            .setOpts(Opts.newBuilder().setPid(w.pid()).setImagesDir("/nonexistent")).build());
                    assertFalse(r.getSuccess(), "CRIU keeps a connection open only after requests that leave nothing");
                    assertTrue(r.getCrErrmsg().contains("keep_open"), r.getCrErrmsg());
                }
                try (Conn c = Conn.open(sock)) {
                    Resp r = c.call(Req.newBuilder().setType(ReqType.RESTORE)
                            .setOpts(Opts.newBuilder().setImagesDir("/nonexistent").setRstSibling(true)).build());
                    assertFalse(r.getSuccess());
                    assertEquals(Worker.EBADRQC, r.getCrErrno());
                    assertTrue(r.getCrErrmsg().contains("standalone service"), r.getCrErrmsg());
                }

                Path imgs = Files.createDirectories(w.dir().resolve("imgs"));
                int dirFd = Sys.open(imgs.toString(), O_DIRECTORY);
                try (Conn c = Conn.open(sock)) {
                    c.send(Req.newBuilder().setType(ReqType.DUMP).setOpts(Opts.newBuilder().setPid(w.pid())
                            .setImagesDirFd(dirFd).setLogLevel(4).setLogFile("dump.log").setNotifyScripts(true))
                            .build());
                    List<String> seen = new ArrayList<>();
                    Resp r = c.next();
                    while (r.getType() == ReqType.NOTIFY) {
                        seen.add(r.getNotify().getScript());
                        Req.Builder answer = Req.newBuilder().setType(ReqType.NOTIFY).setNotifySuccess(true);
                        if (r.getNotify().getScript().equals("query-ext-files")) {
                            answer.setOpts(Opts.newBuilder().addExternal("mnt[/sys]:sys"));
                        }
                        c.send(answer.build());
                        r = c.next();
                    }
                    assertEquals(List.of("pre-dump", "query-ext-files", "post-dump"), seen);
                    assertTrue(r.getSuccess(), r.getCrErrmsg());
                    assertEquals(ReqType.DUMP, r.getType());
                } finally {
                    Sys.close(dirFd);
                }
                String log = Files.readString(imgs.resolve("dump.log"));
                assertTrue(log.contains("external mnt[/sys]:sys from the client: no effect"), log);
                w.awaitGone(Duration.ofSeconds(30));
                int lines = w.lineCount();

                try (Conn c = Conn.open(sock)) {
                    Resp r = c.call(Req.newBuilder().setType(ReqType.RESTORE)
                            .setOpts(Opts.newBuilder().setImagesDir(imgs.toString())).build());
                    assertTrue(r.getSuccess(), r.getCrErrmsg());
                    assertEquals(w.pid(), r.getRestore().getPid());
                }
                assertTrue(Files.exists(imgs.resolve("criu.log")), "CRIU's default RPC log name, in the work dir");
                try (Workload r = Workload.adopt(w.pid(), w.dir()).seek(lines)) {
                    r.awaitOutput("count=");
                    assertNotEquals(svc.pid(), (long) r.stat().orElseThrow().ppid(), "detached, as CRIU's service");
                    assertFalse(r.text().contains("BAD"), r.text());
                    r.signal(jcriu.testsupport.Sig.SIGKILL);
                }
                assertTrue(svc.isAlive(), "the service serves on");
            } finally {
                svc.destroy();
                svc.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}

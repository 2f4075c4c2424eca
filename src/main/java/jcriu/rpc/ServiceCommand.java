package jcriu.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import jcriu.api.Log;
import jcriu.cli.CriuCommandLine;
import jcriu.cli.CriuOptions;
import jcriu.cli.Main;
import jcriu.sys.Sockets;
import jcriu.sys.Sys;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code jcriu service}: CRIU's RPC service. A SOCK_SEQPACKET socket listens at --address
 * (mode 0666, as CRIU); each connection is served on a thread of its own with a fresh set of
 * options (CRIU forks a worker per connection), and a restored process is detached, as with
 * CRIU's service. The JVM starts once, not once per request.
 */
@Command(name = "service", mixinStandardHelpOptions = true,
        description = "Serve CRIU's RPC protocol on a unix socket (SOCK_SEQPACKET), one worker per connection.")
public final class ServiceCommand implements Callable<Integer>, Main.CriuCommand {
    @ParentCommand Main main;

    @Option(names = "--address", paramLabel = "PATH",
            description = "socket path, relative to the work directory (default ./criu_service.socket, as CRIU)")
    String address;

    @Option(names = "--pidfile", paramLabel = "FILE",
            description = "write the service's PID to FILE (relative to the work directory; created new, 0600)")
    Path pidfile;

    @Option(names = "--status-fd", paramLabel = "FD", description = "write \\0 to FD and close it once ready")
    Integer statusFd;

    @Option(names = {"-d", "--daemon", "--restore-detached"},
            description = "run in the background once the socket is ready")
    boolean daemon;

    @Option(names = {"-D", "--images-dir"}, paramLabel = "DIR",
            description = "default work directory (CRIU's), default the current directory")
    Path dir = Path.of(".");

    @CommandLine.Mixin
    final ServeOptions serve = new ServeOptions();

    @Override
    public CriuOptions.Verb verb() { return CriuOptions.Verb.SERVICE; }

    @Override
    public Integer call() throws Exception {
        if (daemon) return daemonize();
        Path work = serve.log.workDir(dir);
        Log l = serve.log.open(dir, main == null ? List.of() : main.notes());
        Path sock = work.resolve(address != null ? address : "criu_service.socket");
        if (address == null) l.warn("binding to the default address " + sock);
        Files.deleteIfExists(sock);
        int listening = Sockets.listen(sock.toString(), 16);
        Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-rw-rw-"));
        l.info("the service socket is bound to " + sock);
        if (pidfile != null) {
            Path pf = work.resolve(pidfile);
            try {
                Files.createFile(pf, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new IOException("pidfile " + pf + " exists already (CRIU refuses to overwrite one too)");
            }
            Files.writeString(pf, Long.toString(ProcessHandle.current().pid()));
        }
        if (statusFd != null) ready(statusFd);
        List<String> base = new ArrayList<>();
        for (Path s : serve.scripts) base.add("--action-script=" + s.toAbsolutePath());
        while (true) {
            int conn = Sockets.accept(listening);
            l.info("connected");
            Thread.ofPlatform().name("jcriu-service-" + conn).start(() -> {
                try {
                    // as CRIU's worker, which resets its options: no configuration files, only the scripts
                    new Worker(conn, Worker.Mode.SERVICE, CriuCommandLine.Env.none(), base).serve();
                } catch (IOException | RuntimeException e) {
                    l.error("connection " + conn + ": " + e.getMessage());
                }
            });
        }
    }

    /** CRIU's status fd: one \0, then the descriptor is closed (standard output is pointed at /dev/null instead). */
    private static void ready(int fd) {
        Sys.write(fd, new byte[] {0});
        if (fd <= 2) {
            int nul = Sys.open("/dev/null", 2 /* O_RDWR */);
            Sys.call("dup2", jcriu.sys.Nr.DUP2, nul, fd);
            Sys.close(nul);
        } else {
            Sys.close(fd);
        }
    }

    /**
     * CRIU's -d: the same service started again in a session of its own, with its standard streams
     * on /dev/null; this process returns once that one's socket is ready (it reports on its
     * standard output, as a status fd) and exits 1 if it fails first.
     */
    private int daemonize() throws IOException, InterruptedException {
        ProcessHandle.Info self = ProcessHandle.current().info();
        List<String> jvm = new ArrayList<>(List.of(self.arguments().orElseThrow(
                () -> new IOException("cannot read this JVM's command line to start the daemon"))));
        int main = jvm.indexOf(Main.class.getName());
        if (main < 0) throw new IOException("cannot find " + Main.class.getName() + " in this JVM's command line");
        List<String> cmd = new ArrayList<>(List.of("setsid", self.command().orElseThrow()));
        cmd.addAll(jvm.subList(0, main + 1));
        cmd.add("service");
        if (address != null) cmd.add("--address=" + serve.log.workDir(dir).resolve(address).toAbsolutePath());
        if (pidfile != null) cmd.add("--pidfile=" + serve.log.workDir(dir).resolve(pidfile).toAbsolutePath());
        cmd.add("--images-dir=" + dir.toAbsolutePath());
        if (serve.log.workDir(dir) != dir) cmd.add("--work-dir=" + serve.log.workDir(dir).toAbsolutePath());
        if (serve.log.resolvedLogFile(dir) != null) cmd.add("--log-file=" + serve.log.resolvedLogFile(dir).toAbsolutePath());
        cmd.add("--verbosity=" + serve.log.verbosity());
        for (Path s : serve.scripts) cmd.add("--action-script=" + s.toAbsolutePath());
        cmd.add("--status-fd=1");
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (InputStream in = p.getInputStream()) {
            int b = in.read();
            if (b != 0) {
                System.err.println("jcriu: the service did not start (exit " + p.waitFor() + ")");
                return Main.FAILED;
            }
        }
        if (statusFd != null) ready(statusFd);
        return Main.OK;
    }
}

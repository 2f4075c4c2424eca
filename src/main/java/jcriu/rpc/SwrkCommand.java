package jcriu.rpc;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import jcriu.api.Log;
import jcriu.cli.CriuCommandLine;
import jcriu.cli.CriuOptions;
import jcriu.cli.Main;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code jcriu swrk FD}: serve CRIU RPC requests on FD, one end of a SOCK_SEQPACKET socketpair
 * whose other end the client (libcriu, pycriu, go-criu) holds; exit when it closes its end.
 */
@Command(name = "swrk", mixinStandardHelpOptions = true,
        description = "Serve CRIU's RPC protocol on FD, an inherited end of a SOCK_SEQPACKET socketpair (how libcriu,"
                + " pycriu and go-criu run criu); each request runs as the matching command would.")
public final class SwrkCommand implements Callable<Integer>, Main.CriuCommand {
    @ParentCommand Main main;

    @Parameters(index = "0", paramLabel = "FD", description = "the socket's descriptor number")
    int fd;

    @CommandLine.Mixin
    final ServeOptions serve = new ServeOptions();

    @Override
    public CriuOptions.Verb verb() { return CriuOptions.Verb.SWRK; }

    @Override
    public Integer call() throws Exception {
        Log l = serve.log.open(Path.of("."), main == null ? List.of() : main.notes());
        l.info("serving CRIU RPC requests on fd " + fd);
        // as CRIU's swrk: the configuration files and this command line are the base of every request
        new Worker(fd, Worker.Mode.SWRK, CriuCommandLine.Env.system(), main == null ? List.of() : main.argvOptions())
                .serve();
        return Main.OK;
    }
}

package jcriu.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jcriu rseq -t PID}: each thread's rseq registration and the case a dump would apply. */
@Command(name = "rseq", mixinStandardHelpOptions = true,
        description = "Show every thread's rseq state and what a dump would do; the process is stopped only for the read.")
final class RseqCommand implements Callable<Integer> {
    @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID", description = "process to inspect")
    int pid;

    @Override
    public Integer call() throws Exception {
        System.out.print(jcriu.rseq.RseqReport.read(pid).toText());
        return Main.OK;
    }
}

package jcriu.rpc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jcriu.cli.Main;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options both RPC servers ({@code swrk} and {@code service}) take: action scripts and logging. */
final class ServeOptions {
    @Option(names = "--action-script", paramLabel = "FILE",
            description = "run FILE at CRIU's hook points of every request (after the client's notification)")
    List<Path> scripts = new ArrayList<>();

    @CommandLine.Mixin
    final Main.LogOptions log = new Main.LogOptions();
}

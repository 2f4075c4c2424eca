package jcriu.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import jcriu.sys.Spawn;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Not a command: the training run the ./jcriu launcher records into the JVM's AOT cache
 * after a build. It runs the commands once in one JVM, so that the classes they load (and
 * the methods they compile) are ready at the next start: {@code --help}, {@code check}, and
 * a pre-dump, dump and restore of a tiny process ({@code sleep}). Anything that fails here
 * only makes the cache smaller: a command never depends on it.
 */
public final class AotTraining {
    private AotTraining() {}

    public static void main(String[] args) throws IOException {
        PrintStream out = System.out;
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(quiet);
        System.setErr(quiet);
        int[] codes = {-1, -1, -1, -1, -1, -1};
        codes[0] = Main.run("--help");
        codes[1] = Main.run("--version");
        codes[2] = Main.run("check");
        Path dir = Files.createTempDirectory("jcriu-aot-training");
        try {
            dumpAndRestore(dir, codes);
        } catch (RuntimeException e) {
            e.printStackTrace(out); // the cache holds what ran until here
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
        out.println("exit codes of --help, --version, check, pre-dump, dump, restore: " + java.util.Arrays.toString(codes));
    }

    /** A process of our own (posix_spawn, so no JDK reaper), reaped by us as soon as the dump kills it. */
    private static void dumpAndRestore(Path dir, int[] codes) {
        int pid = Spawn.spawn("/bin/sleep", List.of("sleep", "600"), List.of());
        try {
            String p = Integer.toString(pid);
            codes[3] = Main.run("pre-dump", "-t", p, "-D", dir.resolve("pre").toString(), "-v0");
            // the sleep is in jcriu's own session and group: a shell job, as CRIU would call it
            codes[4] = Main.run("dump", "-t", p, "-D", dir.resolve("img").toString(), "--prev-images-dir", "../pre",
                    "--shell-job", "-v0");
            if (codes[4] != Main.OK) return;
            try {
                Sys.wait4(pid, 0); // its PID must be free again for the restore
            } catch (SysException reaped) {
                // the dump, tracing its own child, reaped it already
            }
            codes[5] = Main.run("restore", "-d", "--shell-job", "-D", dir.resolve("img").toString(), "-v0");
        } finally {
            try {
                Sys.kill(pid, 9);
            } catch (SysException gone) {
                // killed by the dump and not restored
            }
            try {
                Sys.wait4(pid, Sys.WNOHANG);
            } catch (SysException notOurs) {
                // the restored process is init's child
            }
        }
    }
}

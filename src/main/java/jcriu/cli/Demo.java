package jcriu.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import jcriu.api.Log;
import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Shows a person the whole cycle on a live process: start, dump, kill, restore, continue. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Compile a small counter program, checkpoint it, kill it, restore it, and show it continue.")
final class Demo implements Callable<Integer> {
    private static final String COUNTER_C = """
            #include <stdio.h>
            #include <time.h>
            #include <unistd.h>
            int main(void) {
                unsigned long n = 0;
                setvbuf(stdout, NULL, _IOLBF, 0);
                for (;;) {
                    printf("pid %d count %lu\\n", getpid(), ++n);
                    struct timespec ts = {0, 200 * 1000 * 1000};
                    while (nanosleep(&ts, &ts) != 0) {}
                }
            }
            """;

    @Option(names = "--keep", paramLabel = "DIR", description = "work in DIR and keep it (default: a temp dir, removed)")
    Path keep;

    @Option(names = "-v", arity = "0..1", fallbackValue = "4", paramLabel = "N", description = "log verbosity 0-4")
    int verbosity = 0;

    @Override
    public Integer call() throws Exception {
        Path dir = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("jcriu-demo-");
        Log log = new Log(verbosity, System.err);
        int pid = -1;
        try {
            step(1, "compiling a sample counter program with gcc in " + dir);
            Files.writeString(dir.resolve("counter.c"), COUNTER_C);
            run(dir, "gcc", "-O1", "-o", "counter", "counter.c");

            step(2, "starting it detached; it prints a line every 200 ms to " + dir.resolve("counter.log"));
            run(dir, "setsid", "-f", "/bin/sh", "-c",
                    "echo $$ > counter.pid; exec ./counter > counter.log 2>&1 < /dev/null");
            pid = awaitPid(dir.resolve("counter.pid"));
            Thread.sleep(1200);
            List<String> before = lines(dir);
            show(before.subList(Math.max(0, before.size() - 3), before.size()));

            Path images = dir.resolve("images");
            step(3, "checkpointing pid " + pid + " into " + images + " (jcriu dump -t " + pid + " -D " + images + ")");
            Checkpointer.Result r = Checkpointer.dump(new DumpOptions(pid, images, false, false), log);
            System.out.printf("      %d mappings, %d KiB of memory saved; the process was frozen for %d ms and killed%n",
                    r.mappings(), r.pageBytes() >> 10, r.frozenFor().toMillis());
            long last = lastCount(lines(dir));

            step(4, "waiting until pid " + pid + " is gone (the kernel frees it once init reaps it)");
            awaitGone(pid);
            System.out.println("      /proc/" + pid + " no longer exists; last line written: count " + last);

            step(5, "restoring (jcriu restore -d -D " + images + ")");
            int restored = Restorer.restore(new RestoreOptions(images, true, false, false), log).pid();
            System.out.println("      restored as pid " + restored + (restored == pid ? " (the same PID)" : " (PID CHANGED!)"));
            Thread.sleep(1200);
            List<String> after = lines(dir);
            List<String> fresh = after.stream().filter(l -> count(l) > last).toList();
            show(fresh.subList(0, Math.min(4, fresh.size())));
            long next = fresh.isEmpty() ? -1 : count(fresh.getFirst());
            step(6, "stopping the restored process");
            jcriu.sys.Sys.kill(restored, 9);
            if (restored != pid || next != last + 1) {
                System.out.println("FAILED: expected pid " + pid + " to continue with count " + (last + 1) + ", got pid "
                        + restored + " count " + next);
                return Main.FAILED;
            }
            System.out.println("OK: pid " + pid + " continued from count " + last + " to " + next
                    + " after being checkpointed, killed and restored.");
            return Main.OK;
        } finally {
            if (pid > 0 && Files.exists(Path.of("/proc/" + pid))) {
                try {
                    jcriu.sys.Sys.kill(pid, 9);
                } catch (RuntimeException ignored) {
                    // gone meanwhile
                }
            }
            if (keep == null) deleteTree(dir);
        }
    }

    private static void step(int n, String what) { System.out.println("[" + n + "/6] " + what); }

    private static void show(List<String> lines) {
        for (String l : lines) System.out.println("      | " + l);
    }

    private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed" + (out.isBlank() ? "" : ":\n" + out));
        }
    }

    private static int awaitPid(Path f) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (Files.exists(f) && !Files.readString(f).isBlank()) return Integer.parseInt(Files.readString(f).strip());
            Thread.sleep(50);
        }
        throw new IOException("the sample did not start (no " + f + ")");
    }

    private static void awaitGone(int pid) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Files.exists(Path.of("/proc/" + pid))) {
            if (System.nanoTime() > end) throw new IOException("pid " + pid + " was not reaped within 30 s");
            Thread.sleep(50);
        }
    }

    private static List<String> lines(Path dir) throws IOException {
        return Files.readAllLines(dir.resolve("counter.log")).stream().filter(l -> l.contains(" count ")).toList();
    }

    private static long lastCount(List<String> lines) {
        return lines.isEmpty() ? 0 : count(lines.getLast());
    }

    private static long count(String line) {
        return Long.parseLong(line.replaceAll(".*count ", ""));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}

package jcriu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Gcc;
import jcriu.testsupport.Workload;

/** A process on a terminal: refused without --shell-job, and with it restored onto jcriu's own fds 0-2. */
class ShellJobTest {
    private static final Pattern COUNT = Pattern.compile("count=(\\d+)");

    private static long last(String text) {
        Matcher m = COUNT.matcher(text);
        long v = -1;
        while (m.find()) v = Long.parseLong(m.group(1));
        return v;
    }

    private static Process jcriu(Path out, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Gcc.projectDir().resolve("jcriu").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (out != null) pb.redirectOutput(out.toFile());
        return pb.start();
    }

    @Test
    void terminalFdsNeedShellJobAndComeFromTheRestoringTerminal() throws Exception {
        Path counter = Gcc.compile("counter");
        // script(1) runs the counter on a pseudo-terminal and copies what it prints to our file.
        // "exec": a shell that forked instead would be the child of script (and refused: it has a child).
        try (Workload script = Workload.start(Path.of("/usr/bin/script"),
                List.of("-qfec", "exec " + counter, "/dev/null"), Map.of())) {
            script.awaitOutput("count=3");
            String children = Files.readString(Path.of("/proc/" + script.pid() + "/task/" + script.pid() + "/children"));
            int pid = Integer.parseInt(children.strip().split(" ")[0]);
            Path dir = script.dir().resolve("images");

            Process refused = jcriu(null, "dump", "-t", Integer.toString(pid), "-D", dir.toString());
            String msg = new String(refused.getInputStream().readAllBytes());
            assertTrue(refused.waitFor(120, TimeUnit.SECONDS));
            assertEquals(1, refused.exitValue(), msg);
            assertTrue(msg.contains("fd 0") && msg.contains("terminal") && msg.contains("--shell-job"), msg);
            assertTrue(Files.exists(Path.of("/proc/" + pid)), "still running after the refused dump");

            Process dump = jcriu(null, "dump", "-t", Integer.toString(pid), "-D", dir.toString(), "--shell-job");
            String dumpOut = new String(dump.getInputStream().readAllBytes());
            assertTrue(dump.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, dump.exitValue(), dumpOut);
            long before = last(script.text());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (Files.exists(Path.of("/proc/" + pid))) { // PID 1 reaps the killed orphan lazily
                assertTrue(System.nanoTime() < deadline, "pid " + pid + " not reaped");
                Thread.sleep(50);
            }

            Path out = script.dir().resolve("restored.out");
            Process restore = jcriu(out, "restore", "-d", "--shell-job", "-D", dir.toString());
            assertTrue(restore.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, restore.exitValue(), Files.readString(out));
            try (Workload r = Workload.adopt(pid, script.dir())) {
                long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (last(Files.readString(out)) < before + 3) {
                    assertTrue(System.nanoTime() < end, "no output on jcriu's stdout: " + Files.readString(out));
                    Thread.sleep(50);
                }
                Matcher m = COUNT.matcher(Files.readString(out));
                assertTrue(m.find());
                assertEquals(before + 1, Long.parseLong(m.group(1)), "continues on the new terminal");
            }
        }
    }
}

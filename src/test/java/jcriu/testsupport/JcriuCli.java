package jcriu.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The ./jcriu launcher run as a separate process, as a user types it (its output and exit code). */
public final class JcriuCli {
    private JcriuCli() {}

    /** {@code ./jcriu ARGS} started in {@code cwd}, stderr merged into stdout. */
    public static Process start(Path cwd, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Gcc.projectDir().resolve("jcriu").toString());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
    }

    /** Its whole output, once it has ended (3 minutes at most) with {@code expectedExit}. */
    public static String finish(Process p, int expectedExit) throws Exception {
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "jcriu did not finish:\n" + out);
        assertEquals(expectedExit, p.exitValue(), out);
        return out;
    }
}

package jcriu.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Gcc;
import jcriu.testsupport.Workload;

/**
 * pycriu, the Python client of Debian's criu package, drives {@code jcriu swrk} unchanged: it
 * starts "criu swrk FD" itself (here jcriu's launcher named as the binary) with fds 0-2 closed.
 */
class PycriuTest {
    /** Debian's interpreter, where the criu package installs pycriu (not whatever python3 is first on PATH). */
    private static final String PYTHON = "/usr/bin/python3";

    private static String client(Path cwd, String... args) throws Exception {
        Path script = Gcc.projectDir().resolve("src/test/resources/rpc/pycriu_client.py");
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script.toString(),
                Gcc.projectDir().resolve("jcriu").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "pycriu client did not finish:\n" + out);
        assertEquals(0, p.exitValue(), "pycriu client failed (is the criu package with pycriu installed?):\n" + out);
        return out;
    }

    @Test
    void versionCheckFeaturesAndWaitPid() throws Exception {
        String out = client(Gcc.projectDir(), "info");
        assertTrue(out.contains("version True 4.2 jcriu"), out);
        assertTrue(out.contains("check ok"), out);
        assertTrue(out.contains("features True True False False"), "mem_track yes (no soft-dirty needed), lazy no:\n"
                + out);
        assertTrue(out.contains("wait_pid errno True"), "PID 1 is no child of the worker: ECHILD\n" + out);
    }

    @Test
    void preDumpDumpAndRestoreThroughSwrk() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path imgs = w.dir().resolve("imgs");
            String out = client(w.dir(), "dump", Integer.toString(w.pid()), imgs.toString());
            assertTrue(out.contains("pre-dump ok") && out.contains("dump ok False"), out);
            assertTrue(Files.isRegularFile(imgs.resolve("full/dump.log")), "the log is in the images directory");
            assertTrue(Files.readString(imgs.resolve("full/dump.log")).contains("--track-mem: accepted with no effect"));
            assertEquals(Path.of("../pre"), Files.readSymbolicLink(imgs.resolve("full/parent")));
            w.awaitGone(Duration.ofSeconds(30));
            long last = -1;
            for (String l : w.lines()) if (l.startsWith("count=")) last = Workload.number(l, "count");
            int seen = w.lineCount();
            out = client(w.dir(), "restore", imgs.toString());
            assertTrue(out.contains("restored " + w.pid()), out);
            try (Workload r = Workload.adopt(w.pid(), w.dir()).seek(seen)) {
                assertEquals(last + 1, Workload.number(r.awaitOutput("count="), "count"));
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    @Test
    void notificationsAtCriusHookPoints() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            // the client refuses post-dump: the dump fails and the process runs on
            String out = client(w.dir(), "notify", Integer.toString(w.pid()), w.dir().resolve("a").toString(),
                    "post-dump");
            assertTrue(out.contains("notify pre-dump -\nnotify query-ext-files -\nnotify post-dump -\ndump False"),
                    out);
            assertTrue(w.alive());
            w.skipToEnd().awaitOutput("count=");
            out = client(w.dir(), "notify", Integer.toString(w.pid()), w.dir().resolve("b").toString(), "none");
            assertTrue(out.contains("notify post-dump -\ndump True"), out);
            w.awaitGone(Duration.ofSeconds(30));
        }
    }

    @Test
    void anOptionJcriuCannotHonourIsRefusedByName() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            String out = client(w.dir(), "refused", Integer.toString(w.pid()), w.dir().resolve("imgs").toString());
            assertTrue(out.contains("refused True True"), "EBADRQC, as CRIU answers options it cannot use:\n" + out);
            assertTrue(out.contains("--auto-dedup"), out);
            assertFalse(out.contains("--tcp-established:"), "accepted: only the refused option is named\n" + out);
            assertTrue(w.alive());
        }
    }
}

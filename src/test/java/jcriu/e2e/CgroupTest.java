package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Workload;

/**
 * A process comes back in the cgroups it was in; one whose cgroup is gone by the time of the
 * restore (systemd removes a scope with its last process) comes back in jcriu's, with a warning.
 */
class CgroupTest {

    /** A fresh cgroup below jcriu's own in the first hierarchy mounted here; fails loudly if none is writable. */
    private record Fresh(String line, Path dir, String path) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            Files.deleteIfExists(dir);
        }
    }

    private static Fresh freshCgroup() throws IOException {
        List<String> mine = Files.readAllLines(Path.of("/proc/self/cgroup"));
        List<String> mounts = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        for (String line : mine) {
            String[] f = line.split(":", 3);
            for (String m : mounts) {
                String[] t = m.split(" ");
                int dash = List.of(t).indexOf("-");
                boolean v2 = t[dash + 1].equals("cgroup2"), v1 = t[dash + 1].equals("cgroup");
                if (!(f[1].isEmpty() ? v2 : v1 && List.of(t[dash + 3].split(",")).containsAll(List.of(f[1].split(",")))))
                    continue;
                if (!t[3].equals("/")) continue;
                String path = (f[2].equals("/") ? "" : f[2]) + "/jcriu-test-" + ProcessHandle.current().pid() + "-"
                        + System.nanoTime();
                Path dir = Path.of(t[4] + path);
                Files.createDirectory(dir);
                return new Fresh(f[0] + ":" + f[1], dir, path);
            }
        }
        throw new AssertionError("no cgroup hierarchy mounted with its root in this mount namespace: " + mine);
    }

    private static String cgroupOf(int pid, String hierarchy) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
            if (l.startsWith(hierarchy + ":")) return l.substring(hierarchy.length() + 1);
        }
        throw new AssertionError("no " + hierarchy + " in /proc/" + pid + "/cgroup");
    }

    @Test
    void restoredIntoTheCgroupItWasIn() throws Exception {
        try (Fresh cg = freshCgroup(); Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Files.writeString(cg.dir().resolve("cgroup.procs"), Integer.toString(w.pid()));
            assertEquals(cg.path(), cgroupOf(w.pid(), cg.line()));
            try (Workload r = Checkpoints.cycle(w)) {
                r.awaitOutput("count=");
                assertEquals(cg.path(), cgroupOf(r.pid(), cg.line()), "back in " + cg.dir());
                r.close();
                r.awaitGone(Duration.ofSeconds(30));
            }
        }
    }

    /** A thread in a cgroup other than its process's (v1 tasks, v2 threaded cgroups) is refused, naming it. */
    @Test
    void aThreadInACgroupOfItsOwnIsRefused() throws Exception {
        try (Fresh cg = freshCgroup(); Workload w = Workload.start(Gcc.compile("refusable"), "threads")) {
            int tid = (int) Workload.number(w.awaitOutput("thread tid="), "tid");
            w.awaitOutput("count=2");
            if (cg.line().startsWith("0:")) {
                Files.writeString(cg.dir().resolve("cgroup.type"), "threaded");
                Files.writeString(cg.dir().resolve("cgroup.threads"), Integer.toString(tid));
            } else {
                Files.writeString(cg.dir().resolve("tasks"), Integer.toString(tid));
            }
            Path dir = Checkpoints.imageDir(w);
            var e = org.junit.jupiter.api.Assertions.assertThrows(jcriu.dump.Checkpointer.DumpException.class, () ->
                    jcriu.dump.Checkpointer.dump(new jcriu.dump.DumpOptions(w.pid(), dir, false, false),
                            Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("thread " + tid) && e.getMessage().contains("cgroups of its own"),
                    e.getMessage());
            long at = Workload.number(w.lines().getLast(), "count");
            w.awaitOutput("count=" + (at + 2));
            w.close(); // out of the cgroup before it is removed
            w.awaitGone(Duration.ofSeconds(30));
        }
    }

    @Test
    void aCgroupGoneMeanwhileLeavesTheProcessInJcriusWithAWarning() throws Exception {
        try (Fresh cg = freshCgroup(); Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Files.writeString(cg.dir().resolve("cgroup.procs"), Integer.toString(w.pid()));
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            Files.delete(cg.dir()); // empty now: the process was killed
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            Restorer.Result res = Restorer.restore(new RestoreOptions(dir, true, false, false), Checkpoints.log(log));
            try (Workload r = Workload.adopt(res.pid(), w.dir()).seek(w.lineCount())) {
                r.awaitOutput("count=");
                assertEquals(cgroupOf((int) ProcessHandle.current().pid(), cg.line()), cgroupOf(r.pid(), cg.line()));
                assertTrue(log.toString().contains("cgroup " + cg.path()) && log.toString().contains("no longer exists"),
                        log.toString());
            }
        }
    }
}

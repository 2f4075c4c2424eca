package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpHooks;
import jcriu.dump.DumpOptions;
import jcriu.rseq.RseqConfigSource;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * A process whose threads are born and die all the time, each making its successor right
 * before it exits (CRIU's zdtm transition/thread-bomb). Every dump must succeed, and while it
 * runs no thread of the process may: a thread that vanished between the freeze's listing and
 * its seize may have left a successor behind, which the freeze must catch too.
 */
class ThreadBombTest {
    private static final int DUMPS = 12, CYCLES = 4;
    private static final Duration PROGRESS = Duration.ofSeconds(30);

    /**
     * At the dump's "frozen" point: the threads listed are the same 20 ms later, each is in a
     * ptrace stop (state t), and the kernel counts no other. A thread the freeze missed would
     * run on, and make and end threads meanwhile.
     */
    static final DumpHooks ALL_STOPPED = new DumpHooks() {
        @Override
        public void frozen(int pid) throws IOException {
            List<Integer> before = tids(pid);
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            List<Integer> after = tids(pid);
            if (!before.equals(after)) {
                throw new IOException("threads came or went after the freeze: " + before + " then " + after);
            }
            for (int tid : after) {
                char state = state(pid, tid);
                if (state != 't') throw new IOException("thread " + tid + " is not stopped after the freeze: " + state);
            }
            int counted = threadCount(pid);
            if (counted != after.size()) {
                throw new IOException("the kernel counts " + counted + " threads after the freeze, " + after.size()
                        + " listed: " + after);
            }
        }
    };

    @Test
    void everyDumpOfARunningThreadBombSucceedsWithAllItsThreadsStopped() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("thread_bomb"))) {
            w.awaitOutput("born=");
            for (int i = 0; i < DUMPS; i++) {
                dump(w, true, "dump " + i);
                w.awaitCountGrows("born", PROGRESS, "after dump " + i + " (left running)");
            }
            w.signal(Sig.SIGTERM);
            w.awaitOutput("exit code=0");
        }
    }

    @Test
    void aThreadBombIsDumpedKilledAndRestoredAgainAndAgain() throws Exception {
        Workload w = Workload.start(Gcc.compile("thread_bomb"));
        try {
            w.awaitOutput("born=");
            for (int i = 0; i < CYCLES; i++) {
                Path dir = dump(w, false, "cycle " + i);
                w.awaitGone(Duration.ofSeconds(30));
                Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount());
                w.close();
                w = r;
                // the restored chains go on: the count grows from where the dump left it
                w.awaitCountGrows("born", PROGRESS, "restored in cycle " + i);
            }
            w.signal(Sig.SIGTERM);
            w.awaitOutput("exit code=0");
        } finally {
            w.close();
        }
    }

    /** One dump with the check above; a failure names the dump and carries its log. */
    private static Path dump(Workload w, boolean leaveRunning, String what) throws IOException {
        Path dir = Checkpoints.imageDir(w);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try {
            Checkpointer.dump(new DumpOptions(w.pid(), dir, leaveRunning, false, null, RseqConfigSource.PTRACE, null,
                    ALL_STOPPED), Checkpoints.log(log));
        } catch (Checkpointer.DumpException e) {
            throw new AssertionError(what + " of the thread bomb failed: " + e.getMessage() + "\nlog:\n" + log, e);
        }
        assertTrue(Files.exists(dir.resolve("pstree.img")), what + ": no pstree.img in " + dir);
        return dir;
    }

    private static List<Integer> tids(int pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return new ArrayList<>(s.map(p -> Integer.parseInt(p.getFileName().toString())).sorted().toList());
        }
    }

    private static char state(int pid, int tid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/task/" + tid + "/stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }

    private static int threadCount(int pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("Threads:")) return Integer.parseInt(l.substring(8).strip());
        }
        throw new IOException("/proc/" + pid + "/status has no Threads: line");
    }
}

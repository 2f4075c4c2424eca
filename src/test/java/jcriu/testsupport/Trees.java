package jcriu.testsupport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jcriu.image.ImageDir;
import jcriu.image.StateCodec;
import jcriu.proc.ProcStat;
import jcriu.proc.Stat;

/** Process trees in tests: who is in one, waiting for all of it to be gone, the dump/restore cycle. */
public final class Trees {
    private static final Path PROC = Path.of("/proc");

    private Trees() {}

    /** The process and all its descendants as /proc shows them now, root first, then by pid. */
    public static List<ProcStat> members(int root) throws IOException {
        List<ProcStat> all = Stat.all(PROC);
        List<ProcStat> out = new ArrayList<>();
        List<Integer> frontier = new ArrayList<>(List.of(root));
        all.stream().filter(p -> p.pid() == root).forEach(out::add);
        while (!frontier.isEmpty()) {
            List<Integer> next = new ArrayList<>();
            for (ProcStat p : all) {
                if (frontier.contains(p.ppid())) {
                    out.add(p);
                    next.add(p.pid());
                }
            }
            frontier = next;
        }
        out.sort(Comparator.comparingInt((ProcStat p) -> p.pid() == root ? -1 : 0).thenComparingInt(ProcStat::pid));
        return out;
    }

    /** Waits for {@code n} processes in the tree of {@code root}. */
    public static List<ProcStat> awaitMembers(int root, int n) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            List<ProcStat> m = members(root);
            if (m.size() == n) return m;
            assertTrue(System.nanoTime() < deadline, "expected " + n + " processes in the tree of " + root + ", found "
                    + m.stream().map(p -> p.pid() + " " + p.comm()).toList());
            pause();
        }
    }

    /** Every PID gone from /proc (reaped, which init does lazily here). */
    public static void awaitGone(Collection<Integer> pids) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (int pid : pids) {
            while (Files.exists(PROC.resolve(Integer.toString(pid)))) {
                assertTrue(System.nanoTime() < deadline, "pid " + pid + " still exists");
                pause();
            }
        }
    }

    /** SIGKILL to the tree of {@code root}, repeated until none of it is left running. */
    public static void kill(int root) {
        try {
            for (int round = 0; round < 50; round++) {
                List<ProcStat> m = members(root);
                if (m.stream().allMatch(p -> p.state() == 'Z')) return;
                for (ProcStat p : m) Sig.kill(p.pid(), Sig.SIGKILL);
                pause();
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Kills a tree when closed, so that a test leaves none of its processes behind whatever happens. */
    public interface Killer extends AutoCloseable {
        @Override
        void close();
    }

    /** {@link #kill} of the tree of {@code w} at the end of a try-with-resources block. */
    public static Killer killOnClose(Workload w) {
        return () -> kill(w.pid());
    }

    /** Every PID and TID the images in {@code dir} hold. */
    public static List<Integer> idsIn(Path dir) throws IOException {
        return StateCodec.read(ImageDir.open(dir)).allIds();
    }

    /**
     * Dump (the tree is killed), wait until every PID of the images is free, restore detached.
     * Returns the restored root, reading on after the lines printed before the dump.
     */
    public static Workload cycle(Workload w) throws IOException {
        Path dir = Checkpoints.imageDir(w);
        Checkpoints.dump(w, dir, false);
        awaitGone(idsIn(dir));
        int seen = w.lineCount();
        return Checkpoints.restore(dir, w.dir(), seen);
    }

    /** Asks every process for its tick count (SIGUSR1, "alive pid=P ticks=T") and waits for all the answers. */
    public static Map<Integer, Long> ticks(Workload w, List<ProcStat> ps) {
        w.skipToEnd();
        for (ProcStat p : ps) Sig.kill(p.pid(), Sig.SIGUSR1);
        Map<Integer, Long> out = new HashMap<>();
        Pattern alive = Pattern.compile("alive pid=(\\d+) ticks=(\\d+)");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (out.size() < ps.size()) {
            assertTrue(System.nanoTime() < deadline, "answers from " + out.keySet() + " only");
            String line = w.awaitOutput("alive pid=");
            Matcher m = alive.matcher(line);
            assertTrue(m.find(), line);
            out.put(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)));
        }
        return out;
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

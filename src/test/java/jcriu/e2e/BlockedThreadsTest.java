package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Threads parked in read(2) on a pipe, in a futex wait, in nanosleep, and a main thread in
 * sigwaitinfo, plus a pipe with unread bytes and a changed capacity. The kernel is the
 * oracle: the same program stopped and continued must observe exactly what the restored
 * one observes, down to pthread_join returning for every restored thread.
 */
class BlockedThreadsTest {
    private static final int SIGUSR1 = 10;
    private static final Map<String, Integer> SYSCALL = Map.of("reader", 0 /* read */, "waiter", 202 /* futex */,
            "sleeper", 230 /* clock_nanosleep, which glibc's nanosleep calls */);

    @Test
    void blockedThreadsResumeAsAfterStopAndContinue() throws Exception {
        List<String> oracle = run(false);
        List<String> restored = run(true);
        assertEquals(List.of("poke", "read got=x", "woke", "backlog=hello-backlog capacity=8192", "joined=3",
                "exit code=0"), oracle, "the oracle run itself");
        assertEquals(oracle, restored);
    }

    /** The events the program prints after the stop (or checkpoint), in a canonical order. */
    private static List<String> run(boolean checkpoint) throws Exception {
        try (Workload w = Workload.start(Gcc.compile("blockers"))) {
            String ready = w.awaitOutput("ready");
            for (var e : SYSCALL.entrySet()) awaitSyscall(w.pid(), (int) Workload.number(ready, e.getKey()), e.getValue());
            awaitSyscall(w.pid(), w.pid(), 128); // rt_sigtimedwait
            w.awaitOutput("slept n=1", Duration.ofSeconds(5));
            Map<String, String> before = perThread(w.pid(), ready);
            assertEquals("0000000000000800", before.get("reader SigPnd"), "SIGUSR2 pending on the reader: " + before);
            assertEquals("0000000008000000", before.get("reader ShdPnd"), "SIGWINCH pending for all: " + before);
            Workload cur = checkpoint ? Checkpoints.cycle(w) : w;
            try {
                // inside the try: a failed check must not leave the restored process behind
                if (checkpoint) {
                    for (String role : SYSCALL.keySet()) {
                        int tid = (int) Workload.number(ready, role);
                        assertTrue(cur.tids().contains(tid), role + " " + tid + " restored: " + cur.tids());
                    }
                } else {
                    w.stopAndContinue(Duration.ofMillis(300));
                }
                assertEquals(before, perThread(cur.pid(), ready), "names and pending signals per thread");
                int from = cur.cursor();
                String sleptBefore = lastSlept(cur.lines());
                cur.awaitOutput("slept n=", Duration.ofSeconds(5)); // the sleeper goes on
                cur.signal(SIGUSR1);
                for (String e : List.of("backlog=", "woke", "read got=")) cur.seek(from).awaitOutput(e);
                cur.signal(Sig.SIGTERM);
                cur.seek(from).awaitOutput("exit code=", Duration.ofSeconds(5));
                cur.awaitGone(Duration.ofSeconds(30));
                List<String> lines = cur.lines().subList(from, cur.lineCount());
                assertFalse(String.join("\n", cur.lines()).contains("BAD"), String.join("\n", cur.lines()));
                List<String> events = new ArrayList<>();
                for (String l : lines) if (!l.startsWith("slept ")) events.add(l);
                // the three threads report in any order; main's lines keep theirs
                List<String> canon = new ArrayList<>();
                for (String e : List.of("poke", "read got=x", "woke")) if (events.contains(e)) canon.add(e);
                events.stream().filter(e -> e.startsWith("backlog=")).forEach(canon::add);
                events.stream().filter(e -> e.startsWith("joined=") || e.startsWith("exit code=")).forEach(canon::add);
                assertEquals(events.size(), canon.size(), "unexpected lines: " + events);
                assertTrue(sleptBefore != null, "the sleeper had slept before");
                return canon;
            } finally {
                cur.close();
            }
        }
    }

    /** Each role's thread name, private pending (SigPnd) and shared pending (ShdPnd) signals. */
    private static Map<String, String> perThread(int pid, String ready) throws IOException {
        Map<String, String> out = new java.util.TreeMap<>();
        for (String role : SYSCALL.keySet()) {
            Path dir = Path.of("/proc/" + pid + "/task/" + Workload.number(ready, role));
            out.put(role + " comm", Files.readString(dir.resolve("comm")).strip());
            for (String l : Files.readAllLines(dir.resolve("status"))) {
                if (l.startsWith("SigPnd:") || l.startsWith("ShdPnd:")) {
                    out.put(role + " " + l.substring(0, 6), l.substring(7).strip());
                }
            }
        }
        return out;
    }

    private static String lastSlept(List<String> lines) {
        String s = null;
        for (String l : lines) if (l.startsWith("slept ")) s = l;
        return s;
    }

    /** Waits until the thread is in the given system call (first field of /proc/PID/task/TID/syscall). */
    private static void awaitSyscall(int pid, int tid, int nr) throws IOException, InterruptedException {
        Path f = Path.of("/proc/" + pid + "/task/" + tid + "/syscall");
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        String s = "";
        while (System.nanoTime() < end) {
            s = Files.readString(f).strip();
            if (s.split(" ")[0].equals(Integer.toString(nr))) return;
            Thread.sleep(20);
        }
        throw new AssertionError("thread " + tid + " not in syscall " + nr + ": " + s);
    }
}

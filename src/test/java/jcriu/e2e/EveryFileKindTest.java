package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpHooks;
import jcriu.dump.DumpOptions;
import jcriu.net.NetOptions;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.rseq.RseqConfigSource;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * allkinds.c holds every kind of open file at once: epoll over an eventfd, a timerfd, a
 * signalfd with a pending signal, inotify, a pipe, a FIFO, a unix socketpair, a TCP listener
 * and an established loopback connection (all with unread bytes) and a pty pair; a sealed
 * memfd mapped shared; a deleted file; flock, POSIX and OFD locks; fds with CLOEXEC, APPEND,
 * NONBLOCK, ASYNC (owner and signal), O_PATH, a directory, a /proc file, /dev/null. Run twice,
 * the kernel as the oracle: stopped and continued, and dumped, killed, left dead for a while
 * and restored. What the process then observes of them must be the same, but for the periodic
 * timer's expirations: each run's count must lie within the bounds the measured times give
 * (the stop counts for the kernel's timer, the time dead does not count after a restore).
 */
class EveryFileKindTest {
    private static final long TIMER_MS = 300, PERIOD_MS = 100, DEAD_MS = 2_000;
    private static final String WATCHED = "watched";
    private static final Duration OBS_TIMEOUT = Duration.ofSeconds(30);
    private Integer dumpedPid;

    /** A dump with --tcp-established locks the network until its restore: a failed run leaves no lock behind. */
    @AfterEach
    void dropNetworkLock() throws Exception {
        if (dumpedPid != null) {
            new ProcessBuilder("nft", "delete", "table", "inet", "jcriu-" + dumpedPid).redirectErrorStream(true)
                    .start().waitFor();
        }
    }

    @Test
    void aProcessHoldingEveryKindOfFileComesBackWhole() throws Exception {
        Path bin = Gcc.compile("allkinds");
        try (Workload a = Workload.start(bin, WATCHED); Workload b = Workload.start(bin, WATCHED)) {
            String readyA = a.awaitOutput("^ready "), readyB = b.awaitOutput("^ready ");
            assertFalse(a.text().contains("BAD") || b.text().contains("BAD"), a.text() + b.text());

            a.stopAndContinue(Duration.ofMillis(DEAD_MS));

            Map<Integer, List<String>> fdsBefore = fds(b.pid());
            Path dir = Checkpoints.imageDir(b);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            long d0 = nowMs();
            dumpedPid = b.pid();
            try {
                // --file-locks and --tcp-established, which the locks and the connection need (as with CRIU)
                Checkpointer.dump(new DumpOptions(b.pid(), dir, false, false, null, RseqConfigSource.PTRACE, null,
                        DumpHooks.NONE, new DumpOptions.FileOptions(1 << 20, true))
                        .withNet(new NetOptions(false, true, false)), Checkpoints.log(log));
            } catch (IOException | RuntimeException e) {
                throw new AssertionError("dump failed: " + e.getMessage() + "\n" + log, e);
            }
            long d1 = nowMs();
            b.awaitGone(Duration.ofSeconds(30));
            Thread.sleep(DEAD_MS); // dead for a while: a restored relative timer must not count this time
            String crit = EventLoopTest.crit(dir.resolve("files.img"));
            for (String kind : List.of("EVENTFD", "TIMERFD", "SIGNALFD", "INOTIFY", "EVENTPOLL", "PIPE", "FIFO",
                    "UNIXSK", "INETSK", "MEMFD", "TTY", "REG")) {
                assertTrue(crit.contains("\"type\": \"" + kind + "\""), "crit decode of files.img lacks " + kind);
            }

            long r0 = nowMs();
            log.reset();
            int pid;
            try {
                pid = Restorer.restore(new RestoreOptions(dir, true, false, false)
                        .withNet(new NetOptions(false, true, false)), Checkpoints.log(log)).pid();
            } catch (IOException | RuntimeException e) {
                throw new AssertionError("restore failed: " + e.getMessage() + "\n" + log, e);
            }
            dumpedPid = null; // the restore dropped the lock
            long r1 = nowMs();
            try (Workload r = Workload.adopt(pid, b.dir()).seek(b.lineCount())) {
                assertEquals(b.pid(), r.pid());
                // every fd: what it is, its flags (close-on-exec included), offset and what the kernel shows of its state
                Map<Integer, List<String>> fdsAfter = fds(r.pid());
                assertEquals(fdsBefore.keySet(), fdsAfter.keySet(), "fd numbers");
                StringBuilder differ = new StringBuilder();
                fdsBefore.forEach((fd, about) -> {
                    if (!about.equals(fdsAfter.get(fd))) differ.append("\nfd ").append(fd).append(": before ")
                            .append(about).append("\n      after  ").append(fdsAfter.get(fd));
                });
                assertEquals("", differ.toString(), "fds that differ after the restore");
                assertFalse(Files.exists(b.dir().resolve("deleted.dat")), "the deleted file is deleted again");

                List<String> obsA = observe(a), obsB = observe(r);
                assertEquals(withoutTimer(obsA), withoutTimer(obsB), "what the process observes of its files");
                assertEquals("obs summary checks=16 failed=0", obsA.getLast(), "stopped and continued:\n" + obsA);

                // timer expirations: the first TIMER_MS after the arm, then one every PERIOD_MS of time counted
                long armA = Workload.number(readyA, "arm_ms"), armB = Workload.number(readyB, "arm_ms");
                String tA = timerLine(obsA), tB = timerLine(obsB);
                assertEquals("1", Workload.word(tA, "left_ok"), "time left within one period: " + tA);
                assertEquals("1", Workload.word(tB, "left_ok"), "time left within one period: " + tB);
                long readA = Workload.number(tA, "read_ms"), readB = Workload.number(tB, "read_ms");
                within(Workload.number(tA, "ticks"), ticks(readA - armA), ticks(readA - armA),
                        "stopped and continued: the stop counts, " + tA);
                // the timer's state is taken somewhere in [d0, d1] and armed again somewhere in [r0, r1]
                long most = ticks(readB - armB - (r0 - d1)), least = ticks(readB - armB - (r1 - d0));
                within(Workload.number(tB, "ticks"), least, most, "restored: the time dead does not count (dump "
                        + d0 + ".." + d1 + " ms, restore " + r0 + ".." + r1 + " ms, armed at " + armB + "), " + tB);
                assertTrue(most < ticks(readB - armB) - DEAD_MS / PERIOD_MS / 2, "the bounds tell the two apart");

                for (Workload w : List.of(a, r)) {
                    w.signal(Sig.SIGTERM);
                    w.awaitOutput("exit code=0");
                    assertFalse(w.text().contains("BAD"), w.text());
                }
            }
        }
    }

    /** Creates WATCHED/created (an inotify event), asks for the observation and returns its lines. */
    private static List<String> observe(Workload w) throws IOException {
        Files.writeString(w.dir().resolve(WATCHED).resolve("created"), "");
        w.skipToEnd();
        w.signal(Sig.SIGUSR1);
        List<String> out = new ArrayList<>();
        do {
            out.add(w.awaitOutput("^obs ", OBS_TIMEOUT));
        } while (!out.getLast().startsWith("obs summary"));
        return out;
    }

    /**
     * Every fd of a process: its link with inode numbers left out (pipes, sockets and anonymous
     * inodes are new objects after a restore), then its fdinfo lines but for those that name
     * the object or change by themselves (ino, mnt_id, an eventfd's id, a timer's ticks and time left).
     */
    static Map<Integer, List<String>> fds(int pid) throws IOException {
        Map<Integer, List<String>> out = new TreeMap<>();
        Path proc = Path.of("/proc/" + pid);
        try (var list = Files.list(proc.resolve("fd"))) {
            for (Path fd : list.toList()) {
                int n = Integer.parseInt(fd.getFileName().toString());
                List<String> about = new ArrayList<>();
                for (String l : Files.readAllLines(proc.resolve("fdinfo/" + n))) {
                    if (l.matches("(ino|mnt_id|ticks|it_value|eventfd-id):.*")) continue;
                    about.add(l.replaceAll("\\s+(pos|ino|sdev):\\s*\\S+", "").replaceAll("\\s+", " ").strip());
                }
                Collections.sort(about); // an epoll lists its watches in the order of its tree, by object address
                about.addFirst(Files.readSymbolicLink(fd).toString().replaceAll(":\\[\\d+\\]$", ":[]"));
                out.put(n, about);
            }
        }
        return out;
    }

    private static List<String> withoutTimer(List<String> obs) {
        return obs.stream().filter(l -> !l.startsWith("obs timer ")).toList();
    }

    private static String timerLine(List<String> obs) {
        return obs.stream().filter(l -> l.startsWith("obs timer ")).findFirst().orElseThrow(() -> new AssertionError("no timer line in " + obs));
    }

    /** Expirations after {@code ms} of counted time (ms rounding is absorbed by {@link #within}'s slack). */
    private static long ticks(long ms) {
        return ms < TIMER_MS ? 0 : (ms - TIMER_MS) / PERIOD_MS + 1;
    }

    /** {@code v} in [least - 1, most + 1]: the times are whole milliseconds, read around the events. */
    private static void within(long v, long least, long most, String what) {
        assertTrue(v >= least - 1 && v <= most + 1, what + ": " + v + " expirations, expected " + least + ".." + most);
    }

    /** CLOCK_MONOTONIC in ms, as the workload's. */
    private static long nowMs() {
        return System.nanoTime() / 1_000_000;
    }
}

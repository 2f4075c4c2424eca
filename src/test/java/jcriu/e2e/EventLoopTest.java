package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import jcriu.files.Epoll;
import jcriu.files.TimerFd;
import jcriu.image.ImageDir;
import jcriu.image.StateCodec;
import jcriu.state.TreeState;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * eventloop.c holds an eventfd of each kind, timerfds (relative, absolute, expired unread,
 * periodic), a signalfd with pending signals and an epoll watching all of them (edge-triggered,
 * one-shot, exclusive, nested, and one file registered under an fd number since closed and
 * reused). Run twice: stopped and continued (the kernel's own answer), and dumped, killed,
 * left dead for a while and restored; what it observes afterwards must be the same, but for
 * the timers: a relative one fires as long after the restore as it had left, an absolute one
 * at its time.
 */
class EventLoopTest {
    private static final long REL_MS = 15_000, DEAD_MS = 2_000, TOLERANCE_MS = 400;

    /** What one run printed after its checkpoint (or stop), and when its timers fired. */
    record Run(List<String> obs1, List<String> obs2, List<String> obs3, long relFiredMono, long absFiredReal) {}

    @Test
    void eventLoopFdsKeepTheirStateAcrossARestore() throws Exception {
        Path bin = Gcc.compile("eventloop");
        try (Workload a = Workload.start(bin); Workload b = Workload.start(bin)) {
            String readyA = a.awaitOutput("^ready "), readyB = b.awaitOutput("^ready ");
            assertTrue(!a.text().contains("BAD") && !b.text().contains("BAD"), a.text() + b.text());
            int ep = (int) Workload.number(readyB, "ep"), closed = (int) Workload.number(readyB, "closed");
            Path proc = Path.of("/proc/" + b.pid());
            List<String> watchesBefore = watches(proc, ep);
            assertEquals(9, watchesBefore.size(), watchesBefore.toString());
            String semBefore = fdinfo(proc, (int) Workload.number(readyB, "sem"));

            a.stopAndContinue(Duration.ofMillis(300));
            List<String> a1 = obs(a, 1, 6);

            Path dir = Checkpoints.imageDir(b);
            Checkpoints.dump(b, dir, false);
            b.awaitGone(Duration.ofSeconds(30));
            Thread.sleep(DEAD_MS); // the process is dead for a while: relative and absolute timers then differ
            TreeState img = StateCodec.read(ImageDir.open(dir));
            TimerFd rel = timer(img, t -> t.clock() == 1 && t.ticks() == 0), // CLOCK_MONOTONIC, not "fired"
                    abs = timer(img, t -> (t.settimeFlags() & TimerFd.TFD_TIMER_ABSTIME) != 0),
                    per = timer(img, t -> t.clock() == 7); // CLOCK_BOOTTIME
            assertTrue(abs.expiryNs() > 0, abs.toString());
            assertTrue(rel.valueNs() > 0, "the dump came before the relative timer fired: " + rel);
            assertTrue(per.ticks() > 0 && per.intervalNs() == 50_000_000L, per.toString());
            Epoll epoll = img.files().stream().filter(f -> f instanceof Epoll e && e.watches().size() == 9)
                    .map(Epoll.class::cast).findFirst().orElseThrow();
            assertTrue(epoll.watches().stream().allMatch(w -> w.fileId() > 0), epoll.toString());
            // CRIU's restore registers a watch under the fd number its image names: there, the
            // number of an fd still on the watched eventfd, not the closed one /dev/null took
            int criuTfd = epoll.watches().stream().filter(w -> w.tfd() == closed).findFirst().orElseThrow().criuTfd();
            assertTrue(criuTfd >= 0 && criuTfd != closed, epoll.toString());

            long restoreStartMono = System.nanoTime() / 1_000_000; // CLOCK_MONOTONIC, as the workload's
            try (Workload r = Checkpoints.restore(dir, b.dir(), b.lineCount())) {
                long restoredMono = System.nanoTime() / 1_000_000;
                Path rproc = Path.of("/proc/" + r.pid());
                assertEquals(new TreeSet<>(watchesBefore), new TreeSet<>(watches(rproc, ep)),
                        "every watch with its fd number, events and data");
                assertEquals("/dev/null", Files.readSymbolicLink(rproc.resolve("fd/" + closed)).toString(),
                        "the fd number a watch was registered under still names the file put there since");
                assertEquals("anon_inode:[eventfd]", Files.readSymbolicLink(rproc.resolve("fd/" + criuTfd)).toString(),
                        "the number CRIU's restore would use holds the watched eventfd");
                assertEquals(eventfdLines(semBefore), eventfdLines(fdinfo(rproc, (int) Workload.number(readyB, "sem"))));

                List<String> b1 = obs(r, 1, 6);
                Run ra = afterTimers(a, a1), rb = afterTimers(r, b1);
                assertEquals(ra.obs1().subList(0, 3), rb.obs1().subList(0, 3), "ready set, counts, signals");
                assertEquals("obs 1 ready 1:1 2:1 3:1 6:1 8:1 9:1", ra.obs1().get(0));
                assertEquals("obs 1 counts efd=5 sem=1,1,1,EAGAIN big=4294967303 closed=2", ra.obs1().get(1));
                assertEquals("obs 1 signals 12:0 37:42", ra.obs1().get(2));
                assertEquals(ra.obs1().get(4), rb.obs1().get(4), "flags");
                assertEquals(1, Workload.number(rb.obs1().get(3), "fired"));
                assertEquals(1, Workload.number(ra.obs1().get(3), "fired"));
                assertTrue(Workload.number(rb.obs1().get(3), "per") >= per.ticks(), rb.obs1().get(3) + " " + per);
                assertEquals(ra.obs2().subList(0, 2), rb.obs2().subList(0, 2));
                assertEquals("obs 2 ready 4:1 5:1", rb.obs2().get(0), "both timers fired; the one-shot once");
                assertEquals(ra.obs3().subList(0, 2), rb.obs3().subList(0, 2));
                assertEquals("obs 3 ready 4:1", rb.obs3().get(0), "the one-shot watch is disarmed");

                long startA = Workload.number(readyA, "start_mono_ms"), startB = Workload.number(readyB, "start_mono_ms");
                near(startA + REL_MS, ra.relFiredMono(), "relative timer, stopped and continued: at its time");
                near(Workload.number(readyA, "abs_real_ms"), ra.absFiredReal(), "absolute timer, stopped and continued");
                near(Workload.number(readyB, "abs_real_ms"), rb.absFiredReal(), "absolute timer, restored: at its time");
                // the timer is armed somewhere inside the restore: between its start and its end
                long left = rel.valueNs() / 1_000_000;
                assertTrue(rb.relFiredMono() >= restoreStartMono + left - TOLERANCE_MS
                        && rb.relFiredMono() <= restoredMono + left + TOLERANCE_MS, "relative timer, restored: as long"
                        + " after the restore as it had left (" + left + " ms): restore ran from " + restoreStartMono
                        + " to " + restoredMono + " ms, it fired at " + rb.relFiredMono());
                assertTrue(rb.relFiredMono() - (startB + REL_MS) >= DEAD_MS - TOLERANCE_MS,
                        "the time dead does not count for a relative timer");
                String crit = crit(dir.resolve("files.img"));
                for (String want : List.of("\"type\": \"EVENTFD\"", "\"counter\": 4294967303", "\"type\": \"SIGNALFD\"",
                        "\"sigmask\": \"0x1000000800\"", "\"type\": \"TIMERFD\"", "\"clockid\": 7",
                        "\"settime_flags\": \"0x1\"", "\"type\": \"EVENTPOLL\"", "\"events\": 1073741849", // ONESHOT|IN|ERR|HUP
                        "\"data\": 9", "\"tfd\": " + criuTfd)) {
                    assertTrue(crit.contains(want), "crit decode of files.img lacks " + want + ":\n" + crit);
                }
                for (Workload w : List.of(a, r)) {
                    w.signal(Sig.SIGTERM);
                    w.awaitOutput("exit code=0");
                    assertTrue(!w.text().contains("BAD"), w.text());
                }
            }
        }
    }

    /** An epoll whose watched file no fd of the dumped tree holds (only a process outside it) is refused, naming it. */
    @Test
    void epollWatchingAFileHeldOnlyOutsideTheTreeIsRefused() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("epoll_outside"))) {
            int child = (int) Workload.number(w.awaitOutput("^ready "), "child");
            Path dir = Checkpoints.imageDir(w);
            // --shell-job: the child is in its parent's session, outside the dump
            var e = org.junit.jupiter.api.Assertions.assertThrows(jcriu.dump.Checkpointer.DumpException.class,
                    () -> jcriu.dump.Checkpointer.dump(new jcriu.dump.DumpOptions(child, dir, false, true),
                            jcriu.api.Log.quiet()));
            assertTrue(e.getMessage().contains("epoll") && e.getMessage().contains("of process " + child)
                    && e.getMessage().contains("no process of the tree holds open"), e.getMessage());
            char st = (char) Workload.stat(child).orElseThrow().state();
            assertTrue(st == 'S' || st == 'R', "the child runs on (not stopped), state " + st);
            w.signal(Sig.SIGTERM);
            w.awaitOutput("exit code=0");
        }
    }

    /** Once both timers fired (in either order): observations 2 and 3. */
    private static Run afterTimers(Workload w, List<String> o1) {
        int from = w.cursor();
        long rel = Workload.number(w.awaitOutput("^fired rel", Duration.ofSeconds(30)), "mono_ms");
        w.seek(from);
        long abs = Workload.number(w.awaitOutput("^fired abs", Duration.ofSeconds(30)), "real_ms");
        List<String> o2 = obs(w, 2, 3), o3 = obs(w, 3, 3);
        return new Run(o1, o2, o3, rel, abs);
    }

    private static List<String> obs(Workload w, int n, int lines) {
        w.skipToEnd();
        w.signal(Sig.SIGUSR1);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines; i++) out.add(w.awaitOutput("^obs " + n + " "));
        return out;
    }

    private static void near(long expected, long actual, String what) {
        assertTrue(Math.abs(actual - expected) <= TOLERANCE_MS, what + ": expected at " + expected + " ms, was "
                + actual + " (" + (actual - expected) + " ms off)");
    }

    private static TimerFd timer(TreeState img, java.util.function.Predicate<TimerFd> which) {
        List<TimerFd> ts = img.files().stream().filter(f -> f instanceof TimerFd).map(TimerFd.class::cast).toList();
        List<TimerFd> found = ts.stream().filter(which).toList();
        assertEquals(1, found.size(), ts.toString());
        return found.getFirst();
    }

    /** The epoll's watches as "tfd events data", without the inode (a pipe is a new one after restore). */
    private static List<String> watches(Path proc, int ep) throws IOException {
        return Files.readAllLines(proc.resolve("fdinfo/" + ep)).stream().filter(l -> l.startsWith("tfd:"))
                .map(l -> l.replaceAll("\\s+pos:.*", "").replaceAll("\\s+", " ")).toList();
    }

    /** Debian's crit (CRIU 3.17) decodes jcriu's files.img: the field numbers are CRIU's. */
    static String crit(Path image) throws Exception {
        Process p = new ProcessBuilder("crit", "decode", "-i", image.toString(), "--pretty").redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "crit timed out");
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private static String fdinfo(Path proc, int fd) throws IOException {
        return Files.readString(proc.resolve("fdinfo/" + fd));
    }

    private static List<String> eventfdLines(String fdinfo) {
        return fdinfo.lines().filter(l -> l.startsWith("eventfd-count") || l.startsWith("eventfd-semaphore")
                || l.startsWith("flags")).toList();
    }
}

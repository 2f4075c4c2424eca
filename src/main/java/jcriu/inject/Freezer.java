package jcriu.inject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

import jcriu.ptrace.Tracer;
import jcriu.ptrace.WaitStatus;
import jcriu.sys.Errno;
import jcriu.sys.SysException;

/**
 * Stops every thread of a process under ptrace without signalling it (PTRACE_SEIZE and
 * PTRACE_INTERRUPT), re-reading /proc/PID/task until no thread is left unseized, since
 * threads can be born while the others are being stopped.
 *
 * <p>The freeze ends only on a listing in which every thread is already stopped, and whose
 * length the kernel's own count (Threads: of /proc/PID/status) confirms. A thread that
 * vanished between the listing and its seize, was refused as already exited (the kernel will
 * not trace a thread past its exit, not yet released), or exited instead of stopping, does not
 * count as quiet: it may have cloned a thread before it went (a thread that starts its successor
 * and exits, as in CRIU's thread-bomb test), which only the next listing shows. And a listing
 * can miss live threads: the kernel's readdir of task/ stops early when the thread it is at
 * exits meanwhile. A thread stopped under ptrace cannot exit (only a SIGKILL of the whole
 * process ends it), so once the freeze returns its set is the process's, for good: per-thread
 * reads need not expect a thread of the set to vanish, and no thread outside it runs.
 */
public final class Freezer {
    public static final int OPTIONS = Tracer.O_TRACESYSGOOD;
    private static final int MAX_ROUNDS = 1000;

    private Freezer() {}

    /** A seized and stopped thread group; {@code tids} holds the leader first. */
    public record Frozen(int pid, List<Integer> tids) {}

    /** Thrown when the process disappears while being frozen. */
    public static final class GoneException extends IOException {
        public GoneException(String msg) { super(msg); }
    }

    public static Frozen freeze(Tracer tracer, int pid, Consumer<String> log) throws IOException {
        return freeze(tracer, pid, log, null);
    }

    /**
     * As {@link #freeze(Tracer, int, Consumer)}, giving up once {@code timeout} has passed (CRIU's
     * --timeout): a thread in uninterruptible sleep does not stop until it wakes. Null: no limit.
     */
    public static Frozen freeze(Tracer tracer, int pid, Consumer<String> log, java.time.Duration timeout)
            throws IOException {
        return freeze(tracer, pid, log, timeout, tid -> { });
    }

    /**
     * As {@link #freeze(Tracer, int, Consumer, java.time.Duration)}, calling {@code afterSeize}
     * with each thread between its PTRACE_SEIZE and its PTRACE_INTERRUPT: tests use it to make a
     * signal arrive in that window, where it is reported before the interrupt stop.
     */
    public static Frozen freeze(Tracer tracer, int pid, Consumer<String> log, java.time.Duration timeout,
                                java.util.function.IntConsumer afterSeize) throws IOException {
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        Set<Integer> stopped = new LinkedHashSet<>();
        String unseen = null;
        try {
            for (int round = 0; round < MAX_ROUNDS; round++) {
                List<Integer> fresh = new ArrayList<>();
                boolean quiet = true; // every listed thread was stopped already
                for (int tid : listTasks(pid)) {
                    if (stopped.contains(tid)) continue;
                    quiet = false;
                    try {
                        tracer.seize(tid, OPTIONS);
                    } catch (SysException e) {
                        if (e.is(Errno.ESRCH)) continue; // exited between the listing and the seize: look again
                        if (e.is(Errno.EPERM) && dying(pid, tid)) {
                            // the kernel refuses to trace a thread that has already exited and is
                            // not yet reaped (or released): as gone as an ESRCH, look again
                            unseen = "thread " + tid + " was exiting";
                            continue;
                        }
                        if (e.is(Errno.EPERM)) {
                            int tracer0 = tracerOf(tid);
                            throw new IOException("cannot trace thread " + tid + " of process " + pid + ": "
                                    + (tracer0 > 0 ? "it is traced by process " + tracer0 + " (" + comm(tracer0)
                                            + "); a process under another tracer cannot be dumped"
                                            : "not permitted (" + e.getMessage() + ")"));
                        }
                        throw e;
                    }
                    afterSeize.accept(tid);
                    tracer.interrupt(tid);
                    fresh.add(tid);
                }
                if (quiet) {
                    if (stopped.isEmpty()) throw new GoneException("process " + pid + " has no threads left (exited)");
                    if (!stopped.contains(pid)) throw new GoneException("thread-group leader " + pid + " exited");
                    int counted = threadCount(pid);
                    if (counted != stopped.size()) {
                        unseen = "the kernel counts " + counted + " threads, " + stopped.size() + " are stopped";
                        log.accept("round " + round + ": " + unseen + "; listing again");
                        continue;
                    }
                    List<Integer> tids = new ArrayList<>(stopped);
                    tids.remove(Integer.valueOf(pid));
                    tids.addFirst(pid);
                    return new Frozen(pid, List.copyOf(tids));
                }
                for (int tid : fresh) {
                    // a thread that times out is released when the tracer thread ends (exit_ptrace)
                    if (awaitStop(tracer, tid, log, deadline, timeout)) stopped.add(tid);
                }
                log.accept("round " + round + ": stopped " + fresh);
            }
            throw new IOException("threads of process " + pid + " kept appearing for " + MAX_ROUNDS + " rounds"
                    + (unseen == null ? "" : " (last: " + unseen + ")"));
        } catch (IOException | RuntimeException e) {
            for (int tid : stopped) {
                try {
                    tracer.detach(tid, 0);
                } catch (SysException ignored) {
                    // already gone
                }
            }
            throw e;
        }
    }

    /**
     * Waits for the interrupt stop. A signal-delivery stop that comes first is handed back to the
     * thread (it was already dequeued: dropping it would lose it). Returns false if the thread exited.
     */
    private static boolean awaitStop(Tracer tracer, int tid, Consumer<String> log, long deadline,
                                     java.time.Duration timeout) throws IOException {
        while (true) {
            WaitStatus ws = timeout == null ? tracer.waitFor(tid) : pollUntil(tracer, tid, deadline, timeout);
            if (!ws.stopped()) {
                log.accept("thread " + tid + " exited while being frozen: " + ws);
                return false;
            }
            if (ws.event() == Tracer.EVENT_STOP) return true;
            if (ws.event() != 0) {
                tracer.cont(tid, 0);
                continue;
            }
            int sig = ws.stopSignal();
            log.accept("thread " + tid + " had signal " + sig + " on its way in; delivering it before the freeze");
            tracer.cont(tid, sig);
        }
    }

    /** A thread did not stop before the deadline (CRIU's --timeout). */
    public static final class StopTimeout extends IOException {
        public StopTimeout(String message) {
            super(message);
        }
    }

    /** Polls with growing pauses (a stop usually comes within microseconds) until the deadline. */
    private static WaitStatus pollUntil(Tracer tracer, int tid, long deadline, java.time.Duration timeout)
            throws IOException {
        long pauseNanos = 20_000;
        while (true) {
            WaitStatus ws = tracer.poll(tid);
            if (ws != null) return ws;
            if (System.nanoTime() - deadline > 0) {
                throw new StopTimeout("thread " + tid + " did not stop in time (state " + state(tid)
                        + "; a thread in uninterruptible sleep, D, stops only when it wakes)");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
            pauseNanos = Math.min(pauseNanos * 2, 5_000_000);
        }
    }

    private static String state(int tid) {
        try {
            String s = Files.readString(Path.of("/proc", Integer.toString(tid), "stat"));
            return s.substring(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    public static void release(Tracer tracer, Frozen f) {
        for (int tid : f.tids()) {
            try {
                tracer.detach(tid, 0);
            } catch (SysException ignored) {
                // thread already gone
            }
        }
    }

    /**
     * Whether a thread other than the leader is past its exit (state Z or X) or already gone. A
     * leader that exited stays a zombie until its last thread does: that one is not taken for a
     * passing thread, the refusal to trace it stands.
     */
    private static boolean dying(int pid, int tid) {
        if (tid == pid) return false;
        try {
            String s = Files.readString(Path.of("/proc", Integer.toString(pid), "task", Integer.toString(tid), "stat"));
            char state = s.charAt(s.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException | RuntimeException e) {
            return true; // no longer there
        }
    }

    /** The kernel's count of the process's threads (Threads: of /proc/PID/status). */
    private static int threadCount(int pid) throws IOException {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
                if (l.startsWith("Threads:")) return Integer.parseInt(l.substring(8).strip());
            }
        } catch (NoSuchFileException e) {
            throw new GoneException("process " + pid + " does not exist");
        }
        throw new IOException("/proc/" + pid + "/status has no Threads: line");
    }

    /** TracerPid of a task, 0 if none or unknown. */
    private static int tracerOf(int tid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Integer.toString(tid), "status"))) {
                if (l.startsWith("TracerPid:")) return Integer.parseInt(l.substring(10).strip());
            }
        } catch (IOException | NumberFormatException e) {
            // gone meanwhile: the caller's message stands without a name
        }
        return 0;
    }

    private static String comm(int pid) {
        try {
            return Files.readString(Path.of("/proc", Integer.toString(pid), "comm")).strip();
        } catch (IOException e) {
            return "exited";
        }
    }

    static List<Integer> listTasks(int pid) throws IOException {
        Path dir = Path.of("/proc", Integer.toString(pid), "task");
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> Integer.parseInt(p.getFileName().toString())).sorted().toList();
        } catch (NoSuchFileException e) {
            throw new GoneException("process " + pid + " does not exist");
        }
    }
}

package jcriu.tree;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import jcriu.inject.Freezer;
import jcriu.proc.ProcStat;
import jcriu.proc.ProcessGoneException;
import jcriu.proc.Stat;
import jcriu.proc.Tasks;
import jcriu.ptrace.Tracer;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Stops a process and all of its descendants, with all their threads, before anything of
 * them is read. A process is frozen before its children are listed, so the list is final:
 * a stopped task cannot fork. Zombies are recorded, not seized (the kernel refuses to trace
 * them), and cannot be reaped meanwhile since their parents are stopped.
 */
public final class TreeFreezer {
    private static final Path PROC = Path.of("/proc");

    private TreeFreezer() {}

    /**
     * A frozen process and its parent in the tree (0 for the root). {@code stopSignal}: the
     * signal that had stopped it (state T) when it was frozen, 0 if it was not stopped; it is
     * restored stopped by the same signal.
     */
    public record Member(Freezer.Frozen frozen, int ppid, int stopSignal) {
        public int pid() { return frozen.pid(); }

        public boolean stopped() { return stopSignal != 0; }
    }

    /** Every process of the tree, parents before children, and the zombies among them. */
    public record FrozenTree(List<Member> members, List<ProcStat> zombies) {
        public Member root() { return members.getFirst(); }
    }

    /** {@code timeout}: how long the whole tree may take to stop (CRIU's --timeout); null waits as long as it takes. */
    public static FrozenTree freeze(Tracer tracer, int root, Consumer<String> log, java.time.Duration timeout)
            throws IOException {
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        List<Member> members = new ArrayList<>();
        List<ProcStat> zombies = new ArrayList<>();
        Deque<int[]> queue = new ArrayDeque<>();
        Set<Integer> seen = new HashSet<>();
        queue.add(new int[] {root, 0});
        seen.add(root);
        try {
            while (!queue.isEmpty()) {
                int[] next = queue.poll();
                int pid = next[0], ppid = next[1];
                ProcStat st = stat(pid);
                if (st == null) {
                    if (pid == root) throw new Freezer.GoneException("process " + pid + " does not exist");
                    log.accept("process " + pid + " vanished before it could be frozen");
                    continue;
                }
                if (st.state() == 'Z') {
                    zombies.add(st);
                    log.accept("process " + pid + " (" + st.comm() + ") is a zombie, exit status " + st.exitCode());
                    continue;
                }
                refuseVforkParent(pid, st);
                Freezer.Frozen f;
                try {
                    java.time.Duration left = null;
                    if (timeout != null) {
                        left = java.time.Duration.ofNanos(deadline - System.nanoTime());
                        if (left.isNegative() || left.isZero()) throw new Freezer.StopTimeout("process " + pid
                                + " was reached only after the deadline");
                    }
                    f = Freezer.freeze(tracer, pid, log, left);
                } catch (Freezer.StopTimeout e) {
                    throw new IOException("the process tree of " + root + " did not stop within the "
                            + timeoutText(timeout) + " timeout (--timeout): " + e.getMessage(), e);
                } catch (IOException e) {
                    ProcStat now = stat(pid);
                    if (pid != root && now != null && now.state() == 'Z') { // exited while being seized
                        zombies.add(now);
                        continue;
                    }
                    throw e;
                }
                int stopSignal = st.state() == 'T' ? stopSignal(tracer, pid) : 0;
                if (stopSignal != 0) consumeQueuedStops(tracer, f, log);
                members.add(new Member(f, ppid, stopSignal));
                for (int tid : f.tids()) {
                    for (int child : children(pid, tid)) {
                        if (seen.add(child)) queue.add(new int[] {child, pid});
                    }
                }
            }
            log.accept("frozen: " + members.size() + " process(es), " + zombies.size() + " zombie(s)");
            return new FrozenTree(List.copyOf(members), List.copyOf(zombies));
        } catch (IOException | RuntimeException e) {
            for (Member m : members) Freezer.release(tracer, m.frozen());
            throw e;
        }
    }

    /** Children of one thread; none if the thread exited meanwhile (its children moved to another). */
    private static List<Integer> children(int pid, int tid) throws IOException {
        try {
            return Tasks.children(PROC, pid, tid);
        } catch (ProcessGoneException | NoSuchFileException e) {
            return List.of();
        }
    }

    private static ProcStat stat(int pid) throws IOException {
        try {
            return Stat.read(PROC, pid);
        } catch (ProcessGoneException | NoSuchFileException e) {
            return null;
        }
    }

    /**
     * A thread waiting in vfork() for its child to exec or exit sleeps where a ptrace
     * interrupt cannot stop it, so it is refused before any seize: its child shares its memory.
     */
    private static void refuseVforkParent(int pid, ProcStat st) throws IOException {
        List<Integer> tids;
        try {
            tids = Tasks.list(PROC, pid);
        } catch (ProcessGoneException e) {
            return;
        }
        for (int tid : tids) {
            for (int child : children(pid, tid)) {
                if (sameMemory(pid, child)) {
                    throw new IOException("process " + pid + " (" + st.comm() + ") is in the middle of vfork: its child "
                            + child + " shares its memory until it calls exec or exits; try again later");
                }
            }
        }
    }

    private static boolean sameMemory(int a, int b) {
        try {
            return Sys.kcmp(a, b, Sys.KCMP_VM, 0, 0) == 0;
        } catch (SysException e) {
            return false; // gone meanwhile
        }
    }

    /**
     * The signal of the group stop a stopped process is in, as its parent's waitpid would report it
     * (SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU); SIGSTOP when the stop reports anything else.
     */
    private static int stopSignal(Tracer tracer, int pid) {
        int sig = tracer.stopSigno(pid);
        return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU ? sig : SIGSTOP;
    }

    /**
     * A stopped process may have another SIGSTOP queued (sent while it was stopped), which it
     * would take at the first injected system call. Each thread is let go to dequeue it (a
     * signal-delivery stop, where it is dropped) and trapped again at once. The process stays
     * stopped for the kernel (its group stop holds until a SIGCONT, which would discard queued
     * stop signals anyway), so nothing it can observe is lost.
     */
    private static void consumeQueuedStops(Tracer tracer, Freezer.Frozen f, Consumer<String> log) throws IOException {
        long sigstop = 1L << (SIGSTOP - 1);
        for (int tid : f.tids()) {
            for (int round = 0; round < 4; round++) {
                var status = jcriu.proc.Status.readTask(PROC, f.pid(), tid);
                long pending = status.sigPnd() | status.shdPnd();
                if ((pending & sigstop) == 0) break;
                // the kernel hands out the lowest unblocked signal first: one below SIGSTOP would be taken instead
                if ((pending & ~status.sigBlk() & (sigstop - 1)) != 0) {
                    throw new IOException(String.format("stopped process %d (thread %d) has a SIGSTOP queued behind "
                            + "other signals (pending %#x); not supported yet", f.pid(), tid, pending));
                }
                tracer.cont(tid, 0);
                var ws = tracer.waitFor(tid);
                if (!ws.stopped()) throw new Freezer.GoneException("thread " + tid + " ended: " + ws);
                if (ws.event() == 0 && (ws.stopSignal() & 0x7f) != SIGSTOP) {
                    tracer.interrupt(tid); // not ours after all: delivered as it would be, trapped again after
                    tracer.cont(tid, ws.stopSignal() & 0x7f);
                    tracer.waitFor(tid);
                    throw new IOException("stopped process " + f.pid() + " took signal " + (ws.stopSignal() & 0x7f)
                            + " instead of its queued SIGSTOP; try again");
                }
                if (ws.event() == 0) { // the signal-delivery stop of the queued SIGSTOP: dropped
                    tracer.interrupt(tid);
                    tracer.cont(tid, 0);
                    ws = tracer.waitFor(tid);
                    if (!ws.stopped()) throw new Freezer.GoneException("thread " + tid + " ended: " + ws);
                }
                log.accept("thread " + tid + ": a queued stop signal was taken before the dump (now " + ws + ")");
            }
        }
    }

    private static final int SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22;

    /** "1 s", or "1.5 s" for a timeout that is not whole seconds. */
    private static String timeoutText(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }
}

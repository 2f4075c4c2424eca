package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jcriu.api.Control;
import jcriu.api.Log;
import jcriu.image.PageStore;
import jcriu.inject.Injector;
import jcriu.ptrace.Regs;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.ptrace.WaitStatus;
import jcriu.state.FileSnapshot;
import jcriu.state.ProcessState;
import jcriu.state.ThreadState;
import jcriu.state.TreeState;
import jcriu.state.ZombieState;
import jcriu.sys.Errno;
import jcriu.sys.Nr;
import jcriu.sys.SchedAttr;
import jcriu.sys.Spawn;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Restores a process tree. Every process starts as a copy of a freestanding helper: the
 * root is cloned (with its PID) inside a helper jcriu starts, each other process inside its
 * parent, so parenthood, sessions and groups come about as they did originally. Zombies
 * then exit with their status, every live process is rebuilt ({@link ProcessRebuild}), and
 * the tree is released. On any failure, or a cancellation ({@link Control}) before the tree
 * is let go, every process made so far is killed and reaped.
 */
final class TreeRestore {
    private static final int SIGSTOP = 19, SIGCHLD = 17;
    private static final long CLONE_PARENT = 0x8000;
    private static final int PR_SET_DUMPABLE = 4;

    private final Tracer tracer;
    private final TreeState tree;
    private final Path imageDir;
    private final RestoreOptions opts;
    private final Log log;
    private final Control control;
    /** Processes made so far, in order, each with the threads made in it. */
    private final Map<Integer, List<Integer>> created = new LinkedHashMap<>();
    /** Where each process made so far can run an injected syscall before it has a control area of its own. */
    private final Map<Integer, ProcessRebuild.Start> starts = new HashMap<>();
    private final Map<Integer, ProcessRebuild> rebuilds = new LinkedHashMap<>();
    /** Leaders, for a while, of groups whose leader is gone. */
    private final GroupHelpers groupHelpers;
    /** For stats-restore: time spent making processes (the helper and every clone), pages written. */
    private long forkNanos, pagesRestored;

    TreeRestore(Tracer tracer, TreeState tree, Path imageDir, RestoreOptions opts, Log log, Control control) {
        this.control = control;
        this.tracer = tracer;
        this.tree = tree;
        this.imageDir = imageDir;
        this.opts = opts;
        this.log = log;
        this.groupHelpers = GroupHelpers.of(tree);
    }

    long forkNanos() { return forkNanos; }

    long pagesRestored() { return pagesRestored; }

    /** Restores and returns the root's PID; on failure nothing of the attempt is left running, nor locked. */
    int run() throws IOException {
        try {
            return restore();
        } catch (IOException | RuntimeException e) {
            FileInstaller.restoreFailed(tree, opts, log, e);
            throw e;
        }
    }

    private int restore() throws IOException {
        Preflight.check(tree, opts, log);
        List<Path> recreated = new ArrayList<>();
        try (SharedMemory shm = SharedMemory.prepare(tree, imageDir, log);
             FileInstaller files = new FileInstaller(tree, log, shm, !opts.skipFileCheck(), opts.inheritFds(), opts.net(), imageDir)) {
            recreateSharedFiles(recreated);
            long f0 = System.nanoTime();
            createRoot();
            if (tree.root().sid() == tree.root().pid()) files.sessionMade(tree.root().pid(), (w, nr, a) -> inject(tree.root().pid(), w, nr, a));
            forkNanos += System.nanoTime() - f0;
            control.reached("created");
            for (ProcessState p : tree.processes()) { // parents first: each child is cloned from its restored parent
                ProcessRebuild r = new ProcessRebuild(tracer, p, PageStore.open(imageDir, p.pid()), files, shm,
                        created.get(p.pid()), log);
                rebuilds.put(p.pid(), r);
                ProcessRebuild parent = rebuilds.get(p.ppid());
                try (Inheritance inherited = parent == null ? null
                        : Inheritance.between(parent.state(), parent.pages(), p, r.pages())) {
                    r.begin(starts.get(p.pid()), inherited);
                    pagesRestored += r.memory(inherited);
                }
                control.reached("memory");
                long f1 = System.nanoTime();
                createChildren(r, files);
                forkNanos += System.nanoTime() - f1;
            }
            log.info("created " + created.size() + " process(es)");
            joinGroups();
            for (GroupHelpers.Helper h : groupHelpers.byPgid().values()) endGroupHelper(h);
            for (ZombieState z : tree.zombies()) exitZombie(z);
            for (ProcessState p : tree.processes()) rebuilds.get(p.pid()).finish(control);
            files.allInstalled(); // the network unlocked, connections out of repair mode, before anything runs
            control.reached("ready");
            // From here the tree is let go: a cancellation is too late. Should jcriu die before
            // every task is detached, the kernel kills those still traced (PTRACE_O_EXITKILL,
            // inherited by every task the helper and the processes created), and with them their processes.
            control.commit();
            release();
            return tree.root().pid();
        } catch (IOException | RuntimeException e) {
            List<Integer> pids = new ArrayList<>(created.keySet());
            for (int i = pids.size() - 1; i >= 0; i--) Stops.killAndReap(tracer, pids.get(i), created.get(pids.get(i)));
            for (Path p : recreated) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException again) {
                    e.addSuppressed(again);
                }
            }
            throw e;
        } finally {
            for (ProcessRebuild r : rebuilds.values()) r.close();
        }
    }

    /** The helper's ptrace options, which every process and thread cloned from it inherits. */
    static final int SEIZE_OPTIONS = Tracer.O_TRACESYSGOOD | Tracer.O_TRACEFORK | Tracer.O_TRACECLONE | Tracer.O_EXITKILL;

    /**
     * A small file a process mapped shared and that is gone now (a JVM's hsperfdata file,
     * which any later JVM deletes once its owner is dead) is written back from the images,
     * with its owner and mode, before anything maps it. Existing files are used as they are:
     * their content is what the process last wrote.
     */
    private void recreateSharedFiles(List<Path> made) throws IOException {
        Set<String> seen = new HashSet<>();
        for (ProcessState st : tree.processes()) {
            for (FileSnapshot f : st.mm().sharedFiles()) {
                Path p = Path.of(f.path());
                if (f.deleted() || !seen.add(f.path()) || Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    continue; // a deleted one is made again, unlinked, by SharedMemory
                }
                if (!Files.isDirectory(p.getParent())) {
                    throw new IOException("mapping of " + p + " needs the file, which is gone, and its directory "
                            + p.getParent() + " too");
                }
                // created new (never through a symlink placed meanwhile), owner-only until chmod
                Files.createFile(p, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
                made.add(p);
                Files.write(p, f.content(), java.nio.file.StandardOpenOption.WRITE);
                Files.setAttribute(p, "unix:uid", f.uid());
                Files.setAttribute(p, "unix:gid", f.gid());
                Files.setAttribute(p, "unix:mode", f.mode() & 07777);
                log.info("recreated " + p + " (" + f.content().length + " bytes, gone since the dump)");
            }
        }
    }

    /** The root, cloned with its PID inside a fresh helper; jcriu is its parent unless detached. */
    private void createRoot() throws IOException {
        int helper = spawnHelper();
        try {
            ProcessState root = tree.root();
            long flags = opts.detach() ? 0 : CLONE_PARENT;
            // exit_signal must be 0 with CLONE_PARENT; detached, the root's parent is the helper, soon gone
            cloneInHelper(helper, root.pid(), flags, opts.detach() ? SIGCHLD : 0);
            starts.put(root.pid(), new ProcessRebuild.Start(HelperElf.gadget(), 0));
            log.info("created pid " + root.pid() + (opts.detach() ? "" : " as a child of jcriu"));
        } finally {
            Stops.killAndReap(tracer, helper, List.of());
        }
        tracer.setSigmask(tree.root().pid(), -1L); // inherited by every process cloned from it
        if (tree.root().sid() == tree.root().pid()) inject(tree.root().pid(), "setsid", Nr.SETSID);
    }

    private int spawnHelper() throws IOException {
        int memfd = Sys.memfdCreate("jcriu-restore-helper", 1 /* MFD_CLOEXEC */);
        try {
            Sys.write(memfd, HelperElf.build(Sys.getpid()));
            int pid = Spawn.spawn("/proc/self/fd/" + memfd, List.of("jcriu-restore-helper"), List.of());
            log.debug("helper started as pid " + pid);
            try {
                control.reached("helper-spawned"); // not yet traced: it dies with jcriu's tracer thread (PDEATHSIG)
            } catch (Control.CancelledException e) {
                Sys.kill(pid, 9);
                Sys.wait4(pid, 0);
                throw e;
            }
            // FORK for the clones of processes (exit signal SIGCHLD), CLONE for CLONE_PARENT (exit signal 0).
            tracer.seize(pid, SEIZE_OPTIONS);
            tracer.interrupt(pid);
            Stops.awaitEventStop(tracer, pid);
            control.reached("helper");
            return pid;
        } finally {
            Sys.close(memfd);
        }
    }

    /**
     * The children of a process whose memory is back, cloned inside it: each starts with its
     * parent's memory (copy-on-write), session and group, as it once did. A session leader
     * calls setsid() before any process is cloned from it, so its children inherit its session.
     */
    private void createChildren(ProcessRebuild parent, FileInstaller files) throws IOException {
        Target t = parent.target();
        List<int[]> kids = new ArrayList<>(); // pid, sid
        for (ProcessState p : tree.processes()) if (p.ppid() == t.pid() && p != tree.root()) kids.add(new int[] {p.pid(), p.sid()});
        for (ZombieState z : tree.zombies()) if (z.ppid() == t.pid()) kids.add(new int[] {z.pid(), z.sid()});
        for (GroupHelpers.Helper h : groupHelpers.childrenOf(t.pid())) kids.add(new int[] {h.pgid(), h.sid()});
        for (int[] k : kids) {
            t.ctl().reset();
            long args = t.ctl().alloc(88), tidArray = t.ctl().alloc(8);
            ByteBuffer ca = ControlArea.le(88);
            ca.putLong(0, tree.sharing().cloneFlags(k[0]));        // flags: CLONE_FILES/CLONE_FS it shares with the parent
            ca.putLong(32, SIGCHLD);                               // exit_signal
            ca.putLong(64, tidArray);                              // set_tid
            ca.putLong(72, 1);                                     // set_tid_size
            t.mem().write(args, ca.array());
            t.mem().writeLong(tidArray, k[0]);
            long r = t.inj().raw(Nr.CLONE3, args, 88);
            List<Integer> traced = t.inj().takeChildren();
            checkClone(r, traced, k[0]);
            starts.put(k[0], new ProcessRebuild.Start(t.ctl().gadget(), t.ctl().stackTop()));
            if (k[1] == k[0]) {
                inject(k[0], "setsid", Nr.SETSID);
                files.sessionMade(k[0], (w, nr, a) -> inject(k[0], w, nr, a));
            }
        }
    }

    /** clone3 with set_tid injected in the helper; the child is auto-attached. */
    private void cloneInHelper(int parent, int pid, long flags, long exitSignal) throws IOException {
        long args = HelperElf.SCRATCH, tidArray = HelperElf.SCRATCH + 256;
        ByteBuffer ca = ControlArea.le(88);
        ca.putLong(0, flags);
        ca.putLong(32, exitSignal);
        ca.putLong(64, tidArray);                              // set_tid
        ca.putLong(72, 1);                                     // set_tid_size
        try (TaskMemory mem = TaskMemory.open(parent, true)) {
            mem.write(args, ca.array());
            mem.writeLong(tidArray, pid);
        }
        Regs regs = tracer.getRegs(parent);
        Injector inj = new Injector(tracer, parent, regs, HelperElf.gadget());
        long r;
        List<Integer> kids;
        try {
            r = inj.raw(Nr.CLONE3, args, 88);
            kids = inj.takeChildren();
        } finally {
            inj.finish(regs);
        }
        checkClone(r, kids, pid);
    }

    /** The clone3 gave the PID asked for and jcriu traces the new process, stopped; else nothing of it stays. */
    private void checkClone(long r, List<Integer> kids, int pid) throws IOException {
        if (r < 0) {
            int e = (int) -r;
            throw new IOException("cannot create a process with PID " + pid + ": clone3 with set_tid failed with "
                    + Errno.name(e) + (e == Errno.EEXIST ? " (" + Preflight.whoHolds(pid) + ")" : ""));
        }
        if (kids.size() != 1 || kids.getFirst() != pid || r != pid) {
            Stops.killAndReap(tracer, (int) r, List.of()); // whatever was created must not outlive the failed restore
            throw new IOException("clone3 created " + r + " (traced: " + kids + ") instead of PID " + pid);
        }
        created.put(pid, new ArrayList<>());
        Stops.awaitEventStop(tracer, pid);
    }

    /** One syscall injected in a process being restored: through its control area once it has one. */
    private long inject(int pid, String what, int nr, long... args) {
        ProcessRebuild r = rebuilds.get(pid);
        if (r != null && r.target() != null) return r.target().inj().call(what + " in " + pid, nr, args);
        Regs regs = tracer.getRegs(pid);
        ProcessRebuild.Start start = starts.get(pid);
        Injector inj = new Injector(tracer, pid, regs, start.gadget());
        if (start.stack() != 0) inj.useStack(start.stack());
        try {
            return inj.call(what + " in " + pid, nr, args);
        } finally {
            inj.finish(regs);
        }
    }

    /**
     * Process groups, once every process exists: first every process whose PID names a group
     * creates it (setpgid(0, 0); a session leader already leads one), then each process joins
     * its own. A group of the root's outside the tree (a shell job) is jcriu's, already joined.
     */
    private void joinGroups() throws IOException {
        Map<Integer, int[]> groups = new LinkedHashMap<>(); // pid -> {pgid, sid}
        for (ProcessState p : tree.processes()) groups.put(p.pid(), new int[] {p.pgid(), p.sid()});
        for (ZombieState z : tree.zombies()) groups.put(z.pid(), new int[] {z.pgid(), z.sid()});
        for (GroupHelpers.Helper h : groupHelpers.byPgid().values()) groups.put(h.pgid(), new int[] {h.pgid(), h.sid()});
        Set<Integer> named = new HashSet<>();
        for (int[] g : groups.values()) named.add(g[0]);
        for (var e : groups.entrySet()) {
            int pid = e.getKey();
            if (named.contains(pid) && e.getValue()[1] != pid) inject(pid, "setpgid(0, 0)", Nr.SETPGID, 0, 0);
        }
        for (var e : groups.entrySet()) {
            int pid = e.getKey(), pgid = e.getValue()[0];
            if (!groups.containsKey(pgid)) continue; // the root's group outside the tree: jcriu's
            long now = inject(pid, "getpgid", Nr.GETPGID, 0);
            if (now != pgid) inject(pid, "setpgid(0, " + pgid + ")", Nr.SETPGID, 0, pgid);
        }
    }

    /**
     * A zombie: the copy of the helper exits the way the original did, and stays unreaped in
     * its parent, which waits for it with the same status. A signal death must not dump core
     * unless the original did (the status then tells), so such a process is made undumpable.
     */
    private void exitZombie(ZombieState z) throws IOException {
        int status = z.exitStatus();
        int pid = z.pid();
        Regs regs = tracer.getRegs(pid);
        int sig = status & 0x7f;
        if (sig == 0) {
            tracer.setRegs(pid, regs.forSyscall(starts.get(pid).gadget(), Nr.EXIT_GROUP, new long[] {(status >> 8) & 0xff}));
        } else {
            if ((status & 0x80) == 0) inject(pid, "prctl(PR_SET_DUMPABLE, 0)", Nr.PRCTL, PR_SET_DUMPABLE, 0, 0, 0, 0);
            tracer.setSigmask(pid, 0);
            Sys.tgkill(pid, pid, sig);
        }
        contUnlessDying(pid, 0);
        while (true) {
            WaitStatus ws = tracer.waitFor(pid);
            if (!ws.stopped()) break;
            contUnlessDying(pid, ws.event() == 0 ? ws.stopSignal() : 0);
        }
        log.debug("process " + pid + " (" + z.comm() + ") is a zombie again, status " + status);
    }

    /** Every member has joined its group: the helper exits and its parent reaps it (the group lives on in them). */
    private void endGroupHelper(GroupHelpers.Helper h) throws IOException {
        exitZombie(h.asExited());
        long r = inject(h.parent(), "wait4(" + h.pgid() + ")", Nr.WAIT4, h.pgid(), 0, 0x40000000 /* __WALL */, 0);
        if (r != h.pgid()) throw new IOException("the helper that led process group " + h.pgid() + " was not reaped by "
                + h.parent() + " (wait4 returned " + r + ")");
        created.remove(h.pgid());
        log.debug("process group " + h.pgid() + " outlives the helper that made it again");
    }

    /** A task killed by SIGKILL leaves its ptrace stop at once: there is nothing to continue. */
    private void contUnlessDying(int pid, int sig) {
        try {
            tracer.cont(pid, sig);
        } catch (SysException e) {
            if (!e.is(Errno.ESRCH)) throw e;
        }
    }

    /**
     * Scheduling per thread, a SIGSTOP for processes that were stopped (or all, with
     * --leave-stopped), then every task detached, children before their parents.
     */
    private void release() throws IOException {
        opts.hooks().beforeResume(tree.root().pid()); // CRIU's pre-resume, once for the tree
        List<ProcessState> order = new ArrayList<>(tree.processes());
        java.util.Collections.reverse(order);
        List<jcriu.proc.ProcStat> all = tree.processes().stream().anyMatch(p -> p.wasStopped() && p.stopSignal() != SIGSTOP)
                ? jcriu.proc.Stat.all(java.nio.file.Path.of("/proc")) : List.of();
        for (ProcessState p : order) {
            applySched(p);
            // The leader goes first: with SIGSTOP it starts a group stop that the others join
            // before they run a single instruction of their own. The signal is queued rather than
            // passed to PTRACE_DETACH, which a task parked at an event stop would not take.
            boolean stop = opts.leaveStopped() || p.wasStopped();
            if (stop) Sys.tgkill(p.pid(), p.pid(), p.wasStopped() ? stopSignal(p, all) : SIGSTOP);
            tracer.detach(p.pid(), 0);
            // Stopped, the leader has marked the group stop pending in every thread: detached after
            // that, a thread stops before it returns to user space (else it may run a little first,
            // and inside an rseq section with the deprecated NO_RESTART flags the kernel kills it).
            if (stop) awaitStopped(p.pid());
            control.reached("detaching"); // past the commit: only a test pauses here (the leader let go, its threads not)
            for (ThreadState t : p.threads()) {
                if (t.tid() != p.pid()) tracer.detach(t.tid(), 0);
            }
            log.info("pid " + p.pid() + " restored with " + p.threads().size() + " thread(s) and "
                    + (stop ? "left stopped" : "running"));
        }
    }

    /**
     * The signal that had stopped {@code p} (its parent's waitpid sees the same WSTOPSIG), unless
     * it would not stop it now: SIGTSTP, SIGTTIN and SIGTTOU are discarded in an orphaned process
     * group and run a handler if there is one; then SIGSTOP, which always stops.
     */
    private int stopSignal(ProcessState p, List<jcriu.proc.ProcStat> all) {
        int sig = p.stopSignal();
        if (sig == SIGSTOP) return sig;
        boolean handled = p.sigactions().stream().anyMatch(a -> a.sig() == sig && a.handler() != 0);
        int pgrp = p.pgid(), sid = p.sid();
        boolean orphaned = all.stream().filter(q -> q.pgrp() == pgrp).noneMatch(q -> all.stream()
                .anyMatch(parent -> parent.pid() == q.ppid() && parent.pgrp() != pgrp && parent.session() == sid));
        if (handled || orphaned) {
            log.debug("pid " + p.pid() + " was stopped by signal " + sig + "; stopped by SIGSTOP instead ("
                    + (handled ? "it has a handler for it" : "its process group is orphaned") + ")");
            return SIGSTOP;
        }
        return sig;
    }

    /**
     * A detached task takes its queued SIGSTOP on its way back to user mode, before any
     * instruction of its own, but the restore returns only once /proc shows it stopped, so
     * that whoever looks next sees the state it was dumped in.
     */
    private void awaitStopped(int pid) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        try {
            while (jcriu.proc.Stat.read(Path.of("/proc"), pid).state() != 'T') {
                if (System.nanoTime() > deadline) {
                    log.warn("process " + pid + " was sent SIGSTOP but is not stopped after 5 s");
                    return;
                }
                Thread.onSpinWait();
                Thread.sleep(1);
            }
        } catch (IOException e) {
            log.warn("process " + pid + " vanished right after its restore: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Policy, priority and nice per thread, set from jcriu (not injected) once nothing else runs
     * in the task: the restored credentials may no longer allow raising them from inside. A
     * restorer without CAP_SYS_NICE may be refused; the process is then restored with what it
     * got, and the log says so.
     */
    private void applySched(ProcessState st) {
        for (ThreadState t : st.threads()) {
            SchedAttr want = t.sched();
            SchedAttr have = Sys.schedGetattr(t.tid());
            if (have.equals(want)) continue;
            try {
                Sys.schedSetattr(t.tid(), want);
                log.debug("thread " + t.tid() + ": scheduling " + have + " -> " + want);
            } catch (SysException e) {
                if (e.errno() != Errno.EPERM) throw e;
                log.warn("thread " + t.tid() + ": not allowed to set " + want + " (keeps " + have + "): "
                        + e.getMessage());
            }
        }
    }
}

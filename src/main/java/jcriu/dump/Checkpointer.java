package jcriu.dump;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcriu.api.Control;
import jcriu.api.Log;
import jcriu.image.ImageDir;
import jcriu.image.ImageFile;
import jcriu.image.ImageSet;
import jcriu.image.Manifest;
import jcriu.image.StateCodec;
import jcriu.inject.Freezer;
import jcriu.proc.ProcAttrs;
import jcriu.proc.ProcStat;
import jcriu.proc.Stat;
import jcriu.proc.Status;
import jcriu.proc.ProcStatus;
import jcriu.ptrace.Regs;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.ptrace.WaitStatus;
import jcriu.rseq.RseqArea;
import jcriu.rseq.RseqState;
import jcriu.state.FdState;
import jcriu.state.PipeState;
import jcriu.state.ProcessState;
import jcriu.state.ThreadState;
import jcriu.state.TreeState;
import jcriu.state.ZombieState;
import jcriu.sys.Sys;
import jcriu.sys.SysException;
import jcriu.tree.Topology;
import jcriu.tree.TreeFreezer;

/**
 * Dumps a process and all of its descendants into an image directory. The images are
 * complete, on disk and published as one set ({@link ImageSet}) before any process is
 * killed; any failure, or a cancellation ({@link Control}: SIGINT, SIGTERM) before the
 * publication, puts every process back as it was, leaves it running, and leaves the images
 * directory as it was.
 */
public final class Checkpointer {
    private static final Path PROC = Path.of("/proc");

    private Checkpointer() {}

    /** What a successful dump did; {@code threads} and {@code mappings} are totals over the tree. */
    public record Result(int pid, int processes, int threads, int mappings, long pageBytes, Duration frozenFor,
                         boolean leftRunning) {}

    /** The dump failed; the process (if it still exists) is running as before. */
    public static final class DumpException extends IOException {
        public DumpException(String msg, Throwable cause) { super(msg, cause); }
    }

    public static Result dump(DumpOptions opts, Log log) throws DumpException {
        return dump(opts, log, Control.none());
    }

    /**
     * A dump that {@code control} can cancel (SIGINT, SIGTERM): until the images are published
     * every process is then put back and left running, and the images directory as it was.
     */
    public static Result dump(DumpOptions opts, Log log, Control control) throws DumpException {
        return onTracer("dump", opts, tracer -> dumpOn(tracer, opts, log, control));
    }

    /** Runs a dump on a tracer thread of its own; any failure becomes a DumpException naming the process. */
    private static Result onTracer(String what, DumpOptions opts, Tracer.TracerWork<Result> body) throws DumpException {
        try {
            return Tracer.run("jcriu-" + what + "-" + opts.pid(), body);
        } catch (DumpException e) {
            throw e;
        } catch (Control.CancelledException e) {
            throw new DumpException(what + " of process " + opts.pid() + " " + e.getMessage() + ": the process tree"
                    + " was put back as it was and runs on; no image set was published in " + opts.imageDir(), e);
        } catch (Exception e) {
            throw new DumpException(what + " of process " + opts.pid() + " failed: " + e.getMessage(), e);
        }
    }

    /** The process to dump, as it is now; refuses jcriu itself, a missing process and a zombie. */
    private static ProcStat target(int pid) throws DumpException {
        if (pid == Sys.getpid()) throw new DumpException("jcriu cannot dump itself (pid " + pid + ")", null);
        ProcStat st;
        try {
            st = Stat.read(PROC, pid);
        } catch (NoSuchFileException | jcriu.proc.ProcessGoneException e) {
            throw new DumpException("process " + pid + " does not exist", e);
        } catch (IOException e) {
            throw new DumpException("cannot read process " + pid + ": " + e.getMessage(), e);
        }
        if (st.state() == 'Z') throw new DumpException("process " + pid + " is a zombie", null);
        return st;
    }

    /**
     * One frozen process of the tree and what has been read of it so far. {@code early} is
     * filled before the first injected syscall anywhere in the tree and may be replaced
     * thread by thread ({@link DumpEngine#probeRseq}); a failure puts back what it holds.
     */
    private static final class Member implements AutoCloseable {
        final TreeFreezer.Member frozen;
        final TaskMemory mem;
        List<DumpEngine.Early> early = List.of();

        Member(TreeFreezer.Member frozen) throws IOException {
            this.frozen = frozen;
            this.mem = TaskMemory.open(frozen.pid(), true);
        }

        int pid() { return frozen.pid(); }

        @Override
        public void close() throws IOException { mem.close(); }
    }

    private static List<Member> open(TreeFreezer.FrozenTree tree) throws IOException {
        List<Member> out = new ArrayList<>();
        try {
            for (TreeFreezer.Member m : tree.members()) out.add(new Member(m));
        } catch (IOException e) {
            for (Member m : out) m.close();
            throw e;
        }
        return out;
    }

    private static Result dumpOn(Tracer tracer, DumpOptions opts, Log log, Control control) throws Exception {
        int pid = opts.pid();
        ProcStat before = target(pid);
        ImageSet set = ImageSet.begin(opts.imageDir(), log);
        ImageDir dir = set.dir();
        long t0 = System.nanoTime();
        log.info("freezing process " + pid + " (" + before.comm() + ") and its descendants");
        TreeFreezer.FrozenTree tree = freeze(tracer, pid, set, opts, log, control);
        long frozenAt = System.nanoTime();
        List<Member> members = List.of();
        DumpEngine eng = new DumpEngine(tracer, opts, log, control);
        boolean killed = false;
        FileTable files = null;
        try (set) {
            members = open(tree);
            control.reached("frozen");
            for (Member m : members) ProcessAttrsReader.refuse(tracer, m.pid(), m.frozen.frozen().tids()); // before any injection
            jcriu.state.Sharing sharing = checkTopology(tree, opts);
            opts.hooks().frozen(pid);
            for (Member m : members) m.early = eng.readThreads(m.frozen.frozen(), m.mem); // all before any injection
            control.reached("threads-read");
            files = new FileTable(opts, log); // before anything slow: an unsupported fd fails at once
            Map<Integer, List<FdState>> fds = new HashMap<>();
            for (Member m : members) fds.put(m.pid(), files.add(m.pid()));
            files.link();
            List<PipeState> pipes = files.pipes();
            files.checkSockets();
            control.reached("files-read");
            linkParent(opts, set);
            List<ProcessState> states = new ArrayList<>();
            long pageBytes = 0;
            int mappings = 0, threads = 0;
            for (int i = 0; i < members.size(); i++) {
                Member m = members.get(i);
                ProcessState st = dumpProcess(eng, tracer, m, StateCodec.imageId(i), fds.get(m.pid()), dir, opts, log,
                        control);
                states.add(st);
                pageBytes += st.mm().pages().stream().mapToLong(jcriu.state.PageRun::bytes).sum();
                mappings += st.mm().vmas().size();
                threads += st.threads().size();
            }
            StateCodec.write(dir, new TreeState(states, zombies(tree), files.files(), pipes, sharing), files.networkLock());
            control.reached("images-written");
            set.publish(Manifest.Kind.DUMP, log, control);
            control.reached("published");
            Duration frozenFor = Duration.ofNanos(System.nanoTime() - t0);
            log.info("images written to " + set.target() + " (" + members.size() + " process(es), " + (pageBytes >> 10)
                    + " KiB of pages)");
            try {
                opts.hooks().imagesWritten(pid); // CRIU's post-dump: a failure vetoes the dump
            } catch (IOException | RuntimeException veto) {
                set.withdraw(log);
                throw veto;
            }
            files.finish(); // after a veto could undo the dump, before any process runs again
            if (opts.leaveRunning()) {
                for (Member m : members) putBack(tracer, m.early, m.mem, log);
                control.reached("put-back");
                for (Member m : members) Freezer.release(tracer, m.frozen.frozen());
                log.info("process tree of " + pid + " left running");
            } else {
                killed = true;
                kill(tracer, tree);
                log.info("process tree of " + pid + " killed");
            }
            // statistics, not state: written beside the published set, which does not list them
            DumpStatistics.write(ImageDir.open(set.target()), t0, frozenAt, System.nanoTime(), eng.pageStats(), log);
            return new Result(pid, members.size(), threads, mappings, pageBytes, frozenFor, opts.leaveRunning());
        } catch (Exception | Error e) {
            if (!killed) {
                if (files != null) closeFiles(files, e); // sockets out of repair mode before the processes run
                abandon(tracer, tree, members, set, e, "dump", log);
            }
            throw e;
        } finally {
            for (Member m : members) m.close();
            if (files != null) files.close();
        }
    }

    private static void closeFiles(FileTable files, Throwable e) {
        try {
            files.close();
        } catch (IOException | RuntimeException again) {
            e.addSuppressed(again);
        }
    }

    /** Everything of one frozen process; its pages go to pages-{@code pagesId}.img. */
    private static ProcessState dumpProcess(DumpEngine eng, Tracer tracer, Member m, int pagesId, List<FdState> fds,
                                            ImageDir dir, DumpOptions opts, Log log, Control control) throws IOException {
        int pid = m.pid();
        List<DumpEngine.Early> early = m.early;
        eng.probeRseq(early, m.mem); // first injection, old kernels only; may refuse
        control.reached("rseq-probed");
        DumpEngine.Early leader = early.getFirst();
        DumpEngine.Injected inj = eng.inject(leader, m.mem, early, true);
        Map<Integer, DumpEngine.Injected> perThread = new HashMap<>();
        for (DumpEngine.Early e : early) perThread.put(e.tid(), e == leader ? inj : eng.inject(e, m.mem, early, false));
        jcriu.state.ProcessAttrs attrs = new ProcessAttrsReader(tracer, log, eng.injections()).read(pid, early, m.mem);
        control.reached("injected");
        ProcStat stat = Stat.read(PROC, pid);
        ProcStatus status = Status.read(PROC, pid);
        DumpEngine.MmParts parts;
        try (ParentPages parent = parentPages(opts, pid, log)) {
            Path pages = dir.createRawFile(ImageFile.pages(pagesId).name());
            parts = eng.dumpMemory(pid, m.mem, pages, dir.checksumOf(pages), parent);
        }
        control.reached("memory-written");
        List<ThreadState> threads = new ArrayList<>();
        for (DumpEngine.Early e : early) {
            DumpEngine.Injected ti = perThread.get(e.tid());
            threads.add(new ThreadState(e.tid(), e.resume(), e.xstate(), e.sigmask(), e.pending(), e.robust()[0],
                    e.robust()[1], ti.clearChildTid(), ti.altStack(), e.rseq(), e.comm(), e.sleep(), e.sched(),
                    SyscallRestart.restartCode(e.original())));
        }
        String cwd = ProcAttrs.cwd(PROC, pid);
        String root = ProcAttrs.root(PROC, pid);
        if (!root.equals("/")) throw new IOException("process " + pid + " runs chrooted in " + root
                + "; not supported yet");
        int personality = ProcAttrs.personality(PROC, pid);
        return new ProcessState(pid, m.frozen.ppid(), stat.pgrp(), stat.session(), stat.comm(), threads,
                inj.sigactions(), tracer.peekSiginfo(pid, true), eng.mm(pid, stat, parts, inj.brk()), fds, cwd, root,
                status.umask().orElseThrow(), eng.creds(status), eng.rlimits(pid), personality, m.frozen.stopSignal(),
                attrs);
    }

    private static List<ZombieState> zombies(TreeFreezer.FrozenTree tree) {
        return tree.zombies().stream().map(z -> new ZombieState(z.pid(), z.ppid(), z.pgrp(), z.session(), z.comm(),
                z.exitCode())).toList();
    }

    /** What the restore could not rebuild is refused before anything of the tree is read. */
    private static jcriu.state.Sharing checkTopology(TreeFreezer.FrozenTree tree, DumpOptions opts) throws IOException {
        List<Topology.Node> live = new ArrayList<>();
        for (TreeFreezer.Member m : tree.members()) live.add(Topology.node(Stat.read(PROC, m.pid()), m.ppid()));
        List<Topology.Node> all = new ArrayList<>(live);
        for (ProcStat z : tree.zombies()) all.add(Topology.node(z, z.ppid()));
        jcriu.state.Sharing sharing = Topology.checkSharing(live);
        Topology.checkExitSignals(all);
        Topology.checkSessions(all, opts.shellJob());
        Topology.checkOutsiders(all, opts.leaveRunning());
        return sharing;
    }

    /** After a failure: every process as it was, running, and the images directory as it was. */
    private static void abandon(Tracer tracer, TreeFreezer.FrozenTree tree, List<Member> members, ImageSet set,
                                Throwable e, String what, Log log) {
        for (TreeFreezer.Member fm : tree.members()) {
            Member m = members.stream().filter(x -> x.pid() == fm.pid()).findFirst().orElse(null);
            if (m != null && Files.exists(PROC.resolve(Integer.toString(fm.pid())))) {
                try {
                    putBack(tracer, m.early, m.mem, log);
                } catch (IOException | RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            Freezer.release(tracer, fm.frozen());
        }
        set.close();
        log.error(what + " failed, process " + tree.root().pid() + (tree.members().size() > 1 ? " and its descendants" : "")
                + " left running: " + e.getMessage());
    }

    /**
     * A pre-dump: the memory of a running tree, written while it is frozen for as long as
     * the copy takes, then it runs on (threads inside an rseq critical section resume at its
     * abort handler, as after any interruption). A later {@link #dump} with this directory as
     * {@link DumpOptions#prevImagesDir} writes only the pages that changed meanwhile. Nothing
     * but pagemap and pages images is written; the processes are never killed.
     */
    public static Result preDump(DumpOptions opts, Log log) throws DumpException {
        return preDump(opts, log, Control.none());
    }

    /** A pre-dump that {@code control} can cancel, as {@link #dump(DumpOptions, Log, Control)}. */
    public static Result preDump(DumpOptions opts, Log log, Control control) throws DumpException {
        return onTracer("pre-dump", opts, tracer -> preDumpOn(tracer, opts, log, control));
    }

    private static Result preDumpOn(Tracer tracer, DumpOptions opts, Log log, Control control) throws Exception {
        int pid = opts.pid();
        ProcStat before = target(pid);
        ImageSet set = ImageSet.begin(opts.imageDir(), log);
        ImageDir dir = set.dir();
        long t0 = System.nanoTime();
        log.info("freezing process " + pid + " (" + before.comm() + ") and its descendants for a pre-dump");
        TreeFreezer.FrozenTree tree = freeze(tracer, pid, set, opts, log, control);
        long frozenAt = System.nanoTime();
        DumpEngine eng = new DumpEngine(tracer, opts, log, control);
        List<Member> members = List.of();
        boolean released = false;
        try (set) {
            members = open(tree);
            control.reached("frozen");
            for (Member m : members) m.early = eng.readThreads(m.frozen.frozen(), m.mem); // to put them back right
            control.reached("threads-read");
            linkParent(opts, set);
            long pageBytes = 0;
            int mappings = 0, threads = 0;
            for (int i = 0; i < members.size(); i++) {
                Member m = members.get(i);
                DumpEngine.MmParts parts;
                try (ParentPages parent = parentPages(opts, m.pid(), log)) {
                    Path pages = dir.createRawFile(ImageFile.pages(StateCodec.imageId(i)).name());
                    parts = eng.dumpMemory(m.pid(), m.mem, pages, dir.checksumOf(pages), parent);
                }
                control.reached("memory-written");
                StateCodec.writePagemap(dir, m.pid(), StateCodec.imageId(i), parts.runs(), parts.inParent());
                pageBytes += parts.runs().stream().mapToLong(jcriu.state.PageRun::bytes).sum();
                mappings += parts.vmas().size();
                threads += m.early.size();
            }
            control.reached("images-written");
            for (Member m : members) putBack(tracer, m.early, m.mem, log);
            control.reached("put-back");
            for (Member m : members) Freezer.release(tracer, m.frozen.frozen());
            released = true;
            long releasedAt = System.nanoTime();
            control.reached("released");
            Duration frozenFor = Duration.ofNanos(releasedAt - t0);
            // after the release: the processes need not wait for the disk
            set.publish(Manifest.Kind.PRE_DUMP, log, control);
            control.reached("published");
            DumpStatistics.write(ImageDir.open(set.target()), t0, frozenAt, releasedAt, eng.pageStats(), log);
            log.info("pre-dump written to " + set.target() + " (" + members.size() + " process(es), " + (pageBytes >> 10)
                    + " KiB of pages), running again");
            return new Result(pid, members.size(), threads, mappings, pageBytes, frozenFor, true);
        } catch (Exception | Error e) {
            if (released) {
                log.error("pre-dump failed, process " + pid + " running again: " + e.getMessage());
            } else {
                abandon(tracer, tree, members, set, e, "pre-dump", log);
            }
            throw e;
        } finally {
            for (Member m : members) m.close();
        }
    }

    /**
     * The tree frozen; a cancellation before it, or a failure to freeze, releases the images
     * directory as it was.
     */
    private static TreeFreezer.FrozenTree freeze(Tracer tracer, int pid, ImageSet set, DumpOptions opts, Log log,
                                                 Control control) throws IOException {
        try {
            control.reached("start");
            return TreeFreezer.freeze(tracer, pid, log::debug, opts.freezeTimeout());
        } catch (IOException | RuntimeException e) {
            set.close();
            throw e;
        }
    }

    /**
     * Links the previous images as DIR/parent, so that a restore finds them, and records in the
     * set which set it leads to; checks they can be one.
     */
    private static void linkParent(DumpOptions opts, ImageSet set) throws IOException {
        if (opts.prevImagesDir() == null) return;
        Path prev = opts.resolvedPrev();
        if (!Files.isDirectory(prev)) throw new IOException("previous images " + prev + " do not exist");
        if (Files.isSameFile(prev, set.target())) {
            throw new IOException("previous images " + prev + " are the directory being written; use a new one");
        }
        if (!Files.exists(prev.resolve(ImageFile.pagemap(opts.pid()).name()))) {
            throw new IOException("previous images " + prev + " are not a dump of process " + opts.pid());
        }
        set.linkParent(opts.prevImagesDir(), prev);
    }

    /** The previous images of one process to compare with, or null (no previous images, or a process born since). */
    private static ParentPages parentPages(DumpOptions opts, int pid, Log log) throws IOException {
        if (opts.prevImagesDir() == null) return null;
        Path prev = opts.resolvedPrev();
        if (!Files.exists(prev.resolve(ImageFile.pagemap(pid).name()))) {
            log.debug("process " + pid + " is not in the previous images: all its pages are written");
            return null;
        }
        try {
            return new ParentPages(prev, pid);
        } catch (IOException e) {
            throw new IOException("previous images " + prev + " are not a dump of process " + pid + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Puts every thread back as the kernel would have left it: saved registers, except that a
     * thread caught in a restartable rseq critical section resumes at its abort handler.
     */
    static void putBack(Tracer tracer, List<DumpEngine.Early> early, TaskMemory mem, Log log) throws IOException {
        for (DumpEngine.Early e : early) {
            Regs regs = e.original();
            switch (e.rseq()) {
                case RseqState.InsideAbort a -> {
                    regs = regs.withRip(a.cs().abortIp());
                    mem.writeLong(a.registration().pointer() + RseqArea.OFF_RSEQ_CS, 0); // as the kernel's abort does
                    log.debug(String.format("rseq tid %d: live task moved to abort handler %#x", e.tid(), a.cs().abortIp()));
                }
                case RseqState.InsideNoRestart n -> {
                    long now = mem.readLong(n.registration().pointer() + RseqArea.OFF_RSEQ_CS);
                    if (now != n.csPointer()) {
                        mem.writeLong(n.registration().pointer() + RseqArea.OFF_RSEQ_CS, n.csPointer());
                        log.debug(String.format("rseq tid %d: rseq_cs was cleared (%#x), written back", e.tid(), now));
                    }
                }
                case RseqState.Outside o -> { }
                case RseqState.NotRegistered n -> { }
            }
            tracer.setRegs(e.tid(), regs);
            tracer.setSigmask(e.tid(), e.sigmask());
        }
    }

    /** SIGKILL to every process of the tree, then every traced thread reaped. */
    private static void kill(Tracer tracer, TreeFreezer.FrozenTree tree) {
        for (TreeFreezer.Member m : tree.members()) Sys.kill(m.pid(), 9);
        for (TreeFreezer.Member m : tree.members()) {
            // The leader's exit is reported only after every other traced thread is reaped: leader last.
            for (int tid : m.frozen().tids().reversed()) {
                try {
                    while (true) {
                        WaitStatus ws = tracer.waitFor(tid);
                        if (!ws.stopped()) break;
                    }
                } catch (SysException ignored) {
                    // already reaped with the group
                }
            }
        }
    }
}

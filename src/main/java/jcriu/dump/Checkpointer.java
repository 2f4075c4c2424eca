package jcriu.dump;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jcriu.api.Log;
import jcriu.image.ImageDir;
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
import jcriu.state.ProcessState;
import jcriu.state.ThreadState;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Dumps a process into an image directory. The images are complete and on disk before the
 * process is killed; any failure puts the process back as it was and leaves it running.
 */
public final class Checkpointer {
    private static final Path PROC = Path.of("/proc");

    private Checkpointer() {}

    /** What a successful dump did. */
    public record Result(int pid, int threads, int mappings, long pageBytes, Duration frozenFor, boolean leftRunning) {}

    /** The dump failed; the process (if it still exists) is running as before. */
    public static final class DumpException extends IOException {
        public DumpException(String msg, Throwable cause) { super(msg, cause); }
    }

    public static Result dump(DumpOptions opts, Log log) throws DumpException {
        return onTracer("dump", opts, tracer -> dumpOn(tracer, opts, log));
    }

    /** Runs a dump on a tracer thread of its own; any failure becomes a DumpException naming the process. */
    private static Result onTracer(String what, DumpOptions opts, Tracer.TracerWork<Result> body) throws DumpException {
        try {
            return Tracer.run("jcriu-" + what + "-" + opts.pid(), body);
        } catch (DumpException e) {
            throw e;
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

    private static Result dumpOn(Tracer tracer, DumpOptions opts, Log log) throws Exception {
        int pid = opts.pid();
        ProcStat before = target(pid);
        ImageDir dir = ImageDir.create(opts.imageDir());
        List<Path> before0 = listDir(dir.path());
        long t0 = System.nanoTime();
        log.info("freezing process " + pid + " (" + before.comm() + ")");
        Freezer.Frozen frozen = Freezer.freeze(tracer, pid, log::debug);
        DumpEngine eng = new DumpEngine(tracer, opts, log);
        List<DumpEngine.Early> early = List.of();
        boolean killed = false;
        try (TaskMemory mem = TaskMemory.open(pid, true); ParentPages parent = openParent(opts, dir)) {
            refuseTree(frozen, opts.leaveRunning());
            ProcessAttrsReader.refuse(pid, frozen.tids()); // before anything runs in the process
            early = eng.readThreads(frozen, mem);
            DumpEngine.Early leader = early.getFirst();
            var fds = eng.files(pid); // before anything slow: an unsupported fd fails the dump at once
            var pipes = eng.pipes(pid, fds);
            eng.probeRseq(early, mem); // first injection, old kernels only; may refuse
            DumpEngine.Injected inj = eng.inject(leader, mem, true);
            java.util.Map<Integer, DumpEngine.Injected> perThread = new java.util.HashMap<>();
            for (DumpEngine.Early e : early) perThread.put(e.tid(), e == leader ? inj : eng.inject(e, mem, false));
            jcriu.state.ProcessAttrs attrs = new ProcessAttrsReader(tracer, log).read(pid, early, mem);
            ProcStat stat = Stat.read(PROC, pid);
            ProcStatus status = Status.read(PROC, pid);
            DumpEngine.MmParts parts;
            try (FileChannel pages = dir.createRaw(StateCodec.PAGES_FILE)) {
                parts = eng.dumpMemory(pid, mem, pages, parent);
            }
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
            ProcessState st = new ProcessState(pid, stat.pgrp(), stat.session(), stat.comm(), threads, inj.sigactions(),
                    tracer.peekSiginfo(pid, true), eng.mm(pid, stat, parts, inj.brk()), fds, cwd, root,
                    status.umask().orElseThrow(), eng.creds(status), eng.rlimits(pid), personality, before.state() == 'T',
                    pipes, attrs);
            StateCodec.write(dir, st);
            dir.syncDir();
            long pageBytes = parts.runs().stream().mapToLong(jcriu.state.PageRun::bytes).sum();
            Duration frozenFor = Duration.ofNanos(System.nanoTime() - t0);
            log.info("images written to " + dir.path() + " (" + (pageBytes >> 10) + " KiB of pages)");
            if (opts.leaveRunning()) {
                putBack(tracer, frozen, early, mem, log);
                Freezer.release(tracer, frozen);
                log.info("process " + pid + " left running");
            } else {
                killed = true;
                kill(tracer, frozen);
                log.info("process " + pid + " killed");
            }
            return new Result(pid, threads.size(), parts.vmas().size(), pageBytes, frozenFor, opts.leaveRunning());
        } catch (Exception | Error e) {
            if (!killed) abandon(tracer, frozen, early, dir, before0, e, "dump", log);
            throw e;
        }
    }

    /** After a failure: the process as it was, running, and no image left that could pass for a checkpoint. */
    private static void abandon(Tracer tracer, Freezer.Frozen frozen, List<DumpEngine.Early> early, ImageDir dir,
                                List<Path> existed, Throwable e, String what, Log log) {
        if (Files.exists(PROC.resolve(Integer.toString(frozen.pid())))) {
            try (TaskMemory mem = TaskMemory.open(frozen.pid(), true)) {
                putBack(tracer, frozen, early, mem, log);
            } catch (IOException | RuntimeException again) {
                e.addSuppressed(again);
            }
            Freezer.release(tracer, frozen);
        }
        removeNewFiles(dir.path(), existed);
        log.error(what + " failed, process " + frozen.pid() + " left running: " + e.getMessage());
    }

    /**
     * A pre-dump: the memory of a running process, written while it is frozen for as long as
     * the copy takes, then it runs on (threads inside an rseq critical section resume at its
     * abort handler, as after any interruption). A later {@link #dump} with this directory as
     * {@link DumpOptions#prevImagesDir} writes only the pages that changed meanwhile. Nothing
     * but pagemap and pages images is written; the process is never killed.
     */
    public static Result preDump(DumpOptions opts, Log log) throws DumpException {
        return onTracer("pre-dump", opts, tracer -> preDumpOn(tracer, opts, log));
    }

    private static Result preDumpOn(Tracer tracer, DumpOptions opts, Log log) throws Exception {
        int pid = opts.pid();
        ProcStat before = target(pid);
        ImageDir dir = ImageDir.create(opts.imageDir());
        List<Path> existed = listDir(dir.path());
        long t0 = System.nanoTime();
        log.info("freezing process " + pid + " (" + before.comm() + ") for a pre-dump");
        Freezer.Frozen frozen = Freezer.freeze(tracer, pid, log::debug);
        DumpEngine eng = new DumpEngine(tracer, opts, log);
        List<DumpEngine.Early> early = List.of();
        try (TaskMemory mem = TaskMemory.open(pid, true); ParentPages parent = openParent(opts, dir)) {
            early = eng.readThreads(frozen, mem); // registers and rseq, to put the threads back right
            DumpEngine.MmParts parts;
            try (FileChannel pages = dir.createRaw(StateCodec.PAGES_FILE)) {
                parts = eng.dumpMemory(pid, mem, pages, parent);
            }
            StateCodec.writePagemap(dir, pid, parts.runs(), parts.inParent());
            putBack(tracer, frozen, early, mem, log);
            Freezer.release(tracer, frozen);
            Duration frozenFor = Duration.ofNanos(System.nanoTime() - t0);
            dir.syncDir(); // after the release: the process need not wait for the disk
            long pageBytes = parts.runs().stream().mapToLong(jcriu.state.PageRun::bytes).sum();
            log.info("pre-dump written to " + dir.path() + " (" + (pageBytes >> 10) + " KiB of pages), process "
                    + pid + " running again");
            return new Result(pid, early.size(), parts.vmas().size(), pageBytes, frozenFor, true);
        } catch (Exception | Error e) {
            abandon(tracer, frozen, early, dir, existed, e, "pre-dump", log);
            throw e;
        }
    }

    /** The previous images to compare with; links them as DIR/parent so that a restore finds them. */
    private static ParentPages openParent(DumpOptions opts, ImageDir dir) throws IOException {
        if (opts.prevImagesDir() == null) return null;
        Path prev = opts.resolvedPrev();
        if (!Files.isDirectory(prev)) throw new IOException("previous images " + prev + " do not exist");
        if (Files.isSameFile(prev, dir.path())) {
            throw new IOException("previous images " + prev + " are the directory being written; use a new one");
        }
        ParentPages p;
        try {
            p = new ParentPages(prev, opts.pid());
        } catch (IOException e) {
            throw new IOException("previous images " + prev + " are not a dump of process " + opts.pid() + ": "
                    + e.getMessage(), e);
        }
        Path link = dir.path().resolve(jcriu.image.PageStore.PARENT_LINK);
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, opts.prevImagesDir());
        return p;
    }

    /**
     * Only a single process is dumped. A child would be orphaned by the kill and missing from the
     * images; another process in this one's group or session would keep its PID taken (as a PGID
     * or SID) so that no restore could get it back. Both are refused while nothing has changed.
     */
    private static void refuseTree(Freezer.Frozen frozen, boolean leaveRunning) throws IOException {
        int pid = frozen.pid();
        for (int tid : frozen.tids()) {
            List<Integer> kids = jcriu.proc.Tasks.children(PROC, pid, tid);
            if (!kids.isEmpty()) {
                throw new IOException("process " + pid + " has child process" + (kids.size() > 1 ? "es " : " ")
                        + describe(kids) + "; process trees are not supported yet");
            }
        }
        if (leaveRunning) return; // the PID stays in use by the process itself anyway
        List<String> holders = new ArrayList<>();
        for (ProcStat p : Stat.usersOf(PROC, pid)) {
            if (p.pid() == pid) continue;
            if (p.pgrp() == pid) holders.add(p.pid() + " (" + p.comm() + ", in its process group)");
            else if (p.session() == pid) holders.add(p.pid() + " (" + p.comm() + ", in its session)");
        }
        if (!holders.isEmpty()) {
            throw new IOException("process " + pid + " leads a process group or session that also holds "
                    + String.join(", ", holders) + "; they would keep PID " + pid
                    + " taken, so a restore could not bring it back (dump with --leave-running, or end them first)");
        }
    }

    private static String describe(List<Integer> pids) {
        List<String> out = new ArrayList<>();
        for (int p : pids) {
            String comm;
            try {
                comm = Stat.read(PROC, p).comm();
            } catch (IOException e) {
                comm = "exited";
            }
            out.add(p + " (" + comm + ")");
        }
        return String.join(", ", out);
    }

    /**
     * Puts every thread back as the kernel would have left it: saved registers, except that a
     * thread caught in a restartable rseq critical section resumes at its abort handler.
     */
    static void putBack(Tracer tracer, Freezer.Frozen frozen, List<DumpEngine.Early> early, TaskMemory mem, Log log)
            throws IOException {
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

    private static void kill(Tracer tracer, Freezer.Frozen frozen) {
        Sys.kill(frozen.pid(), 9);
        // The leader's exit is reported only after every other traced thread is reaped: leader last.
        for (int tid : frozen.tids().reversed()) {
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

    private static List<Path> listDir(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static void removeNewFiles(Path dir, List<Path> existed) {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (!existed.contains(p)) Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // best effort: a half-written image set must not look like a checkpoint
        }
    }
}

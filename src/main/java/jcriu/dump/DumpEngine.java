package jcriu.dump;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

import jcriu.api.Log;
import jcriu.inject.Freezer;
import jcriu.inject.Injector;
import jcriu.proc.FdInfo;
import jcriu.proc.Fds;
import jcriu.proc.Maps;
import jcriu.proc.Pagemap;
import jcriu.proc.ProcAttrs;
import jcriu.proc.ProcStat;
import jcriu.proc.ProcStatus;
import jcriu.proc.Status;
import jcriu.proc.Vma;
import jcriu.ptrace.Regs;
import jcriu.ptrace.RseqConfig;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.rseq.RseqConfigSource;
import jcriu.rseq.RseqInspector;
import jcriu.rseq.RseqProbe;
import jcriu.rseq.RseqState;
import jcriu.state.FileSnapshot;
import jcriu.state.MmState;
import jcriu.state.PageRun;
import jcriu.state.ProcessState;
import jcriu.state.SigAction;
import jcriu.state.ThreadState;
import jcriu.state.VmaState;
import jcriu.sys.Nr;
import jcriu.sys.SchedAttr;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Collects the state of a frozen process. Order matters: everything per thread (registers,
 * rseq above all) is read before the first injected syscall; memory is read after the
 * last one, so the scratch mapping used for injection is never part of the image.
 */
final class DumpEngine {
    private static final Path PROC = Path.of("/proc");
    private static final int PR_GET_TID_ADDRESS = 40;
    private static final int SIGCHLD = 17;
    private static final int RLIMIT_NLIMITS = 16;

    private final Tracer tracer;
    private final DumpOptions opts;
    private final Log log;
    private final jcriu.api.Control control;
    private final Injections injections;
    private PageWriter.Stats pageStats; // of every dumpMemory so far (all processes of a tree), for stats-dump

    DumpEngine(Tracer tracer, DumpOptions opts, Log log, jcriu.api.Control control) {
        this.tracer = tracer;
        this.opts = opts;
        this.log = log;
        this.control = control;
        this.injections = new Injections(tracer, log, control::pause);
    }

    /**
     * Per-thread facts read before injection, with the registers the thread had when frozen.
     * {@code rseqUnknown}: the kernel could not report the thread's rseq registration, so
     * {@code rseq} is NotRegistered until {@link #probeRseq} has asked the thread.
     */
    record Early(int tid, Regs original, Regs resume, byte[] xstate, long sigmask, List<byte[]> pending,
                 long[] robust, RseqState rseq, boolean rseqUnknown, String comm, ThreadState.SleepRestart sleep,
                 SchedAttr sched) {}

    List<Early> readThreads(Freezer.Frozen f, TaskMemory mem) throws IOException {
        List<Early> out = new ArrayList<>();
        for (int tid : f.tids()) {
            Regs regs = tracer.getRegs(tid);
            Optional<RseqConfig> cfg = rseqConfig(tid);
            RseqState rseq = cfg.isEmpty() ? new RseqState.NotRegistered()
                    : RseqInspector.inspect(tid, cfg.get(), mem, regs.rip(), log::debug, log::warn);
            Regs resume = SyscallRestart.fixup(regs);
            resume = resume.withRip(rseq.resumeIp(resume.rip()));
            String comm = Files.readString(PROC.resolve(f.pid() + "/task/" + tid + "/comm")).strip();
            SchedAttr sched = Sys.schedGetattr(tid);
            if (sched.policy() == SchedAttr.SCHED_DEADLINE) {
                throw new IOException("thread " + tid + " runs under SCHED_DEADLINE, which is not supported yet");
            }
            out.add(new Early(tid, regs, resume, tracer.getXstate(tid), tracer.getSigmask(tid),
                    tracer.peekSiginfo(tid, false), Sys.getRobustList(tid), rseq, cfg.isEmpty(), comm,
                    sleepRestart(tid, regs, mem), sched));
            log.debug("thread " + tid + ": " + regs + (resume.equals(regs) ? "" : " -> resume at " + resume));
        }
        return out;
    }

    /** The thread's rseq configuration, empty if the kernel has no PTRACE_GET_RSEQ_CONFIGURATION. */
    private Optional<RseqConfig> rseqConfig(int tid) {
        try {
            return Optional.of(opts.rseq().read(tracer, tid));
        } catch (SysException e) {
            if (!RseqConfigSource.missingRequest(e)) throw e;
            log.debug("rseq tid " + tid + ": " + e.getMessage() + ": no PTRACE_GET_RSEQ_CONFIGURATION, the thread"
                    + " will be asked by an injected rseq()");
            return Optional.empty();
        }
    }

    /**
     * For threads whose registration the kernel could not report: asks each one with an injected
     * {@code rseq()} that can never register anything ({@link RseqProbe}). A registered thread
     * cannot be dumped (its area is unknown, so neither its registration nor its critical section
     * could be saved): refused. Threads stopped in a system call go first: they cannot be inside a
     * critical section, whereas running one at a gadget lets the kernel clear a thread's
     * {@code rseq_cs} without aborting its section; with glibc, where every thread or none is
     * registered, a refusal then touches no thread that was running user code.
     */
    void probeRseq(List<Early> threads, TaskMemory mem) throws IOException {
        List<Early> order = threads.stream().filter(Early::rseqUnknown)
                .sorted(Comparator.comparing(e -> e.original().origRax() < 0)).toList();
        for (Early t0 : order) {
            // Replaced in the caller's list, so that a refusal puts the thread back as it now is.
            Early t = t0.original().origRax() < 0 ? settle(t0, mem) : t0;
            threads.set(threads.indexOf(t0), t);
            long r;
            try (InjectionSession session = injections.open(t, mem, threads, "rseq")) {
                r = session.injector().raw(Nr.RSEQ, RseqProbe.AREA, RseqProbe.LENGTH, 0, RseqProbe.SIGNATURE);
            }
            boolean registered = RseqProbe.registered(t.tid(), r);
            log.debug(String.format("rseq tid %d: injected rseq(%#x, %d, 0, %#x) answered %s: %s", t.tid(),
                    RseqProbe.AREA, RseqProbe.LENGTH, RseqProbe.SIGNATURE, RseqProbe.describe(r),
                    registered ? "registered" : "not registered"));
            if (registered) {
                throw new RseqInspector.RefusedException("rseq of thread " + t.tid() + ": registered (an injected"
                        + " rseq() answered " + RseqProbe.describe(r) + "), but this kernel lacks"
                        + " PTRACE_GET_RSEQ_CONFIGURATION (Linux 5.13+), so the registration cannot be read or"
                        + " saved; refusing to dump");
            }
        }
    }

    /**
     * A thread stopped in user code may be inside a critical section of an area nobody can
     * see. Running it at a gadget would let the kernel clear its {@code rseq_cs} without an
     * abort; so first it takes one single step, on whose way back to user mode the kernel does
     * what it would have done when the freeze ended: abort the section (rip := abort_ip) or
     * just forget a stale descriptor. The step runs one instruction of the program's own,
     * which it was about to run anyway; never a syscall instruction (not allowed inside a
     * section either), which is left as it is.
     */
    private Early settle(Early t, TaskMemory mem) throws IOException {
        byte[] insn = mem.read(t.original().rip(), 2);
        if ((insn[0] & 0xff) == 0x0f && (insn[1] & 0xff) == 0x05) return t;
        tracer.setSigmask(t.tid(), -1L); // no handler may run on the way out
        try {
            while (true) {
                tracer.singleStep(t.tid());
                jcriu.ptrace.WaitStatus ws = tracer.waitFor(t.tid());
                if (!ws.stopped()) throw new Freezer.GoneException("thread " + t.tid() + " ended: " + ws);
                if (ws.event() == 0 && ws.stopSignal() == 5 /* SIGTRAP */) break;
            }
        } finally {
            tracer.setSigmask(t.tid(), t.sigmask());
        }
        Regs now = tracer.getRegs(t.tid());
        log.debug(String.format("rseq tid %d: one step before the probe: rip %#x -> %#x", t.tid(), t.original().rip(),
                now.rip()));
        return new Early(t.tid(), now, SyscallRestart.fixup(now), tracer.getXstate(t.tid()), t.sigmask(), t.pending(),
                t.robust(), t.rseq(), t.rseqUnknown(), t.comm(), t.sleep(), t.sched());
    }

    /**
     * A relative sleep cut short by the freeze (-ERESTART_RESTARTBLOCK): its absolute expiry,
     * from the remaining time the kernel wrote to the caller's {@code rem}. Without a rem
     * pointer the expiry is unknown and the sleep will return EINTR, as with CRIU.
     */
    private ThreadState.SleepRestart sleepRestart(int tid, Regs r, TaskMemory mem) throws IOException {
        if ((int) r.rax() != -jcriu.sys.Errno.ERESTART_RESTARTBLOCK) return null;
        int clock;
        long rem, req;
        if (r.origRax() == Nr.NANOSLEEP) {
            clock = 1; // CLOCK_MONOTONIC
            req = r.get(Regs.RDI);
            rem = r.get(Regs.RSI);
        } else if (r.origRax() == Nr.CLOCK_NANOSLEEP) {
            clock = (int) r.get(Regs.RDI);
            req = r.get(Regs.RDX);
            rem = r.get(Regs.R10);
        } else {
            // futex waits with a timeout and the like: callers treat EINTR as a spurious wake-up
            log.debug("thread " + tid + " was in syscall " + r.origRax() + ", which will return EINTR after restore");
            return null;
        }
        // The kernel wrote the time left to rem. Without rem (glibc's nanosleep(req, NULL)
        // passes none) only the request is known: counting it whole from now can make the
        // sleep longer than it would have been, never shorter, and it does not fail with EINTR.
        ByteBuffer ts = ByteBuffer.wrap(mem.read(rem != 0 ? rem : req, 16)).order(ByteOrder.LITTLE_ENDIAN);
        long left = ts.getLong(0) * 1_000_000_000L + ts.getLong(8);
        if (rem == 0) {
            log.debug("thread " + tid + ": sleep without a remaining-time pointer; its whole request ("
                    + left / 1_000_000 + " ms) counts from now");
        }
        long expiry = Sys.clockNanos(clock) + left;
        log.debug(String.format("thread %d: sleep on clock %d with %d ms left, restarted at restore", tid, clock,
                left / 1_000_000));
        return new ThreadState.SleepRestart(clock, expiry, rem, r.rip() - 2);
    }

    /** Values only the process itself can tell, read by injected syscalls into a scratch page. */
    record Injected(List<SigAction> sigactions, long clearChildTid, ThreadState.AltStack altStack, long brk) {}

    Injected inject(Early t, TaskMemory mem, List<Early> threads, boolean processWide) throws IOException {
        try (InjectionSession session = injections.open(t, mem, threads, processWide ? "signals" : "thread")) {
            Injector inj = session.injector();
            long page = session.scratch();
            List<SigAction> acts = new ArrayList<>();
            // Only signals with a handler or ignored (SigCgt, SigIgn), and SIGCHLD, whose flags
            // matter even at SIG_DFL (SA_NOCLDWAIT), are asked for; the others are SIG_DFL, whose
            // flags and mask the kernel never uses. Saves an injected call per signal and process.
            long asked = 0;
            if (processWide) {
                ProcStatus status = Status.read(PROC, t.tid());
                asked = status.sigIgn() | status.sigCgt() | 1L << (SIGCHLD - 1);
            }
            for (int sig = 1; processWide && sig <= 64; sig++) {
                if (sig == 9 || sig == 19) continue;
                if ((asked & 1L << (sig - 1)) == 0) {
                    acts.add(new SigAction(sig, 0, 0, 0, 0));
                    continue;
                }
                inj.call("rt_sigaction(" + sig + ")", Nr.RT_SIGACTION, sig, 0, page, 8);
                ByteBuffer b = ByteBuffer.wrap(mem.read(page, 32)).order(ByteOrder.LITTLE_ENDIAN);
                acts.add(new SigAction(sig, b.getLong(0), b.getLong(8), b.getLong(16), b.getLong(24)));
            }
            inj.call("prctl(PR_GET_TID_ADDRESS)", Nr.PRCTL, PR_GET_TID_ADDRESS, page, 0, 0, 0);
            control.reached("injecting"); // the thread holds the registers of an injected call
            long ctid = mem.readLong(page);
            inj.call("sigaltstack", Nr.SIGALTSTACK, 0, page);
            ByteBuffer ss = ByteBuffer.wrap(mem.read(page, 24)).order(ByteOrder.LITTLE_ENDIAN);
            var alt = new ThreadState.AltStack(ss.getLong(0), ss.getInt(8), ss.getLong(16));
            long brk = processWide ? inj.call("brk(0)", Nr.BRK, 0) : 0;
            return new Injected(acts, ctid, alt, brk);
        }
    }

    /** Opens the injection sessions of this dump (ProcessAttrsReader's too). */
    Injections injections() { return injections; }

    /** Mappings and their dumpable pages, written to the pages image as they are read. */
    /**
     * Every mapping and the pages worth saving. With {@code parent} (a previous pre-dump),
     * pages equal to the parent's copy are only referenced.
     */
    MmParts dumpMemory(int pid, TaskMemory mem, Path pages, jcriu.image.ChunkedCrc crc, ParentPages parent)
            throws IOException {
        List<VmaState> vmas = new ArrayList<>();
        long bytes;
        List<PageRun> present, inParent;
        // the runs are listed first, so that progress knows the total
        record Queued(PageRun run, boolean readable, boolean mayUseParent) {}
        List<Queued> queue = new ArrayList<>();
        long total = 0;
        try (Pagemap pagemap = Pagemap.open(PROC, pid)) {
            for (Vma v : Maps.read(PROC, pid)) {
                VmaState vs = VmaMapping.toState(v, pid);
                vmas.add(vs);
                if (!vs.hasPrivateContent()) continue;
                // the vDSO is compared with the restoring kernel's, so its pages stay in every image
                for (PageRun r : pagemap.dumpableRuns(v)) {
                    queue.add(new Queued(r, v.read(), vs.kind() != VmaState.Kind.VDSO));
                    total += r.bytes();
                }
            }
        }
        jcriu.api.Progress shown = jcriu.api.Progress.onTerminal("dump " + pid, total);
        long[] logged = {0};
        try (PageWriter writer = new PageWriter(pid, mem, pages, parent, done -> {
            shown.update(done);
            if ((done >> 28) != (logged[0] >> 28)) log.info("memory: " + (done >> 20) + " MiB written");
            logged[0] = done;
        }, crc, control)) {
            for (Queued q : queue) writer.add(q.run(), q.readable(), q.mayUseParent());
            writer.flush();
            shown.finish();
            PageWriter.Stats ps = writer.stats();
            log.info("pages of " + pid + ": " + ps);
            pageStats = pageStats == null ? ps : pageStats.plus(ps);
            bytes = writer.written();
            present = List.copyOf(writer.present());
            inParent = List.copyOf(writer.inParent());
        }
        long parentBytes = inParent.stream().mapToLong(PageRun::bytes).sum();
        log.info("memory: " + vmas.size() + " mappings, " + (bytes >> 10) + " KiB of pages"
                + (parent == null ? "" : ", " + (parentBytes >> 10) + " KiB unchanged since the parent image"));
        return new MmParts(vmas, present, inParent);
    }

    /** What the last {@link #dumpMemory} did (null before one). */
    PageWriter.Stats pageStats() { return pageStats; }

    record MmParts(List<VmaState> vmas, List<PageRun> runs, List<PageRun> inParent) {}

    long[][] rlimits(int pid) throws IOException {
        long[][] out = new long[RLIMIT_NLIMITS][];
        try {
            for (int r = 0; r < RLIMIT_NLIMITS; r++) out[r] = Sys.prlimit(pid, r, null);
        } catch (SysException e) {
            if (e.errno() != jcriu.sys.Errno.EPERM) throw e;
            // a process of another user: prlimit64 needs CAP_SYS_RESOURCE even to read, /proc does not
            long[][] all = jcriu.proc.Limits.read(PROC, pid);
            if (all.length < RLIMIT_NLIMITS) throw new IOException("/proc/" + pid + "/limits lists " + all.length
                    + " resources, fewer than " + RLIMIT_NLIMITS);
            out = java.util.Arrays.copyOf(all, RLIMIT_NLIMITS);
        }
        return out;
    }

    MmState mm(int pid, ProcStat stat, MmParts parts, long brk) throws IOException {
        long[] auxv = ProcAttrs.auxv(PROC, pid).words();
        String exe = ProcAttrs.exe(PROC, pid);
        if (exe.endsWith(" (deleted)")) throw new IOException("the executable of " + pid + " was deleted: " + exe);
        return new MmState(stat.startCode(), stat.endCode(), stat.startData(), stat.endData(), stat.startBrk(), brk,
                stat.startStack(), stat.argStart(), stat.argEnd(), stat.envStart(), stat.envEnd(), auxv, exe,
                parts.vmas(), parts.runs(), parts.inParent(), sharedFiles(pid, parts.vmas()),
                jcriu.files.MappedFile.of(pid, parts.vmas()));
    }

    /**
     * Small regular files mapped shared are saved whole: another program may delete them
     * before the restore. They are read through /proc/PID/map_files, which reaches the mapped
     * file itself even when it was unlinked; an unlinked one is saved up to the same limit
     * and refused above it, since nothing else could bring it back. A deleted file mapped
     * private (and a memfd mapped private) is kept the same way: its pages not yet written
     * are read from the file made again.
     */
    private List<FileSnapshot> sharedFiles(int pid, List<VmaState> vmas) throws IOException {
        List<FileSnapshot> out = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (VmaState v : vmas) {
            boolean privateMap = v.kind() == VmaState.Kind.FILE_PRIVATE;
            if ((v.kind() != VmaState.Kind.FILE_SHARED && !privateMap) || v.path() == null
                    || !seen.add(v.path() + "\0" + v.ino())) {
                continue;
            }
            Path mapped = PROC.resolve(pid + "/map_files/" + Long.toHexString(v.start()) + "-" + Long.toHexString(v.end()));
            java.util.Map<String, Object> a = Files.readAttributes(mapped, "unix:mode,uid,gid,size,ino,isRegularFile");
            boolean deleted;
            try {
                deleted = !Files.getAttribute(Path.of(v.path()), "unix:ino").equals(a.get("ino"));
            } catch (java.nio.file.NoSuchFileException gone) {
                deleted = true;
            }
            long size = (Long) a.get("size");
            if (!(Boolean) a.get("isRegularFile")) continue;
            if (privateMap && !deleted) continue; // a private mapping reads its file again: only a deleted one is kept
            long limit = deleted ? opts.files().ghostLimit() : FileSnapshot.MAX_SIZE; // CRIU's --ghost-limit
            if (size > limit) {
                if (deleted) {
                    throw new IOException(String.format("mapping %#x-%#x of process %d: %s was deleted and holds %d"
                            + " bytes, more than the ghost limit of %d bytes (--ghost-limit)", v.start(), v.end(), pid,
                            v.path(), size, limit));
                }
                continue;
            }
            byte[] content = Files.readAllBytes(mapped);
            out.add(new FileSnapshot(v.path(), (Integer) a.get("mode"), (Integer) a.get("uid"), (Integer) a.get("gid"),
                    content, deleted, v.ino()));
            log.debug("shared file " + v.path() + (deleted ? " (deleted)" : "") + ": " + content.length
                    + " bytes saved with the images");
        }
        return out;
    }

    ProcessState.Creds creds(ProcStatus s) {
        var c = s.caps();
        return new ProcessState.Creds(ids(s.uid()), ids(s.gid()), s.groups().stream().mapToInt(Integer::intValue).toArray(),
                c.inheritable(), c.permitted(), c.effective(), c.bounding(), c.ambient());
    }

    private static int[] ids(jcriu.proc.Ids i) {
        return new int[] {i.real(), i.effective(), i.saved(), i.fs()};
    }
}

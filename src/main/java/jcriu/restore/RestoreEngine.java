package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import jcriu.api.Log;
import jcriu.inject.Injector;
import jcriu.proc.Maps;
import jcriu.proc.Vma;
import jcriu.ptrace.Regs;
import jcriu.ptrace.RseqConfig;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.ptrace.WaitStatus;
import jcriu.state.FdState;
import jcriu.state.PageRun;
import jcriu.state.ProcessState;
import jcriu.state.SigAction;
import jcriu.state.ThreadState;
import jcriu.state.VmaState;
import jcriu.sys.Errno;
import jcriu.sys.Nr;
import jcriu.sys.Spawn;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Turns a freestanding helper into the checkpointed process, entirely by syscall
 * injection: clone3 with the saved PID, then replace the address space, files and
 * thread state, and finally remove the last page of ours and let it run.
 */
final class RestoreEngine {
    private static final int SIGKILL = 9, SIGSTOP = 19, SIGCHLD = 17;
    private static final long CLONE_PARENT = 0x8000;
    // CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM: a pthread's set
    private static final long CLONE_THREAD_FLAGS = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000;
    private static final int O_RDONLY = 0, O_RDWR = 2, O_CLOEXEC = 02000000;
    private static final int AT_FDCWD = -100;
    private static final int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
    private static final int PR_SET_NAME = 15, PR_SET_MM = 35, PR_SET_MM_MAP = 14;
    private static final int SEEK_SET = 0;
    private static final int PR_CAPBSET_DROP = 24, PR_SET_KEEPCAPS = 8, PR_CAP_AMBIENT = 47, PR_SET_SECUREBITS = 28;
    private static final int SECBIT_KEEP_CAPS = 1 << 4, SECBIT_KEEP_CAPS_LOCKED = 1 << 5;
    private static final int IOV_BATCH = 1024;
    private static final int OPEN_FLAGS_DROPPED = 0100 | 01000 | 0200 | 0400; // O_CREAT O_TRUNC O_EXCL O_NOCTTY

    private final Tracer tracer;
    private final ProcessState st;
    private final jcriu.image.PageStore pageStore;
    private final RestoreOptions opts;
    private final Log log;
    /** Threads created so far: on failure they must be reaped before the leader can be. */
    private final List<Integer> threadsCreated = new ArrayList<>();
    private final ProcessAttrsRestorer attrs;

    RestoreEngine(Tracer tracer, ProcessState st, jcriu.image.PageStore pageStore, RestoreOptions opts, Log log) {
        this.tracer = tracer;
        this.st = st;
        this.pageStore = pageStore;
        this.opts = opts;
        this.log = log;
        this.attrs = new ProcessAttrsRestorer(st, log);
    }

    /** Restores and returns the PID; on failure nothing of the attempt is left running. */
    int run() throws IOException {
        Preflight.check(st, opts, log);
        List<Path> recreated = new ArrayList<>();
        int helper = -1;
        int child = -1;
        try {
            recreateSharedFiles(recreated);
            helper = spawnHelper();
            child = cloneTarget(helper);
            killAndReap(helper);
            helper = -1;
            rebuild(child);
            return child;
        } catch (IOException | RuntimeException e) {
            if (helper > 0) killAndReap(helper);
            if (child > 0) killAndReap(child);
            for (Path p : recreated) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException again) {
                    e.addSuppressed(again);
                }
            }
            throw e;
        }
    }

    /**
     * A small file the process mapped shared and that is gone now (a JVM's hsperfdata file,
     * which any later JVM deletes once its owner is dead) is written back from the images,
     * with its owner and mode, before anything maps it. Existing files are used as they are:
     * their content is what the process last wrote.
     */
    private void recreateSharedFiles(List<Path> created) throws IOException {
        for (jcriu.state.FileSnapshot f : st.mm().sharedFiles()) {
            Path p = Path.of(f.path());
            if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) continue;
            if (!Files.isDirectory(p.getParent())) {
                throw new IOException("mapping of " + p + " needs the file, which is gone, and its directory "
                        + p.getParent() + " too");
            }
            // created new (never through a symlink placed meanwhile), owner-only until chmod
            Files.createFile(p, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            created.add(p);
            Files.write(p, f.content(), java.nio.file.StandardOpenOption.WRITE);
            Files.setAttribute(p, "unix:uid", f.uid());
            Files.setAttribute(p, "unix:gid", f.gid());
            Files.setAttribute(p, "unix:mode", f.mode() & 07777);
            log.info("recreated " + p + " (" + f.content().length + " bytes, gone since the dump)");
        }
    }

    private int spawnHelper() {
        int memfd = Sys.memfdCreate("jcriu-restore-helper", 1 /* MFD_CLOEXEC */);
        try {
            Sys.write(memfd, HelperElf.build());
            int pid = Spawn.spawn("/proc/self/fd/" + memfd, List.of("jcriu-restore-helper"), List.of());
            log.debug("helper started as pid " + pid);
            // FORK for the detached clone (exit signal SIGCHLD), CLONE for CLONE_PARENT (exit signal 0).
            tracer.seize(pid, Tracer.O_TRACESYSGOOD | Tracer.O_TRACEFORK | Tracer.O_TRACECLONE | Tracer.O_EXITKILL);
            tracer.interrupt(pid);
            awaitEventStop(pid);
            return pid;
        } finally {
            Sys.close(memfd);
        }
    }

    private void awaitEventStop(int pid) {
        while (true) {
            WaitStatus ws = tracer.waitFor(pid);
            if (!ws.stopped()) throw new IllegalStateException("restore helper died: " + ws);
            if (ws.event() == Tracer.EVENT_STOP) return;
            tracer.cont(pid, ws.event() == 0 ? ws.stopSignal() : 0);
        }
    }

    /** clone3 inside the helper with set_tid = the saved PID; the child is auto-attached. */
    private int cloneTarget(int helper) throws IOException {
        Regs regs = tracer.getRegs(helper);
        Injector inj = new Injector(tracer, helper, regs, HelperElf.gadget());
        long args = HelperElf.SCRATCH, tidArray = HelperElf.SCRATCH + 256;
        ByteBuffer ca = ControlArea.le(88);
        ca.putLong(0, opts.detach() ? 0 : CLONE_PARENT);      // flags: parent is jcriu unless detached
        ca.putLong(32, opts.detach() ? SIGCHLD : 0);           // exit_signal (must be 0 with CLONE_PARENT)
        ca.putLong(64, tidArray);                              // set_tid
        ca.putLong(72, 1);                                     // set_tid_size
        try (TaskMemory mem = TaskMemory.open(helper, true)) {
            mem.write(args, ca.array());
            mem.writeLong(tidArray, st.pid());
        }
        long r = inj.raw(Nr.CLONE3, args, 88);
        if (r < 0) {
            int e = (int) -r;
            throw new IOException("cannot create a process with PID " + st.pid() + ": clone3 with set_tid failed with "
                    + Errno.name(e) + (e == Errno.EEXIST ? " (" + Preflight.whoHolds(st.pid()) + ")" : ""));
        }
        List<Integer> kids = inj.takeChildren();
        if (kids.size() != 1 || kids.getFirst() != st.pid() || r != st.pid()) {
            killAndReap((int) r); // whatever was created must not outlive the failed restore
            throw new IOException("clone3 created " + r + " (traced: " + kids + ") instead of PID " + st.pid());
        }
        awaitEventStop(st.pid());
        log.info("created pid " + st.pid() + (opts.detach() ? "" : " as a child of jcriu"));
        return st.pid();
    }

    private void killAndReap(int pid) {
        try {
            Sys.kill(pid, SIGKILL);
        } catch (SysException ignored) {
            return;
        }
        if (pid == st.pid()) {
            for (int tid : threadsCreated) drain(tid);
        }
        drain(pid);
    }


    private void drain(int pid) {
        try {
            while (true) {
                WaitStatus ws = tracer.waitFor(pid);
                if (!ws.stopped()) return;
            }
        } catch (SysException ignored) {
            // not ours to reap (reparented): the kernel or init will
        }
    }

    private void rebuild(int pid) throws IOException {
        RseqConfig helperRseq = tracer.getRseqConfig(pid);
        if (helperRseq.registered()) {
            throw new IOException("restore helper unexpectedly has rseq registered at "
                    + Long.toHexString(helperRseq.pointer()));
        }
        tracer.setSigmask(pid, -1L); // nothing may interrupt injected syscalls
        Regs start = tracer.getRegs(pid);
        Injector inj = new Injector(tracer, pid, start, HelperElf.gadget());
        try (TaskMemory mem = TaskMemory.open(pid, true)) {
            attrs.enterCgroups(pid); // before any memory is charged
            List<Vma> helperMaps = Maps.read(Path.of("/proc"), pid);
            ControlArea ctl = new ControlArea(findHole(helperMaps, ControlArea.SIZE));
            inj.call("mmap control area", Nr.MMAP, ctl.base, ControlArea.SIZE, 7 /* rwx */,
                    VmaState.MAP_PRIVATE | VmaState.MAP_ANONYMOUS | VmaState.MAP_FIXED_NOREPLACE, -1, 0);
            mem.write(ctl.base, ControlArea.GADGET);
            inj.useGadget(ctl.gadget());
            inj.useStack(ctl.stackTop());
            log.debug(String.format("control area at %#x", ctl.base));

            for (Vma v : helperMaps) {
                if (isSpecial(v.name())) continue;
                inj.call("munmap helper " + v.name(), Nr.MUNMAP, v.start(), v.end() - v.start());
            }
            moveSpecialMappings(inj, pid, mem, ctl);
            mapMemory(inj, mem, ctl);
            setMmFields(inj, mem, ctl);
            restoreFiles(inj, mem, ctl, pid);
            restoreProcessAttrs(inj, mem, ctl, pid);
            ThreadState t = st.leader();
            restoreThread(inj, mem, ctl, pid, t);
            attrs.restoreProcess(inj, mem, ctl, pid);
            for (ThreadState other : st.threads()) {
                if (other.tid() != pid) createThread(inj, mem, ctl, pid, other);
            }
            restoreCreds(inj, mem, ctl);
            attrs.restoreThread(inj, mem, ctl, pid); // the leader last: its timers may notify any thread

            Resume fin = resume(inj, mem, ctl, t);
            // The last injected call removes the control area; at its exit stop the task gets its own registers.
            long r = inj.finishWith(fin.regs(), Nr.MUNMAP, ctl.base, ControlArea.SIZE);
            if (r != 0) throw new IOException("munmap of the control area failed: " + Errno.name((int) -r));
            tracer.setXstate(pid, t.xstate());
            long csPtr = t.rseq().rseqCsToRestore();
            if (csPtr != 0) {
                // Registration cleared rseq_cs (kernel >= 6.15); the saved pointer goes back as the last write.
                mem.writeLong(t.rseq().registration().pointer() + 8, csPtr);
                log.debug(String.format("rseq tid %d: rseq_cs restored to %#x", pid, csPtr));
            }
            tracer.setSigmask(pid, t.sigmask());
            if (fin.inKernel()) park(pid);
        }
        applySched();
        // The leader goes first: with SIGSTOP it starts a group stop that the others join
        // before they run a single instruction of their own. The signal is queued rather than
        // passed to PTRACE_DETACH, which a task parked at an event stop would not take.
        boolean stop = opts.leaveStopped() || st.wasStopped();
        if (stop) Sys.tgkill(pid, pid, SIGSTOP);
        tracer.detach(pid, 0);
        for (ThreadState other : st.threads()) {
            if (other.tid() != pid) tracer.detach(other.tid(), 0);
        }
        log.info("pid " + pid + " restored with " + st.threads().size() + " thread(s) and "
                + (stop ? "left stopped" : "running"));
    }

    /**
     * Policy, priority and nice per thread, set from jcriu (not injected) once nothing else runs
     * in the task: the restored credentials may no longer allow raising them from inside. A
     * restorer without CAP_SYS_NICE may be refused; the process is then restored with what it
     * got, and the log says so.
     */
    private void applySched() {
        for (ThreadState t : st.threads()) {
            jcriu.sys.SchedAttr want = t.sched();
            jcriu.sys.SchedAttr have = Sys.schedGetattr(t.tid());
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

    /**
     * A sleep interrupted by the freeze goes on as the kernel would have continued it: an
     * injected relative clock_nanosleep, interrupted at once, leaves the kernel's restart block
     * (absolute expiry, the caller's rem pointer) in the task, and the task resumes by calling
     * restart_syscall at the original syscall instruction.
     */
    /**
     * The registers a thread resumes with. {@code inKernel}: they are those of a task still
     * inside an interrupted system call (rax = -ERESTART*, orig_rax = the call, rip after it);
     * {@link #park} then stops the task where the kernel decides what happens to such a call,
     * so a signal that arrives first interrupts it (EINTR, the handler runs) and otherwise it
     * is restarted, exactly as if the task had never left the kernel. Rewinding rip in user
     * mode instead (CRIU's way, and what the images hold) lets such a signal run its handler
     * and then re-enter the call, which may wait forever for the signal it just consumed.
     */
    private record Resume(Regs regs, boolean inKernel) {}

    private Resume resume(Injector inj, TaskMemory mem, ControlArea ctl, ThreadState t) throws IOException {
        if (t.sleep() != null) return resumeSleep(inj, mem, ctl, t);
        int code = t.restartCode();
        if (code == 0) return new Resume(t.regs(), false);
        Regs r = t.regs(); // rewound: rip at the syscall instruction, rax = its number
        return new Resume(r.with(Regs.ORIG_RAX, r.rax()).with(Regs.RAX, -code).with(Regs.RIP, r.rip() + 2), true);
    }

    /** From a syscall-exit stop with the final registers set: on to the signal-delivery point, stopped there. */
    private void park(int tid) {
        tracer.interrupt(tid);
        tracer.cont(tid, 0);
        awaitEventStop(tid);
        log.debug("thread " + tid + ": parked inside its interrupted system call");
    }

    private Resume resumeSleep(Injector inj, TaskMemory mem, ControlArea ctl, ThreadState t) throws IOException {
        ThreadState.SleepRestart s = t.sleep();
        long left = s.expiryNs() - Sys.clockNanos(s.clockId());
        if (left <= 0) {
            log.debug("thread " + t.tid() + ": its sleep expired while checkpointed; it returns 0");
            return new Resume(t.regs().with(Regs.RAX, 0), false);
        }
        ctl.reset();
        long ts = ctl.alloc(16);
        ByteBuffer b = ControlArea.le(16);
        b.putLong(left / 1_000_000_000L).putLong(left % 1_000_000_000L);
        mem.write(ts, b.array());
        long r;
        try {
            r = inj.interrupted(Nr.CLOCK_NANOSLEEP, s.clockId(), 0, ts, s.remPtr());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while restoring a sleep", e);
        }
        if (r == 0) return new Resume(t.regs().with(Regs.RAX, 0), false);
        if (r != -Errno.ERESTART_RESTARTBLOCK) {
            throw new IOException("re-arming the sleep of thread " + t.tid() + " gave " + r);
        }
        log.debug(String.format("thread %d: sleep re-armed, %d ms left", t.tid(), left / 1_000_000));
        // in the kernel's own state: it turns -ERESTART_RESTARTBLOCK into restart_syscall, or EINTR
        return new Resume(t.regs().with(Regs.RAX, -Errno.ERESTART_RESTARTBLOCK).with(Regs.RIP, s.syscallIp() + 2)
                .with(Regs.ORIG_RAX, Nr.CLOCK_NANOSLEEP), true);
    }

    private static boolean isSpecial(String name) {
        return "[vdso]".equals(name) || "[vvar]".equals(name) || "[vvar_vclock]".equals(name)
                || "[vsyscall]".equals(name);
    }

    /** The lowest hole of {@code size} above 4 GiB that neither layout uses. */
    private long findHole(List<Vma> helperMaps, long size) {
        List<long[]> used = new ArrayList<>();
        for (Vma v : helperMaps) used.add(new long[] {v.start(), v.end()});
        for (VmaState v : st.mm().vmas()) used.add(new long[] {v.start(), v.end()});
        used.sort(Comparator.comparingLong(a -> a[0]));
        long cand = 0x100000000L;
        for (long[] u : used) {
            if (u[1] <= cand) continue;
            if (u[0] >= cand + size) break;
            cand = (u[1] + 0xffff) & ~0xffffL;
        }
        if (cand + size > 0x7fff00000000L) throw new IllegalStateException("no hole for the control area");
        return cand;
    }

    private void moveSpecialMappings(Injector inj, int pid, TaskMemory mem, ControlArea ctl) throws IOException {
        List<Vma> now = Maps.read(Path.of("/proc"), pid);
        List<VmaState> want = st.mm().vmas().stream().filter(v -> v.special() && v.kind() != VmaState.Kind.VSYSCALL)
                .toList();
        List<Vma> have = now.stream().filter(v -> isSpecial(v.name()) && !"[vsyscall]".equals(v.name())).toList();
        for (VmaState w : want) {
            String name = specialName(w.kind());
            Vma h = have.stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow(() -> new IOException(
                    "the image has a " + name + " mapping but this kernel gives none: dumped on another kernel?"));
            if (h.end() - h.start() != w.size()) {
                throw new IOException(name + " is " + (h.end() - h.start()) + " bytes here but " + w.size()
                        + " bytes in the image: the vDSO differs (dumped on another kernel)");
            }
        }
        if (have.size() != want.size()) {
            throw new IOException("vDSO layout differs: this kernel maps " + have.stream().map(Vma::name).toList()
                    + ", the image has " + want.stream().map(w -> specialName(w.kind())).toList());
        }
        verifyVdsoContent(mem, have);
        // Two steps, through a parking spot, so that no move lands on a mapping still to be moved.
        long park = ctl.base + ControlArea.SIZE + 0x100000;
        long[] parked = new long[have.size()];
        for (int i = 0; i < have.size(); i++) {
            Vma h = have.get(i);
            long size = h.end() - h.start();
            parked[i] = park;
            inj.call("mremap " + h.name() + " to parking", Nr.MREMAP, h.start(), size, size,
                    MREMAP_MAYMOVE | MREMAP_FIXED, park);
            park += size + 0x10000;
        }
        for (int i = 0; i < have.size(); i++) {
            Vma h = have.get(i);
            long size = h.end() - h.start();
            VmaState w = want.stream().filter(v -> specialName(v.kind()).equals(h.name())).findFirst().orElseThrow();
            inj.call("mremap " + h.name(), Nr.MREMAP, parked[i], size, size, MREMAP_MAYMOVE | MREMAP_FIXED, w.start());
            log.debug(String.format("%s moved to %#x", h.name(), w.start()));
        }
    }

    private static String specialName(VmaState.Kind k) {
        return switch (k) {
            case VDSO -> "[vdso]";
            case VVAR -> "[vvar]";
            case VVAR_VCLOCK -> "[vvar_vclock]";
            case VSYSCALL -> "[vsyscall]";
            default -> throw new IllegalArgumentException(k.toString());
        };
    }

    /** The dumped vDSO pages must equal this kernel's, since the restored code keeps calling into it. */
    private void verifyVdsoContent(TaskMemory mem, List<Vma> have) throws IOException {
        VmaState vdso = st.mm().vmas().stream().filter(v -> v.kind() == VmaState.Kind.VDSO).findFirst().orElse(null);
        if (vdso == null) return;
        Vma live = have.stream().filter(v -> v.name().equals("[vdso]")).findFirst().orElseThrow();
        for (jcriu.image.PageStore.Slice run : pageStore.slices()) {
            if (run.addr() < vdso.start() || run.addr() >= vdso.end()) continue;
            ByteBuffer dumped = ByteBuffer.allocate((int) run.bytes());
            try (FileChannel pages = FileChannel.open(run.file())) {
                pages.read(dumped, run.offset());
            }
            byte[] now = mem.read(live.start() + (run.addr() - vdso.start()), (int) run.bytes());
            if (!Arrays.equals(dumped.array(), now)) {
                throw new IOException(String.format("the vDSO at %#x differs from this kernel's: "
                        + "the image was dumped on another kernel, refusing to restore", run.addr()));
            }
        }
    }

    private void mapMemory(Injector inj, TaskMemory mem, ControlArea ctl) throws IOException {
        List<VmaState> vmas = st.mm().vmas();
        boolean[] filled = new boolean[vmas.size()];
        for (var run : pageStore.slices()) {
            int i = indexOf(vmas, run.addr());
            if (i < 0) throw new IOException(String.format("pages at %#x lie outside every mapping of the image", run.addr()));
            filled[i] = true;
        }
        for (int i = 0; i < vmas.size(); i++) {
            VmaState v = vmas.get(i);
            if (v.special()) continue;
            ctl.reset();
            int prot = v.prot();
            if (filled[i] && v.kind() != VmaState.Kind.FILE_SHARED) prot |= VmaState.PROT_WRITE | VmaState.PROT_READ;
            int flags = v.flags() | VmaState.MAP_FIXED_NOREPLACE;
            long fd = -1;
            if (v.path() != null && (v.kind() == VmaState.Kind.FILE_PRIVATE || v.kind() == VmaState.Kind.FILE_SHARED)) {
                // opened as the original was: a read-only mapping of a read-write file may be mprotect'ed writable
                boolean rw = v.kind() == VmaState.Kind.FILE_SHARED
                        && ((v.attrs().fileFlags() & 3) == O_RDWR || (v.prot() & VmaState.PROT_WRITE) != 0);
                fd = openIn(inj, mem, ctl, v.path(), (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
            } else {
                flags |= VmaState.MAP_ANONYMOUS;
            }
            long r = inj.raw(Nr.MMAP, v.start(), v.size(), prot, flags, fd, fd >= 0 ? v.pgoff() : 0);
            if (fd >= 0) inj.call("close", Nr.CLOSE, fd);
            if (r != v.start()) {
                throw new IOException(String.format("mapping %#x-%#x (%s) failed: %s", v.start(), v.end(),
                        v.path() == null ? v.kind() : v.path(), r < 0 ? Errno.name((int) -r) : "landed at " + r));
            }
            for (int adv : v.madvise()) inj.call("madvise " + adv, Nr.MADVISE, v.start(), v.size(), adv);
        }
        fillPages(inj, mem, ctl);
        for (int i = 0; i < vmas.size(); i++) {
            VmaState v = vmas.get(i);
            if (v.special() || !filled[i] || v.kind() == VmaState.Kind.FILE_SHARED) continue;
            if (v.prot() != (v.prot() | VmaState.PROT_WRITE | VmaState.PROT_READ)) {
                inj.call(String.format("mprotect %#x", v.start()), Nr.MPROTECT, v.start(), v.size(), v.prot());
            }
        }
        log.info("memory: " + vmas.size() + " mappings, " + pageStore.slices().stream().mapToLong(s -> s.pages()).sum()
                + " pages");
    }

    private static int indexOf(List<VmaState> vmas, long addr) {
        for (int i = 0; i < vmas.size(); i++) {
            if (addr >= vmas.get(i).start() && addr < vmas.get(i).end()) return i;
        }
        return -1;
    }

    /** One copy: preadv inside the target, from the pages image straight into its memory. */
    /**
     * Reads every saved page into place with preadv injected in the task: one call per batch
     * of slices that lie back to back in one pages file (this image's or, for an incremental
     * dump, a parent's).
     */
    private void fillPages(Injector inj, TaskMemory mem, ControlArea ctl) throws IOException {
        List<jcriu.image.PageStore.Slice> runs = new ArrayList<>();
        List<VmaState> vmas = st.mm().vmas();
        for (jcriu.image.PageStore.Slice s : pageStore.slices()) {
            // the vDSO's pages are only compared, never written
            if (vmas.get(indexOf(vmas, s.addr())).kind() != VmaState.Kind.VDSO) runs.add(s);
        }
        if (runs.isEmpty()) return;
        ctl.reset();
        java.util.Map<Path, Long> fds = new java.util.HashMap<>();
        for (var s : runs) {
            if (!fds.containsKey(s.file())) {
                fds.put(s.file(), openIn(inj, mem, ctl, s.file().toAbsolutePath().toString(), O_RDONLY | O_CLOEXEC));
            }
        }
        long iovAddr = ctl.alloc(16L * IOV_BATCH);
        int i = 0;
        while (i < runs.size()) {
            ByteBuffer iov = ControlArea.le(16 * IOV_BATCH);
            var first = runs.get(i);
            int n = 0;
            long total = 0;
            while (i < runs.size() && n < IOV_BATCH) {
                var run = runs.get(i);
                if (!run.file().equals(first.file()) || run.offset() != first.offset() + total) break;
                iov.putLong(16 * n, run.addr());
                iov.putLong(16 * n + 8, run.bytes());
                total += run.bytes();
                n++;
                i++;
            }
            mem.write(iovAddr, Arrays.copyOf(iov.array(), 16 * n));
            long got = inj.raw(Nr.PREADV, fds.get(first.file()), iovAddr, n, first.offset(), 0);
            if (got != total) {
                throw new IOException("filling memory from " + first.file() + " at offset " + first.offset() + ": "
                        + (got < 0 ? Errno.name((int) -got) : "read " + got + " of " + total + " bytes (image truncated?)"));
            }
        }
        for (long fd : fds.values()) inj.call("close pages image", Nr.CLOSE, fd);
    }

    private long openIn(Injector inj, TaskMemory mem, ControlArea ctl, String path, int flags) throws IOException {
        byte[] p = ControlArea.cString(path);
        long addr = ctl.alloc(p.length);
        mem.write(addr, p);
        long fd = inj.raw(Nr.OPENAT, AT_FDCWD, addr, flags, 0);
        if (fd < 0) throw new IOException("cannot open " + path + " in the restored process: " + Errno.name((int) -fd));
        return fd;
    }

    private void setMmFields(Injector inj, TaskMemory mem, ControlArea ctl) throws IOException {
        ctl.reset();
        var mm = st.mm();
        long exeFd = openIn(inj, mem, ctl, mm.exePath(), O_RDONLY | O_CLOEXEC);
        long auxvAddr = ctl.alloc(8L * mm.auxv().length);
        ByteBuffer ax = ControlArea.le(8 * mm.auxv().length);
        for (long a : mm.auxv()) ax.putLong(a);
        mem.write(auxvAddr, ax.array());
        ByteBuffer m = ControlArea.le(104);
        for (long v : new long[] {mm.startCode(), mm.endCode(), mm.startData(), mm.endData(), mm.startBrk(), mm.brk(),
                mm.startStack(), mm.argStart(), mm.argEnd(), mm.envStart(), mm.envEnd(), auxvAddr}) {
            m.putLong(v);
        }
        m.putInt(8 * mm.auxv().length);
        m.putInt((int) exeFd);
        long mapAddr = ctl.alloc(104);
        mem.write(mapAddr, m.array());
        inj.call("prctl(PR_SET_MM_MAP)", Nr.PRCTL, PR_SET_MM, PR_SET_MM_MAP, mapAddr, 104, 0);
        inj.call("close exe", Nr.CLOSE, exeFd);
    }

    private void restoreFiles(Injector inj, TaskMemory mem, ControlArea ctl, int pid) throws IOException {
        ctl.reset();
        boolean keep0to2 = st.fds().stream().anyMatch(f -> f.kind() == FdState.Kind.INHERITED_TTY);
        inj.call("close_range", Nr.CLOSE_RANGE, 3, 0xffffffffL, 0);
        for (int fd = 0; fd < 3; fd++) {
            final int n = fd;
            boolean inherit = st.fds().stream().anyMatch(f -> f.fd() == n && f.kind() == FdState.Kind.INHERITED_TTY);
            if (!inherit) inj.raw(Nr.CLOSE, fd);
        }
        int above = st.fds().stream().mapToInt(FdState::fd).max().orElse(2) + 1;
        java.util.Set<Long> pipesMade = new java.util.HashSet<>();
        for (FdState f : st.fds()) {
            if (f.kind() == FdState.Kind.INHERITED_TTY) {
                log.debug("fd " + f.fd() + ": the terminal jcriu runs in (--shell-job)");
                continue;
            }
            ctl.reset();
            if (f.sharesWith() >= 0) {
                // Same open file description as a lower fd: dup it, so both keep one offset.
                inj.call("dup3 " + f.sharesWith() + " -> " + f.fd(), Nr.DUP3, f.sharesWith(), f.fd(),
                        f.cloexec() ? O_CLOEXEC : 0);
                log.debug("fd " + f.fd() + ": shares fd " + f.sharesWith());
                continue;
            }
            if (f.kind() == FdState.Kind.PIPE) {
                if (pipesMade.add(f.pipeIno())) makePipe(inj, mem, ctl, f, above);
                continue;
            }
            int flags = f.flags() & ~OPEN_FLAGS_DROPPED;
            long tmp = openIn(inj, mem, ctl, f.path(), flags);
            if (tmp != f.fd()) {
                inj.call("dup3 " + f.fd(), Nr.DUP3, tmp, f.fd(), f.cloexec() ? O_CLOEXEC : 0);
                inj.call("close", Nr.CLOSE, tmp);
            }
            if (f.kind() == FdState.Kind.REGULAR && f.pos() != 0) {
                inj.call("lseek fd " + f.fd(), Nr.LSEEK, f.fd(), f.pos(), SEEK_SET);
            }
            log.debug("fd " + f.fd() + ": " + f.path() + " flags " + Integer.toOctalString(f.flags()) + " pos " + f.pos());
        }
        if (keep0to2) log.info("fds 0-2 that were a terminal now use jcriu's terminal");
        fillPipes(pid);
    }

    /**
     * A pipe, created in the process and both ends moved to their numbers. pipe2 returns the
     * lowest free fds, which may be numbers that belong to the other end or to fds not yet
     * restored, so both go above every fd of the image first.
     */
    private void makePipe(Injector inj, TaskMemory mem, ControlArea ctl, FdState first, int above) throws IOException {
        FdState r = pipeEnd(first.pipeIno(), true), w = pipeEnd(first.pipeIno(), false);
        ctl.reset();
        long buf = ctl.alloc(8);
        inj.call("pipe2 for " + first.path(), Nr.PIPE2, buf, 0);
        ByteBuffer b = ByteBuffer.wrap(mem.read(buf, 8)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int t0 = b.getInt(0), t1 = b.getInt(4);
        long hr = inj.call("fcntl(F_DUPFD)", Nr.FCNTL, t0, 0 /* F_DUPFD */, above);
        long hw = inj.call("fcntl(F_DUPFD)", Nr.FCNTL, t1, 0, above);
        inj.call("close", Nr.CLOSE, t0);
        inj.call("close", Nr.CLOSE, t1);
        for (long[] m : new long[][] {{hr, r.fd(), r.cloexec() ? O_CLOEXEC : 0, r.flags()}, {hw, w.fd(), w.cloexec() ? O_CLOEXEC : 0, w.flags()}}) {
            inj.call("dup3 pipe end -> " + m[1], Nr.DUP3, m[0], m[1], m[2]);
            inj.call("close", Nr.CLOSE, m[0]);
            inj.call("fcntl(F_SETFL) fd " + m[1], Nr.FCNTL, m[1], Sys.F_SETFL, m[3] & ~O_CLOEXEC);
        }
        log.debug("fds " + r.fd() + " and " + w.fd() + ": " + first.path() + " recreated");
    }

    /** The fd holding one end of a pipe (the first of any dup'ed ones); both ends are in valid images. */
    private FdState pipeEnd(long ino, boolean read) throws IOException {
        for (FdState f : st.fds()) {
            if (f.kind() == FdState.Kind.PIPE && f.sharesWith() < 0 && f.pipeIno() == ino && f.readEnd() == read) return f;
        }
        throw new IOException("pipe:[" + ino + "] has no " + (read ? "read" : "write") + " end in the images");
    }

    /** Capacity and unread bytes of each pipe, written from jcriu through /proc/PID/fd of the write end. */
    private void fillPipes(int pid) throws IOException {
        for (jcriu.state.PipeState p : st.pipes()) {
            FdState w = pipeEnd(p.ino(), false);
            int fd = Sys.open("/proc/" + pid + "/fd/" + w.fd(), 01 /* O_WRONLY */ | 04000 /* O_NONBLOCK */ | O_CLOEXEC);
            try {
                if (p.capacity() > 0) Sys.fcntl(fd, Sys.F_SETPIPE_SZ, p.capacity());
                Sys.write(fd, p.data());
            } finally {
                Sys.close(fd);
            }
            log.debug("pipe:[" + p.ino() + "] -> fd " + w.fd() + ": capacity " + p.capacity() + ", " + p.data().length
                    + " bytes put back");
        }
    }

    private void restoreProcessAttrs(Injector inj, TaskMemory mem, ControlArea ctl, int pid) throws IOException {
        ctl.reset();
        byte[] cwd = ControlArea.cString(st.cwd());
        long a = ctl.alloc(cwd.length);
        mem.write(a, cwd);
        long r = inj.raw(Nr.CHDIR, a);
        if (r < 0) throw new IOException("cannot chdir to " + st.cwd() + ": " + Errno.name((int) -r));
        inj.call("umask", Nr.UMASK, st.umask());
        long act = ctl.alloc(32);
        for (SigAction sa : st.sigactions()) {
            if (sa.sig() == SIGKILL || sa.sig() == SIGSTOP) continue;
            ByteBuffer b = ControlArea.le(32);
            b.putLong(sa.handler()).putLong(sa.flags()).putLong(sa.restorer()).putLong(sa.mask());
            mem.write(act, b.array());
            inj.call("rt_sigaction(" + sa.sig() + ")", Nr.RT_SIGACTION, sa.sig(), act, 0, 8);
        }
        for (int res = 0; res < st.rlimits().length; res++) {
            long[] lim = st.rlimits()[res];
            try {
                Sys.prlimit(pid, res, lim);
            } catch (SysException e) {
                long[] cur = Sys.prlimit(pid, res, null);
                log.warn("rlimit " + res + " could not be set to " + Arrays.toString(lim) + " (" + e.getMessage()
                        + "); keeping " + Arrays.toString(cur));
            }
        }
        if (st.personality() != 0) inj.call("personality", Nr.PERSONALITY, st.personality());
        if (st.sid() == st.pid()) {
            inj.call("setsid", Nr.SETSID);
        } else if (st.pgid() == st.pid()) {
            inj.call("setpgid", Nr.SETPGID, 0, 0);
        } else {
            log.info("pid " + pid + " joins jcriu's process group and session (it led neither)");
        }
        for (byte[] si : st.sharedPendingSiginfo()) {
            long at = ctl.alloc(128);
            mem.write(at, si);
            int sig = ByteBuffer.wrap(si).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
            inj.call("rt_sigqueueinfo(" + sig + ")", Nr.RT_SIGQUEUEINFO, pid, sig, at);
        }
    }

    private void restoreThread(Injector inj, TaskMemory mem, ControlArea ctl, int pid, ThreadState t)
            throws IOException {
        ctl.reset();
        byte[] comm = ControlArea.cString(t.comm());
        long a = ctl.alloc(comm.length);
        mem.write(a, comm);
        inj.call("prctl(PR_SET_NAME)", Nr.PRCTL, PR_SET_NAME, a, 0, 0, 0);
        if (t.robustListHead() != 0) {
            inj.call("set_robust_list", Nr.SET_ROBUST_LIST, t.robustListHead(), t.robustListLen());
        }
        inj.call("set_tid_address", Nr.SET_TID_ADDRESS, t.clearChildTid());
        if (t.altStack() != null) {
            long ss = ctl.alloc(24);
            ByteBuffer b = ControlArea.le(24);
            b.putLong(t.altStack().sp()).putInt(t.altStack().flags() & ~1 /* SS_ONSTACK is reported, not set */)
                    .putInt(0).putLong(t.altStack().size());
            mem.write(ss, b.array());
            inj.call("sigaltstack", Nr.SIGALTSTACK, ss, 0);
        }
        var reg = t.rseq().registration();
        if (reg != null) {
            inj.call(String.format("rseq(%#x, %d, 0, %#x)", reg.pointer(), reg.size(), reg.signature()), Nr.RSEQ,
                    reg.pointer(), reg.size(), 0, reg.signature() & 0xffffffffL);
            log.debug(String.format("rseq tid %d: registered %#x size %d sig %#x", t.tid(), reg.pointer(), reg.size(),
                    reg.signature()));
        }
        for (byte[] si : t.pendingSiginfo()) {
            long at = ctl.alloc(128);
            mem.write(at, si);
            int sig = ByteBuffer.wrap(si).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
            inj.call("rt_tgsigqueueinfo(" + sig + ")", Nr.RT_TGSIGQUEUEINFO, pid, t.tid(), sig, at);
        }
    }

    /**
     * A thread of the process: clone3 with its TID, injected in the leader, then its own state
     * by injection in itself. It stays stopped (a tracee) until the whole process is detached.
     */
    private void createThread(Injector leader, TaskMemory mem, ControlArea ctl, int pid, ThreadState t)
            throws IOException {
        ctl.reset();
        long args = ctl.alloc(88), tidArray = ctl.alloc(8);
        ByteBuffer ca = ControlArea.le(88);
        ca.putLong(0, CLONE_THREAD_FLAGS);
        ca.putLong(64, tidArray);
        ca.putLong(72, 1);
        mem.write(args, ca.array());
        mem.writeLong(tidArray, t.tid());
        long r = leader.raw(Nr.CLONE3, args, 88);
        List<Integer> kids = leader.takeChildren();
        if (r != t.tid() || kids.size() != 1 || kids.getFirst() != t.tid()) {
            throw new IOException("cannot create thread " + t.tid() + " of " + pid + ": clone3 gave "
                    + (r < 0 ? Errno.name((int) -r) : Long.toString(r)) + ", traced " + kids);
        }
        threadsCreated.add(t.tid());
        awaitEventStop(t.tid());
        tracer.setSigmask(t.tid(), -1L);
        Injector inj = new Injector(tracer, t.tid(), tracer.getRegs(t.tid()), ctl.gadget());
        inj.useStack(ctl.stackTop());
        restoreThread(inj, mem, ctl, pid, t);
        restoreCreds(inj, mem, ctl); // credentials are per thread; the leader's come last, after all clones
        attrs.restoreThread(inj, mem, ctl, t.tid());
        Resume fin = resume(inj, mem, ctl, t);
        inj.finish(fin.regs());
        tracer.setXstate(t.tid(), t.xstate());
        long csPtr = t.rseq().rseqCsToRestore();
        if (csPtr != 0) mem.writeLong(t.rseq().registration().pointer() + 8, csPtr);
        tracer.setSigmask(t.tid(), t.sigmask());
        if (fin.inKernel()) park(t.tid());
        log.debug("thread " + t.tid() + " created");
    }

    private void restoreCreds(Injector inj, TaskMemory mem, ControlArea ctl) throws IOException {
        var c = st.creds();
        if (c == null) return;
        ctl.reset();
        // The bounding set can only shrink; drop what the original did not have.
        for (int cap = 0; cap < 64; cap++) {
            if ((c.capBnd() & (1L << cap)) != 0) continue;
            long r = inj.raw(Nr.PRCTL, PR_CAPBSET_DROP, cap, 0, 0, 0);
            if (r == -Errno.EINVAL) break; // past the last capability this kernel knows
            if (r < 0) throw new IOException("PR_CAPBSET_DROP(" + cap + ") failed: " + Errno.name((int) -r));
        }
        // Secure bits before the ids change (NO_SETUID_FIXUP and KEEP_CAPS decide what setresuid does to the
        // capabilities), with KEEP_CAPS on so that capset below can still give the saved sets.
        int secbits = st.attrs().thread(inj.tid()).map(jcriu.state.ProcessAttrs.ThreadAttrs::secureBits).orElse(0);
        inj.call("prctl(PR_SET_SECUREBITS)", Nr.PRCTL, PR_SET_SECUREBITS,
                (secbits | SECBIT_KEEP_CAPS) & ~(SECBIT_KEEP_CAPS_LOCKED & ~secbits), 0, 0, 0);
        // Supplementary groups always, root's included: a root process may have some of its own.
        long g = ctl.alloc(4L * Math.max(1, c.groups().length));
        ByteBuffer b = ControlArea.le(4 * Math.max(1, c.groups().length));
        for (int x : c.groups()) b.putInt(x);
        mem.write(g, b.array());
        inj.call("setgroups", Nr.SETGROUPS, c.groups().length, g);
        inj.call("setresgid", Nr.SETRESGID, c.gid()[0], c.gid()[1], c.gid()[2]);
        inj.call("setresuid", Nr.SETRESUID, c.uid()[0], c.uid()[1], c.uid()[2]);
        // capset: header {version 3, pid 0 (self)}, then two {effective, permitted, inheritable} words.
        long hdr = ctl.alloc(8), data = ctl.alloc(24);
        mem.write(hdr, ControlArea.le(8).putInt(0x20080522).putInt(0).array());
        ByteBuffer d = ControlArea.le(24);
        for (int half = 0; half < 2; half++) {
            d.putInt((int) (c.capEff() >>> (32 * half))).putInt((int) (c.capPrm() >>> (32 * half)))
                    .putInt((int) (c.capInh() >>> (32 * half)));
        }
        mem.write(data, d.array());
        inj.call("capset", Nr.CAPSET, hdr, data);
        for (int cap = 0; cap < 64; cap++) {
            if ((c.capAmb() & (1L << cap)) != 0) {
                inj.call("PR_CAP_AMBIENT_RAISE(" + cap + ")", Nr.PRCTL, PR_CAP_AMBIENT, 2, cap, 0, 0);
            }
        }
        if ((secbits & SECBIT_KEEP_CAPS) == 0) {
            inj.call("prctl(PR_SET_KEEPCAPS, 0)", Nr.PRCTL, PR_SET_KEEPCAPS, 0, 0, 0, 0); // needs no capability
        }
        if ((secbits & SECBIT_KEEP_CAPS_LOCKED) != 0 && (secbits & SECBIT_KEEP_CAPS) == 0) {
            inj.call("prctl(PR_SET_SECUREBITS) final", Nr.PRCTL, PR_SET_SECUREBITS, secbits, 0, 0, 0);
        }
        log.debug(String.format("creds: uid %d gid %d, caps eff %#x prm %#x inh %#x bnd %#x amb %#x", c.uid()[0],
                c.gid()[0], c.capEff(), c.capPrm(), c.capInh(), c.capBnd(), c.capAmb()));
    }
}

package jcriu.dump;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import jcriu.api.Log;
import jcriu.inject.Injector;
import jcriu.proc.Maps;
import jcriu.proc.Vma;
import jcriu.ptrace.Regs;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.rseq.RseqState;
import jcriu.state.VmaState;
import jcriu.sys.Nr;

/**
 * One thread given over to injected calls, with all its signals blocked, and given back.
 *
 * <p>jcriu may die at any moment (SIGKILL, the OOM killer); the kernel then detaches the
 * thread, which runs on from whatever registers it holds. With {@link RescueGadgets}, the
 * thread is at every moment one that may be let go so: a {@link RescueFrame} with its own
 * registers, mask and FPU state is written below its red zone, and every injected call runs at
 * a {@code syscall; ret} whose {@code ret} lands on that frame's rt_sigreturn. Order: the
 * registers are pointed at the frame before the mask changes, and the mask is given back before
 * the registers are. Results go to scratch space below the frame, so nothing is mapped. A
 * thread waiting in pause() or sigsuspend() gets two frames and, while given over and back,
 * an interrupted rt_sigsuspend for registers ({@link RescueFrame#forWaiting}): a signal sent
 * after jcriu's death ends its wait, whenever the thread runs again.
 *
 * <p>Without the gadgets or room on the stack, this falls back to a scratch page mapped by
 * injection; jcriu's death in the middle would then leave the thread with the injected
 * registers, every signal blocked and the page: logged as a warning.
 */
final class InjectionSession implements AutoCloseable {
    /** What a thread let go before the first call runs (its result is thrown away). */
    private static final int PARK_NR = Nr.GETPID;

    private final Tracer tracer;
    private final int tid;
    private final Regs live;
    private final long sigmask;
    private final Injector injector;
    private final RescueFrame frame;
    private final long scratch;
    private final Consumer<String> pause;
    private final TaskMemory mem;
    /** What the frame and the scratch below it covered on the stack, put back at close (null: fallback). */
    private final byte[] underneath;
    /** The munmap gadget a probe page's mmap returns through (0: none, or the fallback). */
    private final long munmapRet;
    private boolean closed;

    private InjectionSession(Tracer tracer, int tid, Regs live, long sigmask, Injector injector, RescueFrame frame,
                             long scratch, Consumer<String> pause, TaskMemory mem, byte[] underneath, long munmapRet) {
        this.munmapRet = munmapRet;
        this.mem = mem;
        this.underneath = underneath;
        this.tracer = tracer;
        this.tid = tid;
        this.live = live;
        this.sigmask = sigmask;
        this.injector = injector;
        this.frame = frame;
        this.scratch = scratch;
        this.pause = pause;
    }

    /**
     * The registers a thread is put back with: those it was stopped with, except that a thread
     * caught in a restartable rseq critical section resumes at its abort handler.
     */
    static Regs liveRegs(DumpEngine.Early e) {
        return e.rseq() instanceof RseqState.InsideAbort a ? e.original().withRip(a.cs().abortIp()) : e.original();
    }

    /**
     * Opens a session in thread {@code t}. {@code gadgets} null: the unprotected fallback.
     * {@code pause} is told each point ({@code "parked"}, {@code "masked"}, then the injector's
     * points, then {@code "unmasked"}): a test hook.
     */
    static InjectionSession open(Tracer tracer, DumpEngine.Early t, TaskMemory mem, RescueGadgets gadgets,
                                 StackLookup stacks, Consumer<String> pause, Log log) throws IOException {
        Regs live = liveRegs(t);
        RescueFrame frame = null;
        if (gadgets != null) {
            Vma stack = stacks.below(live.rsp());
            if (stack != null && RescueFrame.isWaiting(live)) {
                frame = RescueFrame.forWaiting(live, t.sigmask(), waitMask(live, t.sigmask(), mem), t.xstate(),
                        gadgets.sigreturn(), gadgets.syscallRet(), stack);
            }
            if (frame == null && stack != null) {
                frame = RescueFrame.build(live, t.sigmask(), t.xstate(), gadgets.sigreturn(), stack);
            }
            if (frame == null) {
                log.warn("thread " + t.tid() + ": no rescue frame (no room below its stack pointer, or an AMX XSAVE"
                        + " area); should jcriu be killed while it runs calls in it, the thread would keep their"
                        + " registers");
            }
        }
        if (frame == null) {
            long gadget = GadgetFinder.find(t.tid(), t.original(), mem, t.rseq());
            Injector inj = new Injector(tracer, t.tid(), t.original(), gadget);
            inj.onStops(pause);
            tracer.setSigmask(t.tid(), -1L);
            long page;
            try {
                page = inj.call("mmap scratch", Nr.MMAP, 0, 4096, 3, VmaState.MAP_PRIVATE | VmaState.MAP_ANONYMOUS,
                        -1, 0);
            } catch (RuntimeException e) {
                inj.finish(t.original());
                tracer.setSigmask(t.tid(), t.sigmask());
                throw e;
            }
            return new InjectionSession(tracer, t.tid(), t.original(), t.sigmask(), inj, null, page, pause, mem, null, 0);
        }
        // The bytes below the red zone are the program's garbage, but a dump must save them as they
        // were (and leave a live task's as they were): kept here, written back at close.
        byte[] underneath = mem.read(frame.scratch(), (int) (frame.at() - frame.scratch()) + frame.bytes().length);
        mem.write(frame.at(), frame.bytes());
        Injector inj = new Injector(tracer, t.tid(), live, gadgets.syscallRet());
        inj.useStack(frame.at());
        // registers first: from here a thread let go runs getpid, then returns through the frame;
        // a waiting one is in the frame's interrupted rt_sigsuspend, which the kernel ends or restarts
        tracer.setRegs(t.tid(), frame.waiting() != null ? frame.waiting()
                : live.forSyscall(gadgets.syscallRet(), PARK_NR, new long[0]).with(Regs.RSP, frame.at()));
        pause.accept("parked");
        tracer.setSigmask(t.tid(), -1L);
        pause.accept("masked");
        inj.onStops(pause);
        return new InjectionSession(tracer, t.tid(), live, t.sigmask(), inj, frame, frame.scratch(), pause, mem,
                underneath, gadgets.munmapRet());
    }

    /**
     * The mask a thread stopped in pause() or rt_sigsuspend() waits with: for pause() its own;
     * for rt_sigsuspend() the one it passed (read where its first argument points, as the
     * kernel's restart of the call would), or {@code sigmask} if that cannot be read.
     */
    private static long waitMask(Regs live, long sigmask, TaskMemory mem) {
        if (live.origRax() != Nr.RT_SIGSUSPEND) return sigmask;
        try {
            return mem.readLong(live.get(Regs.RDI));
        } catch (IOException e) {
            return sigmask;
        }
    }

    /** Finds the mapping a thread's rescue frame goes into. */
    @FunctionalInterface
    interface StackLookup {
        /** The private writable mapping holding the bytes just below {@code rsp}, or null. */
        Vma below(long rsp) throws IOException;
    }

    /** {@link StackLookup#below} in {@code maps}. */
    static Vma stackIn(List<Vma> maps, long rsp) {
        for (Vma v : maps) if (v.contains(rsp - 1) && v.read() && v.write() && !v.shared()) return v;
        return null;
    }

    Injector injector() { return injector; }

    /** Where injected calls may write their results: {@link RescueFrame#SCRATCH} bytes. */
    long scratch() { return scratch; }

    /** Whether a thread let go in the middle comes back as it was (else: the fallback). */
    boolean rescued() { return frame != null; }

    /** What is asked of a page mapped in the process for the moment ({@link #withProbePage}). */
    interface Probe<T> {
        T on(long page) throws IOException;
    }

    /**
     * Maps one private anonymous page, writable, in the process (it gets the process's default
     * mapping flags: how mlockall(MCL_FUTURE) shows), runs {@code probe} on it, and unmaps it.
     * In a rescued session with a munmap gadget, the page is placed with MAP_FIXED_NOREPLACE in
     * the middle of the process's widest hole (frozen, the process cannot map there meanwhile),
     * and the mmap runs with the stack pointer one slot below the frame, on the gadget's address:
     * a thread let go at any moment from the mmap's loading to the munmap's end returns through
     * {@code munmap(page, 4096)} (its arguments are still the mmap's first two) and then
     * rt_sigreturn, so no page is left. Points for the test hook: {@code probe-*} for the mmap,
     * {@code unprobe-*} for the munmap. Elsewhere the page is the kernel's choice, and jcriu's
     * death between the two calls would leave it.
     */
    <T> T withProbePage(Probe<T> probe) throws IOException {
        long hole = munmapRet == 0 ? 0 : freePage(Maps.read(Path.of("/proc"), mem.pid()));
        long page;
        injector.onStops(p -> pause.accept("probe-" + p));
        if (hole != 0) {
            mem.writeLong(frame.at() - 8, munmapRet); // in the scratch space, whose bytes close() puts back
            injector.useStack(frame.at() - 8);
            try {
                page = injector.call("mmap probe", Nr.MMAP, hole, PAGE, 3,
                        VmaState.MAP_PRIVATE | VmaState.MAP_ANONYMOUS | VmaState.MAP_FIXED_NOREPLACE, -1, 0);
            } finally {
                injector.useStack(frame.at());
            }
        } else {
            page = injector.call("mmap probe", Nr.MMAP, 0, PAGE, 3, VmaState.MAP_PRIVATE | VmaState.MAP_ANONYMOUS, -1, 0);
        }
        injector.onStops(pause);
        try {
            if (hole != 0 && page != hole) throw new IOException("thread " + tid + ": the probe page asked at "
                    + Long.toHexString(hole) + " was mapped at " + Long.toHexString(page));
            return probe.on(page);
        } finally {
            injector.onStops(p -> pause.accept("unprobe-" + p));
            try {
                injector.call("munmap probe", Nr.MUNMAP, page, PAGE);
            } finally {
                injector.onStops(pause);
            }
        }
    }

    private static final int PAGE = 4096;
    /** The least hole a probe page is put in: its middle is far from any mapping and any stack guard gap. */
    private static final long MIN_HOLE = 64L << 20;
    private static final long USER_TOP = 1L << 47;

    /** A page in the middle of the widest hole between two mappings of the user address space, or 0. */
    static long freePage(List<Vma> maps) {
        long best = 0, bestAt = 0;
        for (int i = 1; i < maps.size(); i++) {
            long lo = maps.get(i - 1).end(), hi = maps.get(i).start();
            if (hi > USER_TOP || hi - lo < MIN_HOLE) continue;
            if (hi - lo > best) {
                best = hi - lo;
                bestAt = (lo + (hi - lo) / 2) & ~(long) (PAGE - 1);
            }
        }
        return bestAt;
    }

    /** Gives the thread back: its mask, then its registers (those it is put back with). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        injector.onStops(s -> { });
        if (frame == null) {
            try {
                injector.call("munmap scratch", Nr.MUNMAP, scratch, 4096);
            } finally {
                injector.finish(live);
                tracer.setSigmask(tid, sigmask);
            }
            return;
        }
        if (frame.waiting() != null) {
            // Not through the frame: a signal handled on the way there would be lost to the wait
            // (then entered). Interrupted in the kernel's eyes, the call becomes EINTR or restarts.
            tracer.setRegs(tid, frame.waiting());
            pause.accept("waiting");
        }
        tracer.setSigmask(tid, sigmask); // the frame would give it back too: the registers still lead there
        pause.accept("unmasked");
        injector.finish(live);
        try {
            mem.write(frame.scratch(), underneath); // the registers no longer lead to the frame
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("thread " + tid + ": cannot put back the stack bytes under its"
                    + " rescue frame", e);
        }
    }
}

package jcriu.inject;

import java.util.ArrayList;
import java.util.List;

import jcriu.ptrace.Regs;
import jcriu.ptrace.Tracer;
import jcriu.ptrace.WaitStatus;
import jcriu.sys.SysException;

/**
 * Runs system calls inside a stopped tracee, the way CRIU's compel runs its parasite,
 * but with no code of ours in the target: point rip at a {@code syscall} instruction
 * (the gadget), load the registers, step through the syscall-enter and -exit stops, and
 * read rax. The target's own registers are untouched until {@link #finish}.
 */
public final class Injector {
    private final Tracer tracer;
    private final int tid;
    private final Regs base;
    private long gadget;
    private long stack;
    private final List<Integer> children = new ArrayList<>();
    private java.util.function.Consumer<String> stops = s -> { };

    /**
     * @param base registers the injected calls start from (the task's saved ones)
     * @param gadget address of the two bytes {@code 0f 05} inside an executable mapping of the target
     */
    public Injector(Tracer tracer, int tid, Regs base, long gadget) {
        this.tracer = tracer;
        this.tid = tid;
        this.base = base;
        this.gadget = gadget;
        this.stack = base.rsp();
    }

    public int tid() { return tid; }

    /**
     * {@code hook} is told each point of a call: "loaded" (its registers set, not yet run),
     * "enter" and "exit" (its two stops). A test pauses there to kill jcriu at that moment.
     */
    public void onStops(java.util.function.Consumer<String> hook) { this.stops = hook; }

    public void useGadget(long addr) { this.gadget = addr; }

    public long gadget() { return gadget; }

    /** Stack pointer seen by injected calls (sigaltstack refuses changes while rsp is on the alt stack). */
    public void useStack(long rsp) { this.stack = rsp; }

    /** PIDs of tasks created by injected clone calls since the last {@link #takeChildren}. */
    public List<Integer> takeChildren() {
        List<Integer> c = List.copyOf(children);
        children.clear();
        return c;
    }

    /** Runs the syscall and returns rax as the kernel left it: {@code -errno} on failure. */
    public long raw(int nr, long... args) {
        tracer.setRegs(tid, base.forSyscall(gadget, nr, args).with(Regs.RSP, stack));
        stops.accept("loaded");
        tracer.syscall(tid, 0);
        awaitSyscallStop("enter", nr);
        stops.accept("enter");
        tracer.syscall(tid, 0);
        awaitSyscallStop("exit", nr);
        stops.accept("exit");
        return tracer.getRegs(tid).rax();
    }

    /** Runs the syscall and throws {@link SysException} naming {@code what} and the task on failure. */
    public long call(String what, int nr, long... args) {
        long r = raw(nr, args);
        if (r < 0 && r > -4096) throw new SysException(what + " (injected)", (int) -r, "tid " + tid);
        return r;
    }

    /**
     * Runs a last syscall (typically the munmap of the page holding the gadget) and, at its
     * exit stop, loads {@code finalRegs}: the task never executes another instruction of ours.
     */
    public long finishWith(Regs finalRegs, int nr, long... args) {
        tracer.setRegs(tid, base.forSyscall(gadget, nr, args).with(Regs.RSP, stack));
        tracer.syscall(tid, 0);
        awaitSyscallStop("enter", nr);
        tracer.syscall(tid, 0);
        awaitSyscallStop("exit", nr);
        long r = tracer.getRegs(tid).rax();
        tracer.setRegs(tid, finalRegs);
        return r;
    }

    /**
     * Starts a blocking syscall, lets it block, then interrupts it with PTRACE_INTERRUPT and
     * returns its rax at the exit stop (an -ERESTART* code if it was interrupted). Used to make
     * the kernel set up state only a syscall can create, such as a nanosleep restart block.
     */
    public long interrupted(int nr, long... args) throws InterruptedException {
        tracer.setRegs(tid, base.forSyscall(gadget, nr, args).with(Regs.RSP, stack));
        tracer.syscall(tid, 0);
        awaitSyscallStop("enter", nr);
        tracer.syscall(tid, 0);
        Thread.sleep(2); // let it reach the sleep; an earlier interrupt gives the same result
        tracer.interrupt(tid);
        awaitSyscallStop("exit", nr);
        return tracer.getRegs(tid).rax();
    }

    /** Puts the given registers back (usually the saved ones, after the last injected call). */
    public void finish(Regs regs) { tracer.setRegs(tid, regs); }

    private void awaitSyscallStop(String phase, int nr) {
        while (true) {
            WaitStatus ws = tracer.waitFor(tid);
            if (ws.syscallStop()) return;
            if (!ws.stopped()) {
                throw new IllegalStateException("task " + tid + " went away during injected syscall " + nr + ": " + ws);
            }
            int ev = ws.event();
            if (ev == Tracer.EVENT_FORK || ev == Tracer.EVENT_CLONE || ev == 2 /* VFORK */) {
                children.add((int) tracer.eventMsg(tid));
                tracer.syscall(tid, 0);
                continue;
            }
            if (ev == Tracer.EVENT_STOP) {
                // A leftover interrupt trap: resume towards the syscall stop.
                tracer.syscall(tid, 0);
                continue;
            }
            throw new IllegalStateException("task " + tid + " stopped unexpectedly (" + ws + ") at syscall-" + phase
                    + " of injected syscall " + nr + "; all its signals should have been blocked");
        }
    }
}

package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import jcriu.inject.Injector;
import jcriu.ptrace.Regs;
import jcriu.state.ThreadState;
import jcriu.sys.Errno;
import jcriu.sys.Nr;
import jcriu.sys.Sys;

/**
 * Threads: the per-thread state of each (name, robust list, clear_child_tid, sigaltstack,
 * rseq, private pending signals), the creation of every thread but the leader with its TID,
 * and the registers each resumes with.
 */
final class ThreadStage {
    private static final int PR_SET_NAME = 15;
    // CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM: a pthread's set
    private static final long CLONE_THREAD_FLAGS = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000;

    private ThreadStage() {}

    /** What a thread keeps of its own, set by injection into that thread. */
    static void setup(Target t, Injector inj, ThreadState th) throws IOException {
        t.ctl().reset();
        inj.call("prctl(PR_SET_NAME)", Nr.PRCTL, PR_SET_NAME, t.string(th.comm()), 0, 0, 0);
        if (th.robustListHead() != 0) {
            inj.call("set_robust_list", Nr.SET_ROBUST_LIST, th.robustListHead(), th.robustListLen());
        }
        inj.call("set_tid_address", Nr.SET_TID_ADDRESS, th.clearChildTid());
        if (th.altStack() != null) {
            long ss = t.ctl().alloc(24);
            ByteBuffer b = ControlArea.le(24);
            b.putLong(th.altStack().sp()).putInt(th.altStack().flags() & ~1 /* SS_ONSTACK is reported, not set */)
                    .putInt(0).putLong(th.altStack().size());
            t.mem().write(ss, b.array());
            inj.call("sigaltstack", Nr.SIGALTSTACK, ss, 0);
        }
        var reg = th.rseq().registration();
        if (reg != null) {
            inj.call(String.format("rseq(%#x, %d, 0, %#x)", reg.pointer(), reg.size(), reg.signature()), Nr.RSEQ,
                    reg.pointer(), reg.size(), 0, reg.signature() & 0xffffffffL);
            t.log().debug(String.format("rseq tid %d: registered %#x size %d sig %#x", th.tid(), reg.pointer(),
                    reg.size(), reg.signature()));
        }
        for (byte[] si : th.pendingSiginfo()) {
            long at = t.ctl().alloc(128);
            t.mem().write(at, si);
            int sig = ByteBuffer.wrap(si).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            inj.call("rt_tgsigqueueinfo(" + sig + ")", Nr.RT_TGSIGQUEUEINFO, t.pid(), th.tid(), sig, at);
        }
    }

    /**
     * A thread of the process: clone3 with its TID, injected in the leader, then its own state
     * by injection in itself. It stays stopped (a tracee) until the whole tree is released.
     */
    static void create(Target t, ThreadState th, List<Integer> created, ProcessAttrsRestorer attrs) throws IOException {
        t.ctl().reset();
        long args = t.ctl().alloc(88), tidArray = t.ctl().alloc(8);
        ByteBuffer ca = ControlArea.le(88);
        ca.putLong(0, CLONE_THREAD_FLAGS);
        ca.putLong(64, tidArray);
        ca.putLong(72, 1);
        t.mem().write(args, ca.array());
        t.mem().writeLong(tidArray, th.tid());
        long r = t.inj().raw(Nr.CLONE3, args, 88);
        List<Integer> kids = t.inj().takeChildren();
        if (r != th.tid() || kids.size() != 1 || kids.getFirst() != th.tid()) {
            throw new IOException("cannot create thread " + th.tid() + " of " + t.pid() + ": clone3 gave "
                    + (r < 0 ? Errno.name((int) -r) : Long.toString(r)) + ", traced " + kids);
        }
        created.add(th.tid());
        Stops.awaitEventStop(t.tracer(), th.tid());
        t.tracer().setSigmask(th.tid(), -1L);
        Injector inj = new Injector(t.tracer(), th.tid(), t.tracer().getRegs(th.tid()), t.ctl().gadget());
        inj.useStack(t.ctl().stackTop());
        setup(t, inj, th);
        SeccompStage.thread(t, inj, th.tid()); // before its credentials, as in the leader
        CredsStage.run(t, inj); // credentials are per thread; the leader's come last, after all clones
        attrs.restoreThread(inj, t.mem(), t.ctl(), th.tid()); // after the credentials, which reset some of it
        Resume fin = resume(t, inj, th);
        inj.finish(fin.regs());
        lastWrites(t, th);
        if (fin.inKernel()) park(t, th.tid());
        t.log().debug("thread " + th.tid() + " created");
    }

    /**
     * The leader resumes last: its final injected call removes the control area, and at that
     * call's exit stop the task gets its own registers, so it never runs an instruction of ours.
     */
    static void finishLeader(Target t) throws IOException {
        ThreadState th = t.st().leader();
        Resume fin = resume(t, t.inj(), th);
        long r = t.inj().finishWith(fin.regs(), Nr.MUNMAP, t.ctl().base, ControlArea.SIZE);
        if (r != 0) throw new IOException("munmap of the control area failed: " + Errno.name((int) -r));
        lastWrites(t, th);
        if (fin.inKernel()) park(t, th.tid());
    }

    /** XSAVE area, the rseq_cs pointer (the last write to memory before the thread runs) and the signal mask. */
    private static void lastWrites(Target t, ThreadState th) throws IOException {
        t.tracer().setXstate(th.tid(), th.xstate());
        long csPtr = th.rseq().rseqCsToRestore();
        if (csPtr != 0) {
            // Registration cleared rseq_cs (kernel >= 6.15); the saved pointer goes back as the last write.
            t.mem().writeLong(th.rseq().registration().pointer() + 8, csPtr);
            t.log().debug(String.format("rseq tid %d: rseq_cs restored to %#x", th.tid(), csPtr));
        }
        t.tracer().setSigmask(th.tid(), th.sigmask());
    }

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

    private static Resume resume(Target t, Injector inj, ThreadState th) throws IOException {
        if (th.sleep() != null) return resumeSleep(t, inj, th);
        int code = th.restartCode();
        if (code == 0) return new Resume(th.regs(), false);
        Regs r = th.regs(); // rewound: rip at the syscall instruction, rax = its number
        return new Resume(r.with(Regs.ORIG_RAX, r.rax()).with(Regs.RAX, -code).with(Regs.RIP, r.rip() + 2), true);
    }

    /** From a syscall-exit stop with the final registers set: on to the signal-delivery point, stopped there. */
    private static void park(Target t, int tid) {
        t.tracer().interrupt(tid);
        t.tracer().cont(tid, 0);
        Stops.awaitEventStop(t.tracer(), tid);
        t.log().debug("thread " + tid + ": parked inside its interrupted system call");
    }

    /**
     * A sleep interrupted by the freeze goes on as the kernel would have continued it: an
     * injected relative clock_nanosleep, interrupted at once, leaves the kernel's restart block
     * (absolute expiry, the caller's rem pointer) in the task, and the task resumes by calling
     * restart_syscall at the original syscall instruction.
     */
    private static Resume resumeSleep(Target t, Injector inj, ThreadState th) throws IOException {
        ThreadState.SleepRestart s = th.sleep();
        long left = s.expiryNs() - Sys.clockNanos(s.clockId());
        if (left <= 0) {
            t.log().debug("thread " + th.tid() + ": its sleep expired while checkpointed; it returns 0");
            return new Resume(th.regs().with(Regs.RAX, 0), false);
        }
        t.ctl().reset();
        long ts = t.ctl().alloc(16);
        ByteBuffer b = ControlArea.le(16);
        b.putLong(left / 1_000_000_000L).putLong(left % 1_000_000_000L);
        t.mem().write(ts, b.array());
        long r;
        try {
            r = inj.interrupted(Nr.CLOCK_NANOSLEEP, s.clockId(), 0, ts, s.remPtr());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while restoring a sleep", e);
        }
        if (r == 0) return new Resume(th.regs().with(Regs.RAX, 0), false);
        if (r != -Errno.ERESTART_RESTARTBLOCK) {
            throw new IOException("re-arming the sleep of thread " + th.tid() + " gave " + r);
        }
        t.log().debug(String.format("thread %d: sleep re-armed, %d ms left", th.tid(), left / 1_000_000));
        // in the kernel's own state: it turns -ERESTART_RESTARTBLOCK into restart_syscall, or EINTR
        return new Resume(th.regs().with(Regs.RAX, -Errno.ERESTART_RESTARTBLOCK).with(Regs.RIP, s.syscallIp() + 2)
                .with(Regs.ORIG_RAX, Nr.CLOCK_NANOSLEEP), true);
    }
}

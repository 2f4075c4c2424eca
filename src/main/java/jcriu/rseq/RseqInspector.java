package jcriu.rseq;

import java.io.IOException;
import java.util.function.Consumer;

import jcriu.ptrace.RseqConfig;
import jcriu.ptrace.TaskMemory;

/**
 * Reads a stopped thread's rseq state and decides its case. Must run before anything is
 * executed in the target: the kernel clears {@code rseq_cs} lazily once the thread runs
 * outside its critical section, which would hide the case.
 */
public final class RseqInspector {
    private RseqInspector() {}

    /** The dump must be refused (the process keeps running). */
    public static final class RefusedException extends IOException {
        public RefusedException(String msg) { super(msg); }
    }

    /** Where the inspector reads the target's memory: a stopped task's, or a fake one in tests. */
    @FunctionalInterface
    public interface Memory {
        byte[] read(long addr, int len) throws IOException;
    }

    public static RseqState inspect(int tid, RseqConfig cfg, TaskMemory mem, long rip, Consumer<String> log,
                                    Consumer<String> warn) throws IOException {
        return inspect(tid, cfg, mem::read, rip, log, warn);
    }

    /** {@link #inspect(int, RseqConfig, Memory, long, Consumer, Consumer)} with warnings logged as the rest. */
    public static RseqState inspect(int tid, RseqConfig cfg, Memory mem, long rip, Consumer<String> log)
            throws IOException {
        return inspect(tid, cfg, mem, rip, log, log);
    }

    /**
     * The decision for one thread: {@code cfg} is its PTRACE_GET_RSEQ_CONFIGURATION answer,
     * {@code rip} the instruction pointer it was stopped at. Throws {@link RefusedException}
     * for what jcriu cannot restore faithfully (unknown registration flags, a descriptor
     * version other than 0).
     */
    public static RseqState inspect(int tid, RseqConfig cfg, Memory mem, long rip, Consumer<String> log,
                                    Consumer<String> warn) throws IOException {
        if (!cfg.registered()) {
            log.accept("rseq tid " + tid + ": not registered");
            return new RseqState.NotRegistered();
        }
        if (cfg.flags() != 0) {
            throw new RefusedException("rseq of thread " + tid + ": PTRACE_GET_RSEQ_CONFIGURATION reports flags "
                    + cfg.flags() + ", which jcriu does not know how to restore");
        }
        var reg = new RseqState.Registration(cfg.pointer(), cfg.size(), cfg.signature());
        RseqArea area = RseqArea.parse(mem.read(cfg.pointer(), RseqArea.READ_SIZE));
        String base = String.format("rseq tid %d: area %#x size %d sig %#x cpu_id %d rseq_cs %#x flags %#x rip %#x",
                tid, cfg.pointer(), cfg.size(), cfg.signature() & 0xffffffffL, area.cpuId(), area.rseqCs(),
                area.flags(), rip);
        if (area.rseqCs() == 0) {
            log.accept(base + ": outside any critical section");
            return new RseqState.Outside(reg);
        }
        RseqCs cs = RseqCs.parse(mem.read(area.rseqCs(), RseqCs.SIZE));
        if (cs.version() != 0) {
            throw new RefusedException("rseq of thread " + tid + ": critical-section descriptor at "
                    + String.format("%#x", area.rseqCs()) + " has version " + cs.version()
                    + " (only version 0 exists); refusing to dump");
        }
        int flags = cs.flags() | area.flags();
        String csText = String.format(" cs [%#x, %#x) abort %#x flags %#x", cs.startIp(),
                cs.startIp() + cs.postCommitOffset(), cs.abortIp(), flags);
        if (!cs.contains(rip)) {
            log.accept(base + csText + ": rip outside the section (stale pointer)");
            return new RseqState.Outside(reg);
        }
        if (flags != 0) {
            // The spec's cases still apply; the kernel is what changed (Linux 6.0 deprecated the bits).
            warn.accept(String.format("rseq tid %d: inside a critical section with the deprecated NO_RESTART flags"
                    + " %#x; this kernel kills a thread interrupted inside such a section (SIGSEGV), so it may die"
                    + " when it runs again, here or after the restore", tid, flags));
        }
        if ((flags & RseqState.FLAG_NO_RESTART_ON_SIGNAL) != 0) {
            log.accept(base + csText + ": inside, NO_RESTART_ON_SIGNAL: rip kept, rseq_cs saved");
            return new RseqState.InsideNoRestart(reg, cs, area.rseqCs());
        }
        log.accept(base + csText + String.format(": inside: rip %#x -> abort handler %#x", rip, cs.abortIp()));
        return new RseqState.InsideAbort(reg, cs, area.rseqCs());
    }
}

package jcriu.dump;

import java.io.IOException;
import java.nio.file.Path;

import jcriu.proc.Maps;
import jcriu.proc.Vma;
import jcriu.ptrace.Regs;
import jcriu.ptrace.TaskMemory;
import jcriu.rseq.RseqState;

/**
 * Finds two bytes {@code 0f 05} (syscall) that the task may execute: right behind rip if
 * it was stopped in a syscall, else anywhere in the vDSO (any such byte pair decodes as
 * syscall when jumped to, whatever the instruction stream around it).
 */
final class GadgetFinder {
    private GadgetFinder() {}

    /**
     * A thread inside an rseq critical section must not run anything there: the kernel would
     * abort the injected call (or kill the thread, with NO_RESTART flags). So the gadget behind
     * rip is used only outside a section, and no gadget is taken from inside one.
     */
    static long find(int tid, Regs regs, TaskMemory mem, RseqState rseq) throws IOException {
        jcriu.rseq.RseqCs cs = switch (rseq) {
            case RseqState.InsideAbort a -> a.cs();
            case RseqState.InsideNoRestart n -> n.cs();
            default -> null;
        };
        if (regs.origRax() >= 0 && cs == null) {
            byte[] b = mem.read(regs.rip() - 2, 2);
            if (b[0] == 0x0f && b[1] == 0x05) return regs.rip() - 2;
        }
        for (Vma v : Maps.read(Path.of("/proc"), mem.pid())) {
            if (!"[vdso]".equals(v.name())) continue;
            byte[] code = mem.read(v.start(), (int) (v.end() - v.start()));
            for (int i = 0; i + 1 < code.length; i++) {
                if (code[i] == 0x0f && code[i + 1] == 0x05 && (cs == null || !cs.contains(v.start() + i))) {
                    return v.start() + i;
                }
            }
        }
        for (Vma v : Maps.read(Path.of("/proc"), mem.pid())) {
            if (!v.exec()) continue;
            long size = Math.min(v.end() - v.start(), 1 << 20);
            byte[] code = mem.read(v.start(), (int) size);
            for (int i = 0; i + 1 < code.length; i++) {
                if (code[i] == 0x0f && code[i + 1] == 0x05 && (cs == null || !cs.contains(v.start() + i))) return v.start() + i;
            }
        }
        throw new IOException("thread " + tid + ": no syscall instruction found in any executable mapping");
    }
}

package jcriu.dump;

import java.io.IOException;
import java.nio.file.Path;

import jcriu.proc.Maps;
import jcriu.proc.Vma;
import jcriu.ptrace.Regs;
import jcriu.ptrace.TaskMemory;

/**
 * Finds two bytes {@code 0f 05} (syscall) that the task may execute: right behind rip if
 * it was stopped in a syscall, else anywhere in the vDSO (any such byte pair decodes as
 * syscall when jumped to, whatever the instruction stream around it).
 */
final class GadgetFinder {
    private GadgetFinder() {}

    static long find(int tid, Regs regs, TaskMemory mem) throws IOException {
        if (regs.origRax() >= 0) {
            byte[] b = mem.read(regs.rip() - 2, 2);
            if (b[0] == 0x0f && b[1] == 0x05) return regs.rip() - 2;
        }
        for (Vma v : Maps.read(Path.of("/proc"), mem.pid())) {
            if (!"[vdso]".equals(v.name())) continue;
            byte[] code = mem.read(v.start(), (int) (v.end() - v.start()));
            for (int i = 0; i + 1 < code.length; i++) {
                if (code[i] == 0x0f && code[i + 1] == 0x05) return v.start() + i;
            }
        }
        for (Vma v : Maps.read(Path.of("/proc"), mem.pid())) {
            if (!v.exec()) continue;
            long size = Math.min(v.end() - v.start(), 1 << 20);
            byte[] code = mem.read(v.start(), (int) size);
            for (int i = 0; i + 1 < code.length; i++) {
                if (code[i] == 0x0f && code[i + 1] == 0x05) return v.start() + i;
            }
        }
        throw new IOException("thread " + tid + ": no syscall instruction found in any executable mapping");
    }
}

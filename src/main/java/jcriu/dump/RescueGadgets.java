package jcriu.dump;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

import jcriu.proc.Vma;
import jcriu.ptrace.TaskMemory;
import jcriu.rseq.RseqCs;

/**
 * The two pieces of the target's own code that make an injected call harmless whenever jcriu
 * dies: {@code syscall; ret} to run the call, and {@code mov $15, %rax; syscall}
 * (rt_sigreturn, the body of every libc's signal trampoline) for that {@code ret} to return
 * to, which loads the thread's own registers, signal mask and FPU state back from a frame
 * jcriu wrote below its stack pointer ({@link RescueFrame}). Found in executable file
 * mappings, the C library's first; never inside an rseq critical section.
 *
 * <p>{@code munmapRet}, 0 when absent: {@code mov $11, %eax; syscall} followed by a {@code ret}
 * that success reaches (glibc's munmap), for a call that maps something to return through, so
 * that a thread let go after it unmaps it itself before rt_sigreturn (the mlockall probe).
 */
record RescueGadgets(long syscallRet, long sigreturn, long munmapRet) {
    private static final byte[] SYSCALL_RET = {0x0f, 0x05, (byte) 0xc3};
    private static final byte[][] SIGRETURN = {
        {0x48, (byte) 0xc7, (byte) 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05}, // mov $15, %rax; syscall
        {(byte) 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05},                  // mov $15, %eax; syscall
    };
    private static final byte[][] MUNMAP_RET = {
        {(byte) 0xb8, 0x0b, 0x00, 0x00, 0x00, 0x0f, 0x05, (byte) 0xc3},                  // mov $11, %eax; syscall; ret
        // glibc's syscall template: mov $11, %eax; syscall; cmp $-4095, %rax; jae (error); ret
        {(byte) 0xb8, 0x0b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x3d, 0x01, (byte) 0xf0, (byte) 0xff, (byte) 0xff,
            0x73, 0x01, (byte) 0xc3},
    };
    private static final int MAX_SCAN = 32 << 20;

    /**
     * Empty when the process has no such code (a static program without signal handling, say).
     * {@code maps}: the process's mappings (from maps or smaps).
     */
    static Optional<RescueGadgets> find(List<Vma> maps, TaskMemory mem, List<RseqCs> sections) throws IOException {
        List<Vma> exec = new ArrayList<>();
        for (Vma v : maps) {
            if (usable(v)) exec.add(v);
        }
        // libc first: it has both, and few programs are bigger than their C library
        exec.sort(Comparator.comparing((Vma v) -> !v.path().orElse("").contains("/libc")));
        long syscallRet = 0, sigreturn = 0, munmapRet = 0;
        for (Vma v : exec) {
            byte[] code;
            try {
                code = mem.read(v.start(), (int) Math.min(v.size(), MAX_SCAN));
            } catch (IOException unreadable) {
                continue;
            }
            if (syscallRet == 0) syscallRet = search(code, v.start(), SYSCALL_RET, sections);
            for (byte[] p : SIGRETURN) {
                if (sigreturn == 0) sigreturn = search(code, v.start(), p, sections);
            }
            for (byte[] p : MUNMAP_RET) {
                if (munmapRet == 0) munmapRet = search(code, v.start(), p, sections);
            }
            // munmap is looked for only where the other two are: in practice, the C library
            if (syscallRet != 0 && sigreturn != 0) return Optional.of(new RescueGadgets(syscallRet, sigreturn, munmapRet));
        }
        return Optional.empty();
    }

    /**
     * {@code known} (found in another process, typically the parent of a tree, whose libc lies at
     * the same address) if it holds in this one too: each gadget whole in a mapping {@link #find}
     * would search, its bytes there, and in none of {@code sections}; else empty. Two small reads
     * instead of a scan of the C library.
     */
    static Optional<RescueGadgets> reuse(RescueGadgets known, List<Vma> maps, TaskMemory mem, List<RseqCs> sections)
            throws IOException {
        if (!holds(known.syscallRet(), List.of(SYSCALL_RET), maps, mem, sections)) return Optional.empty();
        if (!holds(known.sigreturn(), List.of(SIGRETURN), maps, mem, sections)) return Optional.empty();
        if (known.munmapRet() != 0 && !holds(known.munmapRet(), List.of(MUNMAP_RET), maps, mem, sections)) {
            return Optional.empty();
        }
        return Optional.of(known);
    }

    private static boolean holds(long at, List<byte[]> patterns, List<Vma> maps, TaskMemory mem, List<RseqCs> sections)
            throws IOException {
        int len = patterns.stream().mapToInt(p -> p.length).max().orElseThrow();
        Vma v = maps.stream().filter(m -> m.contains(at)).findFirst().orElse(null);
        if (v == null || !usable(v)) return false;
        byte[] here;
        try {
            here = mem.read(at, (int) Math.min(len, v.end() - at));
        } catch (IOException unreadable) {
            return false;
        }
        outer:
        for (byte[] p : patterns) {
            if (p.length > here.length) continue;
            for (int k = 0; k < p.length; k++) if (here[k] != p[k]) continue outer;
            for (RseqCs cs : sections) {
                for (int k = 0; k < p.length; k++) if (cs.contains(at + k)) continue outer;
            }
            return true;
        }
        return false;
    }

    /** The mappings searched: the program's and its libraries' code, as files hold it. */
    private static boolean usable(Vma v) {
        return v.exec() && v.read() && v.fileBacked() && !v.deleted();
    }

    /** Address of the first occurrence of {@code pattern} none of whose bytes is in a critical section. */
    private static long search(byte[] code, long base, byte[] pattern, List<RseqCs> sections) {
        outer:
        for (int i = 0; i + pattern.length <= code.length; i++) {
            for (int k = 0; k < pattern.length; k++) if (code[i + k] != pattern[k]) continue outer;
            long at = base + i;
            for (RseqCs cs : sections) {
                for (int k = 0; k < pattern.length; k++) if (cs.contains(at + k)) continue outer;
            }
            return at;
        }
        return 0;
    }
}

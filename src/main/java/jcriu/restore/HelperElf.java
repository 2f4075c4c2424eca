package jcriu.restore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The restore helper: a freestanding static ELF, generated here, whose code is
 * {@code prctl(PR_SET_PDEATHSIG, SIGKILL); if (getppid() != jcriu) exit(1); for (;;) pause();}.
 * No libc means no rseq registration, no robust list and no TLS to undo; all of its mappings
 * can be removed from the restored process. The death signal covers the moment before jcriu
 * seizes it (once seized, PTRACE_O_EXITKILL does): should jcriu die, so does the helper, and
 * the parent check closes the race with a death before the prctl.
 */
public final class HelperElf {
    /** Where the single PT_LOAD segment lives; the restorer unmaps it before mapping the image. */
    public static final long BASE = 0x200000L;
    /** Writable scratch inside the segment (bss), used for clone3's arguments. */
    public static final long SCRATCH = BASE + 0x1000;
    public static final long SEGMENT_SIZE = 0x2000;
    static final int CODE_OFFSET = 64 + 56;

    private HelperElf() {}

    /** Offset of the pause loop's {@code syscall} in the code. */
    private static final int LOOP_SYSCALL = 36;

    /** The helper for a jcriu whose process id is {@code parent}. */
    public static byte[] build(int parent) {
        byte[] code = {
            (byte) 0xbf, 0x01, 0x00, 0x00, 0x00, // 0: mov edi, 1 (PR_SET_PDEATHSIG)
            (byte) 0xbe, 0x09, 0x00, 0x00, 0x00, // 5: mov esi, 9 (SIGKILL)
            (byte) 0xb8, (byte) 0x9d, 0x00, 0x00, 0x00, // 10: mov eax, 157 (prctl)
            0x0f, 0x05,                          // 15: syscall
            (byte) 0xb8, 0x6e, 0x00, 0x00, 0x00, // 17: mov eax, 110 (getppid)
            0x0f, 0x05,                          // 22: syscall
            0x3d, (byte) parent, (byte) (parent >>> 8), (byte) (parent >>> 16), (byte) (parent >>> 24), // 24: cmp eax, parent
            0x75, 0x09,                          // 29: jne 40 (the parent died before the prctl)
            (byte) 0xb8, 0x22, 0x00, 0x00, 0x00, // 31: mov eax, 34 (pause)
            0x0f, 0x05,                          // 36: syscall
            (byte) 0xeb, (byte) 0xf7,            // 38: jmp 31
            (byte) 0xbf, 0x01, 0x00, 0x00, 0x00, // 40: mov edi, 1
            (byte) 0xb8, (byte) 0xe7, 0x00, 0x00, 0x00, // 45: mov eax, 231 (exit_group)
            0x0f, 0x05                           // 50: syscall
        };
        ByteBuffer b = ByteBuffer.allocate(CODE_OFFSET + code.length).order(ByteOrder.LITTLE_ENDIAN);
        // ELF header
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */, 0 /* SysV */});
        b.put(new byte[8]);
        b.putShort((short) 2);       // ET_EXEC
        b.putShort((short) 0x3e);    // EM_X86_64
        b.putInt(1);                 // EV_CURRENT
        b.putLong(BASE + CODE_OFFSET); // entry
        b.putLong(64);               // phoff
        b.putLong(0);                // shoff
        b.putInt(0);                 // flags
        b.putShort((short) 64);      // ehsize
        b.putShort((short) 56);      // phentsize
        b.putShort((short) 1);       // phnum
        b.putShort((short) 64);      // shentsize
        b.putShort((short) 0);       // shnum
        b.putShort((short) 0);       // shstrndx
        // Program header: one RWX PT_LOAD covering the file and a page of bss.
        b.putInt(1);                 // PT_LOAD
        b.putInt(7);                 // PF_R | PF_W | PF_X
        b.putLong(0);                // offset
        b.putLong(BASE);             // vaddr
        b.putLong(BASE);             // paddr
        b.putLong(CODE_OFFSET + code.length); // filesz
        b.putLong(SEGMENT_SIZE);     // memsz
        b.putLong(0x1000);           // align
        b.put(code);
        return b.array();
    }

    /** Address of the {@code syscall} instruction, usable as an injection gadget. */
    public static long gadget() { return BASE + CODE_OFFSET + LOOP_SYSCALL; }
}

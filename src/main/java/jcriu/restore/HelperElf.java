package jcriu.restore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The restore helper: a freestanding static ELF, generated here, whose only code is
 * {@code for (;;) pause();}. No libc means no rseq registration, no robust list and no TLS
 * to undo; all of its mappings can be removed from the restored process.
 */
public final class HelperElf {
    /** Where the single PT_LOAD segment lives; the restorer unmaps it before mapping the image. */
    public static final long BASE = 0x200000L;
    /** Writable scratch inside the segment (bss), used for clone3's arguments. */
    public static final long SCRATCH = BASE + 0x1000;
    public static final long SEGMENT_SIZE = 0x2000;
    static final int CODE_OFFSET = 64 + 56;

    private HelperElf() {}

    public static byte[] build() {
        byte[] code = {
            (byte) 0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
            0x0f, 0x05,                          // syscall
            (byte) 0xeb, (byte) 0xf7             // jmp back to mov
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
    public static long gadget() { return BASE + CODE_OFFSET + 5; }
}

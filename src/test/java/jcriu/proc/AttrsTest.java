package jcriu.proc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttrsTest {
    @TempDir
    Path tmp;

    static byte[] words(long... w) {
        ByteBuffer b = ByteBuffer.allocate(w.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : w) b.putLong(x);
        return b.array();
    }

    @Test
    void auxvUpToAndIncludingAtNull() throws Exception {
        byte[] raw = words(33, 0x7f9ba0f87000L, 16, 0x178bfbffL, 6, 4096, 25, 0x7ffd0000aa10L, 0, 0);
        new Fixture(tmp).bytes("8/auxv", raw);
        Auxv a = ProcAttrs.auxv(tmp, 8);
        assertArrayEquals(raw, a.raw());
        assertArrayEquals(new long[] {33, 0x7f9ba0f87000L, 16, 0x178bfbffL, 6, 4096, 25, 0x7ffd0000aa10L, 0, 0}, a.words());
        assertEquals(OptionalLong.of(0x7f9ba0f87000L), a.get(Auxv.AT_SYSINFO_EHDR));
        assertEquals(OptionalLong.of(4096), a.get(Auxv.AT_PAGESZ));
        assertEquals(OptionalLong.empty(), a.get(Auxv.AT_ENTRY));
        assertEquals(a, Auxv.parse(raw, Path.of("x")));
        a.words()[0] = 99; // accessors hand out copies
        assertEquals(33, a.words()[0]);
    }

    @Test
    void auxvTrailingBytesAfterAtNullAreNotWords() throws Exception {
        byte[] raw = words(6, 4096, 0, 0, 77, 88);
        Auxv a = Auxv.parse(raw, Path.of("x"));
        assertEquals(4, a.words().length);
        assertEquals(48, a.raw().length);
    }

    @Test
    void badAuxv() {
        ProcException e = assertThrows(ProcException.class, () -> Auxv.parse(words(6, 4096), Path.of("/proc/2/auxv")));
        assertEquals("/proc/2/auxv: no AT_NULL entry in 1 pairs", e.getMessage());
        e = assertThrows(ProcException.class, () -> Auxv.parse(new byte[12], Path.of("/proc/2/auxv")));
        assertTrue(e.getMessage().contains("12 bytes: not whole 16-byte pairs"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Auxv.parse(new byte[0], Path.of("/proc/2/auxv")));
        assertTrue(e.getMessage().contains("empty auxv"), e.getMessage());
    }

    @Test
    void links() throws Exception {
        new Fixture(tmp).link("8/exe", "/usr/bin/sleep (deleted)").link("8/cwd", "/home/a b").link("8/root", "/");
        assertEquals("/usr/bin/sleep (deleted)", ProcAttrs.exe(tmp, 8));
        assertEquals("/home/a b", ProcAttrs.cwd(tmp, 8));
        assertEquals("/", ProcAttrs.root(tmp, 8));
        new Fixture(tmp).dir("9");
        ProcException e = assertThrows(ProcException.class, () -> ProcAttrs.exe(tmp, 9));
        assertTrue(e.getMessage().endsWith("process 9 has no exe (kernel thread or zombie)"), e.getMessage());
        assertThrows(ProcessGoneException.class, () -> ProcAttrs.cwd(tmp, 10));
    }

    @Test
    void smallFiles() throws Exception {
        new Fixture(tmp).file("8/timerslack_ns", "50000\n").file("8/personality", "00400000\n")
                .file("8/loginuid", "4294967295").file("9/loginuid", "1000\n").dir("10")
                .file("11/personality", "0040000z\n").file("11/timerslack_ns", "1\n2\n");
        assertEquals(50000, ProcAttrs.timerslackNs(tmp, 8));
        assertEquals(0x400000, ProcAttrs.personality(tmp, 8)); // READ_IMPLIES_EXEC
        assertEquals(OptionalLong.of(4294967295L), ProcAttrs.loginuid(tmp, 8));
        assertEquals(OptionalLong.of(1000), ProcAttrs.loginuid(tmp, 9));
        assertEquals(OptionalLong.empty(), ProcAttrs.loginuid(tmp, 10)); // no CONFIG_AUDIT
        assertThrows(ProcessGoneException.class, () -> ProcAttrs.loginuid(tmp, 12));
        ProcException e = assertThrows(ProcException.class, () -> ProcAttrs.personality(tmp, 11));
        assertTrue(e.getMessage().endsWith("11/personality:1: bad personality '0040000z': not a hex number"), e.getMessage());
        e = assertThrows(ProcException.class, () -> ProcAttrs.timerslackNs(tmp, 11));
        assertTrue(e.getMessage().contains("11/timerslack_ns:1: expected one value"), e.getMessage());
    }

    @Test
    void kernelNumbers() throws Exception {
        new Fixture(tmp).file("sys/kernel/pid_max", "4194304\n").file("sys/kernel/ns_last_pid", "3992\n");
        assertEquals(4194304, KernelInfo.pidMax(tmp));
        assertEquals(3992, KernelInfo.nsLastPid(tmp));
        new Fixture(tmp).file("sys/kernel/pid_max", "lots\n");
        ProcException e = assertThrows(ProcException.class, () -> KernelInfo.pidMax(tmp));
        assertTrue(e.getMessage().endsWith("pid_max:1: bad pid_max 'lots': not a decimal int"), e.getMessage());
    }
}

package jcriu.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;

import org.junit.jupiter.api.Test;

import jcriu.proc.Vma;
import jcriu.ptrace.Regs;
import jcriu.sys.Errno;
import jcriu.sys.Nr;

/** The two frames of a thread waiting in pause() or rt_sigsuspend(), read back as rt_sigreturn would. */
class RescueFrameTest {
    private static final long RSP = 0x7ffd_0000_8000L, SYSCALL_RET = 0x7f00_0000_1000L, SIGRETURN = 0x7f00_0000_2000L;
    private static final Vma STACK = new Vma(0x7ffd_0000_0000L, 0x7ffd_0001_0000L, "rw-p", 0, 0, 0, 0, "[stack]",
            Set.of("rd", "wr"), 0, 0, 0);
    // where struct sigcontext's rdi, rsi, rax, rsp, rip and the mask lie in an rt_sigframe
    private static final int SC = 48, RDI = SC + 64, RSI = SC + 72, RAX = SC + 104, SP = SC + 120, IP = SC + 128,
            MASK = SC + 256;

    private static Regs stopped(int nr, int err) {
        long[] v = new long[Regs.COUNT];
        v[Regs.RSP] = RSP;
        v[Regs.RIP] = 0x5555_0000_1234L;
        v[Regs.ORIG_RAX] = nr;
        v[Regs.RAX] = -err;
        v[Regs.RDI] = 0x5555_0000_9000L;
        v[Regs.RSI] = 8;
        return new Regs(v);
    }

    private static byte[] xstate() {
        byte[] x = new byte[832];
        ByteBuffer.wrap(x).order(ByteOrder.LITTLE_ENDIAN).putLong(464, 7); // XCR0: x87, SSE, AVX
        return x;
    }

    @Test
    void aThreadInSigsuspendWaitsWithItsArgumentAndReturnsEintrWithItsOwnMask() {
        Regs live = stopped(Nr.RT_SIGSUSPEND, Errno.ERESTARTNOHAND);
        long real = 0x4200, wait = 0;
        RescueFrame f = RescueFrame.forWaiting(live, real, wait, xstate(), SIGRETURN, SYSCALL_RET, STACK);
        ByteBuffer b = ByteBuffer.wrap(f.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        // frame 1: everything blocked, rt_sigsuspend(&word, 8) at the gadget, stack on frame 2
        assertEquals(SIGRETURN, b.getLong(0));
        assertEquals(-1L, b.getLong(MASK));
        assertEquals(SYSCALL_RET, b.getLong(IP));
        assertEquals(Nr.RT_SIGSUSPEND, b.getLong(RAX));
        assertEquals(8, b.getLong(RSI));
        long second = b.getLong(SP), word = b.getLong(RDI);
        assertEquals(second - 8, word);
        assertEquals(wait, b.getLong((int) (word - f.at())));
        assertTrue(second + 8 <= RSP - RescueFrame.RED_ZONE, "frame 2 below the red zone");
        // frame 2: the thread's own registers with EINTR, its own mask
        int s = (int) (second - f.at());
        assertEquals(SIGRETURN, b.getLong(s));
        assertEquals(real, b.getLong(s + MASK));
        assertEquals(live.rip(), b.getLong(s + IP));
        assertEquals(RSP, b.getLong(s + SP));
        assertEquals(-Errno.EINTR, b.getLong(s + RAX));
        assertEquals(live.get(Regs.RDI), b.getLong(s + RDI));
        // given over and back: that rt_sigsuspend, interrupted, just after the gadget's syscall
        Regs w = f.waiting();
        assertEquals(SYSCALL_RET + 2, w.rip());
        assertEquals(-Errno.ERESTARTNOHAND, w.rax());
        assertEquals(Nr.RT_SIGSUSPEND, w.origRax());
        assertEquals(word, w.get(Regs.RDI));
        assertEquals(second, w.rsp());
    }

    @Test
    void onlyAnInterruptedPauseOrSigsuspendIsWaiting() {
        assertTrue(RescueFrame.isWaiting(stopped(Nr.PAUSE, Errno.ERESTARTNOHAND)));
        assertTrue(!RescueFrame.isWaiting(stopped(Nr.NANOSLEEP, Errno.ERESTART_RESTARTBLOCK)));
        assertTrue(!RescueFrame.isWaiting(stopped(Nr.PAUSE, Errno.EINTR)));
        assertNull(RescueFrame.forWaiting(stopped(Nr.READ, Errno.ERESTARTSYS), 0, 0, xstate(), SIGRETURN, SYSCALL_RET,
                STACK));
        assertNull(RescueFrame.build(stopped(Nr.READ, Errno.ERESTARTSYS), 0, xstate(), SIGRETURN, STACK).waiting());
    }
}

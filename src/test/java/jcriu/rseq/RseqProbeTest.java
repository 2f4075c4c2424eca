package jcriu.rseq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import jcriu.dump.DumpOptions;
import jcriu.sys.Errno;
import jcriu.sys.SysException;

/** The probe's answers and the sources' failures, without a process (the e2e test has the real ones). */
class RseqProbeTest {

    @Test
    void answersMeanWhatTheKernelSays() throws IOException {
        assertTrue(RseqProbe.registered(7, -Errno.EINVAL), "a registration exists and differs");
        assertFalse(RseqProbe.registered(7, -Errno.EFAULT), "nothing registered, area not accessible");
        assertFalse(RseqProbe.registered(7, -Errno.ENOSYS), "a kernel without rseq");
        for (long odd : new long[] {0, -Errno.EPERM, -Errno.EBUSY, -Errno.ENOMEM}) {
            var e = assertThrows(IOException.class, () -> RseqProbe.registered(7, odd));
            assertTrue(e.getMessage().contains("thread 7"), e.getMessage());
        }
    }

    @Test
    void theProbeAreaCanNeverBeRegistered() {
        assertTrue(RseqProbe.AREA < 0, "kernel half of the address space");
        assertEquals(0, RseqProbe.AREA % 32, "aligned as an unregistered thread requires");
        assertEquals(32, RseqProbe.LENGTH);
        assertTrue(RseqProbe.AREA + RseqProbe.LENGTH < 0, "the whole area in the kernel half, no wrap to 0");
    }

    @Test
    void noPtraceRequestFailsLikeAnOldKernel() {
        var e = assertThrows(SysException.class, () -> RseqConfigSource.NO_PTRACE_REQUEST.read(null, 5));
        assertTrue(RseqConfigSource.missingRequest(e), e.getMessage());
        assertFalse(RseqConfigSource.missingRequest(new SysException("x", Errno.ESRCH, "")));
        assertEquals(RseqConfigSource.PTRACE, new DumpOptions(1, Path.of("/tmp"), false, false).rseq(),
                "the real request unless asked otherwise");
    }
}

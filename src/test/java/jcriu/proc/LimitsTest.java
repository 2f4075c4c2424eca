package jcriu.proc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import jcriu.sys.Sys;

/** /proc/PID/limits, the dump's source of rlimits for a process of another user. */
class LimitsTest {
    @Test
    void readsWhatPrlimitReportsForEveryResource() throws Exception {
        int self = Sys.getpid();
        long[][] limits = Limits.read(Path.of("/proc"), self);
        assertEquals(16, limits.length);
        for (int r = 0; r < 16; r++) assertArrayEquals(Sys.prlimit(self, r, null), limits[r], "resource " + r);
    }

    @Test
    void parsesUnlimitedAndNumbers() throws Exception {
        String text = """
                Limit                     Soft Limit           Hard Limit           Units    \s
                Max cpu time              unlimited            unlimited            seconds  \s
                Max open files            777                  20000                files    \s
                """;
        long[][] l = Limits.parse(text, Path.of("limits"));
        assertArrayEquals(new long[] {-1, -1}, l[0]);
        assertArrayEquals(new long[] {777, 20000}, l[1]);
        assertThrows(ProcException.class, () -> Limits.parse("Max cpu time 1 2\n", Path.of("limits")));
    }
}

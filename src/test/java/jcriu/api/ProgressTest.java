package jcriu.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import org.junit.jupiter.api.Test;

import jcriu.sys.Sys;

/** Progress lines: bytes, rate and time left on a terminal; nothing anywhere else. */
class ProgressTest {
    @Test
    void lineTellsBytesRateAndTimeLeft() {
        Progress p = Progress.to(new PrintStream(new ByteArrayOutputStream()), "dump 42", 1L << 30);
        assertEquals("dump 42: 512/1024 MiB, 0.54 GB/s, 1.0 s left", p.line(512L << 20, 1_000_000_000L));
        assertEquals("dump 42: 1024/1024 MiB, 0.54 GB/s", p.line(1L << 30, 2_000_000_000L));
    }

    @Test
    void redrawsOneLineAndEndsIt() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Progress p = Progress.to(new PrintStream(b), "restore 7", 100L << 20);
        p.update(10L << 20);
        p.update(20L << 20); // within 200 ms of the last: not drawn
        p.update(100L << 20); // the end is always drawn
        p.finish();
        String out = b.toString();
        assertTrue(out.startsWith("\rrestore 7: 10/100 MiB, "), out);
        assertFalse(out.contains("20/100"), out);
        assertTrue(out.contains("\rrestore 7: 100/100 MiB, "), out);
        assertTrue(out.endsWith("\n"), out);
        assertEquals(1, out.chars().filter(c -> c == '\n').count(), out);
    }

    @Test
    void onlyATerminalGetsIt() throws Exception {
        // the test JVM's stderr is a pipe to the build tool
        assertFalse(Sys.isatty(2));
        assertFalse(Progress.onTerminal("dump 1", 1L << 30).shown());
        int pty = Sys.open("/dev/ptmx", 2 /* O_RDWR */ | Sys.O_CLOEXEC);
        try {
            assertTrue(Sys.isatty(pty), "a pseudo-terminal is a terminal");
        } finally {
            Sys.close(pty);
        }
    }
}

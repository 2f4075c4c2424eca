package jcriu.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcIoTest {
    @TempDir
    Path tmp;

    @Test
    void esrchMeansGoneEvenIfTheDirectoryIsStillThere() {
        new Fixture(tmp).dir("7");
        // What the JDK throws when a read hits ESRCH (a process that died under an open file).
        IOException esrch = new FileSystemException("/proc/7/maps", null, "No such process");
        ProcessGoneException g = assertInstanceOf(ProcessGoneException.class, ProcIo.gone(esrch, tmp, 7));
        assertEquals(7, g.pid());
        assertSame(esrch, g.getCause());
        assertInstanceOf(ProcessGoneException.class, ProcIo.gone(new IOException("No such process"), tmp, 7));
    }

    @Test
    void missingFileOfLivingProcessIsNotGone() {
        new Fixture(tmp).dir("7/task/7");
        IOException e = new NoSuchFileException("/proc/7/loginuid");
        assertSame(e, ProcIo.gone(e, tmp, 7));
        assertInstanceOf(ProcessGoneException.class, ProcIo.gone(e, tmp, 8));
        assertSame(e, ProcIo.taskGone(e, tmp, 7, 7));
        assertEquals("thread 9 of process 7 does not exist (or exited)", ProcIo.taskGone(e, tmp, 7, 9).getMessage());
        IOException denied = new java.nio.file.AccessDeniedException("/proc/7/mem");
        assertSame(denied, ProcIo.gone(denied, tmp, 8));
    }

    @Test
    void slurpReadsSysctlStyleFilesWhole() throws Exception {
        // Large content crosses the first 64 KiB buffer.
        String big = "x".repeat(200_000) + "\n";
        new Fixture(tmp).file("big", big).file("empty", "");
        assertEquals(big, ProcIo.slurpText(tmp.resolve("big")));
        assertEquals("", ProcIo.slurpText(tmp.resolve("empty")));
    }
}

package jcriu.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatTest {
    @TempDir
    Path tmp;

    /** Real output of a `cat` on Linux 6.18, with the comm replaced. */
    static String stat(int pid, String comm) {
        return pid + " (" + comm + ") S 3944 3944 2136 34816 3944 4194304 99 0 0 0 7 3 0 0 20 0 1 0 154056 3133440 348 "
                + "18446744073709551615 94880935059456 94880935079337 140735609502560 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
                + "94880935095344 94880935096960 94880996085760 140735609510626 140735609510646 140735609510646 "
                + "140735609511915 0\n";
    }

    @Test
    void allTypedFields() throws Exception {
        new Fixture(tmp).file("3948/stat", stat(3948, "cat"));
        ProcStat s = Stat.read(tmp, 3948);
        assertEquals(3948, s.pid());
        assertEquals("cat", s.comm());
        assertEquals('S', s.state());
        assertEquals(3944, s.ppid());
        assertEquals(3944, s.pgrp());
        assertEquals(2136, s.session());
        assertEquals(34816, s.ttyNr());
        assertEquals(136, s.ttyMajor()); // /dev/pts/0
        assertEquals(0, s.ttyMinor());
        assertEquals(3944, s.tpgid());
        assertEquals(4194304, s.flags());
        assertEquals(7, s.utime());
        assertEquals(3, s.stime());
        assertEquals(20, s.priority());
        assertEquals(0, s.nice());
        assertEquals(1, s.numThreads());
        assertEquals(154056, s.startTime());
        assertEquals(3133440, s.vsize());
        assertEquals(348, s.rss());
        assertEquals("18446744073709551615", s.field(25)); // rsslim RLIM_INFINITY, not typed
        assertEquals(94880935059456L, s.startCode());
        assertEquals(94880935079337L, s.endCode());
        assertEquals(140735609502560L, s.startStack());
        assertEquals(17, s.exitSignal());
        assertEquals(1, s.processor());
        assertEquals(0, s.rtPriority());
        assertEquals(0, s.policy());
        assertEquals(94880935095344L, s.startData());
        assertEquals(94880935096960L, s.endData());
        assertEquals(94880996085760L, s.startBrk());
        assertEquals(140735609510626L, s.argStart());
        assertEquals(140735609510646L, s.argEnd());
        assertEquals(140735609510646L, s.envStart());
        assertEquals(140735609511915L, s.envEnd());
        assertEquals(0, s.exitCode());
        assertEquals(52, s.fields().size());
        assertEquals("3948", s.field(1));
        assertEquals("cat", s.field(2));
    }

    @Test
    void nastyComms() throws Exception {
        for (String comm : new String[] {"a) b (c", "x) S 1 2 3 (", "with space", ")", "((", " lead", "trail ",
                "new\nline", ""}) {
            ProcStat s = Stat.parse(stat(12, comm), Path.of("/proc/12/stat"));
            assertEquals(comm, s.comm());
            assertEquals('S', s.state());
            assertEquals(3944, s.ppid());
            assertEquals(0, s.exitCode());
        }
    }

    @Test
    void negativeNiceAndRealtime() throws Exception {
        String t = stat(5, "rt").replace(" 20 0 1 0 154056", " -51 -5 3 0 154056")
                .replace(" 17 1 0 0 0 0 0 ", " 17 1 50 1 0 0 0 ");
        ProcStat s = Stat.parse(t, Path.of("/proc/5/stat"));
        assertEquals(-51, s.priority());
        assertEquals(-5, s.nice());
        assertEquals(3, s.numThreads());
        assertEquals(50, s.rtPriority());
        assertEquals(1, s.policy()); // SCHED_FIFO
    }

    @Test
    void threadStat() throws Exception {
        new Fixture(tmp).file("100/task/101/stat", stat(101, "worker 1").replace(") S ", ") D "));
        assertEquals('D', Tasks.state(tmp, 100, 101));
        ProcStat s = Stat.readTask(tmp, 100, 101);
        assertEquals(101, s.pid());
        assertEquals("worker 1", s.comm());
    }

    @Test
    void vanishedThreadOfLivingProcess() {
        new Fixture(tmp).file("100/task/100/stat", stat(100, "main"));
        ProcessGoneException e = assertThrows(ProcessGoneException.class, () -> Stat.readTask(tmp, 100, 102));
        assertEquals("thread 102 of process 100 does not exist (or exited)", e.getMessage());
        e = assertThrows(ProcessGoneException.class, () -> Stat.readTask(tmp, 200, 201));
        assertEquals("process 200 does not exist (or exited)", e.getMessage());
    }

    @Test
    void errorsNameFileAndLine() {
        Path f = Path.of("/proc/7/stat");
        ProcException e = assertThrows(ProcException.class, () -> Stat.parse("7 cat S 1\n", f));
        assertTrue(e.getMessage().startsWith("/proc/7/stat:1: no (comm)"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Stat.parse("7 (cat) S 1 2 3\n", f));
        assertTrue(e.getMessage().startsWith("/proc/7/stat:1: only 6 fields, expected at least 52"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Stat.parse(stat(7, "cat").replace(" 3944 3944 ", " 39x4 3944 "), f));
        assertTrue(e.getMessage().startsWith("/proc/7/stat:1: bad field 4 '39x4'"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Stat.parse(stat(7, "cat").replace(") S ", ") SS "), f));
        assertTrue(e.getMessage().startsWith("/proc/7/stat:1: bad state 'SS'"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Stat.parse(stat(7, "cat").replace(" 0 17 ", "  17 "), f));
        assertTrue(e.getMessage().startsWith("/proc/7/stat:1: empty field"), e.getMessage());
    }
}

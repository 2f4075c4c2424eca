package jcriu.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TasksFdsTest {
    @TempDir
    Path tmp;

    @Test
    void tasksSortedNumerically() throws Exception {
        Fixture f = new Fixture(tmp);
        for (int tid : new int[] {100, 1000, 99, 101}) f.dir("100/task/" + tid);
        assertEquals(List.of(99, 100, 101, 1000), Tasks.list(tmp, 100));
    }

    @Test
    void taskListRejectsJunk() {
        new Fixture(tmp).dir("100/task/100").dir("100/task/junk");
        ProcException e = assertThrows(ProcException.class, () -> Tasks.list(tmp, 100));
        assertTrue(e.getMessage().contains("entry 'junk' is not a thread id"), e.getMessage());
    }

    @Test
    void taskListOfMissingProcess() {
        assertThrows(ProcessGoneException.class, () -> Tasks.list(tmp, 5));
    }

    @Test
    void commKeepsEverythingButTheFinalNewline() throws Exception {
        new Fixture(tmp).file("100/task/100/comm", "a) b (c\n").file("100/task/101/comm", "x\ny \n")
                .file("100/task/102/comm", "nonl");
        assertEquals("a) b (c", Tasks.comm(tmp, 100, 100));
        assertEquals("x\ny ", Tasks.comm(tmp, 100, 101));
        ProcException e = assertThrows(ProcException.class, () -> Tasks.comm(tmp, 100, 102));
        assertTrue(e.getMessage().endsWith("102/comm:1: comm not terminated by a newline"), e.getMessage());
    }

    static final int CHR = FileStat.S_IFCHR | 0620, REG = FileStat.S_IFREG | 0644;

    /** Stat answers keyed by fd number, standing in for stat(2) through the magic link. */
    static FdStat table(Map<String, FileStat> byFd) {
        return link -> {
            FileStat s = byFd.get(link.getFileName().toString());
            if (s == null) throw new NoSuchFileException(link.toString());
            return s;
        };
    }

    static String fdinfo(String flags, String extra) {
        return "pos:\t" + 17 + "\nflags:\t" + flags + "\nmnt_id:\t24\nino:\t91\n" + extra;
    }

    @Test
    void classifiesDescriptors() throws Exception {
        Fixture f = new Fixture(tmp);
        Map<String, FileStat> st = new HashMap<>();
        Object[][] fds = {
                // fd, link target, stat mode, rdev major, rdev minor
                {0, "/dev/null", CHR, 1, 3},
                {1, "/dev/pts/3", CHR, 136, 3},
                {2, "/dev/pts/3 (deleted)", CHR, 136, 3},
                {3, "/dev/tty", CHR, 5, 0},
                {4, "/dev/console", CHR, 5, 1},
                {5, "/dev/ttyS0", CHR, 4, 64},
                {6, "/dev/pts/700", CHR, 143, 188},
                {7, "/dev/ttyUSB0", CHR, 188, 0},
                {8, "pipe:[6894]", FileStat.S_IFIFO | 0600, 0, 0},
                {9, "/run/my fifo", FileStat.S_IFIFO | 0600, 0, 0},
                {10, "socket:[6895]", FileStat.S_IFSOCK | 0777, 0, 0},
                {11, "anon_inode:[eventfd]", 0600, 0, 0},
                {12, "anon_inode:inotify", 0600, 0, 0},
                {13, "/tmp", FileStat.S_IFDIR | 01777, 0, 0},
                {14, "/var/log/x.log", REG, 0, 0},
                {15, "/tmp/gone (deleted)", REG, 0, 0},
                {16, "/memfd:hello world (deleted)", FileStat.S_IFREG | 0777, 0, 0},
                {17, "net:[4026531833]", FileStat.S_IFREG | 0444, 0, 0},
                {18, "/dev/sda", FileStat.S_IFBLK | 0660, 8, 0},
                {19, "/tmp/removed dir (deleted)", FileStat.S_IFDIR | 0755, 0, 0},
        };
        for (Object[] d : fds) {
            String n = d[0].toString();
            f.link("42/fd/" + n, (String) d[1]);
            f.file("42/fdinfo/" + n, fdinfo("02100002", ""));
            st.put(n, new FileStat((Integer) d[2], FileStat.makedev(0, 21), 91,
                    FileStat.makedev((Integer) d[3], (Integer) d[4])));
        }
        f.file("42/fdinfo/11", fdinfo("02004002", "eventfd-count:                5\neventfd-id: 1\n"));
        List<FdInfo> l = Fds.list(tmp, 42, table(st));
        assertEquals(fds.length, l.size());
        FdKind[] want = {FdKind.CHAR_DEVICE, FdKind.TTY, FdKind.TTY, FdKind.TTY, FdKind.TTY, FdKind.TTY, FdKind.TTY,
                FdKind.CHAR_DEVICE, FdKind.PIPE, FdKind.FIFO, FdKind.SOCKET, FdKind.ANON_INODE, FdKind.ANON_INODE,
                FdKind.DIRECTORY, FdKind.REGULAR_FILE, FdKind.DELETED, FdKind.MEMFD, FdKind.OTHER,
                FdKind.BLOCK_DEVICE, FdKind.DIRECTORY};
        for (int i = 0; i < fds.length; i++) {
            assertEquals(i, l.get(i).fd());
            assertEquals(fds[i][1], l.get(i).target());
            assertEquals(want[i], l.get(i).kind(), l.get(i).target());
        }
        FdInfo pts = l.get(2);
        assertTrue(pts.deleted());
        assertEquals(Optional.of("/dev/pts/3"), pts.path());
        assertEquals(136, pts.stat().rdevMajor());
        assertEquals(3, pts.stat().rdevMinor());
        FdInfo gone = l.get(15);
        assertTrue(gone.deleted());
        assertEquals(Optional.of("/tmp/gone"), gone.path());
        assertTrue(l.get(19).deleted());
        FdInfo ev = l.get(11);
        assertEquals(Optional.of("[eventfd]"), ev.anonInodeName());
        assertEquals(Optional.empty(), ev.path());
        assertEquals(List.of("eventfd-count:                5", "eventfd-id: 1"), ev.extra());
        assertEquals(FdInfo.O_RDWR, ev.accessMode());
        assertTrue((ev.flags() & FdInfo.O_NONBLOCK) != 0);
        assertTrue(ev.cloexec());
        FdInfo log = l.get(14);
        assertEquals(17, log.pos());
        assertEquals(02100002, log.flags());
        assertEquals(24, log.mntId());
        assertEquals(91, log.ino());
        assertEquals(Optional.of("inotify"), l.get(12).anonInodeName());
        assertEquals(0, log.stat().rdevMajor());
        assertEquals(0, FileStat.major(log.stat().dev()));
        assertEquals(21, FileStat.minor(log.stat().dev()));
    }

    @Test
    void devNumbersRoundTrip() {
        // glibc's encoding: major in bits 8-19 and 32-51, minor in bits 0-7 and 20-31.
        assertEquals(0x8803L, FileStat.makedev(136, 3));
        long big = FileStat.makedev(0x12345, 0x6789a);
        assertEquals(0x12345, FileStat.major(big));
        assertEquals(0x6789a, FileStat.minor(big));
    }

    @Test
    void closedDescriptorIsSkippedButMissingFdinfoIsNot() throws Exception {
        Fixture f = new Fixture(tmp);
        f.link("42/fd/0", "/dev/null").file("42/fdinfo/0", fdinfo("0100000", ""));
        f.link("42/fd/1", "/dev/null"); // fdinfo missing while the fd entry exists: broken input
        Map<String, FileStat> st = Map.of("0", new FileStat(CHR, 5, 3, FileStat.makedev(1, 3)),
                "1", new FileStat(CHR, 5, 3, FileStat.makedev(1, 3)));
        assertThrows(NoSuchFileException.class, () -> Fds.list(tmp, 42, table(st)));
        // An fd that is listed but closed before it is read: stat fails, link is gone.
        FdStat closing = link -> {
            if (link.getFileName().toString().equals("1")) {
                java.nio.file.Files.delete(link);
                throw new NoSuchFileException(link.toString());
            }
            return st.get("0");
        };
        f.file("42/fdinfo/1", fdinfo("0100000", ""));
        List<FdInfo> l = Fds.list(tmp, 42, closing);
        assertEquals(1, l.size());
        assertEquals(0, l.get(0).fd());
        assertFalse(l.get(0).cloexec());
        assertEquals(FdInfo.O_RDONLY, l.get(0).accessMode());
    }

    @Test
    void badFdinfo() throws Exception {
        FileStat s = new FileStat(REG, 1, 2, 0);
        Path src = Path.of("/proc/1/fdinfo/3");
        ProcException e = assertThrows(ProcException.class, () -> Fds.parse(3, "/x", "pos:\t0\nflags:\t0900\nmnt_id:\t1\n", src, s));
        assertTrue(e.getMessage().startsWith("/proc/1/fdinfo/3:2: bad flags '0900'"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Fds.parse(3, "/x", "pos:\t0\nmnt_id:\t1\n", src, s));
        assertTrue(e.getMessage().startsWith("/proc/1/fdinfo/3: no flags line"), e.getMessage());
        // Before Linux 5.14 there is no ino line: the stat's inode stands in.
        assertEquals(2, Fds.parse(3, "/x", "pos:\t0\nflags:\t0\nmnt_id:\t1\n", src, s).ino());
    }

    @Test
    void fdsOfMissingProcess() {
        ProcessGoneException e = assertThrows(ProcessGoneException.class, () -> Fds.list(tmp, 999));
        assertEquals(999, e.pid());
    }
}

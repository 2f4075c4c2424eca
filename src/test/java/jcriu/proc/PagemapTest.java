package jcriu.proc;

import static jcriu.proc.Pagemap.PM_FILE;
import static jcriu.proc.Pagemap.PM_GUARD_REGION;
import static jcriu.proc.Pagemap.PM_MMAP_EXCLUSIVE;
import static jcriu.proc.Pagemap.PM_PRESENT;
import static jcriu.proc.Pagemap.PM_SWAP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import jcriu.state.PageRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PagemapTest {
    @TempDir
    Path tmp;

    static final int PID = 50;
    static final long BASE = 0x400000;
    static final long ZERO_PFN = 0x3b32, FORK_PFN = 0x5000;
    // Entries as Linux 6.18 reports them (seen by the live tests):
    static final long EXCL = PM_PRESENT | PM_MMAP_EXCLUSIVE | 0x117a24; // anon page mapped once
    static final long ZERO = PM_PRESENT | ZERO_PFN;                      // the 4 KiB zero page
    static final long FORKED = PM_PRESENT | FORK_PFN;                    // anon page shared with a fork
    static final long SWAPPED = PM_SWAP | 0x1234_0000L;
    static final long GUARD = PM_SWAP | PM_GUARD_REGION | 0x9f;
    static final long HUGE_ZERO = PM_PRESENT | PM_FILE | 0x132000;       // huge zero page: PM_FILE set
    static final long FILE_PAGE = PM_PRESENT | PM_FILE | PM_MMAP_EXCLUSIVE | 0x11dfec;
    static final long HIDDEN_ZERO = PM_PRESENT;                          // zero page without CAP_SYS_ADMIN

    private Fixture fixture(boolean kpageflags, long... entries) {
        Fixture f = new Fixture(tmp).words(PID + "/pagemap", BASE / 4096, entries);
        if (kpageflags) f.words("kpageflags", ZERO_PFN, 1L << 24).words("kpageflags", FORK_PFN, 1L << 12 | 1L << 5);
        return f;
    }

    static Vma vma(long start, long pages, String perms, String name, String... flags) {
        long ino = name.startsWith("/") ? 77 : 0;
        return new Vma(start, start + pages * 4096, perms, 0, ino == 0 ? 0 : 8, 1, ino, name, Set.of(flags), -1, -1, -1);
    }

    static PageRun run(long pageIndex, int pages) {
        return new PageRun(BASE + pageIndex * 4096, pages);
    }

    @Test
    void anonymousPrivate() throws Exception {
        fixture(true, EXCL, EXCL, 0, ZERO, FORKED, SWAPPED, GUARD, HUGE_ZERO, EXCL);
        List<PageRun> r = Pagemap.dumpableRuns(tmp, PID, vma(BASE, 9, "rw-p", ""));
        // populated pages, minus the zero pages (both sizes) and the guard entry
        assertEquals(List.of(run(0, 2), run(4, 2), run(8, 1)), r);
        // heap and stack follow the same rule
        assertEquals(r, Pagemap.dumpableRuns(tmp, PID, vma(BASE, 9, "rw-p", "[heap]")));
        assertEquals(r, Pagemap.dumpableRuns(tmp, PID, vma(BASE, 9, "rw-p", "[stack]", "gd")));
    }

    @Test
    void zeroPageKeptWhenItCannotBeRecognised() throws Exception {
        // No PFNs (reader lacks CAP_SYS_ADMIN): a shared anon page might be the zero page or not.
        fixture(true, EXCL, HIDDEN_ZERO, 0);
        assertEquals(List.of(run(0, 2)), Pagemap.dumpableRuns(tmp, PID, vma(BASE, 3, "rw-p", "")));
        // PFNs, but no kpageflags to look them up in.
        Files.delete(tmp.resolve("kpageflags"));
        fixture(false, EXCL, ZERO, 0);
        assertEquals(List.of(run(0, 2)), Pagemap.dumpableRuns(tmp, PID, vma(BASE, 3, "rw-p", "")));
    }

    @Test
    void zeroPfnRememberedAcrossVmas() throws Exception {
        fixture(true, ZERO, EXCL, 0, 0, ZERO, FORKED);
        try (Pagemap pm = Pagemap.open(tmp, PID)) {
            assertEquals(List.of(run(1, 1)), pm.dumpableRuns(vma(BASE, 2, "rw-p", "")));
            // kpageflags gone: the zero PFN seen before still identifies the zero page
            Files.delete(tmp.resolve("kpageflags"));
            assertEquals(List.of(run(5, 1)), pm.dumpableRuns(vma(BASE + 4 * 4096, 2, "rw-p", "")));
        }
    }

    @Test
    void privateFileOnlyCopiedPages() throws Exception {
        fixture(true, FILE_PAGE, EXCL, FILE_PAGE, SWAPPED, 0, FILE_PAGE);
        assertEquals(List.of(run(1, 1), run(3, 1)),
                Pagemap.dumpableRuns(tmp, PID, vma(BASE, 6, "rw-p", "/usr/lib/libc.so.6")));
        // deleted files are no different
        assertEquals(List.of(run(1, 1), run(3, 1)),
                Pagemap.dumpableRuns(tmp, PID, vma(BASE, 6, "r--p", "/tmp/x (deleted)")));
    }

    @Test
    void sharedAnonymousAllPopulatedPages() throws Exception {
        fixture(true, FILE_PAGE, 0, FILE_PAGE, SWAPPED, GUARD);
        Vma shm = vma(BASE, 5, "rw-s", "/dev/zero (deleted)");
        assertEquals(VmaKind.ANON_SHARED, shm.kind());
        assertEquals(List.of(run(0, 1), run(2, 2)), Pagemap.dumpableRuns(tmp, PID, shm));
        Vma sysv = vma(BASE, 5, "rw-s", "/SYSV00000001 (deleted)");
        assertEquals(List.of(run(0, 1), run(2, 2)), Pagemap.dumpableRuns(tmp, PID, sysv));
    }

    @Test
    void kindsWithNothingToDump() throws Exception {
        fixture(true, FILE_PAGE, EXCL, EXCL, EXCL);
        assertEquals(List.of(), Pagemap.dumpableRuns(tmp, PID, vma(BASE, 4, "rw-s", "/dev/shm/x")));
        assertEquals(List.of(), Pagemap.dumpableRuns(tmp, PID, vma(BASE, 4, "r--p", "[vvar]", "pf", "io")));
        assertEquals(List.of(), Pagemap.dumpableRuns(tmp, PID, vma(BASE, 4, "r--p", "[vvar_vclock]")));
        assertEquals(List.of(), Pagemap.dumpableRuns(tmp, PID, vma(0xffffffffff600000L, 1, "--xp", "[vsyscall]")));
        assertEquals(List.of(), Pagemap.dumpableRuns(tmp, PID, vma(BASE, 4, "rw-p", "", "io")));
        assertEquals(List.of(), Pagemap.dumpableRuns(tmp, PID, vma(BASE, 4, "rw-s", "anon_inode:[perf_event]")));
    }

    @Test
    void vdsoWholeEvenIfNotFaultedIn() throws Exception {
        fixture(true, FILE_PAGE, 0);
        assertEquals(List.of(run(0, 2)), Pagemap.dumpableRuns(tmp, PID, vma(BASE, 2, "r-xp", "[vdso]")));
    }

    @Test
    void runsCrossReadBlocks() throws Exception {
        long start = 0x10000000L;
        Fixture f = new Fixture(tmp);
        long first = start / 4096;
        f.words(PID + "/pagemap", first + 69999, 0); // file long enough for the whole VMA
        f.words(PID + "/pagemap", first + 65535, EXCL, EXCL); // straddles the 64 Ki-entry block boundary
        f.words(PID + "/pagemap", first + 69999, SWAPPED);
        f.words(PID + "/pagemap", first, EXCL);
        List<PageRun> r = Pagemap.dumpableRuns(tmp, PID, vma(start, 70000, "rw-p", ""));
        assertEquals(List.of(new PageRun(start, 1), new PageRun(start + 65535L * 4096, 2),
                new PageRun(start + 69999L * 4096, 1)), r);
    }

    @Test
    void rawEntries() throws Exception {
        fixture(true, EXCL, ZERO, HUGE_ZERO);
        try (Pagemap pm = Pagemap.open(tmp, PID)) {
            assertArrayEquals(new long[] {EXCL, ZERO, HUGE_ZERO}, pm.entries(BASE, 3));
        }
    }

    @Test
    void truncatedPagemapIsAnError() throws Exception {
        fixture(true, EXCL, EXCL);
        ProcException e = assertThrows(ProcException.class,
                () -> Pagemap.dumpableRuns(tmp, PID, vma(BASE, 3, "rw-p", "")));
        assertTrue(e.getMessage().contains("pagemap: ended at offset 0x2010"), e.getMessage());
    }

    @Test
    void unalignedAndGone() throws Exception {
        fixture(true, EXCL);
        assertThrows(IllegalArgumentException.class, () -> Pagemap.dumpableRuns(tmp, PID,
                new Vma(BASE + 1, BASE + 4096, "rw-p", 0, 0, 0, 0, "", Set.of(), -1, -1, -1)));
        assertThrows(ProcessGoneException.class, () -> Pagemap.open(tmp, PID + 1));
    }
}

package jcriu.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jcriu.state.PageRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pagemap against a real process with a known memory layout: a small C program (built with gcc
 * here) that populates pages in ways whose pagemap entries differ, then waits.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS) // a stuck child must fail the test, not hang the build
class LivePagemapTest {
    static final Path PROC = Path.of("/proc");
    static final long PG = 4096;
    static final long ANON_LEN = 64L << 20;

    static final String SOURCE = """
            #define _GNU_SOURCE
            #include <fcntl.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <sys/mman.h>
            #include <sys/prctl.h>
            #include <unistd.h>

            #define PG 4096UL

            /* PROT_NONE pages on both sides keep the kernel from merging it with a neighbour. */
            static char *isolated(size_t len, int flags, int fd) {
                char *res = mmap(NULL, len + 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                if (res == MAP_FAILED) { perror("mmap reserve"); exit(2); }
                char *p = mmap(res + PG, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0);
                if (p == MAP_FAILED) { perror("mmap"); exit(2); }
                return p;
            }

            int main(int argc, char **argv) {
                if (argc != 2) { fprintf(stderr, "usage: %s FILE\\n", argv[0]); return 2; }
                volatile char sink = 0;

                /* 64 MiB anonymous, every other page written; no THP so pages stay 4 KiB. */
                size_t anon_len = 64UL << 20;
                char *anon = isolated(anon_len, MAP_PRIVATE | MAP_ANONYMOUS, -1);
                if (madvise(anon, anon_len, MADV_NOHUGEPAGE)) { perror("madvise"); return 2; }
                for (size_t off = 0; off < anon_len; off += 2 * PG) anon[off] = 1;

                /* A private file mapping: all 8 pages read (still the file's), one written (copied). */
                int fd = open(argv[1], O_RDWR);
                if (fd < 0) { perror("open"); return 2; }
                char *file = isolated(8 * PG, MAP_PRIVATE, fd);
                for (int i = 0; i < 8; i++) sink += file[i * PG];
                file[3 * PG] = 'x';

                /* Anonymous pages only read map the shared zero page; one page is written. */
                char *zero = isolated(16 * PG, MAP_PRIVATE | MAP_ANONYMOUS, -1);
                if (madvise(zero, 16 * PG, MADV_NOHUGEPAGE)) { perror("madvise"); return 2; }
                for (int i = 0; i < 16; i++) sink += zero[i * PG];
                zero[5 * PG] = 1;

                /* Shared anonymous memory: two of four pages written. */
                char *shared = isolated(4 * PG, MAP_SHARED | MAP_ANONYMOUS, -1);
                shared[0] = 1;
                shared[2 * PG] = 1;

                if (prctl(PR_SET_NAME, "a) b (c")) { perror("prctl"); return 2; }
                printf("ready %lx %lx %lx %lx %d\\n", (unsigned long) anon, (unsigned long) file,
                       (unsigned long) zero, (unsigned long) shared, fd);
                fflush(stdout);
                for (;;) pause();
            }
            """;

    @TempDir
    Path tmp;
    Process child;
    int pid;
    long anon, file, zero, shared;
    int fileFd;
    Path data;
    long dataIno;

    @BeforeEach
    void start() throws Exception {
        Path src = Files.writeString(tmp.resolve("layout.c"), SOURCE);
        Path bin = tmp.resolve("layout");
        Process cc = new ProcessBuilder("gcc", "-O1", "-Wall", "-Werror", "-o", bin.toString(), src.toString())
                .redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, cc.waitFor(), "gcc failed:\n" + ccOut);

        data = tmp.resolve("data file");
        byte[] content = new byte[8 * 4096];
        for (int i = 0; i < content.length; i++) content[i] = (byte) ('a' + i / 4096);
        Files.write(data, content);
        dataIno = (Long) Files.getAttribute(data, "unix:ino");

        child = new ProcessBuilder(bin.toString(), data.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        pid = (int) child.pid();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(30, TimeUnit.SECONDS);
        if (line == null) fail("the layout program exited with status " + child.waitFor() + " before saying ready");
        String[] w = line.split(" ");
        assertEquals("ready", w[0], line);
        anon = Long.parseUnsignedLong(w[1], 16);
        file = Long.parseUnsignedLong(w[2], 16);
        zero = Long.parseUnsignedLong(w[3], 16);
        shared = Long.parseUnsignedLong(w[4], 16);
        fileFd = Integer.parseInt(w[5]);
    }

    @AfterEach
    void stop() throws Exception {
        if (child != null) {
            child.destroyForcibly();
            child.waitFor();
        }
    }

    static Vma at(List<Vma> vmas, long addr) {
        return vmas.stream().filter(v -> v.start() == addr).findFirst()
                .orElseThrow(() -> new AssertionError(String.format("no VMA starts at %x", addr)));
    }

    static long pages(List<PageRun> runs) {
        return runs.stream().mapToLong(PageRun::pages).sum();
    }

    @Test
    void anonymousEveryOtherPage() throws Exception {
        Vma v = at(Maps.read(PROC, pid), anon);
        assertEquals(anon + ANON_LEN, v.end());
        assertEquals(VmaKind.ANON_PRIVATE, v.kind());
        assertTrue(v.hasFlag("nh"), v.vmFlags().toString());
        assertEquals(ANON_LEN / 2, v.rss());
        assertEquals(ANON_LEN / 2, v.anonymous());
        List<PageRun> runs = Pagemap.dumpableRuns(PROC, pid, v);
        assertEquals(ANON_LEN / PG / 2, pages(runs));
        assertEquals(ANON_LEN / PG / 2, runs.size());
        for (int i = 0; i < runs.size(); i++) assertEquals(new PageRun(anon + 2L * i * PG, 1), runs.get(i));
    }

    @Test
    void privateFileOnlyTheWrittenPage() throws Exception {
        Vma v = at(Maps.read(PROC, pid), file);
        assertEquals(file + 8 * PG, v.end());
        assertEquals(VmaKind.FILE_PRIVATE, v.kind());
        assertEquals(data.toString(), v.name());
        assertEquals(dataIno, v.inode());
        assertEquals(8 * PG, v.rss());
        assertEquals(PG, v.anonymous());
        try (Pagemap pm = Pagemap.open(PROC, pid)) {
            assertEquals(List.of(new PageRun(file + 3 * PG, 1)), pm.dumpableRuns(v));
            // The other seven are present and still the file's page cache.
            long[] e = pm.entries(file, 8);
            for (int i = 0; i < 8; i++) {
                assertTrue((e[i] & Pagemap.PM_PRESENT) != 0, "page " + i);
                assertEquals(i != 3, (e[i] & Pagemap.PM_FILE) != 0, "page " + i);
            }
        }
        // Unlinked while mapped and open: maps and fds both say so, and nothing else changes.
        Files.delete(data);
        Vma d = at(Maps.read(PROC, pid), file);
        assertTrue(d.deleted());
        assertEquals(data + " (deleted)", d.name());
        assertEquals(Optional.of(data.toString()), d.path());
        assertEquals(VmaKind.FILE_PRIVATE, d.kind());
        assertEquals(List.of(new PageRun(file + 3 * PG, 1)), Pagemap.dumpableRuns(PROC, pid, d));
        FdInfo fd = Fds.list(PROC, pid).stream().filter(f -> f.fd() == fileFd).findFirst().orElseThrow();
        assertEquals(FdKind.DELETED, fd.kind());
        assertEquals(Optional.of(data.toString()), fd.path());
        assertEquals(dataIno, fd.ino());
        assertEquals(FdInfo.O_RDWR, fd.accessMode());
        assertFalse(fd.cloexec());
    }

    @Test
    void zeroPageIsNotDumped() throws Exception {
        Vma v = at(Maps.read(PROC, pid), zero);
        assertEquals(zero + 16 * PG, v.end());
        assertEquals(VmaKind.ANON_PRIVATE, v.kind());
        try (Pagemap pm = Pagemap.open(PROC, pid)) {
            long[] e = pm.entries(zero, 16);
            long zeroPfn = e[0] & Pagemap.PM_PFN_MASK;
            assertTrue(zeroPfn != 0, "PFNs visible (root)");
            // Some kernels give a read fault its own zeroed page instead of the shared zero page
            // (this machine's does): then every page read is an ordinary page of the process.
            boolean zeroPageUsed = (e[1] & Pagemap.PM_PFN_MASK) == zeroPfn;
            if (!zeroPageUsed) {
                assertEquals(16 * PG, v.rss());
                assertEquals(List.of(new PageRun(zero, 16)), pm.dumpableRuns(v));
                return;
            }
            assertEquals(PG, v.rss()); // smaps does not count the zero page either
            // What makes the rule necessary: read-only pages are present, not PM_FILE, not exclusive.
            for (int i = 0; i < 16; i++) {
                assertTrue((e[i] & Pagemap.PM_PRESENT) != 0, "page " + i);
                assertEquals(0, e[i] & Pagemap.PM_FILE, "page " + i);
                assertEquals(i == 5, (e[i] & Pagemap.PM_MMAP_EXCLUSIVE) != 0, "page " + i);
                assertEquals(i != 5, (e[i] & Pagemap.PM_PFN_MASK) == zeroPfn, "page " + i);
            }
            assertEquals(List.of(new PageRun(zero + 5 * PG, 1)), pm.dumpableRuns(v));
        }
    }

    @Test
    void sharedAnonymous() throws Exception {
        Vma v = at(Maps.read(PROC, pid), shared);
        assertEquals(shared + 4 * PG, v.end());
        assertEquals("/dev/zero (deleted)", v.name());
        assertTrue(v.shared() && v.inode() != 0);
        assertEquals(VmaKind.ANON_SHARED, v.kind());
        assertEquals(List.of(new PageRun(shared, 1), new PageRun(shared + 2 * PG, 1)),
                Pagemap.dumpableRuns(PROC, pid, v));
    }

    @Test
    void nastyCommLive() throws Exception {
        assertEquals("a) b (c", Stat.read(PROC, pid).comm());
        // After "ready" the program still has to reach pause(); wait until it sleeps there.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Stat.read(PROC, pid).state() != 'S') {
            assertTrue(System.nanoTime() < deadline, "the layout program never went to sleep");
            Thread.sleep(10);
        }
        assertEquals((int) ProcessHandle.current().pid(), Stat.read(PROC, pid).ppid());
        assertEquals("a) b (c", Status.read(PROC, pid).name());
        assertEquals("a) b (c", Tasks.comm(PROC, pid, pid));
    }

    @Test
    void pagemapOfAProcessThatExits() throws Exception {
        Vma v = at(Maps.read(PROC, pid), anon);
        try (Pagemap pm = Pagemap.open(PROC, pid)) {
            child.destroyForcibly();
            child.waitFor();
            ProcessGoneException e = assertThrows(ProcessGoneException.class, () -> pm.dumpableRuns(v));
            assertEquals("process " + pid + " does not exist (or exited)", e.getMessage());
        }
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Trees;
import jcriu.testsupport.Workload;

/**
 * Pseudo-terminals: python3's pty.fork() holds a master, and a shell on the slave (its
 * session's controlling terminal, its group in the foreground) counts through it. The master
 * holder prints each line it reads with the terminal's VINTR, ECHO, window size and foreground
 * group, which it changed from the defaults at start.
 */
class TerminalsTest {
    private static final Path SCRIPT = Gcc.projectDir().resolve("src/test/resources/programs/ptyholder.py");

    private static Workload start() {
        return Workload.start(Path.of("/usr/bin/python3"), List.of(SCRIPT.toString()), Map.of());
    }

    /** /proc/PID/stat fields 7 (tty_nr) and 8 (tpgid). */
    private static String ctty(int pid) throws IOException {
        String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return "tty_nr=" + f[4] + " tpgid=" + f[5];
    }

    /**
     * Every "n K" line of the output, which must count from 0 without gap or repeat, each with the
     * changed settings. Complete lines only: python writes a line in several write(2) calls, so
     * the running holder's last line may be read half-written.
     */
    private static int checkCount(Workload w, int shell) {
        List<String> ns = new ArrayList<>();
        for (String l : w.lines()) if (l.startsWith("n ")) ns.add(l);
        for (int i = 0; i < ns.size(); i++) {
            assertEquals("n " + i + " intr=24 echo=0 ws=33x111 fg=" + shell, ns.get(i), "line " + i + " of the count");
        }
        return ns.size();
    }

    @Test
    void shellOnAPtyCountsOnAfterRestoreWithItsTerminalSettingsAndControllingTerminal() throws Exception {
        try (Workload w = start()) {
            try {
                int shell = (int) Workload.number(w.awaitOutput("child=\\d+ pts=\\d+"), "child");
                w.awaitOutput("n 5 ");
                String before = ctty(shell);
                assertTrue(!before.startsWith("tty_nr=0 "), before);
                try (Workload r = Trees.cycle(w)) {
                    try {
                        int last = checkCount(w, shell) - 1;
                        r.awaitOutput("n " + (last + 10) + " ", Duration.ofSeconds(20));
                        assertEquals(before, ctty(shell), "the shell's controlling terminal and foreground group");
                        assertEquals("/dev/tty", Files.readSymbolicLink(Path.of("/proc/" + shell + "/fd/3")).toString());
                        assertTrue(checkCount(w, shell) > last + 10);
                    } finally {
                        Trees.kill(r.pid());
                    }
                }
            } finally {
                Trees.kill(w.pid());
            }
        }
    }

    /**
     * The master holder stops reading while the shell goes on writing: the dump saves what is
     * queued for the master (tty-data.img) and the restored holder reads it, so the count has
     * no gap.
     */
    @Test
    void outputQueuedForTheMasterIsSaved() throws Exception {
        try (Workload w = start()) {
            try {
                int shell = (int) Workload.number(w.awaitOutput("child=\\d+ pts=\\d+"), "child");
                w.awaitOutput("n 3 ");
                w.signal(Sig.SIGUSR1);
                w.awaitOutput("pausing");
                Thread.sleep(700); // a few lines written and not read
                Path dir = Checkpoints.imageDir(w);
                Checkpoints.dump(w, dir, false);
                assertTrue(Files.size(dir.resolve("tty-data.img")) > 20, "bytes queued for the master in tty-data.img");
                Trees.awaitGone(Trees.idsIn(dir));
                int last = checkCount(w, shell) - 1;
                restoreAndCountOn(dir, w, shell, last + 15);
            } finally {
                Trees.kill(w.pid());
            }
        }
    }

    /**
     * util-linux {@code script}, detached: it holds the master, the slave and a signalfd; its
     * shell, in a session of its own on the slave, counts. The count goes on after a restore
     * without gap or repeat, and the shell has its controlling terminal and foreground group.
     */
    @Test
    void scriptCountsOnAfterRestore() throws Exception {
        try (Workload w = Workload.start(Path.of("/usr/bin/script"), List.of("-q", "-c",
                "sh -c 'i=0; while :; do echo $i; i=$((i+1)); sleep 0.1; done'", "/dev/null"), Map.of())) {
            try {
                w.awaitOutput("^5\\r?$");
                int shell = Trees.members(w.pid()).stream().filter(p -> p.ppid() == w.pid()).findFirst().orElseThrow().pid();
                String before = ctty(shell);
                assertTrue(!before.startsWith("tty_nr=0 "), before);
                try (Workload r = Trees.cycle(w)) {
                    try {
                        int last = count(w);
                        r.awaitOutput("^" + (last + 10) + "\\r?$", Duration.ofSeconds(20));
                        assertEquals(before, ctty(shell), "the shell's controlling terminal and foreground group");
                        count(w);
                    } finally {
                        Trees.kill(r.pid());
                    }
                }
            } finally {
                Trees.kill(w.pid());
            }
        }
    }

    /** The numbers script copied from the terminal (complete lines), which must count from 0 without gap or repeat; the last one. */
    private static int count(Workload w) {
        int n = 0;
        for (String l : w.lines()) {
            String v = l.strip();
            if (!v.matches("\\d+")) continue;
            assertEquals(n, Integer.parseInt(v), "the count in " + w.output());
            n++;
        }
        return n - 1;
    }

    /**
     * The pty's index is taken by someone else while the tree is dumped: the restore is refused
     * naming /dev/pts/N and leaves nothing behind; once the index is free again it succeeds.
     */
    @Test
    void aTakenIndexIsRefusedNamingItThenRestoresOnceFree() throws Exception {
        try (Workload w = start()) {
            try {
                String child = w.awaitOutput("child=\\d+ pts=\\d+");
                int shell = (int) Workload.number(child, "child");
                int index = (int) Workload.number(child, "pts");
                w.awaitOutput("n 3 ");
                Path dir = Checkpoints.imageDir(w);
                Checkpoints.dump(w, dir, false);
                Trees.awaitGone(Trees.idsIn(dir));
                List<Integer> held = new ArrayList<>();
                int taken = -1;
                try {
                    while (taken < 0) { // the kernel gives the lowest free index: take them up to ours
                        int fd = jcriu.sys.Sys.open("/dev/ptmx", 2 | 0400 | 02000000);
                        int got = jcriu.sys.TtySys.getInt(fd, jcriu.sys.TtySys.TIOCGPTN);
                        if (got == index) taken = fd;
                        else held.add(fd);
                        assertTrue(got <= index, "got /dev/pts/" + got + " before " + index);
                    }
                    for (int fd : held) jcriu.sys.Sys.close(fd);
                    held.clear();
                    AssertionError e = assertThrows(AssertionError.class, () -> Checkpoints.restore(dir, w.dir(), 0));
                    assertTrue(e.getMessage().contains("/dev/pts/" + index + " again: it is in use"), e.getMessage());
                    Trees.awaitGone(List.of(w.pid(), shell)); // nothing of the failed restore is left (init reaps lazily)
                } finally {
                    for (int fd : held) jcriu.sys.Sys.close(fd);
                    if (taken >= 0) jcriu.sys.Sys.close(taken);
                }
                int last = checkCount(w, shell) - 1;
                restoreAndCountOn(dir, w, shell, last + 5);
            } finally {
                Trees.kill(w.pid());
            }
        }
    }

    /** The shell alone: its terminal's master is outside the dump, which is refused naming it; the shell runs on. */
    @Test
    void aTerminalWhoseMasterIsOutsideIsRefusedNamingShellJob() throws Exception {
        try (Workload w = start()) {
            try {
                String child = w.awaitOutput("child=\\d+ pts=\\d+");
                int shell = (int) Workload.number(child, "child");
                long index = Workload.number(child, "pts");
                w.awaitOutput("n 2 ");
                Path dir = Files.createTempDirectory(w.dir(), "img-");
                // the shell forks its commands with vfork: caught in the middle of one, the dump refuses
                // that (and the shell runs on), so it is tried again until it meets the terminal
                IOException e;
                long end = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
                do {
                    e = assertThrows(IOException.class, () -> Checkpointer.dump(new DumpOptions(shell, dir, false,
                            false), Checkpoints.log(new ByteArrayOutputStream())));
                } while (e.getMessage().contains("in the middle of vfork") && System.nanoTime() < end);
                assertTrue(e.getMessage().contains("/dev/pts/" + index) && e.getMessage().contains("--shell-job"),
                        e.getMessage());
                int n = checkCount(w, shell);
                w.awaitOutput("n " + (n + 3) + " ");
            } finally {
                Trees.kill(w.pid());
            }
        }
    }

    /** Restores the tree, waits for the count to reach {@code upTo}, checks it had no gap or repeat, kills it. */
    private static void restoreAndCountOn(Path dir, Workload w, int shell, int upTo) throws Exception {
        try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
            try {
                r.awaitOutput("n " + upTo + " ", Duration.ofSeconds(20));
                checkCount(w, shell);
            } finally {
                Trees.kill(r.pid());
            }
        }
    }
}

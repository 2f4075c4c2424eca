package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Dump, kill and restore real processes, and check what they observe afterwards against
 * what they observe when merely stopped and continued (the workloads' own checks).
 */
class CheckpointRestoreTest {

    private static long lastCount(Workload w) {
        return lastCount(w.lines());
    }

    private static long lastCount(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("count=")) return Workload.number(lines.get(i), "count");
        }
        throw new AssertionError("no count line in " + lines);
    }

    @Test
    void counterContinuesWithSamePidAndNoReset() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=5");
            int pid = w.pid();
            Path dir = Checkpoints.imageDir(w);
            Checkpointer.Result res = Checkpoints.dump(w, dir, false);
            assertEquals(pid, res.pid());
            w.awaitGone(Duration.ofSeconds(30));
            long before = lastCount(w);
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals(pid, r.pid(), "restored with the original PID");
                String next = r.awaitOutput("count=");
                assertEquals(before + 1, Workload.number(next, "count"), "counter continues, no reset: " + next);
                r.awaitOutput("count=" + (before + 5));
                r.signal(Sig.SIGTERM);
                r.awaitOutput("term at count=");
                r.awaitOutput("exit code=0");
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    @Test
    void staticBinaryRoundTrip() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("static_counter"))) {
            w.awaitOutput("count=3");
            try (Workload r = Checkpoints.cycle(w)) {
                long before = lastCount(w.lines().subList(0, r.cursor()));
                assertEquals(before + 1, Workload.number(r.awaitOutput("count="), "count"));
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    @Test
    void memoryPatternOf256MiBSurvives() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("memory"), "256", "12345")) {
            w.awaitOutput("ready", Duration.ofSeconds(60));
            w.signal(Sig.SIGUSR1);
            String ok = w.awaitOutput("verify ", Duration.ofSeconds(60));
            assertTrue(ok.startsWith("verify ok"), ok);
            String sum = Workload.word(ok, "checksum");
            try (Workload r = Checkpoints.cycle(w)) {
                r.signal(Sig.SIGUSR1);
                String again = r.awaitOutput("verify ", Duration.ofSeconds(60));
                assertEquals("verify ok checksum=" + sum, again.strip());
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    /**
     * Every page of every private mapping, not only the pattern the workload checks: the process
     * is stopped before the dump (so it comes back stopped and nothing runs in between), its
     * memory read through /proc/PID/mem, and read again after the restore. A run of pages left
     * unfilled, or filled from the wrong offset, shows as a mapping whose digest changed. The
     * rseq areas are left out: the kernel writes the CPU the thread runs on into them.
     */
    @Test
    void everyPrivatePageComesBackBitForBit() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("memory"), "16", "777")) {
            w.awaitOutput("ready", Duration.ofSeconds(60));
            w.signal(Sig.SIGUSR1);
            assertTrue(w.awaitOutput("verify ", Duration.ofSeconds(60)).startsWith("verify ok"));
            w.signal(Sig.SIGSTOP);
            w.awaitState("T");
            Map<String, List<String>> before = memoryDigests(w.pid());
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            List<Long> rseq = new java.util.ArrayList<>(); // the pages of the rseq areas
            for (var t : jcriu.image.StateCodec.read(jcriu.image.ImageDir.open(dir)).root().threads()) {
                var reg = t.rseq().registration();
                if (reg != null) rseq.add(reg.pointer() & ~4095L);
            }
            assertFalse(rseq.isEmpty(), "glibc registers rseq");
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount())) {
                assertEquals('T', r.awaitState("T"), "a stopped process comes back stopped");
                Map<String, List<String>> after = memoryDigests(r.pid());
                assertEquals(before.keySet(), after.keySet(), "the same mappings");
                int pages = 0;
                for (String k : before.keySet()) {
                    long start = Long.parseUnsignedLong(k.substring(0, k.indexOf('-')), 16);
                    for (int i = 0; i < before.get(k).size(); i++) {
                        if (rseq.contains(start + 4096L * i)) continue;
                        assertEquals(before.get(k).get(i), after.get(k).get(i), "page " + i + " of " + k);
                        pages++;
                    }
                }
                assertTrue(before.size() > 10 && pages > 2048, before.size() + " mappings, " + pages + " pages");
                r.signal(Sig.SIGCONT);
                r.signal(Sig.SIGUSR1);
                assertTrue(r.awaitOutput("verify ", Duration.ofSeconds(60)).startsWith("verify ok"));
            }
        }
    }

    /**
     * SHA-256 of each page of each readable private mapping (the kernel's vvar pages change by
     * themselves: left out), by mapping.
     */
    private static Map<String, List<String>> memoryDigests(int pid) throws Exception {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        try (java.io.RandomAccessFile mem = new java.io.RandomAccessFile("/proc/" + pid + "/mem", "r")) {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/maps"))) {
                String[] f = l.split("\\s+", 6);
                String name = f.length > 5 ? f[5] : "";
                if (f[1].charAt(0) != 'r' || f[1].charAt(3) != 'p' || name.startsWith("[vvar") || name.equals("[vsyscall]")) {
                    continue;
                }
                long start = Long.parseUnsignedLong(f[0].split("-")[0], 16), end = Long.parseUnsignedLong(f[0].split("-")[1], 16);
                java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
                byte[] page = new byte[4096];
                List<String> digests = new java.util.ArrayList<>();
                for (long a = start; a < end; a += page.length) {
                    mem.seek(a);
                    mem.readFully(page);
                    digests.add(java.util.HexFormat.of().formatHex(md.digest(page)));
                }
                out.put(f[0] + " " + name, digests);
            }
        }
        return out;
    }

    @Test
    void fileOffsetsAndDescriptorsKept() throws Exception {
        Path data = Files.createTempFile("jcriu-files", ".dat");
        byte[] bytes = new byte[64 * 1024];
        for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) i;
        Files.write(data, bytes);
        try (Workload w = Workload.start(Gcc.compile("files"), data.toString())) {
            w.awaitOutput("ready");
            w.signal(Sig.SIGUSR1);
            String first = w.awaitOutput("read at=");
            w.awaitOutput("fds ok");
            long next = Workload.number(first, "offset");
            try (Workload r = Checkpoints.cycle(w)) {
                r.signal(Sig.SIGUSR1);
                String second = r.awaitOutput("read at=");
                assertEquals(next, Workload.number(second, "at"), "offset kept: " + second);
                String fds = r.awaitOutput("fds ");
                assertEquals("fds ok", fds.strip());
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        } finally {
            Files.deleteIfExists(data);
        }
    }

    @Test
    void signalHandlersMaskPendingAndAltStackKept() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("signals"))) {
            w.awaitOutput("ready");
            w.signal(Sig.SIGUSR1);
            w.awaitOutput("usr1=1 usr2=0");
            w.signal(Sig.SIGRTMIN + 1); // blocked: stays pending across the checkpoint
            assertTrue(pendingMask(w.pid()) != 0, "SIGRTMIN+1 pending before the dump");
            try (Workload r = Checkpoints.cycle(w)) {
                r.signal(Sig.SIGUSR1);
                r.awaitOutput("usr1=2 usr2=0");
                r.signal(Sig.SIGUSR2);
                r.awaitOutput("usr1=2 usr2=1");
                r.signal(Sig.SIGHUP);
                String hup = r.awaitOutput("hup blocked=");
                assertTrue(hup.contains("pending=35"), hup);
                assertTrue(hup.contains("rt_blocked=yes usr1_restart=yes usr1_siginfo=yes usr2_onstack=yes altstack=same"),
                        hup);
                r.awaitOutput("rt arrived count=1");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    private static long pendingMask(int pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("ShdPnd:")) return Long.parseUnsignedLong(l.substring(7).strip(), 16);
        }
        throw new AssertionError("no ShdPnd");
    }

    @Test
    void nanosleepResumesAfterRestore() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("sleeper"), "3")) {
            w.awaitOutput("ready");
            w.awaitState("S");
            try (Workload r = Checkpoints.cycle(w)) {
                String line = r.awaitOutput("slept ", Duration.ofSeconds(20));
                assertTrue(line.startsWith("slept ok"), line);
                assertTrue(Workload.number(line, "elapsed_ms") >= 3000, line);
                r.awaitOutput("exit code=7");
            }
        }
    }

    @Test
    void nonDetachedRestorePassesTheExitStatus() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("exitcode"), "42")) {
            w.awaitOutput("ready");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            Restorer.Result res = Restorer.restore(new RestoreOptions(dir, false, false, false), Checkpoints.log(log));
            assertEquals(w.pid(), res.pid());
            assertEquals(ProcessHandle.current().pid(), Workload.stat(res.pid()).orElseThrow().ppid(),
                    "without -d jcriu is the parent");
            Sig.kill(res.pid(), Sig.SIGUSR1);
            assertEquals(42, Restorer.waitForExit(res.pid()));
        }
    }

    @Test
    void leaveRunningKeepsTheProcessGoingAndTheImageRestores() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=3");
            Path dir = Checkpoints.imageDir(w);
            long seenBefore = lastCount(w);
            Checkpoints.dump(w, dir, true);
            w.awaitOutput("count=" + (seenBefore + 10));
            assertTrue(w.alive());
            assertEquals(0, Workload.tracerPid(w.pid()), "no tracer left behind");
            long killedAt = lastCount(w);
            w.kill9AndAwaitGone();
            int line = w.lineCount();
            try (Workload r = Checkpoints.restore(dir, w.dir(), line)) {
                long c = Workload.number(r.awaitOutput("count="), "count");
                assertTrue(c > seenBefore && c <= killedAt, "restored at the dump's moment: " + c);
                assertFalse(r.text().contains("BAD"), r.text());
            }
            assertFalse(w.text().contains("BAD"), w.text());
        }
    }

    @Test
    void imagesAreOwnerOnlyAndCritDecodesThem() throws Exception {
        // blockers: threads, two pipes, 13 unread bytes in one of them
        try (Workload w = Workload.start(Gcc.compile("blockers"))) {
            w.awaitOutput("ready");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, true);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.sorted().toList();
            }
            assertTrue(files.size() >= 10, files.toString());
            assertTrue(files.contains(dir.resolve("pipes-data.img")), files.toString());
            assertTrue(files.contains(dir.resolve(jcriu.image.Manifest.NAME)), files.toString());
            Process ps = new ProcessBuilder("crit", "x", dir.toString(), "ps").redirectErrorStream(true).start();
            String psOut = new String(ps.getInputStream().readAllBytes());
            assertTrue(ps.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, ps.exitValue(), "crit x DIR ps:\n" + psOut);
            assertTrue(psOut.contains(Integer.toString(w.pid())) && psOut.contains("blockers"), psOut);
            // every image the checks below read must be there: a missing one must fail, not skip its check
            List<String> expected = new java.util.ArrayList<>(List.of("pipes-data.img", "files.img", "fdinfo-" + jcriu.image.StateCodec.imageId(0) + ".img",
                    "mm-" + w.pid() + ".img", "pstree.img", "inventory.img", "fs-" + w.pid() + ".img"));
            for (int tid : w.tids()) expected.add("core-" + tid + ".img");
            for (String e : expected) assertTrue(files.contains(dir.resolve(e)), "no " + e + " in " + files);
            int rseqChecked = 0;
            boolean commChecked = false, pipeChecked = false, dataChecked = false;
            for (Path f : files) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
                // the manifest (a text file, not an image) lists every other file
                if (f.getFileName().toString().startsWith("pages-")
                        || f.getFileName().toString().equals(jcriu.image.Manifest.NAME)) continue;
                Process p = new ProcessBuilder("crit", "decode", "-i", f.toString(), "--pretty")
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                assertTrue(p.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue(), "crit decode " + f + ":\n" + out);
                String name = f.getFileName().toString();
                if (name.startsWith("core-")) {
                    assertTrue(out.contains("\"rseq_entry\""), out);
                    rseqChecked++;
                }
                if (name.equals("core-" + w.pid() + ".img")) {
                    assertTrue(out.contains("\"comm\": \"blockers\""), out); // threads carry their own names
                    commChecked = true;
                }
                if (name.equals("files.img")) {
                    assertTrue(out.contains("\"type\": \"PIPE\""), out);
                    pipeChecked = true;
                }
                if (name.equals("pipes-data.img")) {
                    assertTrue(out.contains("\"bytes\": 13") && out.contains("aGVsbG8tYmFja2xvZw"), out); // base64
                    dataChecked = true;
                }
            }
            assertEquals(w.tids().size(), rseqChecked, "an rseq entry checked in every thread's core");
            assertTrue(commChecked && pipeChecked && dataChecked, "comm, pipe and pipe data checked");
        }
    }

    @Test
    void dumpOfMissingProcessFailsClearly() {
        Path dir = Path.of("target", "no-such-process-img");
        var e = assertThrows(Checkpointer.DumpException.class,
                () -> Checkpointer.dump(new DumpOptions(4_000_000, dir, false, false), Checkpoints.log(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().contains("4000000") && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void aRefusedDumpLeavesTheProcessRunningUnharmed() throws Exception {
        // locker holds a flock: refused without --file-locks, once the process is frozen
        try (Workload w = Workload.start(Gcc.compile("locker"), "flock")) {
            w.awaitOutput("alive 3");
            Path dir = Checkpoints.imageDir(w);
            var e = assertThrows(Checkpointer.DumpException.class, () -> Checkpointer.dump(
                    new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("fd 3") && e.getMessage().contains("lock.file")
                    && e.getMessage().contains("--file-locks"), e.getMessage());
            long at = Long.parseLong(w.skipToEnd().awaitOutput("^alive ").substring("alive ".length()));
            w.awaitOutput("^alive " + (at + 3) + "$");
            assertEquals(0, Workload.tracerPid(w.pid()));
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(0, s.count(), "a failed dump leaves no images");
            }
        }
    }

    @Test
    void restoreRefusesATakenPidAndCreatesNothing() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, true);
            long helpersBefore = countHelpers();
            var e = assertThrows(Restorer.RestoreException.class, () -> Restorer.restore(
                    new RestoreOptions(dir, true, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("PID " + w.pid() + " is taken"), e.getMessage());
            assertTrue(e.getMessage().contains("counter"), e.getMessage());
            assertEquals(helpersBefore, countHelpers());
            long at = lastCount(w);
            w.awaitOutput("count=" + (at + 2));
        }
    }

    @Test
    void corruptImageFailsNamingTheFileAndLeavesNothing() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            Path core = dir.resolve("core-" + w.pid() + ".img");
            byte[] b = Files.readAllBytes(core);
            Files.write(core, java.util.Arrays.copyOf(b, b.length / 2));
            var e = assertThrows(Restorer.RestoreException.class, () -> Restorer.restore(
                    new RestoreOptions(dir, true, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("core-" + w.pid() + ".img"), e.getMessage());
            assertFalse(Files.exists(Path.of("/proc/" + w.pid())), "no half-restored process");
            assertEquals(0, countHelpers());
        }
    }

    private static long countHelpers() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            return s.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).filter(p -> {
                try {
                    return Files.readString(p.resolve("comm")).strip().equals("jcriu-restore-h");
                } catch (IOException ex) {
                    return false;
                }
            }).count();
        }
    }

    private static Map<String, String> caps(int pid) throws IOException {
        Map<String, String> m = new java.util.TreeMap<>();
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("Cap") || l.startsWith("Uid:") || l.startsWith("Gid:")) {
                m.put(l.substring(0, l.indexOf(':')), l.substring(l.indexOf(':') + 1).strip());
            }
        }
        return m;
    }

    @Test
    void reducedCapabilitiesAreRestored() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"), "dropcaps")) {
            w.awaitOutput("count=2");
            int pid = w.pid();
            Map<String, String> before = caps(pid);
            assertTrue(!before.get("CapBnd").equals(caps((int) ProcessHandle.current().pid()).get("CapBnd")), "reduced: " + before);
            try (Workload r = Checkpoints.cycle(w)) {
                r.awaitOutput("count=");
                assertEquals(before, caps(pid), "capabilities and ids after restore");
            }
        }
    }

    /** A process of another user: its rlimits come from /proc (prlimit64 would need CAP_SYS_RESOURCE). */
    @Test
    void processOfAnotherUserKeepsItsIdsAndLimits() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"), "nobody")) {
            w.awaitOutput("count=2");
            Map<String, String> before = caps(w.pid());
            assertTrue(before.get("Uid").startsWith("65534"), before.toString());
            String limits = Files.readString(Path.of("/proc/" + w.pid() + "/limits"));
            try (Workload r = Checkpoints.cycle(w)) {
                r.awaitOutput("count=");
                assertEquals(before, caps(r.pid()));
                assertEquals(limits, Files.readString(Path.of("/proc/" + r.pid() + "/limits")));
            }
        }
    }

    /** A vDSO that is not byte-identical (as after a kernel change) is refused before anything runs. */
    @Test
    void differentVdsoIsRefused() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("counter"))) {
            w.awaitOutput("count=2");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            jcriu.state.ProcessState st = jcriu.image.StateCodec.read(jcriu.image.ImageDir.open(dir)).root();
            jcriu.state.VmaState vdso = st.mm().vmas().stream()
                    .filter(v -> v.kind() == jcriu.state.VmaState.Kind.VDSO).findFirst().orElseThrow();
            long off = 0;
            for (jcriu.state.PageRun run : st.mm().pages()) {
                if (run.addr() >= vdso.start() && run.addr() < vdso.end()) break;
                off += run.bytes();
            }
            try (var ch = java.nio.channels.FileChannel.open(dir.resolve("pages-2.img"),
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) 0xcc}), off + 100);
            }
            jcriu.testsupport.Images.reseal(dir); // a well-formed set from another kernel, not a damaged one
            var e = assertThrows(Restorer.RestoreException.class, () -> Restorer.restore(
                    new RestoreOptions(dir, true, false, false), Checkpoints.log(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("vDSO") && e.getMessage().contains("differs"), e.getMessage());
            // The killed attempt may linger as a zombie until PID 1 reaps it; it must never run.
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (Files.exists(Path.of("/proc/" + w.pid()))) {
                String state;
                try {
                    state = Files.readString(Path.of("/proc/" + w.pid() + "/stat"));
                } catch (java.nio.file.NoSuchFileException gone) {
                    break;
                }
                assertTrue(state.contains(") Z ") || state.contains(") X "), "half-restored process left: " + state);
                assertTrue(System.nanoTime() < end, "not reaped");
                Thread.sleep(50);
            }
        }
    }
}

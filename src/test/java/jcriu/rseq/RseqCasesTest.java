package jcriu.rseq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.image.ImageDir;
import jcriu.image.StateCodec;
import jcriu.ptrace.TaskMemory;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.state.ProcessState;
import jcriu.state.ThreadState;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Every case of the rseq spec on real critical sections (workload rseq_cs.c), checked
 * through the images, through ptrace and /proc/PID/mem, and against the kernel's own
 * behaviour for the same program stopped and continued without any checkpoint.
 */
class RseqCasesTest {
    private static final int ROUNDS = 5;
    private static final int TRIES_TO_CATCH_INSIDE = 6;
    private static final int GLIBC_SIG = 0x53053053, PRIVATE_SIG = 0xabcdef12;

    /** The addresses the workload prints on its ready line. */
    private record Ready(int pid, long area, int sig, long desc, long csStart, long csEnd, long abort) {
        static Ready of(String line) {
            return new Ready((int) Workload.number(line, "pid"), Workload.number(line, "area"),
                    (int) Workload.number(line, "sig"), Workload.number(line, "desc"), Workload.number(line, "cs_start"),
                    Workload.number(line, "cs_end"), Workload.number(line, "abort"));
        }

        boolean inSection(long ip) {
            return Long.compareUnsigned(ip, csStart) >= 0 && Long.compareUnsigned(ip, csEnd) < 0;
        }
    }

    private static Workload start(String mode) {
        return Workload.start(Gcc.compile("rseq_cs"), mode);
    }

    /**
     * Starts a norestart/badversion workload and waits until it has stopped itself inside
     * stop_cs. On this kernel the main thread is sometimes preempted in the microseconds between
     * entering the section and the stop, and killed for it (the flags or the version): then
     * a fresh process is started.
     */
    private static Workload startStopped(String mode) {
        AssertionError last = null;
        for (int i = 0; i < 8; i++) {
            Workload w = start(mode);
            try {
                w.awaitOutput("stopping");
                w.awaitState("T");
                return w;
            } catch (AssertionError e) {
                last = e;
                w.close();
            }
        }
        throw last;
    }

    /** The main thread (the stopped variants also have their stopper thread). */
    private static RseqReport.ThreadReport leader(RseqReport r) {
        RseqReport.ThreadReport t = r.threads().getFirst();
        assertEquals(r.pid(), t.tid(), r.toText());
        return t;
    }

    private static String tracerPid(int pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("TracerPid:")).findFirst().orElseThrow().substring(10).strip();
    }

    private static long readWord(int pid, long addr) throws IOException {
        try (TaskMemory m = TaskMemory.open(pid, false)) {
            return m.readLong(addr);
        }
    }

    private static RseqReport.ThreadReport only(RseqReport r) {
        assertEquals(1, r.threads().size(), r.toText());
        return r.threads().getFirst();
    }

    private static long aborts(String line) { return Workload.number(line, "aborts"); }

    /** Asks the workload for its registration / cpu_id check and returns the answer line. */
    private static String selfCheck(Workload w) {
        w.signal(Sig.SIGUSR1);
        return w.awaitOutput("rseq registered=");
    }

    private static Workload restore(Path dir, Workload original, boolean leaveStopped, ByteArrayOutputStream log)
            throws IOException {
        Restorer.Result r = Restorer.restore(new RestoreOptions(dir, true, leaveStopped, false), Checkpoints.log(log));
        return Workload.adopt(r.pid(), original.dir()).seek(original.lineCount());
    }

    /**
     * Restartable section (flags 0), on glibc's area or on a private area with its own
     * signature. Each round retries with a fresh process until a dump catches the thread inside
     * (the image's ip is then the abort handler); every attempt, inside or not, is restored and
     * must keep committing with nothing BAD, the same registration and a correct cpu_id.
     */
    @ParameterizedTest
    @ValueSource(strings = {"glibc", "private"})
    void caughtInsideResumesAtTheAbortHandlerLikeTheKernel(String mode) throws Exception {
        int sig = mode.equals("private") ? PRIVATE_SIG : GLIBC_SIG;
        int attempts = 0;
        for (int round = 0; round < ROUNDS; round++) {
            boolean caught = false;
            for (int t = 0; t < TRIES_TO_CATCH_INSIDE && !caught; t++) {
                attempts++;
                caught = oneCycle(mode, sig);
            }
            assertTrue(caught, "round " + round + ": no dump caught the thread inside in " + TRIES_TO_CATCH_INSIDE
                    + " tries");
        }
        System.out.printf("rseq %s: %d rounds caught inside, %d dumps%n", mode, ROUNDS, attempts);
    }

    /** One process: oracle, dump, restore, checks. Returns whether the dump caught it inside. */
    private boolean oneCycle(String mode, int sig) throws Exception {
        try (Workload w = start(mode)) {
            Ready rd = Ready.of(w.awaitOutput("ready"));
            assertEquals(sig, rd.sig());
            long a0 = aborts(w.awaitOutput("commits="));

            // The kernel as oracle: stopped inside the section, continued, it aborts.
            w.signal(Sig.SIGSTOP);
            w.awaitState("T");
            RseqReport.ThreadReport stopped = only(RseqReport.read(w.pid()));
            // Detaching re-enters the group stop, so the state may read R for a moment: wait for T.
            assertEquals('T', w.awaitState("T"), "the report leaves a stopped process stopped");
            w.signal(Sig.SIGCONT);
            long a1 = aborts(w.awaitOutput("commits="));
            if (stopped.kind() == RseqReport.Case.INSIDE_ABORT) {
                assertTrue(a1 > a0, "SIGSTOP/SIGCONT inside the section aborts it: " + a0 + " -> " + a1);
            }
            String before = selfCheck(w);
            assertTrue(before.contains("registered=yes") && before.contains("cpu_ok=yes"), before);
            RseqReport.ThreadReport rep = only(RseqReport.read(w.pid()));
            assertEquals(rd.area(), rep.config().pointer());
            assertEquals(32, rep.config().size());
            assertEquals(sig, rep.config().signature());
            long lastPrinted = aborts(w.awaitOutput("commits="));

            Path dir = Checkpoints.imageDir(w);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(log));
            ThreadState img = StateCodec.read(ImageDir.open(dir)).root().leader();
            long ip = img.regs().rip();
            boolean inside = log.toString().contains(": inside: rip");
            assertFalse(rd.inSection(ip), String.format("image ip %#x inside [%#x, %#x)%n%s", ip, rd.csStart(),
                    rd.csEnd(), log));
            if (inside) assertEquals(rd.abort(), ip, "image ip is the abort handler\n" + log);
            assertEquals(new RseqState.Registration(rd.area(), 32, sig), img.rseq().registration());
            assertEquals(0, img.rseq().rseqCsToRestore(), "no rseq_cs pointer saved for a restartable section");
            w.awaitGone(Duration.ofSeconds(30));

            ByteArrayOutputStream rlog = new ByteArrayOutputStream();
            try (Workload r = restore(dir, w, false, rlog)) {
                long after = aborts(r.awaitOutput("commits="));
                if (inside) assertTrue(after > lastPrinted, "the restored section aborted: " + lastPrinted + " -> " + after);
                String check = selfCheck(r);
                assertTrue(check.contains("registered=yes"), "same area, size and signature registered: " + check);
                assertTrue(check.contains("cpu_ok=yes"), check);
                RseqReport.ThreadReport again = only(RseqReport.read(r.pid()));
                assertEquals(rep.config(), again.config(), "same registration after restore");
                r.awaitCountGrows("commits", Duration.ofSeconds(30), "still committing");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
                assertFalse(r.text().contains("BAD"), r.text());
            }
            return inside;
        }
    }

    /** No rseq at all (glibc tunable): nothing saved, nothing registered at restore. */
    @RepeatedTest(ROUNDS)
    void withoutRseqNothingIsRegisteredBeforeOrAfter() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("rseq_cs"), List.of(),
                Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0"))) {
            assertTrue(w.awaitOutput("ready").contains("rseq=none"));
            w.awaitOutput("commits=");
            RseqReport.ThreadReport t = only(RseqReport.read(w.pid()));
            assertEquals(RseqReport.Case.NOT_REGISTERED, t.kind(), t.decision());
            assertFalse(t.registered());
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            assertEquals(null, StateCodec.read(ImageDir.open(dir)).root().leader().rseq().registration());
            w.awaitGone(Duration.ofSeconds(30));
            try (Workload r = restore(dir, w, false, new ByteArrayOutputStream())) {
                r.awaitOutput("commits=");
                RseqReport.ThreadReport after = only(RseqReport.read(r.pid()));
                assertEquals(RseqReport.Case.NOT_REGISTERED, after.kind(), after.decision());
                assertTrue(selfCheck(r).contains("registered=no"), "the area was free to register: nothing held it");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
                assertFalse(r.text().contains("BAD"), r.text());
            }
        }
    }

    /**
     * NO_RESTART_ON_SIGNAL: rip is kept and rseq_cs written back. The process must not run
     * (this kernel kills it, as it kills the original when continued): restored stopped, then
     * checked through ptrace and /proc/PID/mem. Odd rounds also continue the restored process
     * and expect what the kernel does to the original: SIGSEGV, never a completed section.
     */
    @RepeatedTest(ROUNDS)
    void noRestartOnSignalKeepsRipAndRseqCsAndStaysStopped(org.junit.jupiter.api.RepetitionInfo info) throws Exception {
        try (Workload w = startStopped("norestart")) {
            Ready rd = Ready.of(w.lines().getFirst());
            assertTrue(w.text().contains("stopping flags=2 version=0"), w.text());
            RseqReport.ThreadReport before = leader(RseqReport.read(w.pid()));
            assertEquals(RseqReport.Case.INSIDE_NO_RESTART, before.kind(), before.decision());
            assertTrue(before.inside() && rd.inSection(before.rip()));
            assertEquals(rd.desc(), before.csPointer());

            Path dir = Checkpoints.imageDir(w);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(log));
            ProcessState st = StateCodec.read(ImageDir.open(dir)).root();
            ThreadState img = st.leader();
            assertEquals(before.rip(), img.regs().rip(), "rip kept in the image\n" + log);
            assertEquals(rd.desc(), img.rseq().rseqCsToRestore(), "rseq_cs pointer saved (rseq_cs_pointer)");
            assertEquals(new RseqState.Registration(rd.area(), 32, GLIBC_SIG), img.rseq().registration());
            w.awaitGone(Duration.ofSeconds(30));

            ByteArrayOutputStream rlog = new ByteArrayOutputStream();
            try (Workload r = restore(dir, w, true, rlog)) {
                assertEquals('T', r.awaitState("T"), "left stopped\n" + rlog);
                assertEquals("0", tracerPid(r.pid()));
                assertEquals(rd.desc(), readWord(r.pid(), rd.area() + RseqArea.OFF_RSEQ_CS),
                        "rseq_cs written back (read through /proc/PID/mem)\n" + rlog);
                RseqReport.ThreadReport after = leader(RseqReport.read(r.pid()));
                assertEquals(img.regs().rip(), after.rip(), "rip as saved in the image");
                assertEquals(before.config(), after.config(), "PTRACE_GET_RSEQ_CONFIGURATION as before");
                assertEquals(RseqReport.Case.INSIDE_NO_RESTART, after.kind(), after.decision());
                assertEquals('T', r.awaitState("T"), "still stopped after the ptrace read");
                assertEquals(rd.desc(), readWord(r.pid(), rd.area() + RseqArea.OFF_RSEQ_CS));
                if (info.getCurrentRepetition() % 2 == 1) {
                    r.signal(Sig.SIGCONT);
                    r.awaitGone(Duration.ofSeconds(30));
                    assertFalse(r.text().contains("continued"), "killed by the kernel like the original:\n" + r.text());
                }
            }
        }
    }

    /**
     * The same with the section in a thread other than the main one: that thread's rseq_cs is
     * written back into its own area, as the leader's is.
     */
    @RepeatedTest(2)
    void noRestartOnSignalInAnotherThreadIsWrittenBackToo() throws Exception {
        Workload cand = null;
        RseqReport.ThreadReport found = null;
        String worker = null;
        for (int i = 0; i < 8 && found == null; i++) {
            // the stop may reach the worker before it enters its section (a busy machine): set up again
            if (cand != null) cand.close();
            cand = startStopped("norestart-thread");
            worker = cand.awaitOutput("worker tid=");
            int id = (int) Workload.number(worker, "tid");
            RseqReport.ThreadReport r = RseqReport.read(cand.pid()).threads().stream().filter(t -> t.tid() == id)
                    .findFirst().orElseThrow();
            if (r.kind() == RseqReport.Case.INSIDE_NO_RESTART) found = r;
        }
        assertTrue(found != null, "the worker was never stopped inside its section");
        RseqReport.ThreadReport before = found;
        try (Workload w = cand) {
            Ready rd = Ready.of(w.lines().getFirst());
            int tid = (int) Workload.number(worker, "tid");
            long area = Workload.number(worker, "area");
            assertEquals(rd.desc(), before.csPointer());
            Path dir = Checkpoints.imageDir(w);
            Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(new ByteArrayOutputStream()));
            ThreadState img = StateCodec.read(ImageDir.open(dir)).root().threads().stream().filter(t -> t.tid() == tid)
                    .findFirst().orElseThrow();
            assertEquals(rd.desc(), img.rseq().rseqCsToRestore(), "the worker's rseq_cs pointer saved");
            w.awaitGone(Duration.ofSeconds(30));
            ByteArrayOutputStream rlog = new ByteArrayOutputStream();
            try (Workload r = restore(dir, w, true, rlog)) {
                assertEquals('T', r.awaitState("T"), "left stopped\n" + rlog);
                assertEquals(rd.desc(), readWord(r.pid(), area + RseqArea.OFF_RSEQ_CS),
                        "the worker's rseq_cs written back (read through /proc/PID/mem)\n" + rlog);
                RseqReport.ThreadReport after = RseqReport.read(r.pid()).threads().stream()
                        .filter(t -> t.tid() == tid).findFirst().orElseThrow();
                assertEquals(before.rip(), after.rip());
                assertEquals(RseqReport.Case.INSIDE_NO_RESTART, after.kind(), after.decision());
            }
        }
    }

    /** The kernel's answer to the two stopped variants when simply continued: SIGSEGV. */
    @ParameterizedTest
    @ValueSource(strings = {"norestart", "badversion"})
    void kernelOracleContinuedStoppedSectionsAreKilled(String mode) {
        for (int i = 0; i < 3; i++) {
            try (Workload w = startStopped(mode)) {
                w.signal(Sig.SIGCONT);
                w.awaitGone(Duration.ofSeconds(30));
                assertFalse(w.text().contains("continued"), w.text());
            }
        }
    }

    /**
     * version != 0: the dump is refused naming the thread and the version, no image is left,
     * and the process is left exactly as it was (stopped, same rip, same rseq_cs, no tracer).
     * With the version written back to 0 (this kernel would otherwise kill it, see the oracle
     * test) it goes on: the section aborts and output continues.
     */
    @RepeatedTest(ROUNDS)
    void versionOtherThanZeroIsRefusedAndTheProcessIsLeftAsItWas() throws Exception {
        try (Workload w = startStopped("badversion")) {
            Ready rd = Ready.of(w.lines().getFirst());
            assertTrue(w.text().contains("stopping flags=0 version=1"), w.text());
            RseqReport.ThreadReport before = leader(RseqReport.read(w.pid()));
            assertEquals(RseqReport.Case.REFUSED, before.kind(), before.decision());
            assertEquals(rd.desc(), before.csPointer());
            Path dir = Checkpoints.imageDir(w);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            var e = assertThrows(Checkpointer.DumpException.class,
                    () -> Checkpointer.dump(new DumpOptions(w.pid(), dir, false, false), Checkpoints.log(log)));
            assertTrue(e.getMessage().contains("thread " + w.pid()) && e.getMessage().contains("version 1"),
                    e.getMessage());
            try (var files = Files.list(dir)) {
                assertEquals(List.of(), files.toList(), "no images left");
            }
            assertTrue(w.alive());
            assertEquals('T', w.awaitState("T"), "still stopped, as before the dump");
            assertEquals("0", tracerPid(w.pid()));
            RseqReport.ThreadReport after = leader(RseqReport.read(w.pid()));
            assertEquals(before.rip(), after.rip(), "rip untouched");
            assertEquals(rd.desc(), readWord(w.pid(), rd.area() + RseqArea.OFF_RSEQ_CS), "rseq_cs untouched");
            assertEquals(1, readWord(w.pid(), rd.desc()) & 0xffffffffL, "descriptor untouched");

            try (TaskMemory m = TaskMemory.open(w.pid(), true)) {
                m.write(rd.desc(), new byte[4]); // version := 0, the only thing the kernel accepts
            }
            w.signal(Sig.SIGCONT);
            assertEquals("continued result=aborted", w.awaitOutput("continued").strip());
            w.awaitCountGrows("commits", Duration.ofSeconds(30), "still committing");
            assertEquals("0", tracerPid(w.pid()));
            w.signal(Sig.SIGTERM);
            w.awaitOutput("exit code=0");
            assertFalse(w.text().contains("BAD"), w.text());
        }
    }

    /** --leave-running while inside: the live task is moved to the abort handler and goes on correctly. */
    @RepeatedTest(ROUNDS)
    void leaveRunningInsideTheSectionKeepsTheLiveProcessCorrect() throws Exception {
        try (Workload w = start("glibc")) {
            Ready rd = Ready.of(w.awaitOutput("ready"));
            w.awaitOutput("commits=");
            int inside = 0;
            for (int i = 0; i < 4; i++) {
                long last = aborts(w.awaitOutput("commits="));
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                Checkpointer.dump(new DumpOptions(w.pid(), Checkpoints.imageDir(w), true, false), Checkpoints.log(log));
                boolean in = log.toString().contains(": inside: rip");
                String next = w.awaitOutput("commits=");
                if (in) {
                    inside++;
                    assertTrue(aborts(next) > last, "the live task aborted its section: " + last + " -> " + next);
                }
                assertEquals("0", tracerPid(w.pid()));
            }
            assertTrue(inside >= 1, "no leave-running dump caught the thread inside in 4");
            String check = selfCheck(w);
            assertTrue(check.contains("registered=yes") && check.contains("cpu_ok=yes"), check);
            assertEquals(rd.area(), only(RseqReport.read(w.pid())).config().pointer());
            w.signal(Sig.SIGTERM);
            w.awaitOutput("exit code=0");
            assertFalse(w.text().contains("BAD"), w.text());
        }
    }

    /**
     * RseqReport on a running process: fields as the workload printed them, nothing BAD, still
     * running, no tracer left. On a stopped one: two reads see the same rip and rseq_cs, and it
     * stays stopped, i.e. the report changes nothing (a running thread only sees what a
     * preemption does).
     */
    @RepeatedTest(ROUNDS)
    void reportReadsEverythingAndChangesNothing() throws Exception {
        try (Workload w = start("private")) {
            Ready rd = Ready.of(w.awaitOutput("ready"));
            w.awaitOutput("commits=");
            for (int i = 0; i < 3; i++) {
                RseqReport r = RseqReport.read(w.pid());
                RseqReport.ThreadReport t = only(r);
                assertEquals(new jcriu.ptrace.RseqConfig(rd.area(), 32, PRIVATE_SIG, 0), t.config());
                assertTrue(t.area().cpuId() >= 0, r.toText());
                if (t.csPointer() != 0) {
                    assertEquals(rd.desc(), t.csPointer());
                    assertEquals(rd.csStart(), t.cs().startIp());
                    assertEquals(rd.csEnd() - rd.csStart(), t.cs().postCommitOffset());
                    assertEquals(rd.abort(), t.cs().abortIp());
                }
                assertEquals(rd.inSection(t.rip()) && t.csPointer() != 0, t.inside());
                assertEquals(t.inside() ? RseqReport.Case.INSIDE_ABORT : RseqReport.Case.OUTSIDE, t.kind(), r.toText());
                String text = r.toText();
                assertTrue(text.contains(String.format("area %#x size 32 signature 0xabcdef12", rd.area())), text);
                assertTrue(text.contains("struct rseq: cpu_id_start") && text.contains("case: "), text);
                w.awaitCountGrows("commits", Duration.ofSeconds(30), "still committing after the report");
                assertEquals("0", tracerPid(w.pid()));
            }
            w.signal(Sig.SIGSTOP);
            w.awaitState("T");
            RseqReport.ThreadReport s1 = only(RseqReport.read(w.pid()));
            long word1 = readWord(w.pid(), rd.area() + RseqArea.OFF_RSEQ_CS);
            RseqReport.ThreadReport s2 = only(RseqReport.read(w.pid()));
            assertEquals(s1.rip(), s2.rip(), "registers unchanged by a report");
            assertEquals(s1.area(), s2.area());
            assertEquals(word1, readWord(w.pid(), rd.area() + RseqArea.OFF_RSEQ_CS), "rseq_cs unchanged");
            assertEquals(s1.kind(), s2.kind());
            assertEquals('T', w.awaitState("T"));
            assertEquals("0", tracerPid(w.pid()));
            w.signal(Sig.SIGCONT);
            w.awaitOutput("commits=");
            w.signal(Sig.SIGTERM);
            w.awaitOutput("exit code=0");
            assertFalse(w.text().contains("BAD"), w.text());
        }
    }
}

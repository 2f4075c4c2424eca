package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import jcriu.dump.Checkpointer;
import jcriu.dump.DumpOptions;
import jcriu.image.ImageDir;
import jcriu.image.StateCodec;
import jcriu.ptrace.RseqConfig;
import jcriu.rseq.RseqConfigSource;
import jcriu.state.ThreadState;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * The dump on a kernel without PTRACE_GET_RSEQ_CONFIGURATION (forced through the dump options;
 * the rest is this kernel's real behaviour: the injected rseq() probe, the refusal, the restore),
 * and a ptrace answer with registration flags != 0. Workloads: "counter" (one thread) and
 * "threads 4" (a main thread and 4 workers), with glibc's rseq or without it (tunable).
 */
class RseqOldKernelTest {
    private static final Map<String, String> NO_RSEQ = Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0");
    private static final Pattern THREAD = Pattern.compile("rseq of thread (\\d+)");

    private static Workload start(String workload, Map<String, String> env) {
        Workload w = workload.equals("threads")
                ? Workload.start(Gcc.compile("threads"), List.of("4"), env)
                : Workload.start(Gcc.compile(workload), List.of(), env);
        w.awaitOutput("ready");
        w.awaitOutput(workload.equals("threads") ? "thread=3 tid=\\d+ count=2" : "count=2");
        return w;
    }

    private static DumpOptions oldKernel(Workload w, Path dir, boolean leaveRunning) {
        return new DumpOptions(w.pid(), dir, leaveRunning, false, RseqConfigSource.NO_PTRACE_REQUEST);
    }

    private static String tracerPid(int pid, int tid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/task/" + tid + "/status")).stream()
                .filter(l -> l.startsWith("TracerPid:")).findFirst().orElseThrow().substring(10).strip();
    }

    /** The thread the refusal names; it must be one of the process's. */
    private static int namedThread(String msg, List<Integer> tids) {
        Matcher m = THREAD.matcher(msg);
        assertTrue(m.find(), msg);
        int tid = Integer.parseInt(m.group(1));
        assertTrue(tids.contains(tid), tid + " is not a thread of " + tids + ": " + msg);
        return tid;
    }

    /** Nothing of the failed dump is left: no image, no tracer, and every thread goes on printing. */
    private static void assertUnharmed(Workload w, Path dir, List<Integer> tids, String workload) throws IOException {
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.toList(), "no images left");
        }
        assertTrue(w.alive());
        assertEquals(tids, w.tids(), "every thread still there");
        for (int tid : tids) assertEquals("0", tracerPid(w.pid(), tid), "no tracer on " + tid);
        w.skipToEnd();
        if (workload.equals("threads")) {
            for (int i = 0; i < 4; i++) w.awaitOutput("thread=" + i + " tid");
        } else {
            long c1 = Workload.number(w.awaitOutput("count="), "count");
            assertEquals(c1 + 1, Workload.number(w.awaitOutput("count="), "count"), "counting on");
        }
    }

    private static void terminate(Workload w) {
        w.signal(Sig.SIGTERM);
        w.awaitOutput("exit code=0");
        assertFalse(w.text().contains("BAD"), w.text());
    }

    /**
     * glibc's rseq registered: the probe answers EINVAL, the dump is refused naming a thread and
     * the missing request, and the process goes on with the same registrations (read afterwards
     * with the real PTRACE_GET_RSEQ_CONFIGURATION). Three refused dumps per process.
     */
    @ParameterizedTest
    @ValueSource(strings = {"counter", "threads"})
    void registeredThreadIsRefusedAndTheProcessGoesOn(String workload) throws Exception {
        try (Workload w = start(workload, Map.of())) {
            List<Integer> tids = w.tids();
            Map<Integer, RseqConfig> before = ThreadsTest.rseqOf(tids);
            for (int tid : tids) assertTrue(before.get(tid).registered(), "glibc registered " + tid);
            for (int round = 0; round < 3; round++) {
                Path dir = Checkpoints.imageDir(w);
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                var e = assertThrows(Checkpointer.DumpException.class,
                        () -> Checkpointer.dump(oldKernel(w, dir, false), Checkpoints.log(log)));
                String msg = e.getMessage();
                int tid = namedThread(msg, tids);
                assertTrue(msg.contains("lacks PTRACE_GET_RSEQ_CONFIGURATION") && msg.contains("registered"), msg);
                assertTrue(log.toString().contains("rseq tid " + tid + ": injected rseq(0xfffffffffffff000, 32, 0,"
                        + " 0x53053053) answered EINVAL: registered"), log.toString());
                assertUnharmed(w, dir, tids, workload);
                assertEquals(before, ThreadsTest.rseqOf(tids), "registrations unchanged");
            }
            terminate(w);
        }
    }

    /**
     * No rseq anywhere (tunable): every thread answers EFAULT, the dump goes on with nothing
     * registered, and the restored process continues with its TIDs and still no registration.
     */
    @ParameterizedTest
    @ValueSource(strings = {"counter", "threads"})
    void unregisteredThreadsAreDumpedAndRestored(String workload) throws Exception {
        try (Workload w = start(workload, NO_RSEQ)) {
            List<Integer> tids = w.tids();
            for (RseqConfig c : ThreadsTest.rseqOf(tids).values()) assertFalse(c.registered(), c.toString());
            Path dir = Checkpoints.imageDir(w);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            try {
                Checkpointer.dump(oldKernel(w, dir, false), Checkpoints.log(log));
            } catch (IOException e) {
                throw new AssertionError(e.getMessage() + "\n" + log, e);
            }
            for (int tid : tids) {
                assertTrue(log.toString().contains("rseq tid " + tid + ": injected rseq(0xfffffffffffff000, 32, 0,"
                        + " 0x53053053) answered EFAULT: not registered"), log.toString());
            }
            List<ThreadState> saved = StateCodec.read(ImageDir.open(dir)).root().threads();
            assertEquals(tids.size(), saved.size());
            for (ThreadState t : saved) assertNull(t.rseq().registration(), "nothing registered saved for " + t.tid());
            w.awaitGone(Duration.ofSeconds(30));
            // what the original printed, read before the restored process can add to the same file
            List<String> printed = w.lines();
            try (Workload r = Checkpoints.restore(dir, w.dir(), printed.size())) {
                assertEquals(tids, r.tids(), "same TIDs");
                if (workload.equals("threads")) {
                    for (int i = 0; i < 4; i++) r.awaitOutput("thread=" + i + " tid");
                } else {
                    long last = Workload.number(printed.reversed().stream().filter(l -> l.startsWith("count="))
                            .findFirst().orElseThrow(), "count");
                    assertEquals(last + 1, Workload.number(r.awaitOutput("count="), "count"), "continues where it was");
                }
                for (RseqConfig c : ThreadsTest.rseqOf(tids).values()) {
                    assertFalse(c.registered(), "nothing registered after restore: " + c);
                }
                terminate(r);
            }
        }
    }

    /**
     * PTRACE_GET_RSEQ_CONFIGURATION answering flags != 0 (no kernel does yet; a source that alters
     * the real answer of one thread): the dump is refused naming that thread and the flags, before
     * anything was run in the process. rseq_cs spins inside its section, so a change to the frozen
     * thread (an injected call clears rseq_cs) would show as BAD; it keeps committing, its
     * registration in place and checked by the workload itself.
     */
    @ParameterizedTest
    @ValueSource(strings = {"rseq_cs", "threads"})
    void flagsInTheAnswerAreRefusedAndTheProcessGoesOn(String workload) throws Exception {
        try (Workload w = workload.equals("threads") ? start(workload, Map.of())
                : Workload.start(Gcc.compile("rseq_cs"))) {
            if (workload.equals("rseq_cs")) w.awaitOutput("commits=");
            List<Integer> tids = w.tids();
            int victim = tids.getLast();
            Map<Integer, RseqConfig> before = ThreadsTest.rseqOf(tids);
            RseqConfigSource flagged = (tracer, tid) -> {
                RseqConfig c = RseqConfigSource.PTRACE.read(tracer, tid);
                return tid == victim ? new RseqConfig(c.pointer(), c.size(), c.signature(), 4) : c;
            };
            for (int round = 0; round < 3; round++) {
                Path dir = Checkpoints.imageDir(w);
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                var e = assertThrows(Checkpointer.DumpException.class, () -> Checkpointer.dump(
                        new DumpOptions(w.pid(), dir, false, false, flagged), Checkpoints.log(log)));
                assertEquals(victim, namedThread(e.getMessage(), tids), e.getMessage());
                assertTrue(e.getMessage().contains("reports flags 4"), e.getMessage());
                assertFalse(log.toString().contains("injected"), "nothing injected:\n" + log);
                if (workload.equals("threads")) {
                    assertUnharmed(w, dir, tids, workload);
                } else {
                    try (var files = Files.list(dir)) {
                        assertEquals(List.of(), files.toList(), "no images left");
                    }
                    assertEquals("0", tracerPid(w.pid(), w.pid()));
                    w.skipToEnd();
                    w.awaitCountGrows("commits", Duration.ofSeconds(30), "still committing");
                    w.signal(Sig.SIGUSR1);
                    String check = w.awaitOutput("rseq registered=");
                    assertTrue(check.contains("registered=yes") && check.contains("cpu_ok=yes"), check);
                }
                assertEquals(before, ThreadsTest.rseqOf(tids), "registrations unchanged");
            }
            terminate(w);
        }
    }

    /**
     * rseq_cs spins inside its section: a dump on the old-kernel path must run its probe in
     * that thread. The thread first takes one step, on which the kernel aborts the section as
     * it would after any interruption; the refusal then leaves a correct program (without the
     * step the section went on with rseq_cs cleared and the workload printed BAD).
     */
    @org.junit.jupiter.api.Test
    void refusalOfAThreadInsideItsSectionLeavesTheSectionProtected() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("rseq_cs"))) {
            w.awaitOutput("commits=");
            int stepped = 0;
            for (int i = 0; i < 8; i++) {
                Path dir = Checkpoints.imageDir(w);
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                assertThrows(Checkpointer.DumpException.class,
                        () -> Checkpointer.dump(oldKernel(w, dir, false), Checkpoints.log(log)));
                if (log.toString().contains("one step before the probe")) stepped++;
                w.awaitCountGrows("commits", Duration.ofSeconds(30), "commits go on after refusal " + i);
            }
            assertTrue(stepped >= 4, "probed in user code " + stepped + " of 8 times");
            assertFalse(w.text().contains("BAD"), w.text());
        }
    }
}

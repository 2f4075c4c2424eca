package jcriu.workloads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;
import org.junit.jupiter.api.Test;

/** Oracle baseline for threads.c: each thread's count continues +1 across SIGSTOP/SIGCONT, tids unchanged. */
class ThreadsWorkloadTest {

    private static final int THREADS = 3;
    private static final Pattern LINE = Pattern.compile("^thread=(\\d+) tid=(\\d+) count=(\\d+) commits=(\\d+) aborts=(\\d+)$");

    @Test
    void perThreadCountsContinueAndTidsStay() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("threads"), String.valueOf(THREADS))) {
            String ready = w.awaitOutput("^ready ");
            w.assertDetached();
            assertTrue(ready.matches("ready pid=" + w.pid() + " threads=" + THREADS + " tids=\\d+,\\d+,\\d+ rseq=glibc"), ready);
            List<Integer> tids = Arrays.stream(Workload.word(ready, "tids").split(",")).map(Integer::valueOf).toList();
            List<Integer> expectTasks = new ArrayList<>(tids);
            expectTasks.add(w.pid());
            assertEquals(expectTasks.stream().sorted().toList(), w.tids(), "/proc/PID/task");

            for (int i = 0; i < THREADS; i++) {
                w.seek(1).awaitOutput("^thread=" + i + " tid=\\d+ count=2 commits=\\d+ aborts=\\d+$");
            }
            w.stopAndContinue(Duration.ofMillis(300));
            int after = w.lineCount();
            for (int i = 0; i < THREADS; i++) {
                w.seek(after).awaitOutput("^thread=" + i + " tid=\\d+ count=");
            }

            w.signal(Sig.SIGTERM);
            String term = w.awaitOutput("^term counts=");
            assertEquals("exit code=0", w.awaitOutput("^exit code="));
            w.awaitGone(Workload.GONE_TIMEOUT);

            List<String> lines = w.lines();
            assertFalse(lines.stream().anyMatch(l -> l.contains("BAD")), String.join("\n", lines));
            Map<Integer, Long> last = new HashMap<>();
            for (String l : lines) {
                Matcher m = LINE.matcher(l);
                if (!m.matches()) {
                    continue;
                }
                int index = Integer.parseInt(m.group(1));
                assertEquals(tids.get(index), Integer.valueOf(m.group(2)), l);
                long count = Long.parseLong(m.group(3));
                assertEquals(count, Long.parseLong(m.group(4)), "one committed rseq section per tick: " + l);
                assertEquals(last.getOrDefault(index, 0L) + 1, count, "thread " + index + " skipped or reset: " + l);
                last.put(index, count);
            }
            String[] published = Workload.word(term, "counts").split(",");
            for (int i = 0; i < THREADS; i++) {
                assertTrue(Long.parseLong(published[i]) >= last.get(i), term + " vs " + last);
                assertTrue(last.get(i) >= 3, "thread " + i + " counted only to " + last.get(i));
            }
        }
    }
}

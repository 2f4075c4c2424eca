package jcriu.workloads;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Oracle baseline for exitcode.c. The test is not the workload's parent, so
 * the code is seen only through the "exit code=N" line; the real exit status
 * is checked later through jcriu's non-detached restore.
 */
class ExitCodeWorkloadTest {

    @ParameterizedTest
    @ValueSource(ints = {0, 42, 255})
    void exitsWithTheRequestedCodeOnUsr1(int code) {
        try (Workload w = Workload.start(Gcc.compile("exitcode"), String.valueOf(code))) {
            assertEquals("ready pid=" + w.pid() + " code=" + code, w.awaitOutput("^ready "));
            w.assertDetached();
            // unrelated handled signals do not end it: only SIGUSR1 does
            w.stopAndContinue(Duration.ofMillis(300));
            // back in pause() first: a SIGUSR1 taken between its check of the flag and pause() would
            // leave it waiting for another (the workload's plain pause loop is what other tests need)
            w.awaitSyscall(34 /* pause */, Duration.ofSeconds(30));
            w.signal(Sig.SIGUSR1);
            assertEquals("exit code=" + code, w.awaitOutput("^exit code="));
            w.awaitGone(Workload.GONE_TIMEOUT);
        }
    }
}

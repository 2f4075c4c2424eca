package jcriu.workloads;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Oracle baseline for files.c: offsets advance by 16 per SIGUSR1 and every fd stays what it was. */
class FilesWorkloadTest {

    @Test
    void readsOnFromTheSameOffsetAndKeepsItsFds(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("data.bin");
        Files.write(data, pattern(64 * 1024));

        try (Workload w = Workload.start(Gcc.compile("files"), data.toString())) {
            String ready = w.awaitOutput("^ready ");
            w.assertDetached();
            assertEquals("ready pid=" + w.pid() + " data=3 dup=42 log=4 null=5 zero=6 random=7 offset=1000", ready);

            // the kernel's view agrees with what the program reports
            Path proc = Path.of("/proc", String.valueOf(w.pid()));
            assertEquals(data.toRealPath(), Files.readSymbolicLink(proc.resolve("fd/3")));
            assertEquals(data.toRealPath(), Files.readSymbolicLink(proc.resolve("fd/42")));
            assertEquals(w.dir().toRealPath().resolve("files.log"), Files.readSymbolicLink(proc.resolve("fd/4")));
            assertEquals(Path.of("/dev/null"), Files.readSymbolicLink(proc.resolve("fd/5")));
            assertEquals(Path.of("/dev/zero"), Files.readSymbolicLink(proc.resolve("fd/6")));
            assertEquals(Path.of("/dev/urandom"), Files.readSymbolicLink(proc.resolve("fd/7")));
            assertEquals(1000, fdinfoPos(proc, 42));

            w.signal(Sig.SIGUSR1);
            assertEquals(readLine(1000), w.awaitOutput("^read "));
            assertEquals("fds ok", w.awaitOutput("^fds "));
            assertEquals(1016, fdinfoPos(proc, 3));

            w.stopAndContinue(Duration.ofMillis(300));

            w.signal(Sig.SIGUSR1);
            assertEquals(readLine(1016), w.awaitOutput("^read "));
            assertEquals("fds ok", w.awaitOutput("^fds "));

            w.signal(Sig.SIGTERM);
            assertEquals("exit code=0", w.awaitOutput("^exit code="));
            w.awaitGone(Workload.GONE_TIMEOUT);
            assertEquals("usr1 n=1 at=1000\nusr1 n=2 at=1016\n", Files.readString(w.dir().resolve("files.log")));
        }
    }

    /** The bytes 0..255 repeated: byte i of the file is (i & 0xff). */
    static byte[] pattern(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    /** The line files.c prints for a SIGUSR1 read of 16 bytes at {@code at} from {@link #pattern}. */
    static String readLine(int at) {
        byte[] expect = new byte[16];
        for (int i = 0; i < 16; i++) {
            expect[i] = (byte) (at + i);
        }
        return "read at=" + at + " bytes=" + HexFormat.of().formatHex(expect) + " offset=" + (at + 16);
    }

    private static long fdinfoPos(Path proc, int fd) throws IOException {
        return Files.readAllLines(proc.resolve("fdinfo/" + fd)).stream().filter(l -> l.startsWith("pos:"))
                .mapToLong(l -> Long.parseLong(l.substring(4).trim())).findFirst().orElseThrow();
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.api.Log;
import jcriu.files.ElfBuildId;
import jcriu.restore.RestoreHooks;
import jcriu.restore.RestoreOptions;
import jcriu.restore.Restorer;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * Files a process maps are checked at restore as CRIU checks them: a library rebuilt since the
 * dump (same size, another ELF build-id) or one whose size changed is refused before anything
 * is created, naming it, unless the restore is forced with --skip-file-rwx-check.
 */
class ChangedFilesTest {
    private static final String ID_A = "11".repeat(20), ID_B = "22".repeat(20);

    @Test
    void aMappedLibraryRebuiltOrResizedSinceTheDumpIsRefusedUnlessForced() throws Exception {
        Path bin = Gcc.compile("maplib");
        Path build = Files.createTempDirectory(Gcc.outputDir(), "maplib-");
        Path src = build.resolve("lib.c");
        Files.writeString(src, "int lib_value(void) { return 42; }\n");
        Path libA = lib(src, build.resolve("a.so"), "0x" + ID_A), libB = lib(src, build.resolve("b.so"), "0x" + ID_B),
                libN = lib(src, build.resolve("n.so"), "none");
        assertEquals(Files.size(libA), Files.size(libB), "two builds that differ only in their build-id");
        assertEquals(ID_A, ElfBuildId.hex(ElfBuildId.of(libA).orElseThrow()));
        assertEquals(ID_B, ElfBuildId.hex(ElfBuildId.of(libB).orElseThrow()));
        assertTrue(ElfBuildId.of(libN).isEmpty(), "built without a build-id");

        Path dir0 = Files.createTempDirectory(Gcc.outputDir(), "maplib-run-");
        Path withId = dir0.resolve("libbid.so"), withoutId = dir0.resolve("libnobid.so");
        Files.copy(libA, withId, StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(libN, withoutId, StandardCopyOption.COPY_ATTRIBUTES);
        try (Workload w = Workload.start(bin, withId.toString(), withoutId.toString())) {
            w.awaitOutput("^ready .* libs=2");
            w.awaitOutput("count=2 sum=84");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            w.awaitGone(Duration.ofSeconds(30));
            String crit = EventLoopTest.crit(dir.resolve("files.img"));
            assertTrue(crit.contains("libbid.so") && crit.contains("\"build_id\""), "CRIU's field holds it:\n" + crit);

            // another build of the library, same size and mode: only its build-id tells
            Files.copy(libB, withId, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            String msg = restoreFails(dir, w.pid());
            assertTrue(msg.contains(withId.toString()) && msg.contains("build-id is " + ID_B)
                    && msg.contains("it was " + ID_A) && msg.contains("--skip-file-rwx-check"), msg);
            Files.copy(libA, withId, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);

            // a library without a build-id is judged by its size
            long size = Files.size(withoutId);
            Files.write(withoutId, new byte[] {0}, StandardOpenOption.APPEND);
            msg = restoreFails(dir, w.pid());
            assertTrue(msg.contains(withoutId.toString()) && msg.contains("size is " + (size + 1) + ", it was " + size),
                    msg);
            Files.copy(libN, withoutId, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);

            // forced, the rebuilt library is used as it is
            Files.copy(libB, withId, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            try (Workload r = Checkpoints.restore(dir, w.dir(), w.lineCount(), true)) {
                long at = Workload.number(r.awaitOutput("^count="), "count");
                r.awaitOutput("count=" + (at + 3) + " sum=84");
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    private static Path lib(Path src, Path out, String buildId) {
        Gcc.compileFile("gcc", src, out, List.of("-shared", "-fPIC", "-Wl,--build-id=" + buildId));
        return out;
    }

    /** The restore's error; nothing of it is left: the PID is free. A restore that wrongly succeeds is killed. */
    private static String restoreFails(Path dir, int pid) throws Exception {
        try {
            int got = Restorer.restore(new RestoreOptions(dir, true, false, false, RestoreHooks.NONE, false),
                    Log.quiet()).pid();
            Sig.kill(got, Sig.SIGKILL);
            throw new AssertionError("the restore of the changed file was not refused");
        } catch (Restorer.RestoreException e) {
            assertFalse(Files.exists(Path.of("/proc/" + pid)), "a refused restore creates nothing");
            return e.getMessage();
        }
    }
}

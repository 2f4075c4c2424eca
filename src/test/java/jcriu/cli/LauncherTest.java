package jcriu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Gcc;

/** The ./jcriu launcher's AOT cache: built after a build by a training run, never a reason to fail. */
class LauncherTest {
    private static final Path TARGET = Gcc.projectDir().resolve("target");
    private static final Path CACHE = TARGET.resolve("jcriu.aot");

    private record Run(int exit, String out, String err) {}

    private static Run jcriu(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Gcc.projectDir().resolve("jcriu").toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("jcriu-launcher", ".out"), err = Files.createTempFile("jcriu-launcher", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "launcher did not finish");
        try {
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.delete(out);
            Files.delete(err);
        }
    }

    /** What --version prints (CRIU's first line, then jcriu's own). */
    private static final String VERSION = "Version: 4.2\njcriu: 0.1.0 (CRIU 4.2's command line and image format)\n";

    /** Runs {@code body} with the cache moved aside, and puts it back (with its time) afterwards. */
    private static void withCacheAside(ThrowingRunnable body) throws Exception {
        assertEquals(0, jcriu(Map.of(), "--version").exit()); // built and trained as the launcher does
        Path saved = TARGET.resolve("jcriu.aot.test-saved");
        boolean had = Files.exists(CACHE);
        if (had) Files.move(CACHE, saved, StandardCopyOption.REPLACE_EXISTING);
        try {
            body.run();
        } finally {
            if (had) Files.move(saved, CACHE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void aCorruptCacheNeitherFailsACommandNorShowsInItsOutput() throws Exception {
        withCacheAside(() -> {
            Files.writeString(CACHE, "not an AOT cache");
            Files.setLastModifiedTime(CACHE, FileTime.from(Instant.now().plusSeconds(60))); // looks fresh
            Run r = jcriu(Map.of(), "--version");
            assertEquals(0, r.exit(), r.err());
            assertEquals(VERSION, r.out(), "the JVM's complaints about the cache must not reach stdout");
            assertEquals("", r.err());
            Files.delete(CACHE);
        });
    }

    @Test
    void aMissingCacheIsRebuiltByATrainingRunThatDumpsAndRestores() throws Exception {
        withCacheAside(() -> {
            Files.deleteIfExists(TARGET.resolve("jcriu.aot.failed"));
            Run r = jcriu(Map.of(), "--version");
            assertEquals(0, r.exit(), r.err());
            assertEquals(VERSION, r.out());
            assertTrue(r.err().contains("building the JVM's AOT cache"), r.err());
            assertTrue(Files.size(CACHE) > 1 << 20, "a cache was written");
            String log = Files.readString(TARGET.resolve("aot-training.log"));
            assertTrue(log.contains("exit codes of --help, --version, check, pre-dump, dump, restore: [0, 0, 0, 0, 0, 0]"),
                    log.lines().filter(l -> !l.contains("Skipping")).toList().toString());
            Run again = jcriu(Map.of(), "--version");
            assertEquals("", again.err(), "a fresh cache is used as it is");
            Run off = jcriu(Map.of("JCRIU_AOT", "off"), "--version");
            assertEquals(VERSION, off.out());
            Files.delete(CACHE);
        });
    }
}

package jcriu.workloads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import jcriu.testsupport.Gcc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The workload builder: caching, flags, and loud failures. */
class GccTest {

    /** Every .c in the workloads directory, so a broken one fails here first. */
    static Stream<String> workloadNames() throws IOException {
        Path dir = Gcc.projectDir().resolve("src/test/resources/workloads");
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".c")).map(n -> n.substring(0, n.length() - 2)).sorted().toList();
            assertTrue(names.size() >= 9, "workloads: " + names);
            return names.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("workloadNames")
    void everyWorkloadCompilesWithWarningsAsErrors(String name) {
        Path binary = Gcc.compile(name);
        assertEquals(Gcc.outputDir().resolve(name), binary);
        assertTrue(Files.isExecutable(binary), binary + " not executable");
    }

    @Test
    void compilesOncePerJvmEvenWhenAskedConcurrently() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(pool.submit((Callable<Path>) () -> Gcc.compile("exitcode")));
            }
            Path first = results.get(0).get();
            for (Future<Path> f : results) {
                assertEquals(first, f.get());
            }
            FileTime built = Files.getLastModifiedTime(first);
            Thread.sleep(20);
            assertSame(first, Gcc.compile("exitcode"));
            assertEquals(built, Files.getLastModifiedTime(first), "recompiled although cached");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void staticCounterIsLinkedStatically() throws IOException {
        byte[] elf = Files.readAllBytes(Gcc.compile("static_counter"));
        assertTrue(programHeaderTypes(elf).stream().noneMatch(t -> t == 3 /* PT_INTERP */),
                "static_counter has an ELF interpreter");
        byte[] dynamic = Files.readAllBytes(Gcc.compile("counter"));
        assertTrue(programHeaderTypes(dynamic).contains(3), "counter should be dynamically linked");
    }

    @Test
    void sameNameWithOtherFlagsIsRejected() {
        Gcc.compile("exitcode");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gcc.compile("exitcode", List.of("-static")));
        assertTrue(e.getMessage().contains("already built"), e.getMessage());
    }

    @Test
    void missingSourceFailsLoudly() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Gcc.compile("no_such_workload"));
        assertTrue(e.getMessage().contains("no_such_workload.c"), e.getMessage());
    }

    @Test
    void compileErrorCarriesGccOutput(@TempDir Path tmp) throws IOException {
        Path src = tmp.resolve("broken.c");
        Files.writeString(src, "int main(void) { return undeclared_thing; }\n");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Gcc.compileFile("gcc", src, tmp.resolve("broken"), List.of()));
        assertTrue(e.getMessage().contains("undeclared_thing"), e.getMessage());
        assertTrue(e.getMessage().contains("exit code"), e.getMessage());
        assertTrue(Files.notExists(tmp.resolve("broken")), "no binary after a failed build");
    }

    @Test
    void warningsAreErrors(@TempDir Path tmp) throws IOException {
        Path src = tmp.resolve("warn.c");
        Files.writeString(src, "int main(void) { int unused; return 0; }\n");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Gcc.compileFile("gcc", src, tmp.resolve("warn"), List.of()));
        assertTrue(e.getMessage().contains("unused"), e.getMessage());
    }

    @Test
    void missingCompilerFailsLoudly(@TempDir Path tmp) throws IOException {
        Path src = tmp.resolve("ok.c");
        Files.writeString(src, "int main(void) { return 0; }\n");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Gcc.compileFile("/nonexistent/gcc", src, tmp.resolve("ok"), List.of()));
        assertTrue(e.getMessage().contains("cannot run the C compiler"), e.getMessage());
    }

    /** p_type of every ELF64 program header (little endian). */
    private static List<Integer> programHeaderTypes(byte[] elf) {
        assertEquals(0x7f, elf[0] & 0xff);
        assertEquals('E', elf[1]);
        long phoff = le(elf, 0x20, 8);
        int phentsize = (int) le(elf, 0x36, 2);
        int phnum = (int) le(elf, 0x38, 2);
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            types.add((int) le(elf, (int) (phoff + (long) i * phentsize), 4));
        }
        return types;
    }

    private static long le(byte[] b, int off, int len) {
        long v = 0;
        for (int i = len - 1; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }
}

package jcriu.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Builds the C workloads of {@code src/test/resources/workloads} with gcc.
 *
 * <p>Each workload is compiled at most once per JVM (the first build of a run
 * always recompiles, so edited sources are picked up) into
 * {@code target/workloads/NAME}. A missing gcc or a compile error is an
 * {@link IllegalStateException} carrying gcc's output: tests must fail, never
 * skip, when their workload cannot be built.
 */
public final class Gcc {
    /** Flags every workload is built with. */
    public static final List<String> BASE_FLAGS = List.of("-O1", "-g", "-pthread", "-Wall", "-Werror");

    /** Extra flags a workload always needs; looked up by {@link #compile(String)}. */
    public static final Map<String, List<String>> DEFAULT_EXTRA_FLAGS = Map.of(
            "static_counter", List.of("-static"));

    private static final String RESOURCE_DIR = "workloads";
    private static final long GCC_TIMEOUT_SECONDS = 120;

    /** NAME -> build; a Build compiles under its own lock so different names build in parallel. */
    private static final ConcurrentHashMap<String, Build> BUILDS = new ConcurrentHashMap<>();

    private Gcc() {
    }

    /** Compiles workload NAME with its {@link #DEFAULT_EXTRA_FLAGS default extra flags}. */
    public static Path compile(String name) {
        return compile(name, DEFAULT_EXTRA_FLAGS.getOrDefault(name, List.of()));
    }

    /**
     * Compiles {@code NAME.c} with {@link #BASE_FLAGS} plus {@code extraFlags}
     * into {@code target/workloads/NAME}, once per JVM, and returns the binary.
     * Asking for the same NAME with other flags is an error: both would need
     * the same output path.
     */
    public static Path compile(String name, List<String> extraFlags) {
        List<String> flags = List.copyOf(extraFlags);
        Build build = BUILDS.computeIfAbsent(name, n -> new Build(n, flags));
        if (!build.extraFlags.equals(flags)) {
            throw new IllegalArgumentException("workload " + name + " was already built with "
                    + build.extraFlags + ", not " + flags);
        }
        return build.get();
    }

    /** The project directory: the nearest directory upwards from user.dir that holds pom.xml. */
    public static Path projectDir() {
        String basedir = System.getProperty("basedir"); // set by surefire
        Path start = Path.of(basedir != null ? basedir : System.getProperty("user.dir")).toAbsolutePath();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no pom.xml above " + start);
    }

    /** Where binaries go: {@code target/workloads}. */
    public static Path outputDir() {
        return projectDir().resolve("target").resolve("workloads");
    }

    /**
     * The source of workload NAME: {@code src/test/resources/workloads/NAME.c}
     * if the project sources are here (the freshest copy), else the classpath
     * resource {@code workloads/NAME.c} (extracted if it is inside a jar).
     */
    public static Path source(String name) {
        Path inTree = projectDir().resolve("src/test/resources").resolve(RESOURCE_DIR).resolve(name + ".c");
        if (Files.isRegularFile(inTree)) {
            return inTree;
        }
        String resource = RESOURCE_DIR + "/" + name + ".c";
        URL url = Gcc.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException("workload source not found: neither " + inTree
                    + " nor classpath resource " + resource);
        }
        try {
            if ("file".equals(url.getProtocol())) {
                return Path.of(url.toURI());
            }
            Path copy = outputDir().resolve("src").resolve(name + ".c");
            Files.createDirectories(copy.getParent());
            try (InputStream in = url.openStream()) {
                Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
            }
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + url, e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("bad resource URL " + url, e);
        }
    }

    /**
     * Runs {@code gcc BASE_FLAGS -o output source extraFlags} without any
     * caching. {@code gccCommand} is normally "gcc"; it is a parameter so the
     * missing-compiler failure can be tested.
     *
     * @throws IllegalStateException if gcc cannot be run or fails, with its output
     */
    public static void compileFile(String gccCommand, Path source, Path output, List<String> extraFlags) {
        List<String> cmd = new ArrayList<>();
        cmd.add(gccCommand);
        cmd.addAll(BASE_FLAGS);
        cmd.add("-o");
        // gcc writes a temp name that is renamed into place: no reader ever sees a half
        // written binary, and a still running old binary does not make it fail (ETXTBSY)
        Path tmp = output.resolveSibling(output.getFileName() + ".tmp" + ProcessHandle.current().pid());
        cmd.add(tmp.toString());
        cmd.add(source.toString());
        cmd.addAll(extraFlags); // after the source, where libraries (-l...) must go
        // gcc's messages go to a file, so a hanging gcc cannot block us reading a pipe
        Path log = output.resolveSibling(output.getFileName() + ".gcc.log");
        String out;
        int rc;
        try {
            Files.createDirectories(output.toAbsolutePath().getParent());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            boolean done = p.waitFor(GCC_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
            }
            out = new String(Files.readAllBytes(log), StandardCharsets.UTF_8); // lenient decoding
            if (!done) {
                throw new IllegalStateException("gcc timed out: " + String.join(" ", cmd) + "\n" + out);
            }
            rc = p.exitValue();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run the C compiler (" + gccCommand
                    + "); the workload tests need gcc: " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while compiling " + source, e);
        }
        if (rc != 0) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the failure below is what matters
            }
            throw new IllegalStateException("gcc failed with exit code " + rc + ": "
                    + String.join(" ", cmd) + "\n" + out);
        }
        try {
            Files.move(tmp, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + tmp + " to " + output, e);
        }
    }

    /** One workload's build: done once, by whichever thread asks first; failures are remembered. */
    private static final class Build {
        final String name;
        final List<String> extraFlags;
        private Path binary;
        private RuntimeException failure;

        Build(String name, List<String> extraFlags) {
            this.name = name;
            this.extraFlags = extraFlags;
        }

        synchronized Path get() {
            if (binary == null && failure == null) {
                try {
                    Path out = outputDir().resolve(name);
                    compileFile("gcc", source(name), out, extraFlags);
                    binary = out;
                } catch (RuntimeException e) {
                    failure = e;
                }
            }
            if (failure != null) {
                // a fresh exception per caller, so each failing test shows its own stack
                throw new IllegalStateException("building workload " + name + " failed: "
                        + failure.getMessage(), failure);
            }
            return binary;
        }
    }
}

package jcriu.testsupport;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A workload process started DETACHED from the test JVM, for jcriu to dump.
 *
 * <p>The test JVM must never be the parent of a process jcriu ptraces: the
 * JDK's process reaper calls waitpid() on ProcessBuilder children and would
 * steal ptrace stops and exit statuses. So {@link #start} runs
 * {@code setsid -f /bin/sh -c 'echo $$ > workload.pid; exec BINARY ARGS'}: the
 * JVM's child (setsid) exits at once, the forked shell becomes a session
 * leader orphaned to init (or the nearest subreaper), writes its PID and execs
 * the workload, which therefore keeps that PID. Consequently the test cannot
 * see the exit status; workloads print {@code exit code=N} instead, and the
 * real status is checked through jcriu's non-detached restore.
 *
 * <p>stdout and stderr share one O_APPEND regular file, {@link #output()}, in
 * a fresh directory under {@code target/workload-runs} which is also the
 * working directory; it is kept after {@link #close()} for post-mortems and so
 * a restored process can keep writing there ({@link #adopt}).
 *
 * <p>A process is identified by PID plus start time (field 22 of
 * /proc/PID/stat), so a restored process with the same PID, or a recycled
 * PID, is never mistaken for the original: {@link #alive()} is false and
 * {@link #signal} refuses, and {@link #close()} does not kill it.
 *
 * <p>Orphans are reaped by PID 1, lazily on this machine: after death a zombie
 * may linger for seconds, hence {@link #awaitGone}.
 */
public final class Workload implements AutoCloseable {
    /** Default wait for output, states and start-up. */
    public static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** Default wait for a dead process to be reaped by init. */
    public static final Duration GONE_TIMEOUT = Duration.ofSeconds(30);
    /** Name of the output file inside {@link #dir()}. */
    public static final String OUTPUT_FILE = "output.log";
    /** Name of the pid file inside {@link #dir()}. */
    public static final String PID_FILE = "workload.pid";

    private static final long POLL_MILLIS = 5;
    private static final int MAX_OUTPUT_IN_MESSAGE = 16_000;
    private static final String LAUNCHER = "echo $$ > " + PID_FILE + "; exec \"$0\" \"$@\"";

    private final int pid;
    private final long startTime;
    private final Path dir;
    private final Path output;

    // output read so far: complete lines, plus the bytes of an unfinished last line
    private final List<String> lines = new ArrayList<>();
    private byte[] partial = new byte[0];
    private long bytesRead;
    private int cursor;

    private volatile String restoreLog;

    private Workload(int pid, long startTime, Path dir) {
        this.pid = pid;
        this.startTime = startTime;
        this.dir = dir;
        this.output = dir.resolve(OUTPUT_FILE);
    }

    /** {@link #start(Path, List, Map)} without extra environment. */
    public static Workload start(Path binary, String... args) {
        return start(binary, List.of(args), Map.of());
    }

    /**
     * Starts {@code binary args} detached, in a fresh directory, with the test
     * JVM's environment plus {@code extraEnv}, stdin from /dev/null, and
     * returns once the workload's PID is known and the exec has happened (or
     * the process already died).
     */
    public static Workload start(Path binary, List<String> args, Map<String, String> extraEnv) {
        Path exe;
        Path dir;
        try {
            exe = binary.toRealPath();
            Path root = Gcc.projectDir().resolve("target").resolve("workload-runs");
            Files.createDirectories(root);
            dir = Files.createTempDirectory(root, exe.getFileName() + "-");
            Files.createFile(dir.resolve(OUTPUT_FILE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare a run of " + binary, e);
        }
        List<String> cmd = new ArrayList<>(List.of("setsid", "-f", "/bin/sh", "-c", LAUNCHER, exe.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(OUTPUT_FILE).toFile()))
                .redirectErrorStream(true); // fd 2 = dup of fd 1: one shared open file
        pb.environment().putAll(extraEnv);
        try {
            Process setsid = pb.start();
            if (!setsid.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                setsid.destroyForcibly();
                throw new IllegalStateException("setsid -f did not return: " + cmd);
            }
            if (setsid.exitValue() != 0) {
                throw new IllegalStateException("setsid -f failed (" + setsid.exitValue() + "): " + cmd
                        + "\n" + Files.readString(dir.resolve(OUTPUT_FILE)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot launch " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while launching " + cmd, e);
        }

        int pid = readPidFile(dir);
        // capture the identity now: the shell that wrote the pid file is the
        // same process (same start time) as the workload after exec
        Optional<Stat> stat = stat(pid);
        Workload w = new Workload(pid, stat.map(Stat::startTime).orElse(-1L), dir);
        if (stat.isEmpty()) {
            return w; // already died and reaped; its output tells why
        }
        w.awaitExec(exe);
        return w;
    }

    /**
     * Wraps an existing process, typically one restored by jcriu with the PID
     * of a dumped workload, writing to the same directory's output file. The
     * cursor starts at line 0; use {@link #seek} to skip what the original
     * process printed.
     */
    public static Workload adopt(int pid, Path dir) {
        Stat stat = stat(pid).orElseThrow(() -> new IllegalStateException("no process " + pid + " to adopt"));
        if (!Files.isRegularFile(dir.resolve(OUTPUT_FILE))) {
            throw new IllegalStateException("no " + OUTPUT_FILE + " in " + dir);
        }
        return new Workload(pid, stat.startTime(), dir);
    }

    public int pid() {
        return pid;
    }

    /** The working directory of the workload (holds its output and any files it creates). */
    public Path dir() {
        return dir;
    }

    /** The regular file receiving stdout and stderr. */
    public Path output() {
        return output;
    }

    /** All complete (newline-terminated) lines printed so far. */
    public synchronized List<String> lines() {
        refresh();
        return List.copyOf(lines);
    }

    /** Number of complete lines printed so far. */
    public synchronized int lineCount() {
        refresh();
        return lines.size();
    }

    /** The whole output, including an unfinished last line. */
    public synchronized String text() {
        refresh();
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l).append('\n');
        }
        return sb.append(new String(partial, StandardCharsets.UTF_8)).toString();
    }

    /** Makes the next {@link #awaitOutput} search start at line index {@code line}. */
    public synchronized Workload seek(int line) {
        cursor = line;
        return this;
    }

    /** Makes the next {@link #awaitOutput} consider only lines printed from now on. */
    public synchronized Workload skipToEnd() {
        refresh();
        cursor = lines.size();
        return this;
    }

    /**
     * Waits until a line {@code KEY=N} shows N above the first such line from the cursor on: the
     * process makes progress. A deadline, not the next line: on a busy machine a process may
     * print the same count twice and still be fine.
     *
     * @throws AssertionError with {@code what} if the count stays put until the timeout
     */
    public void awaitCountGrows(String key, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long first = number(awaitOutput(key + "=", timeout), key);
        long last = first;
        while (last <= first) {
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AssertionError(what + ": " + key + " stayed at " + first + " for " + timeout);
            try {
                last = number(awaitOutput(key + "=", Duration.ofNanos(left)), key);
            } catch (AssertionError timedOut) {
                throw new AssertionError(what + ": " + key + " stayed at " + first + " for " + timeout, timedOut);
            }
        }
    }

    /** {@link #awaitOutput(String, Duration)} with {@link #TIMEOUT}. */
    public String awaitOutput(String regexOrSubstring) {
        return awaitOutput(regexOrSubstring, TIMEOUT);
    }

    /**
     * Waits for the first complete line at or after the cursor that contains
     * {@code regexOrSubstring} or in which it is found as a regular
     * expression; moves the cursor past that line and returns it. Like
     * expect(1): successive calls consume the output in order. Fails early if
     * no process with this PID is alive any more (the output is final).
     *
     * @throws AssertionError on timeout, with the output so far
     */
    public String awaitOutput(String regexOrSubstring, Duration timeout) {
        Pattern regex;
        try {
            regex = Pattern.compile(regexOrSubstring);
        } catch (PatternSyntaxException e) {
            regex = null; // not a regex: substring only
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            // sample liveness before reading, so output written just before death is seen
            boolean outputIsFinal = !anyLiveProcessWithPid();
            String line = consumeFirstMatch(regexOrSubstring, regex);
            if (line != null) {
                return line;
            }
            if (outputIsFinal) {
                throw new AssertionError("process " + pid + " is gone; no line after #" + cursor()
                        + " matches '" + regexOrSubstring + "'" + describeOutput());
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout + " waiting for '" + regexOrSubstring
                        + "' after line #" + cursor() + " from pid " + pid + " (state "
                        + state().map(String::valueOf).orElse("gone") + ")" + kernelView() + describeOutput());
            }
            sleep(); // without holding the lock, so other threads can read the output meanwhile
        }
    }

    /**
     * What the kernel says each thread is doing (system call, wait channel, signal masks): a
     * process that stopped making progress is explained by it.
     */
    private String kernelView() {
        StringBuilder b = new StringBuilder();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.sorted().toList()) {
                b.append("\n--- thread ").append(t.getFileName()).append(": syscall ")
                        .append(readOr(t.resolve("syscall"))).append("; wchan ").append(readOr(t.resolve("wchan")));
                for (String l : readOr(t.resolve("status")).lines().toList()) {
                    if (l.matches("(State|SigQ|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt|TracerPid):.*")) {
                        b.append("\n    ").append(l);
                    }
                }
            }
        } catch (IOException | UncheckedIOException e) {
            b.append("\n--- no /proc view: ").append(e.getMessage());
        }
        return b.toString();
    }

    private static String readOr(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (IOException e) {
            return "(" + e.getClass().getSimpleName() + ")";
        }
    }

    /** Index of the line the next {@link #awaitOutput} starts at. */
    public synchronized int cursor() {
        return cursor;
    }

    private synchronized String consumeFirstMatch(String substring, Pattern regex) {
        refresh();
        for (int i = cursor; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.contains(substring) || (regex != null && regex.matcher(line).find())) {
                cursor = i + 1;
                return line;
            }
        }
        return null;
    }

    /** Sends {@code sig} (see {@link Sig}) to this very process; fails if it is gone. */
    public void signal(int sig) {
        if (!exists()) {
            throw new IllegalStateException("process " + pid + " is gone; cannot send signal " + sig);
        }
        int errno = Sig.kill(pid, sig);
        if (errno != 0) {
            throw new IllegalStateException("kill(" + pid + ", " + sig + ") failed: errno " + errno);
        }
    }

    /** True while this process exists and is not a zombie. */
    public boolean alive() {
        return stat(pid).filter(s -> s.startTime() == startTime)
                .map(s -> s.state() != 'Z' && s.state() != 'X').orElse(false);
    }

    /** The state letter of /proc/PID/stat (R, S, D, T, t, Z, ...), empty if this process is gone. */
    public Optional<Character> state() {
        return stat(pid).filter(s -> s.startTime() == startTime).map(Stat::state);
    }

    /** This process's /proc/PID/stat fields, empty if it is gone. */
    public Optional<Stat> stat() {
        return stat(pid).filter(s -> s.startTime() == startTime);
    }

    /** {@link #awaitState(String, Duration)} with {@link #TIMEOUT}. */
    public char awaitState(String anyOf) {
        return awaitState(anyOf, TIMEOUT);
    }

    /**
     * Waits until the process state is one of the letters in {@code anyOf},
     * e.g. "S" sleeping, "t" ptrace-stopped, "T" job-control stopped, "Z".
     *
     * @return the state seen
     */
    public char awaitState(String anyOf, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            Optional<Character> s = state();
            if (s.isPresent() && anyOf.indexOf(s.get()) >= 0) {
                return s.get();
            }
            if (s.isEmpty() || System.nanoTime() - deadline > 0) {
                throw new AssertionError("pid " + pid + " never reached state [" + anyOf + "] within " + timeout
                        + "; now " + s.map(String::valueOf).orElse("gone") + describeOutput());
            }
            sleep();
        }
    }

    /**
     * The checkpoint-free oracle: SIGSTOP, wait until stopped ('T'), stay
     * stopped for {@code stoppedFor}, SIGCONT, wait until no longer stopped.
     * Whatever a test observes after a dump/restore at some moment, it must
     * also observe after this at the same moment.
     */
    public void stopAndContinue(Duration stoppedFor) {
        boolean wasAsleep = asleep();
        signal(Sig.SIGSTOP);
        awaitState("T");
        try {
            Thread.sleep(stoppedFor);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        signal(Sig.SIGCONT);
        // until it runs again; it may also finish at once (its deadline passed while stopped)
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (state().map(c -> c == 'T').orElse(false)) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("pid " + pid + " still stopped after SIGCONT" + describeOutput());
            }
            sleep();
        }
        if (wasAsleep) settle();
    }

    /** True when every thread of this process sleeps in the kernel (state S or D). */
    public boolean asleep() {
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                String stat = Files.readString(t.resolve("stat"));
                char state = stat.charAt(stat.lastIndexOf(')') + 2);
                if (state != 'S' && state != 'D') return false;
            }
            return true;
        } catch (IOException | UncheckedIOException e) {
            return false; // gone, or a thread gone while listed
        }
    }

    /**
     * For a process whose threads slept in system calls before it was stopped or checkpointed:
     * waits (at most a few seconds, then goes on) until they sleep again. Woken, a thread
     * interrupted in a call goes back into it through the kernel's restart, which rewinds its
     * registers to the system call instruction on its way back to user space; a signal that
     * arrives in that window (long if the thread is preempted there) runs its handler and the
     * call is then made again instead of failing with EINTR. The kernel does the same without
     * any checkpoint (after SIGSTOP and SIGCONT); tests that signal a process waiting in a call
     * wait for this so the two runs they compare see the same thing.
     */
    public void settle() {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (!asleep() && System.nanoTime() - deadline < 0 && state().isPresent()) sleep();
    }

    private static final Duration SETTLE = Duration.ofSeconds(5);

    /**
     * Asserts the rule that keeps jcriu's ptrace working: this process is not
     * a child of the test JVM, whose process reaper would steal its wait
     * statuses.
     *
     * @throws AssertionError otherwise
     */
    public void assertDetached() {
        Stat s = stat().orElseThrow(() -> new AssertionError("pid " + pid + " is gone"));
        long jvm = ProcessHandle.current().pid();
        if (s.ppid() == jvm) {
            throw new AssertionError("pid " + pid + " is a child of the test JVM " + jvm);
        }
    }

    /**
     * The first field of /proc/PID/syscall: the number of the syscall the
     * (main) thread is blocked in as a string, or "running", or empty if gone.
     */
    public Optional<String> syscall() {
        try {
            String s = Files.readString(Path.of("/proc", String.valueOf(pid), "syscall")).trim();
            return stat().isPresent() ? Optional.of(s.split(" ", 2)[0]) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Waits until the main thread is blocked in syscall {@code nr} (e.g. 230 clock_nanosleep, 202 futex). */
    public void awaitSyscall(int nr, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            Optional<String> s = syscall();
            if (s.isPresent() && s.get().equals(String.valueOf(nr))) {
                return;
            }
            if (s.isEmpty() || System.nanoTime() - deadline > 0) {
                throw new AssertionError("pid " + pid + " not blocked in syscall " + nr + " within " + timeout
                        + "; /proc/PID/syscall says " + s.orElse("gone") + describeOutput());
            }
            sleep();
        }
    }

    /** Thread ids from /proc/PID/task, sorted; empty if gone. */
    public List<Integer> tids() {
        try (var entries = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            List<Integer> tids = entries.map(p -> Integer.parseInt(p.getFileName().toString())).sorted().toList();
            return stat().isPresent() ? tids : List.of();
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }

    /**
     * Waits until /proc/PID is gone (the process died AND init reaped it), or
     * the PID belongs to another process (recycled, or restored by jcriu).
     */
    public void awaitGone(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (exists()) {
            if (System.nanoTime() - deadline > 0) {
                // a traced zombie waits for its tracer, not for init: name the tracer
                throw new AssertionError("pid " + pid + " still exists after " + timeout + " (state "
                        + state().map(String::valueOf).orElse("gone") + ", " + statusField("TracerPid")
                        + ")" + describeOutput());
            }
            sleep();
        }
    }

    /** SIGKILL, then {@link #awaitGone} with {@link #GONE_TIMEOUT}. */
    public void kill9AndAwaitGone() {
        if (exists()) {
            int errno = Sig.kill(pid, Sig.SIGKILL);
            if (errno != 0 && errno != Sig.ESRCH) {
                throw new IllegalStateException("kill(" + pid + ", SIGKILL) failed: errno " + errno);
            }
        }
        awaitGone(GONE_TIMEOUT);
    }

    /** Kills the process if it still exists (stopped and traced ones too) and waits until it is reaped. */
    @Override
    public void close() {
        kill9AndAwaitGone();
    }

    /** The TracerPid of a task (0: not traced), for checking that jcriu let go of it. */
    public static int tracerPid(int tid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + tid + "/status"))) {
            if (l.startsWith("TracerPid:")) return Integer.parseInt(l.substring(10).strip());
        }
        throw new AssertionError("no TracerPid in /proc/" + tid + "/status");
    }

    /** Parses {@code key=<integer>} (decimal, or 0x-hex) out of a line, e.g. number("count=41", "count"). */
    public static long number(String line, String key) {
        Matcher m = Pattern.compile("(?:^|\\s)" + Pattern.quote(key) + "=(-?(?:0x[0-9a-fA-F]+|\\d+))").matcher(line);
        if (!m.find()) {
            throw new AssertionError("no " + key + "=<number> in: " + line);
        }
        String v = m.group(1);
        return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
    }

    /** Parses {@code key=<word>} out of a line, e.g. word("verify ok checksum=ab12", "checksum"). */
    public static String word(String line, String key) {
        Matcher m = Pattern.compile("(?:^|\\s)" + Pattern.quote(key) + "=(\\S*)").matcher(line);
        if (!m.find()) {
            throw new AssertionError("no " + key + "=<value> in: " + line);
        }
        return m.group(1);
    }

    /**
     * Fields of /proc/PID/stat: state (3), ppid (4), pgrp (5), session (6),
     * starttime (22, clock ticks after boot).
     */
    public record Stat(char state, int ppid, int pgrp, int session, long startTime) {
    }

    /** Reads /proc/PID/stat of any process; empty if there is no such process. */
    public static Optional<Stat> stat(int pid) {
        String s;
        try {
            s = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            // ESRCH while the process is being reaped shows up as a plain IOException
            return Optional.empty();
        }
        // comm may contain spaces and parentheses: the fields start after the LAST ')'
        String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
        return Optional.of(new Stat(f[0].charAt(0), Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                Integer.parseInt(f[3]), Long.parseLong(f[19])));
    }

    @Override
    public String toString() {
        return "Workload[pid=" + pid + ", dir=" + dir + "]";
    }

    // ---------------------------------------------------------------- internals

    /** True while /proc/PID is this process (alive, stopped or zombie). */
    private boolean exists() {
        return stat().isPresent();
    }

    /** True if some non-zombie process has this PID, whichever incarnation. */
    private boolean anyLiveProcessWithPid() {
        return stat(pid).map(s -> s.state() != 'Z' && s.state() != 'X').orElse(false);
    }

    /** "Name: value" from /proc/PID/status, for diagnostics. */
    private String statusField(String name) {
        try {
            return Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status")).stream()
                    .filter(l -> l.startsWith(name + ":")).findFirst().orElse(name + ": ?").replace('\t', ' ');
        } catch (IOException e) {
            return name + ": ?";
        }
    }

    /** Reads what was appended to the output file since last time. */
    private synchronized void refresh() {
        try (RandomAccessFile f = new RandomAccessFile(output.toFile(), "r")) {
            long len = f.length();
            if (len < bytesRead) {
                // truncated behind our back: start over rather than show stale lines
                lines.clear();
                partial = new byte[0];
                bytesRead = 0;
                cursor = 0;
            }
            if (len == bytesRead) {
                return;
            }
            byte[] fresh = new byte[(int) (len - bytesRead)];
            f.seek(bytesRead);
            f.readFully(fresh);
            bytesRead = len;
            byte[] buf = new byte[partial.length + fresh.length];
            System.arraycopy(partial, 0, buf, 0, partial.length);
            System.arraycopy(fresh, 0, buf, partial.length, fresh.length);
            int start = 0;
            for (int i = 0; i < buf.length; i++) {
                if (buf[i] == '\n') {
                    lines.add(new String(buf, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            partial = Arrays.copyOfRange(buf, start, buf.length);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + output, e);
        }
    }

    private String describeOutput() {
        String text = text();
        if (text.length() > MAX_OUTPUT_IN_MESSAGE) {
            text = "...\n" + text.substring(text.length() - MAX_OUTPUT_IN_MESSAGE);
        }
        return "\n--- output of pid " + pid + " (" + output + ") ---\n" + text + "\n--- end of output ---"
                + (restoreLog == null ? "" : "\n--- end of the log of its restore ---\n" + tail(restoreLog, 60));
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** The log of the restore that made this process, shown when a wait on it fails. */
    public Workload withRestoreLog(String log) {
        this.restoreLog = log;
        return this;
    }

    private static int readPidFile(Path dir) {
        Path file = dir.resolve(PID_FILE);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        for (;;) {
            try {
                String s = Files.readString(file);
                if (s.endsWith("\n")) { // echo writes number and newline in one write()
                    return Integer.parseInt(s.trim());
                }
            } catch (NoSuchFileException e) {
                // the shell has not got there yet
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (System.nanoTime() - deadline > 0) {
                String out;
                try {
                    out = Files.readString(dir.resolve(OUTPUT_FILE));
                } catch (IOException e) {
                    out = "(unreadable: " + e + ")";
                }
                throw new AssertionError("no pid file " + file + " after " + TIMEOUT + "; output:\n" + out);
            }
            sleep();
        }
    }

    /** Waits until /proc/PID/exe is the binary (the shell has exec'd), or the process died. */
    private void awaitExec(Path exe) {
        Path link = Path.of("/proc", String.valueOf(pid), "exe");
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        for (;;) {
            if (!alive()) {
                return; // exec failed or the workload exited at once: the output says why
            }
            try {
                // "(deleted)" is appended if the binary was replaced meanwhile
                if (Files.readSymbolicLink(link).toString().startsWith(exe.toString())) {
                    return;
                }
            } catch (IOException e) {
                // raced with exit; alive() decides on the next round
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("pid " + pid + " did not exec " + exe + describeOutput());
            }
            sleep();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}

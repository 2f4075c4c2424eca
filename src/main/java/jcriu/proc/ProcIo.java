package jcriu.proc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/** Shared plumbing of the readers: locating files, reading them, mapping errors, parsing numbers. */
final class ProcIo {
    private ProcIo() {}

    static Path pidDir(Path procRoot, int pid) {
        return procRoot.resolve(Integer.toString(pid));
    }

    static Path taskDir(Path procRoot, int pid, int tid) {
        return pidDir(procRoot, pid).resolve("task").resolve(Integer.toString(tid));
    }

    /** Whole file as bytes, mapping errors as {@link #gone} does. */
    static byte[] readBytes(Path procRoot, int pid, Path file) throws IOException {
        try {
            return slurp(file);
        } catch (IOException e) {
            throw gone(e, procRoot, pid);
        }
    }

    /**
     * Reads to EOF in large chunks. Not Files.readAllBytes: for the size-0 files of /proc it
     * reads one byte first, and sysctl files (/proc/sys/...) answer any read at a non-zero
     * offset with EOF, so "32768" came back as "3". One big read also keeps a seq_file's
     * content a single snapshot whenever it fits.
     */
    static byte[] slurp(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            while (ch.read(buf) >= 0) {
                if (!buf.hasRemaining()) {
                    ByteBuffer bigger = ByteBuffer.allocate(buf.capacity() * 2);
                    bigger.put(buf.flip());
                    buf = bigger;
                }
            }
            return Arrays.copyOf(buf.array(), buf.position());
        }
    }

    /** {@link #slurp} as UTF-8 text, for files outside any process directory. */
    static String slurpText(Path file) throws IOException {
        return new String(slurp(file), StandardCharsets.UTF_8);
    }

    /** As {@link #readBytes}, decoded as UTF-8 (kernel text is bytes; names are UTF-8 in practice). */
    static String readText(Path procRoot, int pid, Path file) throws IOException {
        return new String(readBytes(procRoot, pid, file), StandardCharsets.UTF_8);
    }

    /** Text of a thread's file; a vanished thread of a living process is reported as such. */
    static String readTaskText(Path procRoot, int pid, int tid, Path file) throws IOException {
        try {
            return new String(slurp(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw taskGone(e, procRoot, pid, tid);
        }
    }

    static String readLink(Path procRoot, int pid, Path link) throws IOException {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            throw gone(e, procRoot, pid);
        }
    }

    /**
     * Turns "file not found" into {@link ProcessGoneException} when the process directory itself
     * is gone, and ESRCH (a process that died under an open file) always; anything else passes.
     */
    static IOException gone(IOException e, Path procRoot, int pid) {
        if (e instanceof ProcException) return e;
        if (isEsrch(e)) return new ProcessGoneException(pid, e);
        if (e instanceof NoSuchFileException && !Files.isDirectory(pidDir(procRoot, pid))) {
            return new ProcessGoneException(pid, e);
        }
        return e;
    }

    static IOException taskGone(IOException e, Path procRoot, int pid, int tid) {
        IOException p = gone(e, procRoot, pid);
        if (p != e) return p;
        if (e instanceof NoSuchFileException && !Files.isDirectory(taskDir(procRoot, pid, tid))) {
            return ProcessGoneException.thread(pid, tid, e);
        }
        return e;
    }

    /** ESRCH reaches Java only as strerror text; FileSystemException keeps it in the reason. */
    static boolean isEsrch(IOException e) {
        String m = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
        return m != null && m.contains("No such process");
    }

    static long parseDec(String s, Path file, int line, String what) throws ProcException {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ProcException(file, line, "bad " + what + " '" + s + "': not a decimal number");
        }
    }

    /** Unsigned 64-bit decimal (addresses, rlimits printed as %lu/%llu). */
    static long parseUDec(String s, Path file, int line, String what) throws ProcException {
        try {
            return Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            throw new ProcException(file, line, "bad " + what + " '" + s + "': not an unsigned decimal number");
        }
    }

    static int parseInt(String s, Path file, int line, String what) throws ProcException {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new ProcException(file, line, "bad " + what + " '" + s + "': not a decimal int");
        }
    }

    /** Unsigned 32-bit decimal (uids, gids): 4294967295 comes back as -1. */
    static int parseUInt(String s, Path file, int line, String what) throws ProcException {
        try {
            return Integer.parseUnsignedInt(s);
        } catch (NumberFormatException e) {
            throw new ProcException(file, line, "bad " + what + " '" + s + "': not an unsigned 32-bit number");
        }
    }

    static long parseHex(String s, Path file, int line, String what) throws ProcException {
        try {
            return Long.parseUnsignedLong(s, 16);
        } catch (NumberFormatException e) {
            throw new ProcException(file, line, "bad " + what + " '" + s + "': not a hex number");
        }
    }

    static long parseOct(String s, Path file, int line, String what) throws ProcException {
        try {
            return Long.parseUnsignedLong(s, 8);
        } catch (NumberFormatException e) {
            throw new ProcException(file, line, "bad " + what + " '" + s + "': not an octal number");
        }
    }

    /** Lines of a /proc text; a final newline does not make an extra empty line. */
    static String[] lines(String text) {
        if (text.isEmpty()) return new String[0];
        String t = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        return t.split("\n", -1);
    }

    private static final java.util.regex.Pattern BLANKS = java.util.regex.Pattern.compile("[ \t]+");

    /** Whitespace-separated tokens, none empty (the pattern compiled once: maps are split line by line). */
    static String[] tokens(String s) {
        String t = s.strip();
        return t.isEmpty() ? new String[0] : BLANKS.split(t);
    }

    /** The content of a one-number file such as /proc/sys/kernel/pid_max. */
    static String single(String text, Path file) throws ProcException {
        String[] l = lines(text);
        if (l.length != 1 || l[0].isBlank()) throw new ProcException(file, 1, "expected one value, got '" + text + "'");
        return l[0].strip();
    }
}

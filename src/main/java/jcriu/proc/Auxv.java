package jcriu.proc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * /proc/PID/auxv: the auxiliary vector the kernel gave the program at exec.
 *
 * @param raw   the file's bytes as read
 * @param words type/value pairs of native-endian (little) 64-bit words, up to and including the
 *              AT_NULL pair; the arrays are copied in and out
 */
public record Auxv(byte[] raw, long[] words) {
    public static final long AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7,
            AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15,
            AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31,
            AT_SYSINFO_EHDR = 33, AT_MINSIGSTKSZ = 51;

    public Auxv {
        raw = raw.clone();
        words = words.clone();
    }

    @Override
    public byte[] raw() {
        return raw.clone();
    }

    @Override
    public long[] words() {
        return words.clone();
    }

    /** The value of the first entry of {@code type}. */
    public OptionalLong get(long type) {
        for (int i = 0; i + 1 < words.length; i += 2) {
            if (words[i] == type) return OptionalLong.of(words[i + 1]);
            if (words[i] == AT_NULL) break;
        }
        return OptionalLong.empty();
    }

    /**
     * Parses auxv bytes. The kernel returns the saved vector up to and including AT_NULL;
     * anything after that pair is ignored, a vector without it is an error.
     */
    public static Auxv parse(byte[] raw, Path source) throws ProcException {
        if (raw.length == 0) throw new ProcException(source, "empty auxv (kernel thread or zombie?)");
        if (raw.length % 16 != 0) throw new ProcException(source, raw.length + " bytes: not whole 16-byte pairs");
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int n = raw.length / 8;
        for (int i = 0; i < n; i += 2) {
            if (b.getLong(i * 8) == AT_NULL) {
                long[] w = new long[i + 2];
                for (int k = 0; k < w.length; k++) w[k] = b.getLong(k * 8);
                return new Auxv(raw, w);
            }
        }
        throw new ProcException(source, "no AT_NULL entry in " + n / 2 + " pairs");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Auxv a && Arrays.equals(raw, a.raw) && Arrays.equals(words, a.words);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw) * 31 + Arrays.hashCode(words);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("Auxv[");
        for (int i = 0; i < words.length; i += 2) {
            if (i > 0) s.append(", ");
            s.append(words[i]).append('=').append(Long.toHexString(words[i + 1]));
        }
        return s.append(']').toString();
    }
}

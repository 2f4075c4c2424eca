package jcriu.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import com.google.protobuf.ByteString;

import jcriu.image.pb.UserX86FpregsEntry;
import jcriu.image.pb.UserX86XsaveEntry;

/**
 * The XSAVE area (standard format, as PTRACE_GETREGSET NT_X86_XSTATE gives it) as CRIU's images
 * split it (CRIU's images/core-x86.proto: user_x86_fpregs_entry for the legacy region,
 * user_x86_xsave_entry for xstate_bv and one array per component) and back. CRIU places each
 * component at the offset CPUID leaf 0xD reports (criu/arch/x86/crtools.c, assign_xsave), which
 * differs between vendors (AVX-512 opmask at 1088 on Intel, 832 on this AMD EPYC), so the layout
 * is read from the CPU through /dev/cpu/0/cpuid rather than assumed. jcriu also keeps the whole
 * area in a field of its own, which it prefers when restoring its own images.
 */
public final class CriuXsave {
    private CriuXsave() {}

    private static final int LEGACY = 512, HEADER = 512, YMM = 2, BNDREGS = 3, BNDCSR = 4, OPMASK = 5, ZMM_HI256 = 6,
            HI16_ZMM = 7, PKRU = 9, FEATURES = 10;
    private static final Path CPUID = Path.of("/dev/cpu/0/cpuid");

    /**
     * The CPU's standard-format layout: the size of the area for the enabled features (what the
     * kernel's regset expects), the supported user features and each component's offset and size.
     */
    record Layout(int size, long supported, int[] offset, int[] length) {
        boolean has(int feature) { return ((supported >>> feature) & 1) != 0 && length[feature] > 0; }
    }

    /** Read once: the layout cannot change while jcriu runs. Null when CPUID cannot be read. */
    private static final class Cpu {
        static final Layout LAYOUT = read();

        private static Layout read() {
            try (FileChannel c = FileChannel.open(CPUID, StandardOpenOption.READ)) {
                int[] l0 = cpuid(c, 0xd, 0);
                long supported = (l0[0] & 0xffffffffL) | ((l0[3] & 0xffffffffL) << 32);
                int[] off = new int[FEATURES], len = new int[FEATURES];
                for (int f = YMM; f < FEATURES; f++) {
                    int[] r = cpuid(c, 0xd, f);
                    len[f] = r[0];
                    off[f] = r[1];
                }
                return new Layout(l0[1], supported, off, len);
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        /** The cpuid driver: reading 16 bytes at (subleaf << 32 | leaf) runs CPUID on CPU 0. */
        private static int[] cpuid(FileChannel c, int leaf, int subleaf) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            c.read(b, ((long) subleaf << 32) | leaf);
            return new int[] {b.getInt(0), b.getInt(4), b.getInt(8), b.getInt(12)};
        }
    }

    /** This CPU's layout, or null if /dev/cpu/0/cpuid cannot be read (no cpuid driver). */
    static Layout cpu() { return Cpu.LAYOUT; }

    /** CRIU's fields for a whole area, with the area itself in jcriu's own field. */
    public static UserX86FpregsEntry toImage(byte[] x) {
        return toImage(x, cpu());
    }

    static UserX86FpregsEntry toImage(byte[] x, Layout cpu) {
        ByteBuffer b = ByteBuffer.wrap(x).order(ByteOrder.LITTLE_ENDIAN);
        UserX86FpregsEntry.Builder f = UserX86FpregsEntry.newBuilder().setCwd(b.getShort(0) & 0xffff)
                .setSwd(b.getShort(2) & 0xffff).setTwd(b.getShort(4) & 0xffff).setFop(b.getShort(6) & 0xffff)
                .setRip(b.getLong(8)).setRdp(b.getLong(16)).setMxcsr(b.getInt(24)).setMxcsrMask(b.getInt(28));
        for (int i = 0; i < 32; i++) f.addStSpace(b.getInt(32 + 4 * i));
        for (int i = 0; i < 64; i++) f.addXmmSpace(b.getInt(160 + 4 * i));
        if (x.length >= LEGACY + 64) {
            UserX86XsaveEntry.Builder xs = UserX86XsaveEntry.newBuilder().setXstateBv(b.getLong(HEADER));
            // AVX sits at 576 on every CPU; the others where CPUID says (written as CRIU writes them: when the CPU has them)
            int ymmOff = cpu != null ? cpu.offset()[YMM] : 576, ymmLen = cpu != null ? cpu.length()[YMM] : 256;
            if ((cpu == null || cpu.has(YMM)) && x.length >= ymmOff + ymmLen) {
                for (int i = 0; i < ymmLen / 4; i++) xs.addYmmhSpace(b.getInt(ymmOff + 4 * i));
            }
            if (cpu != null) {
                if (covers(cpu, BNDREGS, x)) for (long v : longs(b, cpu, BNDREGS)) xs.addBndregState(v);
                if (covers(cpu, BNDCSR, x)) for (long v : longs(b, cpu, BNDCSR)) xs.addBndcsrState(v);
                if (covers(cpu, OPMASK, x)) for (long v : longs(b, cpu, OPMASK)) xs.addOpmaskReg(v);
                if (covers(cpu, ZMM_HI256, x)) for (long v : longs(b, cpu, ZMM_HI256)) xs.addZmmUpper(v);
                if (covers(cpu, HI16_ZMM, x)) for (long v : longs(b, cpu, HI16_ZMM)) xs.addHi16Zmm(v);
                if (covers(cpu, PKRU, x)) {
                    for (int i = 0; i < cpu.length()[PKRU] / 4; i++) xs.addPkru(b.getInt(cpu.offset()[PKRU] + 4 * i));
                }
            }
            f.setXsave(xs);
        }
        return f.setJcriuXsaveArea(ByteString.copyFrom(x)).build();
    }

    private static boolean covers(Layout cpu, int feature, byte[] x) {
        return cpu.has(feature) && x.length >= cpu.offset()[feature] + cpu.length()[feature];
    }

    private static long[] longs(ByteBuffer b, Layout cpu, int feature) {
        long[] out = new long[cpu.length()[feature] / 8];
        for (int i = 0; i < out.length; i++) out[i] = b.getLong(cpu.offset()[feature] + 8 * i);
        return out;
    }

    /**
     * The area to restore: jcriu's own copy when the image has one, else one built from CRIU's
     * fields as CRIU's restore builds it (criu/arch/x86/crtools.c, restore_fpu()): the legacy
     * region, then each component the CPU has and the image's xstate_bv names, at CPUID's offset;
     * a component named but absent from the image stays zero, as with CRIU.
     */
    public static byte[] area(UserX86FpregsEntry f, java.nio.file.Path file) throws ImageException {
        if (f.hasJcriuXsaveArea()) return f.getJcriuXsaveArea().toByteArray();
        Layout cpu = cpu();
        if (cpu == null) {
            throw new ImageException(file, 0, "rebuilding CRIU's FPU state needs the CPU's XSAVE layout from "
                    + CPUID + ", which cannot be read (load the cpuid module)");
        }
        return fromImage(f, cpu, file);
    }

    static byte[] fromImage(UserX86FpregsEntry f, Layout cpu, java.nio.file.Path file) throws ImageException {
        if (f.getStSpaceCount() < 32 || f.getXmmSpaceCount() < 64) {
            throw new ImageException(file, 0, "FPU state with " + f.getStSpaceCount() + " st and "
                    + f.getXmmSpaceCount() + " xmm words (32 and 64 expected)");
        }
        byte[] x = new byte[cpu.size()];
        ByteBuffer b = ByteBuffer.wrap(x).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) f.getCwd()).putShort(2, (short) f.getSwd()).putShort(4, (short) f.getTwd())
                .putShort(6, (short) f.getFop()).putLong(8, f.getRip()).putLong(16, f.getRdp())
                .putInt(24, f.getMxcsr()).putInt(28, f.getMxcsrMask());
        for (int i = 0; i < 32; i++) b.putInt(32 + 4 * i, f.getStSpace(i));
        for (int i = 0; i < 64; i++) b.putInt(160 + 4 * i, f.getXmmSpace(i));
        long bv = 0x3; // x87 and SSE
        if (f.hasXsave()) {
            UserX86XsaveEntry xs = f.getXsave();
            long want = xs.getXstateBv();
            bv |= put(b, cpu, want, YMM, ints(xs.getYmmhSpaceList()), file);
            bv |= put(b, cpu, want, BNDREGS, xs.getBndregStateList().stream().mapToLong(Long::longValue).toArray(), file);
            bv |= put(b, cpu, want, BNDCSR, xs.getBndcsrStateList().stream().mapToLong(Long::longValue).toArray(), file);
            bv |= put(b, cpu, want, OPMASK, xs.getOpmaskRegList().stream().mapToLong(Long::longValue).toArray(), file);
            bv |= put(b, cpu, want, ZMM_HI256, xs.getZmmUpperList().stream().mapToLong(Long::longValue).toArray(), file);
            bv |= put(b, cpu, want, HI16_ZMM, xs.getHi16ZmmList().stream().mapToLong(Long::longValue).toArray(), file);
            bv |= put(b, cpu, want, PKRU, ints(xs.getPkruList()), file);
        }
        b.putLong(HEADER, bv);
        return x;
    }

    private static long[] ints(java.util.List<Integer> words) {
        long[] pairs = new long[(words.size() + 1) / 2];
        for (int i = 0; i < words.size(); i++) pairs[i / 2] |= (words.get(i) & 0xffffffffL) << (32 * (i % 2));
        return pairs;
    }

    /** One component, as 64-bit words; returns its xstate_bv bit when it counts. */
    private static long put(ByteBuffer b, Layout cpu, long want, int feature, long[] words, java.nio.file.Path file)
            throws ImageException {
        if (!cpu.has(feature) || ((want >>> feature) & 1) == 0) return 0;
        int len = cpu.length()[feature];
        if (words.length != 0 && words.length * 8 < len) {
            throw new ImageException(file, 0, "XSAVE component " + feature + " has " + words.length * 8
                    + " bytes, this CPU's has " + len);
        }
        for (int i = 0; i < words.length && 8 * i < len; i++) {
            b.putLong(cpu.offset()[feature] + 8 * i, words[i]);
        }
        return 1L << feature;
    }
}

package jcriu.rseq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import jcriu.ptrace.RseqConfig;

/** The per-thread decisions of the spec, on fake memory (no process involved). */
class RseqInspectorTest {
    private static final long AREA = 0x7f00_0000_1060L, DESC = 0x5600_0000_4080L;
    private static final long START = 0x5600_0000_1200L, LEN = 0x30, ABORT = 0x5600_0000_1240L;
    private static final int SIG = 0x53053053, TID = 4242;

    /** Sparse little-endian memory: writes of whole structures at addresses; reads must hit one. */
    private static final class FakeMemory implements RseqInspector.Memory {
        final TreeMap<Long, byte[]> blocks = new TreeMap<>();
        final List<Long> reads = new ArrayList<>();

        FakeMemory area(long at, int cpuIdStart, int cpuId, long rseqCs, int flags) {
            ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(cpuIdStart).putInt(cpuId).putLong(rseqCs).putInt(flags);
            blocks.put(at, b.array());
            return this;
        }

        FakeMemory desc(long at, int version, int flags, long start, long len, long abort) {
            ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(version).putInt(flags).putLong(start).putLong(len).putLong(abort);
            blocks.put(at, b.array());
            return this;
        }

        @Override
        public byte[] read(long addr, int len) throws IOException {
            reads.add(addr);
            var e = blocks.floorEntry(addr);
            if (e == null || addr + len > e.getKey() + e.getValue().length) {
                throw new IOException(String.format("EFAULT reading %d bytes at %#x", len, addr));
            }
            byte[] out = new byte[len];
            System.arraycopy(e.getValue(), (int) (addr - e.getKey()), out, 0, len);
            return out;
        }
    }

    private static RseqConfig cfg() { return new RseqConfig(AREA, 32, SIG, 0); }

    private static RseqState inspect(RseqConfig cfg, FakeMemory m, long rip) throws IOException {
        return RseqInspector.inspect(TID, cfg, m, rip, s -> { });
    }

    @Test
    void containsIsTheKernelsHalfOpenInterval() {
        RseqCs cs = new RseqCs(0, 0, START, LEN, ABORT);
        assertFalse(cs.contains(START - 1));
        assertTrue(cs.contains(START));
        assertTrue(cs.contains(START + LEN - 1));
        assertFalse(cs.contains(START + LEN), "post_commit_ip itself is outside");
        assertFalse(cs.contains(ABORT));
        assertFalse(new RseqCs(0, 0, START, 0, ABORT).contains(START), "an empty section contains nothing");
        // unsigned arithmetic: addresses in the upper half and an ip below start must not wrap into the section
        RseqCs high = new RseqCs(0, 0, 0xffff_ffff_ffff_f000L, 0x100, 0);
        assertTrue(high.contains(0xffff_ffff_ffff_f080L));
        assertFalse(high.contains(0x10));
        assertFalse(cs.contains(0));
    }

    @Test
    void notRegisteredReadsNothing() throws IOException {
        FakeMemory m = new FakeMemory();
        RseqState s = inspect(new RseqConfig(0, 0, 0, 0), m, START);
        assertInstanceOf(RseqState.NotRegistered.class, s);
        assertNull(s.registration());
        assertEquals(START, s.resumeIp(START));
        assertEquals(0, s.rseqCsToRestore());
        assertTrue(m.reads.isEmpty(), "no memory read for an unregistered thread");
    }

    @Test
    void registeredWithoutSectionKeepsRipAndSavesTheRegistration() throws IOException {
        RseqState s = inspect(cfg(), new FakeMemory().area(AREA, 1, 1, 0, 0), START + 8);
        RseqState.Outside o = assertInstanceOf(RseqState.Outside.class, s);
        assertEquals(new RseqState.Registration(AREA, 32, SIG), o.registration());
        assertEquals(START + 8, s.resumeIp(START + 8));
        assertEquals(0, s.rseqCsToRestore());
    }

    @ParameterizedTest
    @ValueSource(longs = {START - 1, START + LEN, ABORT, 0x1000})
    void staleDescriptorWithRipOutsideIsOutside(long rip) throws IOException {
        FakeMemory m = new FakeMemory().area(AREA, 0, 0, DESC, 0).desc(DESC, 0, 0, START, LEN, ABORT);
        RseqState s = inspect(cfg(), m, rip);
        assertInstanceOf(RseqState.Outside.class, s);
        assertEquals(rip, s.resumeIp(rip));
    }

    /** flags 0, NO_RESTART_ON_PREEMPT, NO_RESTART_ON_MIGRATE: the kernel would abort on a signal; so does a dump. */
    @ParameterizedTest
    @ValueSource(ints = {0, RseqState.FLAG_NO_RESTART_ON_PREEMPT, RseqState.FLAG_NO_RESTART_ON_MIGRATE,
            RseqState.FLAG_NO_RESTART_ON_PREEMPT | RseqState.FLAG_NO_RESTART_ON_MIGRATE})
    void insideARestartableSectionResumesAtTheAbortHandler(int flags) throws IOException {
        FakeMemory m = new FakeMemory().area(AREA, 0, 0, DESC, 0).desc(DESC, 0, flags, START, LEN, ABORT);
        for (long rip : new long[] {START, START + 4, START + LEN - 1}) {
            RseqState s = inspect(cfg(), m, rip);
            RseqState.InsideAbort a = assertInstanceOf(RseqState.InsideAbort.class, s);
            assertEquals(ABORT, s.resumeIp(rip));
            assertEquals(DESC, a.csPointer());
            assertEquals(0, s.rseqCsToRestore(), "nothing written back: the abort clears rseq_cs");
            assertEquals(new RseqState.Registration(AREA, 32, SIG), s.registration());
        }
    }

    @Test
    void insideANoRestartOnSignalSectionKeepsRipAndTheDescriptorPointer() throws IOException {
        FakeMemory m = new FakeMemory().area(AREA, 0, 0, DESC, 0)
                .desc(DESC, 0, RseqState.FLAG_NO_RESTART_ON_SIGNAL, START, LEN, ABORT);
        RseqState s = inspect(cfg(), m, START + 6);
        assertInstanceOf(RseqState.InsideNoRestart.class, s);
        assertEquals(START + 6, s.resumeIp(START + 6));
        assertEquals(DESC, s.rseqCsToRestore());
    }

    @Test
    void flagsOfStructRseqCombineWithTheDescriptorFlags() throws IOException {
        FakeMemory m = new FakeMemory().area(AREA, 0, 0, DESC, RseqState.FLAG_NO_RESTART_ON_SIGNAL)
                .desc(DESC, 0, 0, START, LEN, ABORT);
        assertInstanceOf(RseqState.InsideNoRestart.class, inspect(cfg(), m, START));
        FakeMemory m2 = new FakeMemory().area(AREA, 0, 0, DESC, RseqState.FLAG_NO_RESTART_ON_PREEMPT)
                .desc(DESC, 0, 0, START, LEN, ABORT);
        assertInstanceOf(RseqState.InsideAbort.class, inspect(cfg(), m2, START));
    }

    /** Deprecated NO_RESTART bits inside a section: the case still applies, and a warning says what the kernel does. */
    @ParameterizedTest
    @ValueSource(ints = {0, RseqState.FLAG_NO_RESTART_ON_PREEMPT, RseqState.FLAG_NO_RESTART_ON_SIGNAL})
    void deprecatedFlagsInsideASectionAreWarnedAbout(int flags) throws IOException {
        FakeMemory m = new FakeMemory().area(AREA, 0, 0, DESC, 0).desc(DESC, 0, flags, START, LEN, ABORT);
        java.util.List<String> warnings = new java.util.ArrayList<>();
        RseqInspector.inspect(TID, cfg(), m, START + 4, s -> { }, warnings::add);
        assertEquals(flags == 0 ? 0 : 1, warnings.size(), warnings.toString());
        if (flags != 0) {
            assertTrue(warnings.getFirst().contains("tid " + TID) && warnings.getFirst().contains("kills"),
                    warnings.getFirst());
        }
        warnings.clear();
        RseqInspector.inspect(TID, cfg(), m, START + LEN, s -> { }, warnings::add); // outside: nothing to fear
        assertEquals(0, warnings.size(), warnings.toString());
    }

    @Test
    void descriptorVersionOtherThanZeroIsRefusedNamingThreadAndVersion() {
        FakeMemory m = new FakeMemory().area(AREA, 0, 0, DESC, 0).desc(DESC, 1, 0, START, LEN, ABORT);
        for (long rip : new long[] {START, 0x1000}) { // inside or not: the descriptor itself is unusable
            var e = assertThrows(RseqInspector.RefusedException.class, () -> inspect(cfg(), m, rip));
            assertTrue(e.getMessage().contains("thread " + TID), e.getMessage());
            assertTrue(e.getMessage().contains("version 1"), e.getMessage());
        }
    }

    @Test
    void registrationFlagsAreRefused() {
        var e = assertThrows(RseqInspector.RefusedException.class,
                () -> inspect(new RseqConfig(AREA, 32, SIG, 1), new FakeMemory().area(AREA, 0, 0, 0, 0), START));
        assertTrue(e.getMessage().contains("thread " + TID) && e.getMessage().contains("flags 1"), e.getMessage());
    }

    @Test
    void unreadableAreaFailsInsteadOfGuessing() {
        assertThrows(IOException.class, () -> inspect(cfg(), new FakeMemory(), START));
    }

    @Test
    void reportOfOneThreadCarriesFieldsDescriptorAndCase() {
        FakeMemory m = new FakeMemory().area(AREA, 3, 3, DESC, 0).desc(DESC, 0, 0, START, LEN, ABORT);
        RseqReport.ThreadReport t = RseqReport.describe(TID, cfg(), m, START + 1, new ArrayList<>());
        assertEquals(RseqReport.Case.INSIDE_ABORT, t.kind());
        assertTrue(t.inside());
        assertEquals(3, t.area().cpuId());
        assertEquals(DESC, t.csPointer());
        assertEquals(ABORT, t.cs().abortIp());
        RseqReport.ThreadReport bad = RseqReport.describe(TID, cfg(),
                new FakeMemory().area(AREA, 0, 0, DESC, 0).desc(DESC, 2, 0, START, LEN, ABORT), START, new ArrayList<>());
        assertEquals(RseqReport.Case.REFUSED, bad.kind());
        assertNull(bad.state());
        assertTrue(bad.decision().contains("version 2"), bad.decision());
        RseqReport.ThreadReport none = RseqReport.describe(TID, new RseqConfig(0, 0, 0, 0), m, START, new ArrayList<>());
        assertEquals(RseqReport.Case.NOT_REGISTERED, none.kind());
        assertFalse(none.registered());
        assertNull(none.area());
        String text = new RseqReport(1, List.of(t, bad, none)).toText();
        assertTrue(text.contains("rip inside") && text.contains("case: inside") && text.contains("registration: none"),
                text);
    }
}

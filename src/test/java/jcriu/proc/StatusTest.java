package jcriu.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatusTest {
    @TempDir
    Path tmp;

    /** /proc/PID/status of a process on Linux 6.18, lightly edited to make fields distinct. */
    static final String STATUS = """
            Name:\tcat
            Umask:\t0022
            State:\tS (sleeping)
            Tgid:\t3947
            Ngid:\t0
            Pid:\t3947
            PPid:\t3944
            TracerPid:\t12
            Uid:\t1000\t1001\t1002\t1003
            Gid:\t100\t101\t102\t4294967295
            FDSize:\t256
            Groups:\t4 24 27\s
            NStgid:\t3947\t1
            NSpid:\t3947\t1
            NSpgid:\t3944\t1
            NSsid:\t2136\t1
            Kthread:\t0
            VmPeak:\t    3060 kB
            VmSize:\t    3060 kB
            VmLck:\t       0 kB
            VmPin:\t       0 kB
            VmHWM:\t    1660 kB
            VmRSS:\t    1660 kB
            RssAnon:\t     108 kB
            RssFile:\t    1552 kB
            RssShmem:\t       0 kB
            VmData:\t     360 kB
            VmStk:\t     132 kB
            VmExe:\t      20 kB
            VmLib:\t    1528 kB
            VmPTE:\t      40 kB
            VmSwap:\t       0 kB
            HugetlbPages:\t       0 kB
            CoreDumping:\t0
            THP_enabled:\t1
            untag_mask:\t0xffffffffffffffff
            Threads:\t3
            SigQ:\t2/96364
            SigPnd:\t0000000000000100
            ShdPnd:\t0000000000004000
            SigBlk:\tfffffffe7ffbfeff
            SigIgn:\t0000000000001000
            SigCgt:\t0000000180000002
            CapInh:\t0000000000000000
            CapPrm:\t000001fffeffffff
            CapEff:\t000001fffeffffff
            CapBnd:\t000001ffffffffff
            CapAmb:\t0000000000000400
            NoNewPrivs:\t1
            Seccomp:\t2
            Seccomp_filters:\t1
            Speculation_Store_Bypass:\tthread vulnerable
            SpeculationIndirectBranch:\tconditional enabled
            Cpus_allowed:\t3
            Cpus_allowed_list:\t0-1,4,6-7
            Mems_allowed:\t00000000,00000001
            Mems_allowed_list:\t0
            voluntary_ctxt_switches:\t5
            nonvoluntary_ctxt_switches:\t1
            """;

    @Test
    void allFields() throws Exception {
        new Fixture(tmp).file("3947/status", STATUS);
        ProcStatus s = Status.read(tmp, 3947);
        assertEquals("cat", s.name());
        assertEquals(OptionalInt.of(022), s.umask());
        assertEquals('S', s.state());
        assertEquals(3947, s.tgid());
        assertEquals(3947, s.pid());
        assertEquals(3944, s.ppid());
        assertEquals(12, s.tracerPid());
        assertEquals(new Ids(1000, 1001, 1002, 1003), s.uid());
        assertEquals(new Ids(100, 101, 102, -1), s.gid());
        assertEquals(List.of(4, 24, 27), s.groups());
        assertEquals(List.of(3947, 1), s.nsTgid());
        assertEquals(List.of(3947, 1), s.nsPid());
        assertEquals(3, s.threads());
        assertEquals(new SigQueue(2, 96364), s.sigQ());
        assertEquals(1L << 8, s.sigPnd()); // SIGUSR1 (9) pending
        assertEquals(1L << 14, s.shdPnd()); // SIGTERM (15)
        assertEquals(0xfffffffe7ffbfeffL, s.sigBlk());
        assertEquals(0x1000, s.sigIgn());
        assertEquals(0x180000002L, s.sigCgt());
        Capabilities c = s.caps();
        assertEquals(0, c.inheritable());
        assertEquals(0x1fffeffffffL, c.permitted());
        assertEquals(0x1fffeffffffL, c.effective());
        assertEquals(0x1ffffffffffL, c.bounding());
        assertEquals(0x400, c.ambient());
        assertTrue(c.hasEffective(Capabilities.CAP_SYS_ADMIN));
        assertFalse(c.hasEffective(Capabilities.CAP_SYS_RESOURCE)); // bit 24 is off in 1fffeffffff
        assertTrue(c.hasPermitted(Capabilities.CAP_CHECKPOINT_RESTORE));
        assertTrue(Capabilities.has(c.ambient(), 10));
        assertTrue(s.noNewPrivs());
        assertEquals(2, s.seccomp());
        assertEquals(OptionalInt.of(1), s.seccompFilters());
        assertEquals(Optional.of("thread vulnerable"), s.speculationStoreBypass());
        assertEquals(Optional.of("conditional enabled"), s.speculationIndirectBranch());
        assertEquals(Optional.of("0-1,4,6-7"), s.cpusAllowedList());
        BitSet cpus = new BitSet();
        cpus.set(0, 2);
        cpus.set(4);
        cpus.set(6, 8);
        assertEquals(cpus, s.cpusAllowed());
        assertEquals(Optional.of("1660 kB"), s.field("VmRSS"));
        assertEquals(Optional.empty(), s.field("Nope"));
    }

    @Test
    void optionalFieldsMayBeAbsent() throws Exception {
        String t = STATUS.lines().filter(l -> !l.startsWith("Umask") && !l.startsWith("NS") && !l.startsWith("Seccomp_")
                && !l.startsWith("Speculation") && !l.startsWith("Cpus_allowed_list")).reduce("", (a, b) -> a + b + "\n")
                .replace("Groups:\t4 24 27 ", "Groups:\t");
        ProcStatus s = Status.parse(t, Path.of("/proc/1/status"));
        assertEquals(OptionalInt.empty(), s.umask());
        assertEquals(List.of(), s.nsPid());
        assertEquals(List.of(), s.nsTgid());
        assertEquals(List.of(), s.groups());
        assertEquals(OptionalInt.empty(), s.seccompFilters());
        assertEquals(Optional.empty(), s.speculationStoreBypass());
        assertEquals(Optional.empty(), s.cpusAllowedList());
        assertEquals(new BitSet(), s.cpusAllowed());
    }

    @Test
    void escapedAndBlankNames() throws Exception {
        // The kernel escapes only newline and backslash; ')' '(' and spaces appear as is.
        for (String[] c : new String[][] {{"a) b (c", "a) b (c"}, {"two\\nlines", "two\nlines"},
                {"back\\\\slash", "back\\slash"}, {" spaced ", " spaced "}, {"tab\there", "tab\there"}}) {
            ProcStatus s = Status.parse(STATUS.replace("Name:\tcat\n", "Name:\t" + c[0] + "\n"), Path.of("/proc/1/status"));
            assertEquals(c[1], s.name());
        }
    }

    @Test
    void errorsNameFileAndLine() {
        Path f = Path.of("/proc/9/status");
        ProcException e = assertThrows(ProcException.class, () -> Status.parse(STATUS.replace("Uid:\t1000\t", "Uid:\t"), f));
        assertTrue(e.getMessage().startsWith("/proc/9/status:9: Uid needs 4 values"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Status.parse(STATUS.replace("SigBlk:\tfffffffe7", "SigBlk:\tgffffffe7"), f));
        assertTrue(e.getMessage().startsWith("/proc/9/status:41: bad SigBlk 'gffffffe7ffbfeff'"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Status.parse(STATUS.replace("TracerPid:\t12\n", ""), f));
        assertTrue(e.getMessage().startsWith("/proc/9/status: no TracerPid line"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Status.parse(STATUS.replace("NoNewPrivs:\t1", "NoNewPrivs:\t2"), f));
        assertTrue(e.getMessage().startsWith("/proc/9/status:49: bad NoNewPrivs '2'"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Status.parse(STATUS.replace("Cpus_allowed_list:\t0-1", "Cpus_allowed_list:\t0-x"), f));
        assertTrue(e.getMessage().startsWith("/proc/9/status:55: bad cpu list"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Status.parse(STATUS + "garbage\n", f));
        assertTrue(e.getMessage().startsWith("/proc/9/status:60: not a 'Key: value' line"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Status.parse(STATUS.replace("SigQ:\t2/96364", "SigQ:\t2"), f));
        assertTrue(e.getMessage().startsWith("/proc/9/status:38: bad SigQ '2'"), e.getMessage());
    }

    @Test
    void selfCapabilities() throws Exception {
        new Fixture(tmp).file("self/status", STATUS);
        assertEquals(0x1fffeffffffL, KernelInfo.selfCapabilities(tmp).effective());
        assertTrue(KernelInfo.selfHasEffective(tmp, Capabilities.CAP_SYS_PTRACE));
        assertTrue(KernelInfo.selfCanCheckpoint(tmp));
        new Fixture(tmp).file("self/status", STATUS.replace("CapEff:\t000001fffeffffff", "CapEff:\t0000010000080000"));
        assertTrue(KernelInfo.selfCanCheckpoint(tmp)); // CAP_CHECKPOINT_RESTORE + CAP_SYS_PTRACE
        new Fixture(tmp).file("self/status", STATUS.replace("CapEff:\t000001fffeffffff", "CapEff:\t0000010000000000"));
        assertFalse(KernelInfo.selfCanCheckpoint(tmp));
    }
}

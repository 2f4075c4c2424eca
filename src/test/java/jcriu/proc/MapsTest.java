package jcriu.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MapsTest {
    @TempDir
    Path tmp;

    /** A header line as show_vma_header_prefix()+seq_pad() print it: name from column 74. */
    static String header(String range, String perms, String off, String dev, long ino, String name) {
        String prefix = range + " " + perms + " " + off + " " + dev + " " + ino + " ";
        if (name.isEmpty()) return prefix;
        return String.format("%-72s", prefix) + " " + name;
    }

    /** An smaps entry with the fields of Linux 6.18 and the given sizes in kB. */
    static String entry(String header, long sizeKb, long rssKb, long anonKb, long swapKb, String flags) {
        return header + "\n"
                + "Size:           " + sizeKb + " kB\n"
                + "KernelPageSize:        4 kB\n"
                + "MMUPageSize:           4 kB\n"
                + "Rss:                   " + rssKb + " kB\n"
                + "Pss:                   " + rssKb + " kB\n"
                + "Pss_Dirty:             0 kB\n"
                + "Shared_Clean:          0 kB\n"
                + "Shared_Dirty:          0 kB\n"
                + "Private_Clean:         0 kB\n"
                + "Private_Dirty:         0 kB\n"
                + "Referenced:            0 kB\n"
                + "Anonymous:             " + anonKb + " kB\n"
                + "KSM:                   0 kB\n"
                + "LazyFree:              0 kB\n"
                + "AnonHugePages:         0 kB\n"
                + "ShmemPmdMapped:        0 kB\n"
                + "FilePmdMapped:         0 kB\n"
                + "Shared_Hugetlb:        0 kB\n"
                + "Private_Hugetlb:       0 kB\n"
                + "Swap:                  " + swapKb + " kB\n"
                + "SwapPss:               0 kB\n"
                + "Locked:                0 kB\n"
                + "THPeligible:           0\n"
                + "ProtectionKey:         0\n"
                + "VmFlags: " + flags + " \n";
    }

    static final String SMAPS = String.join("",
            entry(header("55cfbf1e0000-55cfbf1e2000", "r--p", "00000000", "fe:00", 260386, "/usr/bin/head"), 8, 8, 0, 0, "rd mr mw me"),
            entry(header("55cfbf1eb000-55cfbf1ec000", "rw-p", "0000a000", "fe:00", 260386, "/usr/bin/head"), 4, 4, 4, 0, "rd wr mr mw me ac"),
            entry(header("564059599000-5640595ba000", "rw-p", "00000000", "00:00", 0, "[heap]"), 132, 12, 12, 0, "rd wr mr mw me ac"),
            entry(header("7f8337355000-7f8337377000", "rw-p", "00000000", "00:00", 0, ""), 136, 8, 8, 4, "rd wr mr mw me ac nh"),
            entry(header("7f8337377000-7f8337378000", "rw-p", "00000000", "00:00", 0, "[anon:glibc: malloc arena]"), 4, 0, 0, 0, "rd wr mr mw me ac"),
            entry(header("7f8337378000-7f833737c000", "rw-s", "00000000", "00:01", 1027, "/dev/zero (deleted)"), 16, 8, 0, 0, "rd wr sh mr mw me ms"),
            entry(header("7f833737c000-7f833737d000", "rw-s", "00000000", "00:01", 1030, "[anon_shmem:ring]"), 4, 4, 0, 0, "rd wr sh mr mw me ms"),
            entry(header("7f833737d000-7f8337381000", "rw-s", "00000000", "00:01", 5, "/SYSV0000002a (deleted)"), 16, 0, 0, 0, "rd wr sh mr mw me ms"),
            entry(header("7f8337381000-7f8337383000", "rw-p", "00002000", "fe:00", 4242, "/tmp/my data file (deleted)"), 8, 8, 4, 0, "rd wr mr mw me ac"),
            entry(header("7f8337383000-7f8337384000", "rw-s", "00000000", "00:01", 1026, "/memfd:hello world (deleted)"), 4, 4, 0, 0, "rd wr sh mr mw me ms"),
            entry(header("7f8337384000-7f8337385000", "r--s", "00000000", "fe:00", 338846, "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache"), 4, 4, 0, 0, "rd mr me ms"),
            entry(header("7f8337385000-7f8337386000", "rw-s", "00000000", "00:10", 17, "/[aio] (deleted)"), 4, 4, 0, 0, "rd wr sh mr mw me ms de"),
            entry(header("7f8337386000-7f8337387000", "r--s", "00000000", "00:10", 1038, "anon_inode:[perf_event]"), 4, 4, 0, 0, "rd sh mr me ms"),
            entry(header("7f83375c7000-7f83375cb000", "r--p", "00000000", "00:00", 0, "[vvar]"), 16, 0, 0, 0, "rd mr pf io de dd"),
            entry(header("7f83375cb000-7f83375cd000", "r--p", "00000000", "00:00", 0, "[vvar_vclock]"), 8, 0, 0, 0, "rd mr pf io de dd"),
            entry(header("7f83375cd000-7f83375cf000", "r-xp", "00000000", "00:00", 0, "[vdso]"), 8, 4, 0, 0, "rd ex mr mw me de"),
            entry(header("7ffefe0e3000-7ffefe104000", "rw-p", "00000000", "00:00", 0, "[stack]"), 132, 16, 16, 0, "rd wr mr mw me gd ac"),
            entry(header("ffffffffff600000-ffffffffff601000", "--xp", "00000000", "00:00", 0, "[vsyscall]"), 4, 0, 0, 0, "ex"));

    private List<Vma> fixture() throws Exception {
        new Fixture(tmp).file("77/smaps", SMAPS);
        return Maps.read(tmp, 77);
    }

    private static Vma named(List<Vma> vmas, String name) {
        return vmas.stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name));
    }

    @Test
    void parsesHeaderFields() throws Exception {
        List<Vma> v = fixture();
        assertEquals(18, v.size());
        Vma head = v.get(1);
        assertEquals(0x55cfbf1eb000L, head.start());
        assertEquals(0x55cfbf1ec000L, head.end());
        assertEquals("rw-p", head.perms());
        assertTrue(head.read() && head.write() && !head.exec() && head.privateMapping() && !head.shared());
        assertEquals(0xa000, head.pgoff());
        assertEquals(0xfe, head.devMajor());
        assertEquals(0, head.devMinor());
        assertEquals(260386, head.inode());
        assertEquals("/usr/bin/head", head.name());
        assertEquals(Optional.of("/usr/bin/head"), head.path());
        assertFalse(head.deleted());
        assertEquals(4096, head.rss());
        assertEquals(4096, head.anonymous());
        assertEquals(1, head.pages());
        assertEquals(List.of("rd", "wr", "mr", "mw", "me", "ac"), List.copyOf(head.vmFlags()));
        assertEquals(VmaKind.FILE_PRIVATE, head.kind());
    }

    @Test
    void vsyscallAboveSignedRange() throws Exception {
        Vma vs = named(fixture(), "[vsyscall]");
        assertEquals(0xffffffffff600000L, vs.start());
        assertEquals(1, vs.pages());
        assertEquals("--xp", vs.perms());
        assertTrue(vs.exec() && !vs.read());
        assertEquals(VmaKind.VSYSCALL, vs.kind());
        assertTrue(vs.contains(0xffffffffff600123L));
    }

    @Test
    void classifiesEveryKind() throws Exception {
        List<Vma> v = fixture();
        assertEquals(VmaKind.FILE_PRIVATE, v.get(0).kind());
        assertEquals(VmaKind.HEAP, named(v, "[heap]").kind());
        Vma anon = v.get(3);
        assertEquals("", anon.name());
        assertEquals(VmaKind.ANON_PRIVATE, anon.kind());
        assertFalse(anon.fileBacked());
        assertTrue(anon.hasFlag("nh"));
        assertEquals(4096, anon.swap());
        assertEquals(VmaKind.ANON_PRIVATE, named(v, "[anon:glibc: malloc arena]").kind());
        assertEquals(VmaKind.ANON_SHARED, named(v, "/dev/zero (deleted)").kind());
        assertEquals(VmaKind.ANON_SHARED, named(v, "[anon_shmem:ring]").kind());
        assertEquals(VmaKind.SYSV_SHM, named(v, "/SYSV0000002a (deleted)").kind());
        assertEquals(VmaKind.FILE_PRIVATE, named(v, "/tmp/my data file (deleted)").kind());
        assertEquals(VmaKind.FILE_SHARED, named(v, "/memfd:hello world (deleted)").kind());
        assertEquals(VmaKind.FILE_SHARED, named(v, "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache").kind());
        assertEquals(VmaKind.AIO_RING, named(v, "/[aio] (deleted)").kind());
        assertEquals(VmaKind.OTHER, named(v, "anon_inode:[perf_event]").kind());
        assertEquals(VmaKind.VVAR, named(v, "[vvar]").kind());
        assertEquals(VmaKind.VVAR_VCLOCK, named(v, "[vvar_vclock]").kind());
        assertEquals(VmaKind.VDSO, named(v, "[vdso]").kind());
        Vma stack = named(v, "[stack]");
        assertEquals(VmaKind.STACK, stack.kind());
        assertTrue(stack.hasFlag("gd"));
    }

    @Test
    void sharedAnonymousIsNotADeletedFile() throws Exception {
        Vma shm = named(fixture(), "/dev/zero (deleted)");
        assertTrue(shm.shared());
        assertTrue(shm.fileBacked()); // the kernel does have a shmem file behind it
        assertEquals(1027, shm.inode());
        assertEquals(0, shm.devMajor());
        assertEquals(1, shm.devMinor());
        assertEquals(VmaKind.ANON_SHARED, shm.kind());
        assertEquals(8192, shm.rss());
        assertEquals(0, shm.anonymous());
    }

    @Test
    void deletedFileWithSpaces() throws Exception {
        Vma d = named(fixture(), "/tmp/my data file (deleted)");
        assertTrue(d.deleted());
        assertEquals(Optional.of("/tmp/my data file"), d.path());
        assertEquals(0x2000, d.pgoff());
        assertEquals(4242, d.inode());
    }

    @Test
    void anonNames() throws Exception {
        List<Vma> v = fixture();
        assertEquals(Optional.of("glibc: malloc arena"), named(v, "[anon:glibc: malloc arena]").anonName());
        assertEquals(Optional.of("ring"), named(v, "[anon_shmem:ring]").anonName());
        assertEquals(Optional.empty(), named(v, "[heap]").anonName());
        assertEquals(Optional.empty(), named(v, "[anon:glibc: malloc arena]").path());
        assertFalse(named(v, "[anon:glibc: malloc arena]").deleted());
    }

    @Test
    void plainMapsFormat() throws Exception {
        String maps = """
                564049074000-564049076000 r--p 00000000 fe:00 260131                     /usr/bin/cat
                564059599000-5640595ba000 rw-p 00000000 00:00 0                          [heap]
                7f8337355000-7f8337377000 rw-p 00000000 00:00 0\s
                7f83375cd000-7f83375cf000 r-xp 00000000 00:00 0                          [vdso]
                7f83375ce000-7f83375cf000 rw-p 00000000 00:00 0
                """;
        new Fixture(tmp).file("5/maps", maps);
        List<Vma> v = Maps.readMaps(tmp, 5);
        assertEquals(5, v.size());
        assertEquals("", v.get(2).name());
        assertEquals("", v.get(4).name()); // trailing space trimmed by hand: still understood
        assertEquals(VmaKind.VDSO, v.get(3).kind());
        assertFalse(v.get(0).hasSmapsData());
        assertEquals(Set.of(), v.get(0).vmFlags());
        assertEquals(-1, v.get(0).rss());
    }

    @Test
    void badAddressNamesFileAndLine() {
        String bad = SMAPS.replace("7f8337377000-7f8337378000", "7f8337377000-7f83373780zz");
        new Fixture(tmp).file("9/smaps", bad);
        ProcException e = assertThrows(ProcException.class, () -> Maps.read(tmp, 9));
        Path f = tmp.resolve("9/smaps");
        int line = 4 * 26 + 1; // fifth entry, each entry is 26 lines
        assertEquals(f, e.file());
        assertEquals(line, e.line());
        assertTrue(e.getMessage().startsWith(f + ":" + line + ": bad end address '7f83373780zz'"), e.getMessage());
    }

    @Test
    void missingVmFlagsIsAnError() {
        String bad = SMAPS.replaceFirst("VmFlags: rd mr mw me \n", "");
        new Fixture(tmp).file("9/smaps", bad);
        ProcException e = assertThrows(ProcException.class, () -> Maps.read(tmp, 9));
        assertTrue(e.getMessage().contains("smaps:1: mapping /usr/bin/head has no VmFlags line"), e.getMessage());
    }

    @Test
    void badPermsAndFlags() {
        ProcException e = assertThrows(ProcException.class, () -> Maps.parse(
                "00400000-00401000 rwzp 00000000 00:00 0 \n", Path.of("x/maps"), false));
        assertTrue(e.getMessage().startsWith("x/maps:1: bad perms 'rwzp'"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Maps.parse(
                header("00400000-00401000", "rw-p", "00000000", "00:00", 0, "") + "\nRss: 4 kB\nAnonymous: 4 kB\nVmFlags: rd wrx\n",
                Path.of("x/smaps"), true));
        assertTrue(e.getMessage().startsWith("x/smaps:4: bad VmFlags code 'wrx'"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Maps.parse("Rss: 4 kB\n", Path.of("x/smaps"), true));
        assertTrue(e.getMessage().startsWith("x/smaps:1: field before the first mapping"), e.getMessage());
        e = assertThrows(ProcException.class, () -> Maps.parse(
                "00400000-00401000 rw-p 00000000 00:00 0 \nRss: 4 MB\n", Path.of("x/smaps"), true));
        assertTrue(e.getMessage().startsWith("x/smaps:2: bad Rss value"), e.getMessage());
    }

    @Test
    void emptyMapsOfZombie() throws Exception {
        new Fixture(tmp).file("3/smaps", "");
        assertEquals(List.of(), Maps.read(tmp, 3));
    }

    @Test
    void missingProcessIsGone() {
        ProcessGoneException e = assertThrows(ProcessGoneException.class, () -> Maps.read(tmp, 4321));
        assertEquals("process 4321 does not exist (or exited)", e.getMessage());
        assertEquals(4321, e.pid());
    }
}

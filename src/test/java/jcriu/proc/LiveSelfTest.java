package jcriu.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Readers against the real /proc: this JVM, and `sleep` children (read, never ptraced). */
@Timeout(value = 120, unit = TimeUnit.SECONDS) // a stuck child must fail the test, not hang the build
class LiveSelfTest {
    static final Path PROC = Path.of("/proc");
    static final int SELF = (int) ProcessHandle.current().pid();

    @TempDir
    Path tmp;

    static Vma named(List<Vma> vmas, String name) {
        return vmas.stream().filter(v -> v.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in " + vmas));
    }

    @Test
    void selfMapsAndAuxv() throws Exception {
        List<Vma> vmas = Maps.read(PROC, SELF);
        assertTrue(vmas.size() > 20, "a JVM has many mappings: " + vmas.size());
        for (int i = 1; i < vmas.size(); i++) {
            assertTrue(Long.compareUnsigned(vmas.get(i - 1).end(), vmas.get(i).start()) <= 0, "sorted, disjoint");
        }
        for (Vma v : vmas) {
            assertTrue(v.hasSmapsData());
            assertTrue(v.hasFlag("mr") || !v.read() || v.name().equals("[vsyscall]"), v.toString());
        }
        assertEquals(VmaKind.STACK, named(vmas, "[stack]").kind());
        Vma vdso = named(vmas, "[vdso]");
        assertEquals(VmaKind.VDSO, vdso.kind());
        assertEquals(VmaKind.VVAR, named(vmas, "[vvar]").kind());
        assertEquals(VmaKind.VSYSCALL, named(vmas, "[vsyscall]").kind());
        Auxv aux = ProcAttrs.auxv(PROC, SELF);
        assertEquals(vdso.start(), aux.get(Auxv.AT_SYSINFO_EHDR).orElseThrow());
        assertEquals(4096, aux.get(Auxv.AT_PAGESZ).orElseThrow());
        assertEquals(Auxv.AT_NULL, aux.words()[aux.words().length - 2]);
        // The JVM's libjvm.so is mapped privately from a file.
        assertTrue(vmas.stream().anyMatch(v -> v.name().endsWith("/libjvm.so") && v.kind() == VmaKind.FILE_PRIVATE));
        // maps agrees with smaps on the layout.
        List<Vma> plain = Maps.readMaps(PROC, SELF);
        assertEquals(vmas.stream().filter(v -> v.name().equals("[vdso]")).map(Vma::start).toList(),
                plain.stream().filter(v -> v.name().equals("[vdso]")).map(Vma::start).toList());
    }

    @Test
    void selfStatStatusTasks() throws Exception {
        ProcStat st = Stat.read(PROC, SELF);
        assertEquals(SELF, st.pid());
        assertEquals((int) ProcessHandle.current().parent().orElseThrow().pid(), st.ppid());
        // The leader is the launcher's primordial thread, parked; the thread reading is running.
        int me = Integer.parseInt(Files.readSymbolicLink(PROC.resolve("thread-self")).getFileName().toString());
        assertEquals('R', Tasks.state(PROC, SELF, me));
        assertEquals('R', Stat.readTask(PROC, SELF, me).state());
        assertEquals(me, Status.readTask(PROC, SELF, me).pid());
        assertEquals(SELF, Status.readTask(PROC, SELF, me).tgid());
        assertTrue(st.numThreads() > 5);
        assertTrue(st.startCode() != 0 && st.startStack() != 0 && st.envEnd() > st.envStart());
        ProcStatus s = Status.read(PROC, SELF);
        assertEquals(SELF, s.tgid());
        assertEquals(SELF, s.pid());
        assertEquals(st.comm(), s.name());
        assertEquals(st.ppid(), s.ppid());
        assertEquals(0, s.tracerPid());
        assertTrue(s.threads() > 5);
        assertTrue(s.umask().isPresent());
        assertFalse(s.cpusAllowed().isEmpty());
        assertEquals(SELF, (int) s.nsPid().get(0)); // outermost first: as seen from this /proc
        List<Integer> tids = Tasks.list(PROC, SELF);
        assertTrue(tids.size() > 5, "the JVM runs many threads: " + tids);
        assertTrue(tids.contains(SELF));
        assertEquals(tids.stream().sorted().toList(), tids);
        assertEquals(st.comm(), Tasks.comm(PROC, SELF, SELF));
        assertTrue(tids.stream().anyMatch(t -> {
            try {
                return Tasks.comm(PROC, SELF, t).startsWith("GC ") || Tasks.comm(PROC, SELF, t).equals("VM Thread");
            } catch (ProcessGoneException e) {
                return false; // a thread that just ended
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }), "HotSpot names its threads");
        assertTrue("RSDI".indexOf(Tasks.state(PROC, SELF, tids.get(tids.size() - 1))) >= 0);
        assertEquals(ProcAttrs.exe(PROC, SELF), ProcessHandle.current().info().command().orElseThrow());
        assertEquals("/", ProcAttrs.root(PROC, SELF));
        assertEquals(Path.of("").toRealPath().toString(), ProcAttrs.cwd(PROC, SELF));
        assertTrue(ProcAttrs.timerslackNs(PROC, SELF) > 0);
        assertEquals(0, ProcAttrs.personality(PROC, SELF));
        assertTrue(ProcAttrs.loginuid(PROC, SELF).isPresent());
    }

    @Test
    void selfFdsMatchJavaStreams() throws Exception {
        Path f = Files.writeString(tmp.resolve("some file"), "0123456789");
        try (var ch = java.nio.channels.FileChannel.open(f)) {
            ch.position(7);
            List<FdInfo> fds = Fds.list(PROC, SELF);
            FdInfo mine = fds.stream().filter(d -> d.target().equals(f.toString())).findFirst().orElseThrow();
            assertEquals(FdKind.REGULAR_FILE, mine.kind());
            assertEquals(7, mine.pos());
            assertEquals(FdInfo.O_RDONLY, mine.accessMode());
            // The JDK does not open files O_CLOEXEC (its process launcher closes fds instead).
            assertEquals((mine.flags() & FdInfo.O_CLOEXEC) != 0, mine.cloexec());
            assertEquals(Files.getAttribute(f, "unix:ino"), mine.ino());
            assertEquals(mine.ino(), mine.stat().ino());
            Files.delete(f);
            FdInfo gone = Fds.read(PROC, SELF, mine.fd(), FdStat.FOLLOW);
            assertEquals(FdKind.DELETED, gone.kind());
            assertEquals(f.toString(), gone.path().orElseThrow());
            assertThrows(java.nio.file.NoSuchFileException.class, () -> Fds.read(PROC, SELF, 1 << 20, FdStat.FOLLOW));
        }
    }

    @Test
    void kernelNumbersAndSelfCaps() throws Exception {
        int max = KernelInfo.pidMax(PROC);
        assertTrue(max >= 32768, "pid_max " + max);
        int last = KernelInfo.nsLastPid(PROC);
        assertTrue(last > 0 && last < max);
        Capabilities c = KernelInfo.selfCapabilities(PROC);
        assertEquals(Status.read(PROC, SELF).caps(), c);
        // The tests run as root: a checkpointer's helpers need these.
        assertTrue(KernelInfo.selfHasEffective(PROC, Capabilities.CAP_SYS_ADMIN), c.toString());
        assertTrue(KernelInfo.selfCanCheckpoint(PROC));
    }

    @Test
    void sleepChild() throws Exception {
        Process p = new ProcessBuilder("sleep", "30").directory(tmp.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        int pid = (int) p.pid();
        try {
            // exec'ing sleep takes a moment; until then the child is a copy of the JVM.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!(Stat.read(PROC, pid).comm().equals("sleep") && Stat.read(PROC, pid).state() == 'S')) {
                assertTrue(System.nanoTime() < deadline, "sleep did not start sleeping");
                Thread.sleep(10);
            }
            ProcStat st = Stat.read(PROC, pid);
            assertEquals(SELF, st.ppid());
            assertEquals(1, st.numThreads());
            assertEquals(List.of(pid), Tasks.list(PROC, pid));
            assertEquals("sleep", Tasks.comm(PROC, pid, pid));
            assertEquals('S', Tasks.state(PROC, pid, pid));
            ProcStatus s = Status.read(PROC, pid);
            assertEquals("sleep", s.name());
            assertEquals(SELF, s.ppid());

            List<Vma> vmas = Maps.read(PROC, pid);
            Vma stack = named(vmas, "[stack]");
            assertEquals(VmaKind.STACK, stack.kind());
            assertTrue(stack.contains(st.startStack()), "[stack] holds start_stack");
            assertTrue(stack.hasFlag("gd"));
            assertTrue(stack.write() && stack.privateMapping());
            Vma vdso = named(vmas, "[vdso]");
            assertEquals(VmaKind.VDSO, vdso.kind());
            assertTrue(vdso.exec());
            assertEquals(VmaKind.VVAR, named(vmas, "[vvar]").kind());
            assertEquals(VmaKind.VVAR_VCLOCK, named(vmas, "[vvar_vclock]").kind());
            assertEquals(VmaKind.VSYSCALL, named(vmas, "[vsyscall]").kind());
            String exe = ProcAttrs.exe(PROC, pid);
            assertTrue(exe.endsWith("/sleep"), exe);
            Vma text = vmas.stream().filter(v -> v.name().equals(exe) && v.exec()).findFirst().orElseThrow();
            assertEquals(VmaKind.FILE_PRIVATE, text.kind());
            assertTrue(text.contains(st.startCode()));
            assertEquals(Files.getAttribute(Path.of(exe), "unix:ino"), text.inode());
            assertEquals(vdso.start(), ProcAttrs.auxv(PROC, pid).get(Auxv.AT_SYSINFO_EHDR).orElseThrow());
            assertEquals(tmp.toRealPath().toString(), ProcAttrs.cwd(PROC, pid));

            Map<Integer, FdInfo> fds = Fds.list(PROC, pid).stream().collect(Collectors.toMap(FdInfo::fd, d -> d));
            assertTrue(fds.keySet().containsAll(List.of(0, 1, 2)), fds.keySet().toString());
            assertEquals(FdKind.CHAR_DEVICE, fds.get(0).kind());
            assertEquals("/dev/null", fds.get(0).target());
            assertEquals(1, fds.get(0).stat().rdevMajor());
            assertEquals(3, fds.get(0).stat().rdevMinor());
            assertEquals(FdKind.PIPE, fds.get(1).kind()); // ProcessBuilder pipes
            assertTrue(fds.get(1).target().matches("pipe:\\[\\d+]"));
            assertEquals(FdInfo.O_WRONLY, fds.get(1).accessMode());
            assertEquals(FdKind.PIPE, fds.get(2).kind());
            assertFalse(fds.get(0).cloexec());
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
        // Reaped: every reader says the process is gone.
        ProcessGoneException e = assertThrows(ProcessGoneException.class, () -> Stat.read(PROC, pid));
        assertEquals("process " + pid + " does not exist (or exited)", e.getMessage());
        assertThrows(ProcessGoneException.class, () -> Maps.read(PROC, pid));
        assertThrows(ProcessGoneException.class, () -> Fds.list(PROC, pid));
        assertThrows(ProcessGoneException.class, () -> Tasks.list(PROC, pid));
        assertThrows(ProcessGoneException.class, () -> ProcAttrs.exe(PROC, pid));
        assertThrows(ProcessGoneException.class, () -> Pagemap.open(PROC, pid));
    }
}

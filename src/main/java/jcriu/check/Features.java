package jcriu.check;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jcriu.inject.Injector;
import jcriu.proc.Capabilities;
import jcriu.proc.KernelInfo;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.ptrace.WaitStatus;
import jcriu.restore.HelperElf;
import jcriu.rseq.RseqConfigSource;
import jcriu.sys.Errno;
import jcriu.sys.Nr;
import jcriu.sys.Spawn;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Probes the kernel features jcriu needs or can use, by trying them (like {@code criu
 * check}), never by reading version numbers: the probes run in a throw-away helper process.
 */
public final class Features {
    private static final Path PROC = Path.of("/proc");

    private Features() {}

    /** One probed feature: whether it is there, whether jcriu cannot work without it, and why. */
    public record Feature(String name, boolean present, boolean required, String detail) {}

    public static List<Feature> probe() throws Exception {
        List<Feature> out = new ArrayList<>();
        Capabilities caps = KernelInfo.selfCapabilities(PROC);
        out.add(new Feature("CAP_SYS_PTRACE", caps.hasEffective(Capabilities.CAP_SYS_PTRACE), true, "trace any process"));
        boolean cr = caps.hasEffective(Capabilities.CAP_CHECKPOINT_RESTORE) || caps.hasEffective(Capabilities.CAP_SYS_ADMIN);
        out.add(new Feature("CAP_CHECKPOINT_RESTORE", cr, true, "choose PIDs, set the exe link (or CAP_SYS_ADMIN)"));
        out.addAll(Tracer.run("jcriu-check", Features::helperProbes));
        out.add(pagemapScan());
        out.add(uffdWp());
        out.add(softDirty());
        out.addAll(SupportProbes.probe());
        return out;
    }

    private static List<Feature> helperProbes(Tracer tracer) throws Exception {
        List<Feature> out = new ArrayList<>();
        int memfd = Sys.memfdCreate("jcriu-check-helper", 1);
        int helper;
        try {
            Sys.write(memfd, HelperElf.build(Sys.getpid()));
            helper = Spawn.spawn("/proc/self/fd/" + memfd, List.of("jcriu-check-helper"), List.of());
        } finally {
            Sys.close(memfd);
        }
        int child = -1;
        try {
            tracer.seize(helper, Tracer.O_TRACESYSGOOD | Tracer.O_TRACEFORK | Tracer.O_EXITKILL);
            tracer.interrupt(helper);
            awaitStop(tracer, helper);
            try {
                var cfg = RseqConfigSource.PTRACE.read(tracer, helper);
                out.add(new Feature("PTRACE_GET_RSEQ_CONFIGURATION", true, false,
                        "read rseq registrations (helper: " + (cfg.registered() ? "registered" : "none") + ")"));
            } catch (SysException e) {
                // the dump's own test: only these errnos mean an old kernel, which it handles by injected rseq()
                out.add(new Feature("PTRACE_GET_RSEQ_CONFIGURATION", false, false, RseqConfigSource.missingRequest(e)
                        ? "absent (" + Errno.name(e.errno()) + "): a dump asks each thread with an injected rseq() and"
                                + " refuses registered threads"
                        : e.getMessage()));
            }
            out.addAll(seccompProbes(tracer, helper));
            Injector inj = new Injector(tracer, helper, tracer.getRegs(helper), HelperElf.gadget());
            try (TaskMemory mem = TaskMemory.open(helper, true)) {
                long r = inj.raw(Nr.PRCTL, 35 /* PR_SET_MM */, 15 /* PR_SET_MM_MAP_SIZE */, HelperElf.SCRATCH, 0, 0);
                int size = ByteBuffer.wrap(mem.read(HelperElf.SCRATCH, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
                out.add(new Feature("PR_SET_MM_MAP", r == 0 && size == 104, true,
                        r == 0 ? "struct prctl_mm_map is " + size + " bytes" : Errno.name((int) -r)));
                int free = freePid();
                ByteBuffer args = ByteBuffer.allocate(88).order(ByteOrder.LITTLE_ENDIAN);
                args.putLong(32, 17).putLong(64, HelperElf.SCRATCH + 256).putLong(72, 1);
                mem.write(HelperElf.SCRATCH, args.array());
                mem.writeLong(HelperElf.SCRATCH + 256, free);
                long c = inj.raw(Nr.CLONE3, HelperElf.SCRATCH, 88);
                if (c > 0) child = (int) c;
                out.add(new Feature("clone3 set_tid", c == free, true,
                        c == free ? "created PID " + free + " on request" : "asked for " + free + ", got " + c));
            }
        } finally {
            reap(tracer, child);
            reap(tracer, helper);
        }
        return out;
    }

    /** What a dump and a restore of seccomp filters need, tried on the stopped helper (which has none). */
    private static List<Feature> seccompProbes(Tracer tracer, int helper) {
        List<Feature> out = new ArrayList<>();
        String suspend = null;
        try {
            tracer.setOptions(helper, Tracer.O_TRACESYSGOOD | Tracer.O_TRACEFORK | Tracer.O_EXITKILL
                    | Tracer.O_SUSPEND_SECCOMP);
            tracer.setOptions(helper, Tracer.O_TRACESYSGOOD | Tracer.O_TRACEFORK | Tracer.O_EXITKILL);
        } catch (SysException e) {
            suspend = e.getMessage();
        }
        out.add(new Feature("PTRACE_O_SUSPEND_SECCOMP", suspend == null, false, suspend == null
                ? "inject system calls into a process under seccomp" : suspend));
        String filters;
        try {
            tracer.seccompFilter(helper, 0);
            filters = "answered for a process without filters"; // cannot happen: the helper has none
        } catch (SysException e) {
            // EINVAL: the request is known, the helper is not in filter mode; EIO: no such request
            filters = e.is(Errno.EINVAL) ? null : e.getMessage();
        }
        out.add(new Feature("PTRACE_SECCOMP_GET_FILTER", filters == null, false, filters == null
                ? "read the seccomp filters of a thread" : filters));
        return out;
    }

    private static void awaitStop(Tracer tracer, int pid) {
        while (true) {
            WaitStatus ws = tracer.waitFor(pid);
            if (!ws.stopped()) throw new IllegalStateException("check helper died: " + ws);
            if (ws.event() == Tracer.EVENT_STOP) return;
            tracer.cont(pid, 0);
        }
    }

    private static void reap(Tracer tracer, int pid) {
        if (pid <= 0) return;
        try {
            Sys.kill(pid, 9);
            while (tracer.waitFor(pid).stopped()) {
                // drain stops until the exit
            }
        } catch (SysException ignored) {
            // gone already
        }
    }

    private static int freePid() throws IOException {
        int max = KernelInfo.pidMax(PROC);
        for (int p = max - 1; p > 300; p--) {
            if (!Files.exists(PROC.resolve(Integer.toString(p)))) return p;
        }
        throw new IOException("no free PID below pid_max " + max);
    }

    private static Feature pagemapScan() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment path = a.allocateFrom("/proc/self/pagemap");
            int fd = (int) Sys.call("open pagemap", Nr.OPEN, path.address(), 0);
            try {
                MemorySegment arg = a.allocate(96, 8); // zeroed struct pm_scan_arg: size 0 is invalid
                long r = Sys.raw(Nr.IOCTL, fd, 0xC0606610L, arg.address(), 0, 0, 0);
                boolean present = r != -Errno.ENOTTY;
                return new Feature("PAGEMAP_SCAN", present, false, "find written pages in one ioctl"
                        + (present ? "" : " (ENOTTY)"));
            } finally {
                Sys.close(fd);
            }
        }
    }

    private static Feature uffdWp() {
        long fd = Sys.raw(323 /* userfaultfd */, 02000000 /* O_CLOEXEC */, 0, 0, 0, 0, 0);
        if (fd < 0) return new Feature("userfaultfd write-protect", false, false, "userfaultfd: " + Errno.name((int) -fd));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment api = a.allocate(24, 8);
            api.set(ValueLayout.JAVA_LONG, 0, 0xAA);            // UFFD_API
            api.set(ValueLayout.JAVA_LONG, 8, 1);               // UFFD_FEATURE_PAGEFAULT_FLAG_WP
            long r = Sys.raw(Nr.IOCTL, fd, 0xC018AA3FL, api.address(), 0, 0, 0);
            boolean ok = r == 0 && (api.get(ValueLayout.JAVA_LONG, 8) & 1) != 0;
            return new Feature("userfaultfd write-protect", ok, false, "track memory writes for incremental dumps"
                    + (r == 0 ? "" : " (" + Errno.name((int) -r) + ")"));
        } finally {
            Sys.close((int) fd);
        }
    }

    /** Soft-dirty works if a page written after clearing the bits shows bit 55 in pagemap. */
    private static Feature softDirty() {
        try (Arena a = Arena.ofConfined(); var pm = jcriu.proc.Pagemap.open(PROC, Sys.getpid())) {
            MemorySegment page = a.allocate(4096, 4096);
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            Files.writeString(PROC.resolve("self/clear_refs"), "4");
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 2);
            long entry = pm.entries(page.address(), 1)[0];
            boolean on = (entry & jcriu.proc.Pagemap.PM_SOFT_DIRTY) != 0;
            return new Feature("soft-dirty", on, false, on ? "CRIU's --track-mem would work"
                    : "a written page shows no soft-dirty bit (kernel without CONFIG_MEM_SOFT_DIRTY)");
        } catch (IOException e) {
            return new Feature("soft-dirty", false, false, e.getMessage());
        }
    }
}

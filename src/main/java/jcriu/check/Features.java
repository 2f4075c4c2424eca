package jcriu.check;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import jcriu.inject.Injector;
import jcriu.proc.Capabilities;
import jcriu.proc.KernelInfo;
import jcriu.ptrace.RseqConfig;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.ptrace.WaitStatus;
import jcriu.restore.HelperElf;
import jcriu.sys.Errno;
import jcriu.sys.Nr;
import jcriu.sys.Spawn;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Probes the kernel features jcriu needs or can use by trying each one, as {@code criu check}
 * does: a version number says nothing about a distribution's config or backports. Probes that
 * need a victim run in a throw-away helper process (the restore helper ELF), never in ours.
 */
public final class Features {
    public static final String CAP_SYS_PTRACE = "CAP_SYS_PTRACE";
    public static final String CAP_CHECKPOINT_RESTORE = "CAP_CHECKPOINT_RESTORE";
    public static final String CLONE3_SET_TID = "clone3 set_tid";
    public static final String PR_SET_MM_MAP = "PR_SET_MM_MAP";
    public static final String RSEQ_CONFIGURATION = "PTRACE_GET_RSEQ_CONFIGURATION";
    public static final String PAGEMAP_SCAN = "PAGEMAP_SCAN";
    public static final String UFFD_WP = "uffd-wp";
    public static final String SOFT_DIRTY = "soft-dirty";

    private static final Path PROC = Path.of("/proc");
    private static final int SIGKILL = 9, SIGCHLD = 17;
    private static final int PR_SET_MM = 35, PR_SET_MM_MAP_SIZE = 15, PRCTL_MM_MAP_SIZE = 104;
    private static final int CLONE_ARGS_SIZE = 88; // CLONE_ARGS_SIZE_VER2: up to cgroup
    private static final long PAGEMAP_SCAN_IOCTL = 0xC0606610L;
    private static final int PM_SCAN_ARG_SIZE = 96;
    private static final int USERFAULTFD = 323, O_CLOEXEC = 02000000, UFFD_USER_MODE_ONLY = 1;
    private static final long UFFDIO_API = 0xC018AA3FL, UFFD_API = 0xAA, UFFD_FEATURE_PAGEFAULT_FLAG_WP = 1;
    private static final long PM_SOFT_DIRTY = 1L << 55;
    private static final int PAGE = 4096;

    private Features() {}

    /** One probed feature; {@code required}: jcriu cannot dump or restore without it. */
    public record Feature(String name, boolean required, boolean present, String detail) {
        /** The line {@code jcriu check} prints: {@code name: yes|no (detail)}. */
        public String line() {
            return name + ": " + (present ? "yes" : "no") + " (" + (required ? "required; " : "") + detail + ")";
        }
    }

    /** The required features, and with {@code all} also the optional ones, in a fixed order. */
    public static List<Feature> probe(boolean all) {
        List<Feature> out = new ArrayList<>();
        out.addAll(capabilities());
        out.addAll(helperProbes(all));
        if (all) {
            out.add(guarded(PAGEMAP_SCAN, false, Features::pagemapScan));
            out.add(guarded(UFFD_WP, false, Features::uffdWp));
            out.add(guarded(SOFT_DIRTY, false, Features::softDirty));
        }
        return out;
    }

    public static boolean requiredPresent(List<Feature> features) {
        return features.stream().allMatch(f -> f.present() || !f.required());
    }

    public static List<String> missingRequired(List<Feature> features) {
        return features.stream().filter(f -> f.required() && !f.present()).map(Feature::name).toList();
    }

    @FunctionalInterface
    private interface Probe {
        Feature run() throws Exception;
    }

    /** A probe that breaks reports its feature as absent with the reason, instead of ending the check. */
    private static Feature guarded(String name, boolean required, Probe p) {
        try {
            return p.run();
        } catch (Exception | LinkageError e) {
            return new Feature(name, required, false, "probe failed: " + e.getMessage());
        }
    }

    /** CapEff of /proc/self/status: what the kernel will check, not who we are. */
    private static List<Feature> capabilities() {
        try {
            Capabilities c = KernelInfo.selfCapabilities(PROC);
            boolean cr = c.hasEffective(Capabilities.CAP_CHECKPOINT_RESTORE);
            boolean admin = c.hasEffective(Capabilities.CAP_SYS_ADMIN);
            return List.of(
                    new Feature(CAP_SYS_PTRACE, true, c.hasEffective(Capabilities.CAP_SYS_PTRACE),
                            "ptrace any process; bit 19 of CapEff"),
                    new Feature(CAP_CHECKPOINT_RESTORE, true, cr || admin, cr
                            ? "choose PIDs, set the exe link; bit 40 of CapEff"
                            : admin ? "absent, but CAP_SYS_ADMIN (bit 21) grants the same" : "neither bit 40 nor 21 of CapEff"));
        } catch (IOException e) {
            return List.of(new Feature(CAP_SYS_PTRACE, true, false, "cannot read /proc/self/status: " + e.getMessage()),
                    new Feature(CAP_CHECKPOINT_RESTORE, true, false, "cannot read /proc/self/status: " + e.getMessage()));
        }
    }

    /** The probes that need a traced process: all run in one helper, on the tracer's own thread. */
    private static List<Feature> helperProbes(boolean all) {
        try {
            return Tracer.run("jcriu-check", t -> onHelper(t, all));
        } catch (Exception e) {
            String why = "no helper process to probe with: " + e.getMessage();
            List<Feature> out = new ArrayList<>(List.of(new Feature(CLONE3_SET_TID, true, false, why),
                    new Feature(PR_SET_MM_MAP, true, false, why)));
            if (all) out.add(new Feature(RSEQ_CONFIGURATION, false, false, why));
            return out;
        }
    }

    private static List<Feature> onHelper(Tracer tracer, boolean all) throws IOException {
        int helper = spawnHelper();
        List<Integer> created = new ArrayList<>();
        try {
            // EXITKILL: if we die mid-probe the helper (and so its clone) does not linger.
            tracer.seize(helper, Tracer.O_TRACESYSGOOD | Tracer.O_TRACEFORK | Tracer.O_EXITKILL);
            tracer.interrupt(helper);
            awaitInterruptStop(tracer, helper);
            Injector inj = new Injector(tracer, helper, tracer.getRegs(helper), HelperElf.gadget());
            List<Feature> out = new ArrayList<>();
            out.add(guarded(CLONE3_SET_TID, true, () -> clone3SetTid(inj, helper, created)));
            out.add(guarded(PR_SET_MM_MAP, true, () -> prSetMmMap(inj, helper)));
            if (all) out.add(guarded(RSEQ_CONFIGURATION, false, () -> rseqConfiguration(tracer, helper)));
            return out;
        } finally {
            for (int c : created) killAndReap(tracer, c); // clones first: they are traced too
            killAndReap(tracer, helper);
        }
    }

    /** The restore helper from a memfd, started with posix_spawn (a ProcessBuilder child's stops get reaped). */
    private static int spawnHelper() {
        int memfd = Sys.memfdCreate("jcriu-check-helper", 1 /* MFD_CLOEXEC */);
        try {
            Sys.write(memfd, HelperElf.build());
            return Spawn.spawn("/proc/self/fd/" + memfd, List.of("jcriu-check-helper"), List.of());
        } finally {
            Sys.close(memfd);
        }
    }

    private static void awaitInterruptStop(Tracer tracer, int pid) {
        while (true) {
            WaitStatus ws = tracer.waitFor(pid);
            if (!ws.stopped()) throw new IllegalStateException("the check helper died: " + ws);
            if (ws.event() == Tracer.EVENT_STOP) return;
            tracer.cont(pid, ws.event() == 0 ? ws.stopSignal() : 0);
        }
    }

    /** Asks for a free PID by number, as restore does for every task; EEXIST means it was just taken: try another. */
    private static Feature clone3SetTid(Injector inj, int helper, List<Integer> created) throws IOException {
        long args = HelperElf.SCRATCH, tidArray = HelperElf.SCRATCH + 256;
        ByteBuffer ca = ByteBuffer.allocate(CLONE_ARGS_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        ca.putLong(32, SIGCHLD);   // exit_signal: a plain child of the helper
        ca.putLong(64, tidArray);  // set_tid
        ca.putLong(72, 1);         // set_tid_size: only the PID in our own namespace
        int max = KernelInfo.pidMax(PROC);
        int candidate = max;
        long r = 0;
        try (TaskMemory mem = TaskMemory.open(helper, true)) {
            mem.write(args, ca.array());
            for (int attempt = 0; attempt < 5; attempt++) {
                candidate = freePidBelow(candidate, max);
                mem.writeLong(tidArray, candidate);
                r = inj.raw(Nr.CLONE3, args, CLONE_ARGS_SIZE);
                created.addAll(inj.takeChildren());
                if (r > 0 && !created.contains((int) r)) created.add((int) r);
                if (r != -Errno.EEXIST) break;
            }
        }
        if (r == candidate) return new Feature(CLONE3_SET_TID, true, true, "created PID " + candidate + " on request");
        if (r < 0) return new Feature(CLONE3_SET_TID, true, false, "clone3 asking for PID " + candidate + ": "
                + Errno.name((int) -r) + (r == -Errno.ENOSYS ? " (no clone3)" : r == -Errno.E2BIG || r == -Errno.EINVAL
                ? " (no set_tid: Linux < 5.5)" : r == -Errno.EPERM ? " (needs CAP_CHECKPOINT_RESTORE)" : ""));
        return new Feature(CLONE3_SET_TID, true, false, "asked for PID " + candidate + ", got " + r);
    }

    /** The highest PID below {@code below} with no /proc entry (thread IDs have one too, unlisted). */
    private static int freePidBelow(int below, int max) throws IOException {
        for (int p = below - 1; p > 300; p--) {
            if (!Files.exists(PROC.resolve(Integer.toString(p)))) return p;
        }
        throw new IOException("no free PID below pid_max " + max);
    }

    /** PR_SET_MM_MAP_SIZE writes sizeof(struct prctl_mm_map); it exists exactly when PR_SET_MM_MAP does. */
    private static Feature prSetMmMap(Injector inj, int helper) throws IOException {
        try (TaskMemory mem = TaskMemory.open(helper, true)) {
            mem.write(HelperElf.SCRATCH, new byte[4]);
            long r = inj.raw(Nr.PRCTL, PR_SET_MM, PR_SET_MM_MAP_SIZE, HelperElf.SCRATCH, 0, 0);
            if (r != 0) {
                return new Feature(PR_SET_MM_MAP, true, false, "prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE): "
                        + Errno.name((int) -r) + (r == -Errno.EINVAL ? " (kernel without CONFIG_CHECKPOINT_RESTORE)" : ""));
            }
            int size = ByteBuffer.wrap(mem.read(HelperElf.SCRATCH, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
            return new Feature(PR_SET_MM_MAP, true, size == PRCTL_MM_MAP_SIZE,
                    "struct prctl_mm_map is " + size + " bytes" + (size == PRCTL_MM_MAP_SIZE ? "" : ", jcriu writes "
                            + PRCTL_MM_MAP_SIZE));
        }
    }

    /** Dump reads every thread's rseq area with it; restore reads the helper's. */
    private static Feature rseqConfiguration(Tracer tracer, int helper) {
        try {
            RseqConfig c = tracer.getRseqConfig(helper);
            return new Feature(RSEQ_CONFIGURATION, false, true, "read each thread's rseq area (the helper has "
                    + (c.registered() ? "one" : "none") + ")");
        } catch (SysException e) {
            return new Feature(RSEQ_CONFIGURATION, false, false, e.getMessage()
                    + (e.is(Errno.EIO) ? " (Linux < 5.13)" : ""));
        }
    }

    /** A zeroed pm_scan_arg is refused (EINVAL) by a kernel that knows the ioctl; ENOTTY means it does not. */
    private static Feature pagemapScan() {
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) Sys.call("open /proc/self/pagemap", Nr.OPEN, a.allocateFrom("/proc/self/pagemap").address(),
                    0 /* O_RDONLY */);
            try {
                MemorySegment arg = a.allocate(PM_SCAN_ARG_SIZE, 8);
                long r = Sys.raw(Nr.IOCTL, fd, PAGEMAP_SCAN_IOCTL, arg.address(), 0, 0, 0);
                boolean present = r != -Errno.ENOTTY;
                return new Feature(PAGEMAP_SCAN, false, present, "find written pages in one ioctl; an empty request gave "
                        + (r < 0 ? Errno.name((int) -r) : Long.toString(r)));
            } finally {
                Sys.close(fd);
            }
        }
    }

    /** UFFDIO_API fails with EINVAL when a requested feature is missing, and reports what there is. */
    private static Feature uffdWp() {
        long fd = Sys.raw(USERFAULTFD, O_CLOEXEC, 0, 0, 0, 0, 0);
        if (fd == -Errno.EPERM) fd = Sys.raw(USERFAULTFD, O_CLOEXEC | UFFD_USER_MODE_ONLY, 0, 0, 0, 0, 0);
        if (fd < 0) return new Feature(UFFD_WP, false, false, "userfaultfd: " + Errno.name((int) -fd));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment api = a.allocate(24, 8); // struct uffdio_api { api, features, ioctls }
            api.set(ValueLayout.JAVA_LONG, 0, UFFD_API);
            api.set(ValueLayout.JAVA_LONG, 8, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
            long r = Sys.raw(Nr.IOCTL, fd, UFFDIO_API, api.address(), 0, 0, 0);
            boolean wp = r == 0 && (api.get(ValueLayout.JAVA_LONG, 8) & UFFD_FEATURE_PAGEFAULT_FLAG_WP) != 0;
            return new Feature(UFFD_WP, false, wp, "userfaultfd write-protect, to track writes without soft-dirty"
                    + (r == 0 ? "" : "; UFFDIO_API: " + Errno.name((int) -r)));
        } finally {
            Sys.close((int) fd);
        }
    }

    /**
     * Clearing soft-dirty bits ("4" to clear_refs) is accepted even by kernels without
     * CONFIG_MEM_SOFT_DIRTY (it then does nothing), so the proof is a page written after the
     * clear: it must show bit 55 in pagemap.
     */
    private static Feature softDirty() throws IOException {
        try (Arena a = Arena.ofConfined();
                FileChannel pagemap = FileChannel.open(PROC.resolve("self/pagemap"), StandardOpenOption.READ)) {
            MemorySegment page = a.allocate(PAGE, PAGE);
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // fault it in before the clear
            try {
                Files.writeString(PROC.resolve("self/clear_refs"), "4");
            } catch (IOException e) {
                return new Feature(SOFT_DIRTY, false, false, "writing 4 to /proc/self/clear_refs: " + e.getMessage());
            }
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 2);
            ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            long off = page.address() / PAGE * 8;
            while (entry.hasRemaining()) {
                if (pagemap.read(entry, off + entry.position()) < 0) throw new IOException("short read of pagemap");
            }
            boolean on = (entry.getLong(0) & PM_SOFT_DIRTY) != 0;
            return new Feature(SOFT_DIRTY, false, on, on ? "a page written after clear_refs is marked"
                    : "a page written after clear_refs shows no soft-dirty bit (kernel without CONFIG_MEM_SOFT_DIRTY)");
        }
    }

    /** SIGKILL and wait until the exit is reported, draining stops queued before it. */
    private static void killAndReap(Tracer tracer, int pid) {
        try {
            Sys.kill(pid, SIGKILL);
            while (tracer.waitFor(pid).stopped()) {
                // a stop reported before the kill took effect
            }
        } catch (SysException e) {
            // already gone and reaped
        }
    }
}

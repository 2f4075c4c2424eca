package jcriu.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import com.google.protobuf.Descriptors.Descriptor;

import jcriu.image.pb.CoreEntry;
import jcriu.image.pb.FdinfoEntry;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.InventoryEntry;
import jcriu.image.pb.MmEntry;
import jcriu.image.pb.RegFileEntry;
import jcriu.image.pb.TaskCoreEntry;
import jcriu.image.pb.TaskKobjIdsEntry;
import jcriu.image.pb.UserX86FpregsEntry;
import jcriu.image.pb.UserX86XsaveEntry;
import jcriu.image.pb.VmaEntry;
import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Workload;

/**
 * The image fields CRIU 4.2's restore reads, as jcriu writes them (CRIU's images/*.proto for
 * the numbers, its criu/*.c for what the restore demands; each check names where), and the
 * reverse: a restore from CRIU's fields alone, without jcriu's own.
 */
class CriuFieldsTest {
    private static final int MAP_ANONYMOUS = 0x20, O_CLOEXEC = 02000000;

    /** Field numbers CRIU's restore reads, from its .proto files; ours must be the same. */
    @Test
    void fieldNumbersAreCriusOnes() {
        // images/inventory.proto: root_ids = 3; images/core.proto task_core_entry: timers = 7
        assertEquals(3, num(InventoryEntry.getDescriptor(), "root_ids"));
        // images/inventory.proto: network_lock_method = 11, dump_criu_run_id = 13
        assertEquals(11, num(InventoryEntry.getDescriptor(), "network_lock_method"));
        assertEquals(13, num(InventoryEntry.getDescriptor(), "dump_criu_run_id"));
        assertEquals(7, num(TaskCoreEntry.getDescriptor(), "timers"));
        // images/core-x86.proto user_x86_xsave_entry
        Descriptor xs = UserX86XsaveEntry.getDescriptor();
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), List.of(num(xs, "xstate_bv"), num(xs, "ymmh_space"),
                num(xs, "bndreg_state"), num(xs, "bndcsr_state"), num(xs, "opmask_reg"), num(xs, "zmm_upper"),
                num(xs, "hi16_zmm"), num(xs, "pkru")));
        // images/core-x86.proto user_x86_fpregs_entry: xsave = 13
        assertEquals(13, num(UserX86FpregsEntry.getDescriptor(), "xsave"));
        // images/regfile.proto reg_file_entry: flags = 2, mode = 10; images/fdinfo.proto fdinfo_entry: flags = 2
        assertEquals(2, num(RegFileEntry.getDescriptor(), "flags"));
        assertEquals(10, num(RegFileEntry.getDescriptor(), "mode"));
        assertEquals(2, num(FdinfoEntry.getDescriptor(), "flags"));
        // images/mm.proto mm_entry: mm_saved_auxv = 13, vmas = 14; images/vma.proto vma_entry: flags = 6
        assertEquals(13, num(MmEntry.getDescriptor(), "mm_saved_auxv"));
        assertEquals(14, num(MmEntry.getDescriptor(), "vmas"));
        assertEquals(6, num(VmaEntry.getDescriptor(), "flags"));
        // images/core.proto task_kobj_ids_entry: files_id = 2
        assertEquals(2, num(TaskKobjIdsEntry.getDescriptor(), "files_id"));
    }

    private static int num(Descriptor d, String field) {
        return d.findFieldByName(field).getNumber();
    }

    @Test
    void aDumpHasWhatCriusRestoreNeeds() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("files"), dataFile().toString())) {
            w.awaitOutput("ready");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, true);
            ImageDir d = ImageDir.open(dir);
            int pid = w.pid();

            // criu/pstree.c prepare_pstree_kobj_ids(): the root's files_id must differ from the dumper's
            TaskKobjIdsEntry ids = single(d, ImageFile.ids(pid), TaskKobjIdsEntry.parser());
            InventoryEntry inv = single(d, ImageFile.inventory(), InventoryEntry.parser());
            assertNotEquals(inv.getRootIds().getFilesId(), ids.getFilesId(), "CRIU: Image corruption on kIDs data");
            // criu/image.c check_img_inventory(): the restore takes the lock method and run id from
            // here (without a method it assumes iptables); criu/include/cr_options.h: 1 is nftables
            assertTrue(inv.hasNetworkLockMethod());
            assertEquals(jcriu.net.LockInventory.NFTABLES, inv.getNetworkLockMethod());
            assertEquals(1, inv.getNetworkLockMethod());
            assertEquals(inv.getDumpCriuRunId(), java.util.UUID.fromString(inv.getDumpCriuRunId()).toString());
            assertTrue(d.exists(ImageFile.fdinfo(ids.getFilesId())), "fdinfo named by files_id (criu/files.c)");

            // criu/files-reg.c open_path(): the whole st_mode is compared with the reopened file's
            List<FileEntry> files = all(d, ImageFile.files(), FileEntry.parser());
            boolean sawDevNull = false;
            for (FileEntry f : files) {
                if (!f.hasReg()) continue;
                RegFileEntry r = f.getReg();
                assertEquals(0, r.getFlags() & O_CLOEXEC, r.getName() + ": O_CLOEXEC belongs to fdinfo, not the file");
                if (!r.hasMode() || !Files.exists(Path.of(r.getName()))) continue;
                int now = (Integer) Files.getAttribute(Path.of(r.getName()), "unix:mode");
                assertEquals(Integer.toOctalString(now), Integer.toOctalString(r.getMode()), r.getName());
                sawDevNull |= r.getName().equals("/dev/null") && r.getMode() == 020666;
            }
            assertTrue(sawDevNull, "the workload's /dev/null, with its permission bits");
            List<FdinfoEntry> fds = all(d, ImageFile.fdinfo(ids.getFilesId()), FdinfoEntry.parser());
            assertEquals(1, fds.stream().filter(f -> (f.getFlags() & 1) != 0).count(),
                    "only the /dev/urandom fd is close-on-exec, in fdinfo's flags");

            CoreEntry core = single(d, ImageFile.core(pid), CoreEntry.parser());
            // criu/timer.c prepare_posix_timers(): without timers CRIU wants the deprecated image
            assertTrue(core.getTc().hasTimers());
            assertTrue(core.getTc().getTimers().hasReal() && core.getTc().getTimers().hasVirt()
                    && core.getTc().getTimers().hasProf());

            MmEntry mm = single(d, ImageFile.mm(pid), MmEntry.parser());
            // criu/cr-restore.c prepare_mm(): more than AT_VECTOR_SIZE (44) words is "Image corrupted"
            int n = mm.getMmSavedAuxvCount();
            assertTrue(n <= CriuLayout.CRIU_AUXV_MAX, n + " auxv words");
            assertFalse(n >= 2 && mm.getMmSavedAuxv(n - 1) == 0 && mm.getMmSavedAuxv(n - 2) == 0, "no AT_NULL tail");
            // criu/pie/restorer.c: anonymous areas are mapped with the entry's flags, so they need MAP_ANONYMOUS
            int vvars = 0;
            for (VmaEntry v : mm.getVmasList()) {
                boolean file = (v.getStatus() & (VmaStatus.FILE_PRIVATE | VmaStatus.FILE_SHARED)) != 0;
                if ((v.getStatus() & VmaStatus.AREA_VSYSCALL) == 0) {
                    assertEquals(!file, (v.getFlags() & MAP_ANONYMOUS) != 0, String.format("vma %#x", v.getStart()));
                }
                if ((v.getStatus() & VmaStatus.AREA_VVAR) != 0) vvars++;
            }
            // criu/proc_parse.c merges [vvar] and [vvar_vclock]; its vDSO restore expects one VVAR area
            assertEquals(1, vvars);

            // criu/arch/x86/crtools.c: each component at CPUID's offset, of CPUID's size
            UserX86FpregsEntry fp = core.getThreadInfo().getFpregs();
            byte[] area = fp.getJcriuXsaveArea().toByteArray();
            CriuXsave.Layout cpu = CriuXsave.cpu();
            assertNotNull(cpu, "/dev/cpu/0/cpuid is readable here");
            ByteBuffer b = ByteBuffer.wrap(area).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(b.getLong(512), fp.getXsave().getXstateBv());
            assertEquals(cpu.length()[2] / 4, fp.getXsave().getYmmhSpaceCount());
            assertEquals(b.getInt(cpu.offset()[2]), fp.getXsave().getYmmhSpace(0));
            if (cpu.has(5)) {
                assertEquals(cpu.length()[5] / 8, fp.getXsave().getOpmaskRegCount());
                assertEquals(b.getLong(cpu.offset()[5] + 8), fp.getXsave().getOpmaskReg(1));
                assertEquals(cpu.length()[7] / 8, fp.getXsave().getHi16ZmmCount());
                assertEquals(b.getLong(cpu.offset()[7] + 64), fp.getXsave().getHi16Zmm(8));
            }
            w.signal(jcriu.testsupport.Sig.SIGKILL);
        }
    }

    /**
     * The lock's name as CRIU's restore makes it from the inventory: criu/netfilter.c
     * nftables_get_table() prints "inet CRIU-" and the run id (criu/image.c reads it from
     * dump_criu_run_id) into a 32-byte buffer, so the name is cut to 26 characters; without a
     * run id it uses the root's PID; without a method criu/image.c falls back to iptables.
     */
    @Test
    void theNetworkLockIsNamedAsCriusRestoreNamesIt() {
        jcriu.net.LockInventory.Written w = jcriu.net.LockInventory.Written.fresh(true);
        InventoryEntry inv = w.fill(InventoryEntry.newBuilder().setImgVersion(2).setJcriuManifest(Manifest.NAME)).build();
        assertEquals(1, inv.getNetworkLockMethod());
        String cut = ("inet CRIU-" + inv.getDumpCriuRunId()).substring(0, 31);
        assertEquals(cut.substring("inet ".length()), w.table());
        assertEquals(new jcriu.net.LockInventory.Table(w.table(), false), jcriu.net.LockInventory.held(inv, 42));
        assertEquals(new jcriu.net.LockInventory.Table("CRIU-42", true), jcriu.net.LockInventory.held(
                inv.toBuilder().clearDumpCriuRunId().clearJcriuManifest().build(), 42));
        assertEquals(new jcriu.net.LockInventory.Iptables(), jcriu.net.LockInventory.held(
                inv.toBuilder().clearNetworkLockMethod().clearDumpCriuRunId().clearJcriuManifest().build(), 42));
        assertEquals(new jcriu.net.LockInventory.Iptables(), jcriu.net.LockInventory.held(
                inv.toBuilder().setNetworkLockMethod(0).build(), 42));
        assertEquals(new jcriu.net.LockInventory.Unlocked(), jcriu.net.LockInventory.held(
                inv.toBuilder().setNetworkLockMethod(2).build(), 42));
        // an older jcriu's set: its manifest, neither method nor run id, the table jcriu-ROOTPID
        assertEquals(new jcriu.net.LockInventory.Table("jcriu-42", false), jcriu.net.LockInventory.held(
                inv.toBuilder().clearNetworkLockMethod().clearDumpCriuRunId().build(), 42));
        jcriu.net.LockInventory.Written skip = jcriu.net.LockInventory.Written.fresh(false);
        assertEquals(2, skip.method());
        assertEquals(null, skip.table());
    }

    /**
     * criu/sk-inet.c and sk-unix.c call shutdown(2) whenever the entry has the field, and decode
     * NONE to an invalid "how": CRIU's restore of a listening socket failed with EINVAL. The field
     * is written only for a socket that is shut down, as CRIU's own dump does.
     */
    @Test
    void shutdownIsWrittenOnlyForASocketThatIsShutDown() {
        var fown = jcriu.image.pb.FownEntry.newBuilder().setUid(0).setEuid(0).setSignum(0).setPidType(0).setPid(0).build();
        var opts = jcriu.net.SocketOptions.decode(jcriu.image.pb.SkOptsEntry.newBuilder().setSoSndbuf(16384)
                .setSoRcvbuf(131072).setSoSndTmoSec(0).setSoSndTmoUsec(0).setSoRcvTmoSec(0).setSoRcvTmoUsec(0).build());
        for (int how : new int[] {0, 1, 3}) {
            var inet = new jcriu.net.InetSocket(7, 2, 1, 6, how == 0 ? 10 : 1, new byte[] {127, 0, 0, 1}, 4000,
                    new byte[4], 0, 2, 4, opts, false, new jcriu.net.InetSocket.IpOptions(0, 0, false, false), null, how,
                    null, java.util.List.of());
            var e = inet.encode(3, fown);
            assertEquals(how != 0, e.hasShutdown(), "inet, shutdown " + how);
            if (how != 0) assertEquals(how, e.getShutdown().getNumber());
            var unix = new jcriu.net.UnixSocket(8, 1, 10, 2, 4, 0, new byte[0], how, opts, null, false, null, new int[0],
                    java.util.List.of());
            assertEquals(how != 0, unix.encode(4, fown).hasShutdown(), "unix, shutdown " + how);
        }
    }

    /** Intel's and AMD's layouts differ past AVX; each component lands where that CPU's CPUID says. */
    @Test
    void xsaveComponentsFollowTheCpuLayout() throws Exception {
        int[] off = new int[10], len = new int[10];
        int[][] intel = {{2, 576, 256}, {3, 960, 64}, {4, 1024, 64}, {5, 1088, 64}, {6, 1152, 512}, {7, 1664, 1024},
                {9, 2688, 8}};
        for (int[] c : intel) {
            off[c[0]] = c[1];
            len[c[0]] = c[2];
        }
        CriuXsave.Layout l = new CriuXsave.Layout(2696, 0x2ffL, off, len);
        byte[] area = new byte[2696];
        new Random(7).nextBytes(area);
        ByteBuffer.wrap(area).order(ByteOrder.LITTLE_ENDIAN).putLong(512, 0x2ffL); // header: all of them in use
        for (int i = 520; i < 576; i++) area[i] = 0; // xcomp_bv and the reserved header bytes
        for (int i = 464; i < 512; i++) area[i] = 0; // sw_reserved: not part of the state
        UserX86FpregsEntry fp = CriuXsave.toImage(area, l);
        assertEquals(2, fp.getXsave().getPkruCount());
        assertEquals(128, fp.getXsave().getHi16ZmmCount());
        byte[] back = CriuXsave.fromImage(fp.toBuilder().clearJcriuXsaveArea().build(), l, Path.of("core-1.img"));
        // what CRIU's fields carry: the FXSAVE registers (not its reserved bytes), xstate_bv, each component
        byte[] want = new byte[area.length];
        System.arraycopy(area, 0, want, 0, 416);
        System.arraycopy(area, 512, want, 512, 8);
        for (int[] c : intel) System.arraycopy(area, c[1], want, c[1], c[2]);
        assertArrayEquals(want, back, "legacy registers, header and every component round-trip through CRIU's fields");
    }

    /**
     * A restore from CRIU's fields alone: jcriu's own fields (the whole XSAVE area, its restart
     * and sleep records) removed from every core image, as in an image CRIU wrote. Vector,
     * mask, MXCSR and x87 registers must come back from CRIU's split.
     */
    @Test
    void restoresFromCriusFieldsAlone() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("fpu_regs"))) {
            w.awaitOutput("tick 2");
            Path dir = Checkpoints.imageDir(w);
            Checkpoints.dump(w, dir, false);
            ImageDir d = ImageDir.open(dir);
            int stripped = 0;
            try (var s = Files.list(dir)) {
                for (Path p : s.filter(x -> x.getFileName().toString().startsWith("core-")).toList()) {
                    int tid = Integer.parseInt(p.getFileName().toString().replaceAll("\\D", ""));
                    CoreEntry c = single(d, ImageFile.core(tid), CoreEntry.parser());
                    CoreEntry.Builder cb = c.toBuilder();
                    cb.getThreadInfoBuilder().getFpregsBuilder().clearJcriuXsaveArea();
                    cb.getThreadCoreBuilder().clearJcriuRestart().clearJcriuSleep();
                    try (ImageOutput o = d.create(ImageFile.core(tid))) {
                        o.write(cb.build());
                    }
                    stripped++;
                }
            }
            assertEquals(1, stripped);
            // as CRIU writes a set: no manifest, and an inventory that does not name one
            Files.delete(dir.resolve(Manifest.NAME));
            InventoryEntry inv = single(d, ImageFile.inventory(), InventoryEntry.parser());
            try (ImageOutput o = d.create(ImageFile.inventory())) {
                o.write(inv.toBuilder().clearJcriuManifest().build());
            }
            w.awaitGone(Duration.ofSeconds(30));
            int seen = w.lineCount();
            try (Workload r = Checkpoints.restore(dir, w.dir(), seen)) {
                r.awaitOutput("tick");
                r.awaitOutput("tick");
                assertFalse(r.text().contains("BAD"), r.text());
                r.signal(jcriu.testsupport.Sig.SIGKILL);
            }
        }
    }

    private static Path dataFile() throws IOException {
        Path p = Files.createTempFile("jcriu-criufields", ".bin");
        byte[] b = new byte[2048];
        for (int i = 0; i < b.length; i++) b[i] = (byte) i;
        Files.write(p, b);
        p.toFile().deleteOnExit();
        return p;
    }

    private static <T> T single(ImageDir d, ImageFile f, com.google.protobuf.Parser<T> parser) throws IOException {
        try (ImageInput in = d.open(f)) {
            return in.single(parser);
        }
    }

    private static <T> List<T> all(ImageDir d, ImageFile f, com.google.protobuf.Parser<T> parser) throws IOException {
        List<T> out = new ArrayList<>();
        try (ImageInput in = d.open(f)) {
            for (T t; (t = in.next(parser)) != null; ) out.add(t);
        }
        return out;
    }
}

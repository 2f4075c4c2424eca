package jcriu.image;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jcriu.image.pb.*;

/**
 * A plausible dump of one two-threaded process (pid 4242, threads 4242 and
 * 4243), shaped like what CRIU writes, with distinctive values to look for.
 */
final class SampleImages {
    static final int PID = 4242;
    static final int TID2 = 4243;
    static final int FILES_ID = 2;
    static final int PAGES_ID = 1;

    static final long RIP = 0x401136L;
    static final long RIP2 = 0x7f0011223344L;
    static final long FPU_RIP = 0x7f5566778899L;
    static final long STACK_TOP = 0x7ffc12345000L;
    static final long RSEQ_ABI = 0x7f1234560020L;
    static final long HEAP_START = 0x1c8a000L;
    static final String COMM = "sleeper";
    static final String EXE = "/usr/bin/sleeper-exe";
    static final String LOG = "/var/tmp/sleeper.log";
    static final int UID = 1234;

    private SampleImages() {}

    /** Files in writing order, with their entries. */
    static Map<ImageFile, List<MessageLite>> build() {
        Map<ImageFile, List<MessageLite>> m = new LinkedHashMap<>();
        m.put(ImageFile.inventory(), List.of(inventory()));
        m.put(ImageFile.pstree(), List.of(PstreeEntry.newBuilder()
                .setPid(PID).setPpid(0).setPgid(PID).setSid(PID).addThreads(PID).addThreads(TID2).build()));
        m.put(ImageFile.core(PID), List.of(leaderCore()));
        m.put(ImageFile.core(TID2), List.of(threadCore()));
        m.put(ImageFile.ids(PID), List.of(ids()));
        m.put(ImageFile.mm(PID), List.of(mm()));
        List<MessageLite> pagemap = new ArrayList<>();
        pagemap.add(PagemapHead.newBuilder().setPagesId(PAGES_ID).build());
        pagemap.add(Pagemap.entry(0x600000L, 1, Pagemap.PE_PRESENT));
        pagemap.add(Pagemap.entry(HEAP_START, 3, Pagemap.PE_PRESENT));
        pagemap.add(Pagemap.entry(STACK_TOP - 0x2000, 2, Pagemap.PE_PRESENT));
        m.put(ImageFile.pagemap(PID), pagemap);
        m.put(ImageFile.files(), List.of(
                regFile(1, EXE, 0x8000 /* O_LARGEFILE */, 0, 0100755),
                regFile(2, "/", 0x10000 /* O_DIRECTORY */, 0, 040755),
                regFile(3, "/home/u", 0x10000, 0, 040700),
                regFile(4, "/dev/null", 02, 0, 020666),
                regFile(5, LOG, 02 | 02000 /* O_RDWR|O_APPEND */, 8191, 0100600)));
        m.put(ImageFile.fdinfo(FILES_ID), List.of(
                fd(0, 4, 0), fd(1, 4, 0), fd(2, 4, 0), fd(3, 5, 1 /* FD_CLOEXEC */)));
        m.put(ImageFile.fs(PID), List.of(FsEntry.newBuilder().setCwdId(3).setRootId(2).setUmask(022).build()));
        return m;
    }

    /** Writes every file of {@link #build()} plus pages-1.img (6 pages). */
    static Map<ImageFile, List<MessageLite>> writeAll(ImageDir dir) throws IOException {
        Map<ImageFile, List<MessageLite>> m = build();
        for (var e : m.entrySet()) {
            try (ImageOutput out = dir.create(e.getKey())) {
                for (MessageLite msg : e.getValue()) {
                    out.write(msg);
                }
            }
        }
        try (FileChannel ch = dir.createRaw(ImageFile.pages(PAGES_ID).name())) {
            ByteBuffer b = ByteBuffer.allocate(6 * 4096);
            for (int i = 0; i < 6; i++) {
                b.put(i * 4096, (byte) (0xa0 + i));
            }
            ch.write(b);
            ch.force(true);
        }
        dir.syncDir();
        return m;
    }

    static InventoryEntry inventory() {
        return InventoryEntry.newBuilder()
                .setImgVersion(2)
                .setFdinfoPerId(true)
                .setNsPerId(true)
                .setLsmtype(Lsmtype.NO_LSM)
                .setRootIds(TaskKobjIdsEntry.newBuilder().setVmId(1).setFilesId(FILES_ID).setFsId(3).setSighandId(4)
                        .setPidNsId(5).setNetNsId(6).setIpcNsId(7).setUtsNsId(8).setMntNsId(9).setUserNsId(10)
                        .setCgroupNsId(11).setTimeNsId(12))
                .setDumpUptime(123456789L)
                .setNetworkLockMethod(1)
                .build();
    }

    static TaskKobjIdsEntry ids() {
        return TaskKobjIdsEntry.newBuilder().setVmId(13).setFilesId(FILES_ID).setFsId(14).setSighandId(15)
                .setPidNsId(5).setNetNsId(6).setIpcNsId(7).setUtsNsId(8).setMntNsId(9).setUserNsId(10)
                .setCgroupNsId(11).setTimeNsId(12).build();
    }

    static ThreadInfoX86 threadInfo(long rip, long sp) {
        UserX86RegsEntry.Builder r = UserX86RegsEntry.newBuilder()
                .setR15(15).setR14(14).setR13(13).setR12(12).setBp(sp + 0x40).setBx(0xb)
                .setR11(0x246).setR10(10).setR9(9).setR8(8).setAx(-4L /* -EINTR */).setCx(rip - 2).setDx(0xd)
                .setSi(0x51).setDi(0xd1).setOrigAx(230 /* clock_nanosleep */).setIp(rip).setCs(0x33)
                .setFlags(0x246).setSp(sp).setSs(0x2b).setFsBase(0x7f0000001740L).setGsBase(0)
                .setDs(0).setEs(0).setFs(0).setGs(0).setMode(UserX86RegsMode.NATIVE);
        UserX86FpregsEntry.Builder f = UserX86FpregsEntry.newBuilder()
                .setCwd(0x37f).setSwd(0).setTwd(0).setFop(0).setRip(FPU_RIP).setRdp(0)
                .setMxcsr(0x1f80).setMxcsrMask(0xffff);
        for (int i = 0; i < 32; i++) f.addStSpace(i);
        for (int i = 0; i < 64; i++) f.addXmmSpace(0x1000 + i);
        for (int i = 0; i < 24; i++) f.addPadding(0);
        UserX86XsaveEntry.Builder x = UserX86XsaveEntry.newBuilder().setXstateBv(0x207);
        for (int i = 0; i < 64; i++) x.addYmmhSpace(0x2000 + i);
        x.addPkru(0x55555554);
        f.setXsave(x);
        ThreadInfoX86.Builder t = ThreadInfoX86.newBuilder()
                .setClearTidAddr(0x7f0000001a10L).setGpregs(r).setFpregs(f);
        for (int i = 0; i < 3; i++) {
            // What an empty TLS slot looks like from get_thread_area().
            t.addTls(UserDescT.newBuilder().setEntryNumber(12 + i).setBaseAddr(0).setLimit(0)
                    .setSeg32Bit(false).setContentsH(false).setContentsL(false).setReadExecOnly(true)
                    .setLimitInPages(false).setSegNotPresent(true).setUsable(false));
        }
        return t.build();
    }

    static ThreadCoreEntry.Builder threadCoreEntry(long rseqAbi, String comm) {
        CredsEntry.Builder c = CredsEntry.newBuilder()
                .setUid(UID).setGid(UID).setEuid(UID).setEgid(UID).setSuid(UID).setSgid(UID)
                .setFsuid(UID).setFsgid(UID).setSecbits(0)
                .addCapInh(0).addCapInh(0).addCapPrm(0).addCapPrm(0).addCapEff(0).addCapEff(0)
                .addCapBnd(0xffffffff).addCapBnd(0x1ff).addCapAmb(0).addCapAmb(0)
                .addGroups(UID).addGroups(27).setNoNewPrivs(0);
        return ThreadCoreEntry.newBuilder()
                .setFutexRla(0x7f0000001a20L).setFutexRlaLen(24)
                .setSchedNice(0).setSchedPolicy(0).setSchedPrio(0)
                .setBlkSigset(0)
                .setSas(ThreadSasEntry.newBuilder().setSsSp(0).setSsSize(0).setSsFlags(2 /* SS_DISABLE */))
                .setPdeathSig(0)
                .setSignalsP(SignalQueueEntry.getDefaultInstance())
                .setCreds(c)
                .setSeccompMode(SeccompMode.disabled)
                .setComm(comm)
                .setRseqEntry(RseqEntry.newBuilder().setRseqAbiPointer(rseqAbi).setRseqAbiSize(32)
                        .setSignature(0x53053053).setRseqCsPointer(0))
                .setCgSet(1);
    }

    static CoreEntry leaderCore() {
        TaskRlimitsEntry.Builder rl = TaskRlimitsEntry.newBuilder();
        for (int i = 0; i < 16; i++) {
            long inf = -1L; // RLIM_INFINITY
            rl.addRlimits(switch (i) {
                case 3 -> RlimitEntry.newBuilder().setCur(8 << 20).setMax(inf);          // STACK
                case 7 -> RlimitEntry.newBuilder().setCur(1024).setMax(524288);          // NOFILE
                default -> RlimitEntry.newBuilder().setCur(inf).setMax(inf);
            });
        }
        TaskCoreEntry.Builder tc = TaskCoreEntry.newBuilder()
                .setTaskState(1).setExitCode(0).setPersonality(0).setFlags(0x400100)
                .setBlkSigset(0).setComm(COMM)
                .setTimers(TaskTimersEntry.newBuilder()
                        .setReal(itimer()).setVirt(itimer()).setProf(itimer()))
                .setRlimits(rl)
                .setSignalsS(SignalQueueEntry.newBuilder().addSignals(SiginfoEntry.newBuilder()
                        .setSiginfo(ByteString.copyFrom(siginfo(10 /* SIGUSR1 */)))))
                .setLoginuid(UID).setOomScoreAdj(0).setChildSubreaper(false);
        // CRIU stores signals 1..64 except SIGKILL (9) and SIGSTOP (19).
        for (int sig = 1; sig <= 64; sig++) {
            if (sig == 9 || sig == 19) continue;
            SaEntry.Builder sa = SaEntry.newBuilder().setSigaction(0).setFlags(0).setRestorer(0).setMask(0)
                    .setCompatSigaction(false);
            if (sig == 15) { // a SIGTERM handler
                sa.setSigaction(0x401a00L).setFlags(0x04000000 /* SA_RESTORER */).setRestorer(0x7f00000042c0L)
                        .setMask(1L << 1);
            }
            tc.addSigactions(sa);
        }
        return CoreEntry.newBuilder()
                .setMtype(CoreEntry.March.X86_64)
                .setThreadInfo(threadInfo(RIP, STACK_TOP - 0x1008))
                .setTc(tc)
                .setThreadCore(threadCoreEntry(RSEQ_ABI, COMM))
                .build();
    }

    static CoreEntry threadCore() {
        return CoreEntry.newBuilder()
                .setMtype(CoreEntry.March.X86_64)
                .setThreadInfo(threadInfo(RIP2, 0x7f0011000f00L))
                .setThreadCore(threadCoreEntry(RSEQ_ABI + 0x100000, "worker"))
                .build();
    }

    static ItimerEntry itimer() {
        return ItimerEntry.newBuilder().setIsec(0).setIusec(0).setVsec(0).setVusec(0).build();
    }

    static byte[] siginfo(int signo) {
        byte[] b = new byte[128];
        b[0] = (byte) signo;
        return b;
    }

    static MmEntry mm() {
        MmEntry.Builder mm = MmEntry.newBuilder()
                .setMmStartCode(0x400000L).setMmEndCode(0x401f00L)
                .setMmStartData(0x600e10L).setMmEndData(0x601040L)
                .setMmStartStack(STACK_TOP - 0x1000).setMmStartBrk(HEAP_START).setMmBrk(HEAP_START + 0x21000)
                .setMmArgStart(STACK_TOP - 0x200).setMmArgEnd(STACK_TOP - 0x1f0)
                .setMmEnvStart(STACK_TOP - 0x1f0).setMmEnvEnd(STACK_TOP - 0x20)
                .setExeFileId(1)
                .setDumpable(1).setThpDisabled(false);
        long[] auxv = {6, 4096, 25, STACK_TOP - 0x300, 0, 0}; // AT_PAGESZ, AT_RANDOM, AT_NULL
        for (long a : auxv) mm.addMmSavedAuxv(a);
        // exe text and data, heap, stack, vdso
        mm.addVmas(vma(0x400000L, 0x402000L, 0, 5, 0x02, VmaStatus.AREA_REGULAR | VmaStatus.FILE_PRIVATE, 1));
        mm.addVmas(vma(0x600000L, 0x602000L, 0, 3, 0x02, VmaStatus.AREA_REGULAR | VmaStatus.FILE_PRIVATE, 1));
        mm.addVmas(vma(HEAP_START, HEAP_START + 0x21000, 0, 3, 0x22,
                VmaStatus.AREA_REGULAR | VmaStatus.ANON_PRIVATE | VmaStatus.AREA_HEAP, 0));
        mm.addVmas(vma(STACK_TOP - 0x21000, STACK_TOP, 0, 3, 0x122 /* GROWSDOWN */,
                VmaStatus.AREA_REGULAR | VmaStatus.ANON_PRIVATE | VmaStatus.AREA_STACK, 0));
        mm.addVmas(vma(0x7ffc12400000L, 0x7ffc12402000L, 0, 5, 0x22,
                VmaStatus.AREA_REGULAR | VmaStatus.ANON_PRIVATE | VmaStatus.AREA_VDSO, 0));
        return mm.build();
    }

    static VmaEntry vma(long start, long end, long pgoff, int prot, int flags, int status, int shmid) {
        return VmaEntry.newBuilder().setStart(start).setEnd(end).setPgoff(pgoff).setShmid(shmid)
                .setProt(prot).setFlags(flags).setStatus(status).setFd(-1).setMadv(0).build();
    }

    static FileEntry regFile(int id, String path, int flags, long pos, int mode) {
        return FileEntry.newBuilder().setType(FdTypes.REG).setId(id)
                .setReg(RegFileEntry.newBuilder().setId(id).setFlags(flags).setPos(pos).setName(path)
                        .setFown(FownEntry.newBuilder().setUid(0).setEuid(0).setSignum(0).setPidType(0).setPid(0))
                        .setMntId(23).setSize(8191).setMode(mode))
                .build();
    }

    static FdinfoEntry fd(int fd, int id, int flags) {
        return FdinfoEntry.newBuilder().setId(id).setFlags(flags).setType(FdTypes.REG).setFd(fd).build();
    }
}

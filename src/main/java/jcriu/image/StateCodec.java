package jcriu.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.protobuf.ByteString;

import jcriu.image.pb.CoreEntry;
import jcriu.image.pb.CredsEntry;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FdinfoEntry;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.FownEntry;
import jcriu.image.pb.FsEntry;
import jcriu.image.pb.InventoryEntry;
import jcriu.image.pb.JcriuSleepRestart;
import jcriu.image.pb.Lsmtype;
import jcriu.image.pb.MmEntry;
import jcriu.image.pb.PagemapEntry;
import jcriu.image.pb.PstreeEntry;
import jcriu.image.pb.PipeDataEntry;
import jcriu.image.pb.PipeEntry;
import jcriu.image.pb.RegFileEntry;
import jcriu.image.pb.RlimitEntry;
import jcriu.image.pb.RseqEntry;
import jcriu.image.pb.SaEntry;
import jcriu.image.pb.SiginfoEntry;
import jcriu.image.pb.SignalQueueEntry;
import jcriu.image.pb.TaskCoreEntry;
import jcriu.image.pb.TaskKobjIdsEntry;
import jcriu.image.pb.TaskRlimitsEntry;
import jcriu.image.pb.ThreadCoreEntry;
import jcriu.image.pb.ThreadInfoX86;
import jcriu.image.pb.ThreadSasEntry;
import jcriu.image.pb.UserX86FpregsEntry;
import jcriu.image.pb.UserX86RegsEntry;
import jcriu.image.pb.UserX86XsaveEntry;
import jcriu.image.pb.VmaEntry;
import jcriu.ptrace.Regs;
import jcriu.files.OpenFile;
import jcriu.files.RegularFile;
import jcriu.rseq.RseqState;
import jcriu.state.FdState;
import jcriu.state.FileSnapshot;
import jcriu.state.MmState;
import jcriu.state.PageRun;
import jcriu.state.PipeState;
import jcriu.state.ProcessState;
import jcriu.state.SigAction;
import jcriu.state.ThreadState;
import jcriu.state.TreeState;
import jcriu.state.VmaState;
import jcriu.state.ZombieState;

/**
 * {@link TreeState} to CRIU's image files and back. The split of state over files and
 * the meaning of each field follow CRIU, so its tools read what jcriu writes.
 */
public final class StateCodec {
    // CRIU's task states (compel/include/uapi/task-state.h): a zombie is stored as dead.
    private static final int TASK_ALIVE = 1, TASK_DEAD = 2, TASK_STOPPED = 3;
    private static final int S_IFDIR = 0040000, S_IFREG = 0100000;

    private StateCodec() {}

    // ---------------------------------------------------------------- write

    /**
     * The ids of the process at {@code index} (0 for the root) in tree order: its kernel-object
     * ids, which name its fdinfo-ID.img, and its pages-ID.img. They start at 2, as CRIU's do:
     * 1 is the dumper's own (inventory root_ids), which CRIU's restore tells apart from the tasks'.
     */
    public static int imageId(int index) {
        return index + 2;
    }

    /**
     * The whole tree: per process its ids ({@link #imageId}), threads, memory and fds; zombies
     * have a core image only.
     */
    public static void write(ImageDir dir, TreeState tree) throws IOException {
        write(dir, tree, null);
    }

    /** As {@link #write(ImageDir, TreeState)}, the inventory naming the dump's network lock (null: none). */
    public static void write(ImageDir dir, TreeState tree, jcriu.net.LockInventory.Written lock) throws IOException {
        Map<String, Integer> fileIds = new LinkedHashMap<>();
        Map<Integer, FileEntry> files = new LinkedHashMap<>();
        for (OpenFile f : tree.files()) files.put(f.id(), f.encode());
        try (ImageOutput o = dir.create(ImageFile.inventory())) {
            InventoryEntry.Builder inv = InventoryEntry.newBuilder().setImgVersion(2).setFdinfoPerId(true)
                    .setRootIds(CriuLayout.dumperIds()).setLsmtype(Lsmtype.NO_LSM).setJcriuManifest(Manifest.NAME);
            if (lock != null) lock.fill(inv);
            o.write(inv.build());
        }
        try (ImageOutput o = dir.create(ImageFile.pstree())) {
            for (ProcessState st : tree.processes()) {
                PstreeEntry.Builder p = PstreeEntry.newBuilder().setPid(st.pid()).setPpid(st.ppid()).setPgid(st.pgid())
                        .setSid(st.sid());
                for (ThreadState t : st.threads()) p.addThreads(t.tid());
                o.write(p.build());
            }
            for (ZombieState z : tree.zombies()) {
                o.write(PstreeEntry.newBuilder().setPid(z.pid()).setPpid(z.ppid()).setPgid(z.pgid()).setSid(z.sid())
                        .addThreads(z.pid()).build());
            }
        }
        Map<Integer, TaskKobjIdsEntry> ids = new HashMap<>();
        Map<Integer, Integer> seccomp = SeccompCodec.write(dir, tree); // cores name their threads' newest filters
        for (int i = 0; i < tree.processes().size(); i++) {
            ProcessState st = tree.processes().get(i);
            TaskKobjIdsEntry own = ids(imageId(i)), parent = ids.get(st.ppid());
            // a shared fd table or fs has the id of the first process that has it (CRIU's kcmp ids)
            if (tree.sharing().sharesFiles(st.pid())) own = own.toBuilder().setFilesId(parent.getFilesId()).build();
            if (tree.sharing().sharesFs(st.pid())) own = own.toBuilder().setFsId(parent.getFsId()).build();
            ids.put(st.pid(), own);
            writeProcess(dir, st, own, fileIds, files, !tree.sharing().sharesFiles(st.pid()), seccomp);
        }
        for (ZombieState z : tree.zombies()) {
            try (ImageOutput o = dir.create(ImageFile.core(z.pid()))) {
                o.write(CoreEntry.newBuilder().setMtype(CoreEntry.March.X86_64).setTc(TaskCoreEntry.newBuilder()
                        .setTaskState(TASK_DEAD).setExitCode(z.exitStatus()).setPersonality(0).setFlags(0)
                        .setBlkSigset(0).setComm(z.comm())).build());
            }
        }
        if (!tree.pipes().isEmpty()) {
            try (ImageOutput o = dir.create(ImageFile.pipesData())) {
                for (PipeState p : tree.pipes()) {
                    o.write(PipeDataEntry.newBuilder().setPipeId((int) p.ino()).setBytes(p.data().length)
                            .setSize(p.capacity()).build());
                    o.writeRaw(p.data());
                }
            }
        }
        try (ImageOutput o = dir.create(ImageFile.files())) {
            for (FileEntry f : files.values()) o.write(f);
        }
        jcriu.files.SocketFiles.write(dir, tree.files());
        jcriu.files.TtyImages.write(dir, tree.files());
        jcriu.files.GhostDirectories.write(dir, tree.files());
    }

    private static TaskKobjIdsEntry ids(int id) {
        return TaskKobjIdsEntry.newBuilder().setVmId(id).setFilesId(id).setFsId(id).setSighandId(id).build();
    }

    /** {@code ownTable}: the process writes its fd table (fdinfo-ID.img), which no process before it shares. */
    private static void writeProcess(ImageDir dir, ProcessState st, TaskKobjIdsEntry kids, Map<String, Integer> fileIds,
                                     Map<Integer, FileEntry> files, boolean ownTable, Map<Integer, Integer> seccomp)
            throws IOException {
        int id = kids.getVmId();
        try (ImageOutput o = dir.create(ImageFile.ids(st.pid()))) {
            o.write(kids);
        }
        for (ThreadState t : st.threads()) {
            try (ImageOutput o = dir.create(ImageFile.core(t.tid()))) {
                o.write(core(st, t, t == st.leader(), seccomp));
            }
        }
        try (ImageOutput o = dir.create(ImageFile.mm(st.pid()))) {
            o.write(AttrsCodec.putMm(mm(st.mm(), fileIds, files).toBuilder(), st.attrs()).build());
        }
        writePagemap(dir, st.pid(), id, st.mm().pages(), st.mm().pagesInParent());
        if (ownTable) try (ImageOutput o = dir.create(ImageFile.fdinfo(kids.getFilesId()))) {
            for (FdState f : st.fds()) {
                o.write(FdinfoEntry.newBuilder().setId(f.fileId()).setFlags(f.cloexec() ? 1 : 0)
                        .setType(files.get(f.fileId()).getType()).setFd(f.fd()).build());
            }
        }
        int cwd = jcriu.files.GhostDirectories.deleted(st.cwd()) ? jcriu.files.GhostDirectories.cwdId(files, st.cwd())
                : fileId(fileIds, files, st.cwd(), 0200000, 0, S_IFDIR, "cwd");
        int root = fileId(fileIds, files, st.root(), 0200000, 0, S_IFDIR, "root");
        try (ImageOutput o = dir.create(ImageFile.fs(st.pid()))) {
            o.write(FsEntry.newBuilder().setCwdId(cwd).setRootId(root).setUmask(st.umask()).build());
        }
    }

    /**
     * A path that is not an fd (exe, cwd, root, a mapped file) as a file entry after those of
     * the fds; identical uses share one.
     */
    private static int fileId(Map<String, Integer> ids, Map<Integer, FileEntry> files, String path, int flags, long pos,
                              int mode, String use) {
        return fileId(ids, files, path, path, flags, pos, mode, use);
    }

    /** As above; {@code name} tells apart files of one path (memfds). */
    private static int fileId(Map<String, Integer> ids, Map<Integer, FileEntry> files, String name, String path, int flags,
                              long pos, int mode, String use) {
        String key = name + "\0" + flags + "\0" + pos + "\0" + mode;
        Integer have = ids.get(key);
        if (have != null) return have;
        int id = files.keySet().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
        ids.put(key, id);
        files.put(id, FileEntry.newBuilder().setType(FdTypes.REG).setId(id).setReg(RegFileEntry.newBuilder().setId(id)
                .setFlags(flags).setPos(pos).setName(path).setMode(CriuLayout.fullMode(path, mode))
                .setFown(OpenFile.NO_OWNER)).build());
        return id;
    }

    private static CoreEntry core(ProcessState st, ThreadState t, boolean leader, Map<Integer, Integer> seccomp) {
        Regs r = t.regs();
        UserX86RegsEntry.Builder g = UserX86RegsEntry.newBuilder();
        g.setR15(r.get(Regs.R15)).setR14(r.get(Regs.R14)).setR13(r.get(Regs.R13)).setR12(r.get(Regs.R12))
                .setBp(r.get(Regs.RBP)).setBx(r.get(Regs.RBX)).setR11(r.get(Regs.R11)).setR10(r.get(Regs.R10))
                .setR9(r.get(Regs.R9)).setR8(r.get(Regs.R8)).setAx(r.get(Regs.RAX)).setCx(r.get(Regs.RCX))
                .setDx(r.get(Regs.RDX)).setSi(r.get(Regs.RSI)).setDi(r.get(Regs.RDI)).setOrigAx(r.get(Regs.ORIG_RAX))
                .setIp(r.get(Regs.RIP)).setCs(r.get(Regs.CS)).setFlags(r.get(Regs.EFLAGS)).setSp(r.get(Regs.RSP))
                .setSs(r.get(Regs.SS)).setFsBase(r.get(Regs.FS_BASE)).setGsBase(r.get(Regs.GS_BASE))
                .setDs(r.get(Regs.DS)).setEs(r.get(Regs.ES)).setFs(r.get(Regs.FS)).setGs(r.get(Regs.GS));
        ThreadInfoX86 ti = ThreadInfoX86.newBuilder().setClearTidAddr(t.clearChildTid()).setGpregs(g)
                .setFpregs(CriuXsave.toImage(t.xstate())).build();
        ThreadCoreEntry.Builder tc = ThreadCoreEntry.newBuilder().setFutexRla(t.robustListHead())
                .setFutexRlaLen((int) t.robustListLen()).setBlkSigset(t.sigmask()).setComm(t.comm())
                .setSchedPolicy(t.sched().policyWord()).setSchedNice(t.sched().nice())
                .setSchedPrio(t.sched().priority())
                .setCreds(creds(st.creds()));
        if (t.altStack() != null) {
            tc.setSas(ThreadSasEntry.newBuilder().setSsSp(t.altStack().sp()).setSsSize(t.altStack().size())
                    .setSsFlags(t.altStack().flags()));
        }
        if (!t.pendingSiginfo().isEmpty()) tc.setSignalsP(queue(t.pendingSiginfo()));
        if (t.restartCode() != 0) tc.setJcriuRestart(t.restartCode());
        if (t.sleep() != null) {
            tc.setJcriuSleep(JcriuSleepRestart.newBuilder().setClockId(t.sleep().clockId())
                    .setExpiryNs(t.sleep().expiryNs()).setRemPtr(t.sleep().remPtr()).setSyscallIp(t.sleep().syscallIp()));
        }
        RseqState.Registration reg = t.rseq().registration();
        if (reg != null) {
            RseqEntry.Builder re = RseqEntry.newBuilder().setRseqAbiPointer(reg.pointer()).setRseqAbiSize(reg.size())
                    .setSignature(reg.signature());
            if (t.rseq().rseqCsToRestore() != 0) re.setRseqCsPointer(t.rseq().rseqCsToRestore());
            tc.setRseqEntry(re);
        }
        CoreEntry.Builder c = CoreEntry.newBuilder().setMtype(CoreEntry.March.X86_64).setThreadInfo(ti).setThreadCore(tc);
        if (leader) {
            TaskCoreEntry.Builder task = TaskCoreEntry.newBuilder().setTaskState(st.wasStopped() ? TASK_STOPPED : TASK_ALIVE)
                    .setStopSigno(st.stopSignal())
                    .setExitCode(0).setPersonality(st.personality()).setFlags(0).setBlkSigset(t.sigmask())
                    .setComm(st.comm()).setTimers(CriuLayout.noTimers());
            TaskRlimitsEntry.Builder rl = TaskRlimitsEntry.newBuilder();
            for (long[] l : st.rlimits()) rl.addRlimits(RlimitEntry.newBuilder().setCur(l[0]).setMax(l[1]));
            task.setRlimits(rl);
            if (!st.sharedPendingSiginfo().isEmpty()) task.setSignalsS(queue(st.sharedPendingSiginfo()));
            for (SigAction sa : st.sigactions()) {
                task.addSigactions(SaEntry.newBuilder().setSigaction(sa.handler()).setFlags(sa.flags())
                        .setRestorer(sa.restorer()).setMask(sa.mask()));
            }
            c.setTc(task);
        }
        AttrsCodec.putCore(c, st.attrs(), t.tid(), leader, seccomp);
        return c.build();
    }

    private static SignalQueueEntry queue(List<byte[]> infos) {
        SignalQueueEntry.Builder q = SignalQueueEntry.newBuilder();
        for (byte[] si : infos) q.addSignals(SiginfoEntry.newBuilder().setSiginfo(ByteString.copyFrom(si)));
        return q.build();
    }

    static CredsEntry creds(ProcessState.Creds c) {
        CredsEntry.Builder b = CredsEntry.newBuilder().setUid(c.uid()[0]).setEuid(c.uid()[1]).setSuid(c.uid()[2])
                .setFsuid(c.uid()[3]).setGid(c.gid()[0]).setEgid(c.gid()[1]).setSgid(c.gid()[2]).setFsgid(c.gid()[3])
                .setSecbits(0);
        for (long cap : new long[] {c.capInh()}) b.addCapInh((int) cap).addCapInh((int) (cap >>> 32));
        for (long cap : new long[] {c.capPrm()}) b.addCapPrm((int) cap).addCapPrm((int) (cap >>> 32));
        for (long cap : new long[] {c.capEff()}) b.addCapEff((int) cap).addCapEff((int) (cap >>> 32));
        for (long cap : new long[] {c.capBnd()}) b.addCapBnd((int) cap).addCapBnd((int) (cap >>> 32));
        for (long cap : new long[] {c.capAmb()}) b.addCapAmb((int) cap).addCapAmb((int) (cap >>> 32));
        for (int gr : c.groups()) b.addGroups(gr);
        return b.build();
    }

    private static MmEntry mm(MmState mm, Map<String, Integer> fileIds, Map<Integer, FileEntry> files) {
        MmEntry.Builder m = MmEntry.newBuilder().setMmStartCode(mm.startCode()).setMmEndCode(mm.endCode())
                .setMmStartData(mm.startData()).setMmEndData(mm.endData()).setMmStartStack(mm.startStack())
                .setMmStartBrk(mm.startBrk()).setMmBrk(mm.brk()).setMmArgStart(mm.argStart())
                .setMmArgEnd(mm.argEnd()).setMmEnvStart(mm.envStart()).setMmEnvEnd(mm.envEnd())
                .setExeFileId(stamped(files, fileId(fileIds, files, mm.exePath(), 0, 0, S_IFREG, "exe"), mm));
        for (long a : CriuLayout.auxvForImage(mm.auxv())) m.addMmSavedAuxv(a);
        for (VmaState v : mm.vmas()) {
            // CRIU's shmid: the shmem object's inode for shared anonymous memory, a file id for files
            VmaEntry.Builder e = VmaEntry.newBuilder().setStart(v.start()).setEnd(v.end()).setPgoff(v.pgoff())
                    .setProt(v.prot()).setFlags(CriuLayout.vmaFlags(v)).setStatus(status(v)).setFd(-1)
                    .setShmid(v.kind() == VmaState.Kind.ANON_SHARED ? v.ino() : 0);
            if (v.path() != null) {
                int flags = v.kind() == VmaState.Kind.FILE_SHARED ? v.attrs().fileFlags() : 0;
                // memfds share names: each inode is a file of its own
                String key = jcriu.files.Memfd.isMemfd(v.path()) && v.ino() != 0 ? v.path() + "\0ino " + v.ino() : v.path();
                int id = stamped(files, fileId(fileIds, files, key, v.path(), flags, 0, S_IFREG, "vma"), mm);
                e.setShmid(id).setFdflags(flags);
                var snap = v.kind() == VmaState.Kind.FILE_SHARED || v.kind() == VmaState.Kind.FILE_PRIVATE ? mm.snapshotOf(v) : java.util.Optional.<FileSnapshot>empty();
                if (snap.isPresent() && !files.get(id).getReg().hasJcriuContent()) {
                    FileSnapshot s = snap.get();
                    FileEntry fe = files.get(id);
                    RegFileEntry.Builder r = fe.getReg().toBuilder().setMode(s.mode())
                            .setSize(s.content().length).setJcriuContent(ByteString.copyFrom(s.content()))
                            .setJcriuUid(s.uid()).setJcriuGid(s.gid()).setJcriuDeleted(s.deleted());
                    if (!key.equals(v.path())) r.setJcriuIno(s.ino());
                    files.put(id, fe.toBuilder().setReg(r).build());
                }
            }
            long madv = 0;
            for (int a : v.madvise()) madv |= 1L << a;
            if (madv != 0) e.setMadv(madv);
            AttrsCodec.putVma(e, v);
            m.addVmas(e);
        }
        List<VmaEntry> merged = CriuLayout.mergeVvar(m.getVmasList());
        return m.clearVmas().addAllVmas(merged).build();
    }

    /** File {@code id} with what its mapped file was at the dump (size, mode, build-id), for the restore to check. */
    private static int stamped(Map<Integer, FileEntry> files, int id, MmState mm) {
        FileEntry fe = files.get(id);
        if (fe.hasReg() && !fe.getReg().hasSize()) {
            mm.mappedFile(fe.getReg().getName()).ifPresent(m -> files.put(id, fe.toBuilder().setReg(m.stamp(fe.getReg()))
                    .build()));
        }
        return id;
    }

    private static int status(VmaState v) {
        int s = VmaStatus.AREA_REGULAR;
        return switch (v.kind()) {
            case ANON_PRIVATE -> s | VmaStatus.ANON_PRIVATE;
            case ANON_SHARED -> s | VmaStatus.ANON_SHARED;
            case FILE_PRIVATE -> s | VmaStatus.FILE_PRIVATE;
            case FILE_SHARED -> s | VmaStatus.FILE_SHARED;
            case HEAP -> s | VmaStatus.ANON_PRIVATE | VmaStatus.AREA_HEAP;
            case STACK -> s | VmaStatus.ANON_PRIVATE | VmaStatus.AREA_STACK;
            case VDSO -> s | VmaStatus.AREA_VDSO | VmaStatus.ANON_PRIVATE;
            case VVAR -> s | VmaStatus.AREA_VVAR | VmaStatus.ANON_PRIVATE;
            case VVAR_VCLOCK -> s | VmaStatus.AREA_VVAR | VmaStatus.ANON_PRIVATE;
            case VSYSCALL -> VmaStatus.AREA_VSYSCALL;
        };
    }

    // ---------------------------------------------------------------- read

    /** The whole tree: processes in the order of pstree.img (parents first), zombies, files, pipes. */
    public static TreeState read(ImageDir dir) throws IOException {
        List<PstreeEntry> entries = new ArrayList<>();
        try (ImageInput in = dir.open(ImageFile.pstree())) {
            for (PstreeEntry e; (e = in.next(PstreeEntry.parser())) != null; ) entries.add(e);
            if (entries.isEmpty()) throw new ImageException(in.file(), in.offset(), "no process in the tree");
        }
        Map<Integer, OpenFile> files = new LinkedHashMap<>();
        try (ImageInput in = dir.open(ImageFile.files())) {
            for (FileEntry f; (f = in.next(FileEntry.parser())) != null; ) {
                long at = in.offset();
                if (files.put(f.getId(), OpenFile.decode(f, in.file(), at)) != null) {
                    throw new ImageException(in.file(), at, "file id " + f.getId() + " appears twice");
                }
            }
        }
        jcriu.files.GhostDirectories.read(dir, files); // entries remapped to a ghost directory
        Snapshots snapshots = snapshots(dir); // read once: every process's mm state holds the same list
        List<ProcessState> processes = new ArrayList<>();
        List<ZombieState> zombies = new ArrayList<>();
        Map<Integer, TaskKobjIdsEntry> ids = new HashMap<>();
        java.util.Set<Integer> filesShared = new java.util.HashSet<>(), fsShared = new java.util.HashSet<>();
        for (PstreeEntry ps : entries) {
            CoreEntry leader;
            try (ImageInput in = dir.open(ImageFile.core(ps.getPid()))) {
                leader = in.single(CoreEntry.parser());
                if (!leader.hasTc()) throw new ImageException(in.file(), 0, "the leader's core image has no task state");
            }
            if (leader.getTc().getTaskState() == TASK_DEAD) {
                zombies.add(new ZombieState(ps.getPid(), ps.getPpid(), ps.getPgid(), ps.getSid(),
                        leader.getTc().getComm(), leader.getTc().getExitCode()));
            } else {
                TaskKobjIdsEntry own;
                try (ImageInput in = dir.open(ImageFile.ids(ps.getPid()))) {
                    own = in.single(TaskKobjIdsEntry.parser());
                }
                ids.put(ps.getPid(), own);
                processes.add(readProcess(dir, ps, files, own.getFilesId(), snapshots));
                TaskKobjIdsEntry parent = ids.get(ps.getPpid());
                // the same id as the parent's: one fd table or fs, shared (CRIU clones with CLONE_FILES then)
                if (parent != null && own.getFilesId() == parent.getFilesId()) filesShared.add(ps.getPid());
                if (parent != null && own.getFsId() == parent.getFsId()) fsShared.add(ps.getPid());
            }
        }
        if (processes.isEmpty()) throw new ImageException(dir.path().resolve(ImageFile.pstree().name()), 0,
                "the tree holds no live process");
        return new TreeState(processes, zombies, jcriu.files.TtyImages.read(dir,
                jcriu.files.SocketFiles.read(dir, List.copyOf(files.values()))),
                readPipes(dir), new jcriu.state.Sharing(filesShared, fsShared));
    }

    private static ProcessState readProcess(ImageDir dir, PstreeEntry ps, Map<Integer, OpenFile> files, int filesId,
                                            Snapshots snapshots) throws IOException {
        int pid = ps.getPid();
        List<ThreadState> threads = new ArrayList<>();
        TaskCoreEntry task = null;
        ProcessState.Creds creds = null;
        for (int tid : ps.getThreadsList()) {
            CoreEntry c;
            byte[] xstate;
            try (ImageInput in = dir.open(ImageFile.core(tid))) {
                c = in.single(CoreEntry.parser());
                if (c.getMtype() != CoreEntry.March.X86_64 || !c.hasThreadInfo() || !c.hasThreadCore()) {
                    throw new ImageException(in.file(), 0, "not an x86_64 thread image");
                }
                xstate = CriuXsave.area(c.getThreadInfo().getFpregs(), in.file());
            }
            if (tid == pid) {
                task = c.getTc();
                creds = creds(c.getThreadCore().getCreds());
            }
            threads.add(thread(tid, c, xstate));
        }
        if (task == null) throw new IOException("core image of the leader " + pid + " has no task state");
        List<SigAction> acts = new ArrayList<>();
        int sig = 1;
        for (SaEntry sa : task.getSigactionsList()) {
            while (sig == 9 || sig == 19) sig++; // CRIU stores no entry for SIGKILL and SIGSTOP
            acts.add(new SigAction(sig++, sa.getSigaction(), sa.getFlags(), sa.getRestorer(), sa.getMask()));
        }
        long[][] rl = new long[task.getRlimits().getRlimitsCount()][];
        for (int i = 0; i < rl.length; i++) {
            rl[i] = new long[] {task.getRlimits().getRlimits(i).getCur(), task.getRlimits().getRlimits(i).getMax()};
        }
        MmState mm = readMm(dir, pid, files, snapshots);
        List<FdState> fds = new ArrayList<>();
        try (ImageInput in = dir.open(ImageFile.fdinfo(filesId))) {
            for (FdinfoEntry e; (e = in.next(FdinfoEntry.parser())) != null; ) {
                if (!files.containsKey(e.getId())) {
                    throw new ImageException(in.file(), in.offset(), "fd " + e.getFd() + " names missing file " + e.getId());
                }
                fds.add(new FdState(e.getFd(), e.getId(), (e.getFlags() & 1) != 0));
            }
        }
        FsEntry fs;
        try (ImageInput in = dir.open(ImageFile.fs(pid))) {
            fs = in.single(FsEntry.parser());
        }
        return new ProcessState(pid, ps.getPpid(), ps.getPgid(), ps.getSid(), task.getComm(), threads, acts,
                infos(task.getSignalsS()), mm, fds, pathOf(files, fs.getCwdId(), "cwd"),
                pathOf(files, fs.getRootId(), "root"), fs.getUmask(), creds, rl, task.getPersonality(),
                task.getTaskState() != TASK_STOPPED ? 0 : task.hasStopSigno() && stopSignal(task.getStopSigno())
                        ? task.getStopSigno() : 19 /* SIGSTOP, as CRIU for images without stop_signo */, AttrsCodec.read(dir, pid, ps.getThreadsList()));
    }

    private static List<PipeState> readPipes(ImageDir dir) throws IOException {
        List<PipeState> out = new ArrayList<>();
        if (!dir.exists(ImageFile.pipesData())) return out;
        try (ImageInput in = dir.open(ImageFile.pipesData())) {
            for (PipeDataEntry e; (e = in.next(PipeDataEntry.parser())) != null; ) {
                long ino = Integer.toUnsignedLong(e.getPipeId());
                byte[] data = in.raw(Integer.toUnsignedLong(e.getBytes()), "data of pipe:[" + ino + "]");
                out.add(new PipeState(ino, e.getSize(), data));
            }
        }
        return out;
    }

    /**
     * pagemap-PID.img: runs stored in pages-ID.img (in that file's order) and runs left to the
     * parent image, merged in address order as CRIU reads them. A pre-dump writes only this.
     */
    public static void writePagemap(ImageDir dir, int pid, int pagesId, List<PageRun> present,
                                    List<PageRun> inParent) throws IOException {
        List<PagemapEntry> pm = new ArrayList<>();
        for (PageRun r : present) pm.add(Pagemap.entry(r.addr(), r.pages(), Pagemap.PE_PRESENT));
        for (PageRun r : inParent) pm.add(Pagemap.entry(r.addr(), r.pages(), Pagemap.PE_PARENT));
        pm.sort(java.util.Comparator.comparingLong(PagemapEntry::getVaddr));
        try (ImageOutput o = dir.create(ImageFile.pagemap(pid))) {
            new Pagemap(pagesId, pm).write(o);
        }
    }

    private static String pathOf(Map<Integer, OpenFile> files, int id, String what) throws IOException {
        if (files.get(id) instanceof jcriu.files.DeletedDirectory d) return jcriu.files.GhostDirectories.cwdPath(d);
        if (files.get(id) instanceof RegularFile r) return r.path();
        if (files.get(id) instanceof jcriu.files.DeletedFile d) return d.path(); // mapped, then unlinked
        throw new IOException(what + " refers to file id " + id + ", which files.img does not hold as a file");
    }

    private static ThreadState thread(int tid, CoreEntry c, byte[] xstate) {
        UserX86RegsEntry g = c.getThreadInfo().getGpregs();
        long[] v = {g.getR15(), g.getR14(), g.getR13(), g.getR12(), g.getBp(), g.getBx(), g.getR11(), g.getR10(),
                g.getR9(), g.getR8(), g.getAx(), g.getCx(), g.getDx(), g.getSi(), g.getDi(), g.getOrigAx(), g.getIp(),
                g.getCs(), g.getFlags(), g.getSp(), g.getSs(), g.getFsBase(), g.getGsBase(), g.getDs(), g.getEs(),
                g.getFs(), g.getGs()};
        ThreadCoreEntry tc = c.getThreadCore();
        RseqState rseq = new RseqState.NotRegistered();
        if (tc.hasRseqEntry() && tc.getRseqEntry().getRseqAbiPointer() != 0) { // CRIU writes pointer 0 for none
            RseqEntry re = tc.getRseqEntry();
            var reg = new RseqState.Registration(re.getRseqAbiPointer(), re.getRseqAbiSize(), re.getSignature());
            rseq = re.hasRseqCsPointer() && re.getRseqCsPointer() != 0
                    ? new RseqState.InsideNoRestart(reg, null, re.getRseqCsPointer())
                    : new RseqState.Outside(reg);
        }
        ThreadState.AltStack alt = tc.hasSas()
                ? new ThreadState.AltStack(tc.getSas().getSsSp(), tc.getSas().getSsFlags(), tc.getSas().getSsSize())
                : null;
        // CRIU's restore takes the main thread's mask from task_core (its dump leaves the
        // thread_core field unset there), another thread's from thread_core
        long mask = c.hasTc() && !tc.hasBlkSigset() ? c.getTc().getBlkSigset() : tc.getBlkSigset();
        return new ThreadState(tid, new Regs(v), xstate,
                mask, infos(tc.getSignalsP()), tc.getFutexRla(), tc.getFutexRlaLen(),
                c.getThreadInfo().getClearTidAddr(), alt, rseq, tc.getComm(), tc.hasJcriuSleep()
                        ? new ThreadState.SleepRestart(tc.getJcriuSleep().getClockId(), tc.getJcriuSleep().getExpiryNs(),
                                tc.getJcriuSleep().getRemPtr(), tc.getJcriuSleep().getSyscallIp())
                        : null,
                // images without these fields (older jcriu) mean the defaults, as for CRIU
                jcriu.sys.SchedAttr.fromPolicyWord(tc.getSchedPolicy(), tc.getSchedNice(), tc.getSchedPrio()),
                tc.getJcriuRestart());
    }

    private static List<byte[]> infos(SignalQueueEntry q) {
        List<byte[]> out = new ArrayList<>();
        for (SiginfoEntry e : q.getSignalsList()) out.add(e.getSiginfo().toByteArray());
        return out;
    }

    static ProcessState.Creds creds(CredsEntry c) {
        int[] groups = c.getGroupsList().stream().mapToInt(Integer::intValue).toArray();
        return new ProcessState.Creds(new int[] {c.getUid(), c.getEuid(), c.getSuid(), c.getFsuid()},
                new int[] {c.getGid(), c.getEgid(), c.getSgid(), c.getFsgid()}, groups, cap(c.getCapInhList()),
                cap(c.getCapPrmList()), cap(c.getCapEffList()), cap(c.getCapBndList()), cap(c.getCapAmbList()));
    }

    private static long cap(List<Integer> words) {
        long v = 0;
        for (int i = 0; i < Math.min(2, words.size()); i++) v |= (words.get(i) & 0xffffffffL) << (32 * i);
        return v;
    }

    private static MmState readMm(ImageDir dir, int pid, Map<Integer, OpenFile> files, Snapshots saved)
            throws IOException {
        MmEntry m;
        try (ImageInput in = dir.open(ImageFile.mm(pid))) {
            m = in.single(MmEntry.parser());
        }
        List<VmaState> vmas = new ArrayList<>();
        for (VmaEntry e : m.getVmasList()) {
            VmaState.Kind kind = kind(e.getStatus());
            VmaState prev = vmas.isEmpty() ? null : vmas.getLast();
            if (kind == VmaState.Kind.VVAR && prev != null && prev.kind() == VmaState.Kind.VVAR
                    && prev.end() == e.getStart()) {
                kind = VmaState.Kind.VVAR_VCLOCK; // CRIU marks both as VVAR; the clock pages follow [vvar]
            }
            String path = null;
            if (kind == VmaState.Kind.FILE_PRIVATE || kind == VmaState.Kind.FILE_SHARED) {
                path = pathOf(files, (int) e.getShmid(), String.format("mapping %#x", e.getStart()));
            }
            List<Integer> adv = new ArrayList<>();
            for (int a = 0; a < 64; a++) if ((e.getMadv() & (1L << a)) != 0) adv.add(a);
            long ino = kind == VmaState.Kind.ANON_SHARED ? e.getShmid() : path != null ? saved.inodes().getOrDefault((int) e.getShmid(), 0L) : 0;
            vmas.add(new VmaState(e.getStart(), e.getEnd(), e.getPgoff(), e.getProt(), AttrsCodec.mmapFlags(e), kind,
                    path, 0, ino, adv.stream().mapToInt(Integer::intValue).toArray(), AttrsCodec.vmaAttrs(e)));
        }
        List<PageRun> runs = new ArrayList<>(), inParent = new ArrayList<>();
        try (ImageInput in = dir.open(ImageFile.pagemap(pid))) {
            Pagemap pm = Pagemap.read(in);
            for (PagemapEntry e : pm.entries()) {
                (Pagemap.isPresent(e) ? runs : inParent).add(new PageRun(e.getVaddr(), (int) Pagemap.nrPages(e)));
            }
        }
        long[] starts = vmas.stream().mapToLong(VmaState::start).sorted().toArray();
        runs = PageRun.splitAt(runs, starts); // CRIU's entries may run on from one mapping into the next
        inParent = PageRun.splitAt(inParent, starts);
        long[] auxv = m.getMmSavedAuxvList().stream().mapToLong(Long::longValue).toArray();
        return new MmState(m.getMmStartCode(), m.getMmEndCode(), m.getMmStartData(), m.getMmEndData(),
                m.getMmStartBrk(), m.getMmBrk(), m.getMmStartStack(), m.getMmArgStart(), m.getMmArgEnd(),
                m.getMmEnvStart(), m.getMmEnvEnd(), auxv, pathOf(files, m.getExeFileId(), "exe"),
                CriuLayout.splitVvar(vmas), runs, inParent, saved.files());
    }

    /** Files saved whole, and the inodes of the memfds among them by file id. */
    private record Snapshots(List<FileSnapshot> files, Map<Integer, Long> inodes) {}

    /** The small shared-mapped files saved whole: jcriu's fields of their reg entries in files.img. */
    private static Snapshots snapshots(ImageDir dir) throws IOException {
        List<FileSnapshot> out = new ArrayList<>();
        Map<Integer, Long> inodes = new java.util.HashMap<>();
        try (ImageInput in = dir.open(ImageFile.files())) {
            for (FileEntry f; (f = in.next(FileEntry.parser())) != null; ) {
                RegFileEntry r = f.getReg();
                if (f.hasReg() && r.hasJcriuContent()) {
                    out.add(new FileSnapshot(r.getName(), r.getMode(), r.getJcriuUid(), r.getJcriuGid(),
                            r.getJcriuContent().toByteArray(), r.getJcriuDeleted(), r.getJcriuIno()));
                    if (r.hasJcriuIno()) inodes.put(f.getId(), r.getJcriuIno());
                }
            }
        }
        return new Snapshots(out, inodes);
    }

    private static VmaState.Kind kind(int status) {
        if ((status & VmaStatus.AREA_VSYSCALL) != 0) return VmaState.Kind.VSYSCALL;
        if ((status & VmaStatus.AREA_VDSO) != 0) return VmaState.Kind.VDSO;
        if ((status & VmaStatus.AREA_VVAR) != 0) return VmaState.Kind.VVAR;
        if ((status & VmaStatus.AREA_HEAP) != 0) return VmaState.Kind.HEAP;
        if ((status & VmaStatus.AREA_STACK) != 0) return VmaState.Kind.STACK;
        if ((status & VmaStatus.FILE_SHARED) != 0) return VmaState.Kind.FILE_SHARED;
        if ((status & VmaStatus.FILE_PRIVATE) != 0) return VmaState.Kind.FILE_PRIVATE;
        if ((status & VmaStatus.ANON_SHARED) != 0) return VmaState.Kind.ANON_SHARED;
        return VmaState.Kind.ANON_PRIVATE;
    }

    /** SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: the signals a process can be stopped by. */
    private static boolean stopSignal(int sig) {
        return sig >= 19 && sig <= 22;
    }
}

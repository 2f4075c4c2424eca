package jcriu.dump;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jcriu.api.Log;
import jcriu.files.OpenFile;
import jcriu.files.PipeData;
import jcriu.files.PipeEnd;
import jcriu.net.SocketDump;
import jcriu.files.SaveContext;
import jcriu.proc.FdInfo;
import jcriu.proc.Fds;
import jcriu.state.FdState;
import jcriu.state.PipeState;
import jcriu.sys.FdSys;
import jcriu.sys.Sys;

/**
 * The open file descriptions of a frozen tree. Two fds (of one process or of two) refer to
 * the same description when kcmp(KCMP_FILE) says so; only fds on the same inode can, so
 * each fd is compared with one holder of each description already seen on its inode.
 * Every description gets one id, which all of its fds carry. Files in flight in a socket's
 * queue (SCM_RIGHTS) are held by jcriu itself while the dump runs, and get ids the same way.
 * Closing the table closes those and ends what reading the sockets started (see
 * {@link SocketDump}).
 */
final class FileTable implements AutoCloseable, SocketDump.InFlight, jcriu.files.TreeFiles {
    private static final Path PROC = Path.of("/proc");

    /** An fd through which a description can be reached at dump time. */
    private record Holder(int pid, int fd, long ino, OpenFile file) {}

    private final boolean shellJob;
    private final DumpOptions.FileOptions options;
    private final Log log;
    private final List<OpenFile> files = new ArrayList<>();
    private final Map<String, List<Holder>> byInode = new HashMap<>();
    private final SocketDump sockets;
    private final int self = Sys.getpid();
    /** jcriu's fds of files in flight, open until the dump ends. */
    private final List<Integer> held = new ArrayList<>();
    private int nextId = 1;
    /** The processes whose fds were added. */
    private final java.util.Set<Integer> dumped = new java.util.HashSet<>();

    FileTable(DumpOptions opts, Log log) {
        this.shellJob = opts.shellJob();
        this.options = opts.files();
        this.log = log;
        this.sockets = new SocketDump(new SocketDump.Options(opts.net().extUnixSk(), opts.net().tcpEstablished(), opts.net().tcpClose(),
                opts.net().skipInFlight(),
                opts.leaveRunning(), jcriu.net.LockInventory.Written.fresh(!opts.net().skipLock())), log);
    }

    /** Every fd of {@code pid}, with the ids of their descriptions. */
    List<FdState> add(int pid) throws IOException {
        dumped.add(pid);
        try (Source src = new Source(pid, shellJob, options, log)) {
            List<FdState> fds = add(pid, src);
            deletedCwd(pid);
            return fds;
        }
    }

    /**
     * A cwd that was removed is saved as the deleted directory it is, once per directory (an
     * fd on it, or another process's cwd, may have brought it already); fs-PID.img names it.
     */
    private void deletedCwd(int pid) throws IOException {
        String cwd = jcriu.proc.ProcAttrs.cwd(PROC, pid);
        if (!jcriu.files.GhostDirectories.deleted(cwd)) return;
        jcriu.files.DeletedDirectory d = jcriu.files.DeletedDirectory.cwd(nextId, pid, cwd);
        jcriu.files.GhostDirectories.checkDistinct(files, d);
        if (jcriu.files.GhostDirectories.known(files, d)) return;
        nextId++;
        files.add(d);
        log.debug("the cwd of process " + pid + " is " + d.describe());
        removedParents("the current directory of process " + pid, PROC.resolve(pid + "/cwd"), d);
    }

    /** The parents of deleted directory {@code d} that were removed too, as entries of their own, once each. */
    private void removedParents(String what, Path link, jcriu.files.DeletedDirectory d) throws IOException {
        for (var p : jcriu.files.DeletedDirectory.removedParents(what, link, d)) {
            jcriu.files.DeletedDirectory e = p.entry(nextId);
            jcriu.files.GhostDirectories.checkDistinct(files, e);
            if (jcriu.files.GhostDirectories.known(files, e)) continue;
            nextId++;
            files.add(e);
            log.debug(what + ": its parent " + e.describe() + " was removed too");
        }
    }

    /** What a kind may use to save a description of {@code pid}: a pidfd, opened on first use, for pidfd_getfd. */
    private final class Source implements SaveContext, AutoCloseable {
        private final int pid;
        private final boolean shellJob;
        private final DumpOptions.FileOptions options;
        private final Log log;
        private int pidfd = -1;

        Source(int pid, boolean shellJob, DumpOptions.FileOptions options, Log log) {
            this.pid = pid;
            this.shellJob = shellJob;
            this.options = options;
            this.log = log;
        }

        @Override
        public long ghostLimit() { return options.ghostLimit(); }

        @Override
        public boolean fileLocks() { return options.fileLocks(); }

        @Override
        public void warn(String message) { log.warn(message); }

        @Override
        public jcriu.net.Socket socket(FdInfo fd) throws IOException { return sockets.save(pid, fd, FileTable.this); }

        @Override
        public int pid() { return pid; }

        @Override
        public boolean shellJob() { return shellJob; }

        @Override
        public int borrow(int fd) {
            if (pidfd < 0) pidfd = FdSys.pidfdOpen(pid);
            return FdSys.pidfdGetfd(pidfd, fd);
        }

        @Override
        public void close() {
            if (pidfd >= 0) Sys.close(pidfd);
        }
    }

    private List<FdState> add(int pid, Source src) throws IOException {
        List<FdState> out = new ArrayList<>();
        for (FdInfo fd : Fds.list(PROC, pid)) out.add(new FdState(fd.fd(), holder(pid, fd, src).file().id(), fd.cloexec()));
        return out;
    }

    /** The holder of the description behind {@code fd}: one seen already, or this fd as a new one. */
    private Holder holder(int pid, FdInfo fd, SaveContext src) throws IOException {
        List<Holder> same = byInode.computeIfAbsent(fd.stat().dev() + ":" + fd.ino(), k -> new ArrayList<>());
        for (int i = 0; i < same.size(); i++) {
            Holder c = same.get(i);
            if (Sys.kcmp(c.pid(), pid, Sys.KCMP_FILE, c.fd(), fd.fd()) == 0) {
                log.debug("fd " + fd.fd() + " of " + pid + " shares its description with fd " + c.fd() + " of " + c.pid());
                OpenFile more = OpenFile.moreLocks(c.file(), fd, src);
                if (more != c.file()) {
                    files.set(files.indexOf(c.file()), more);
                    same.set(i, c = new Holder(c.pid(), c.fd(), c.ino(), more));
                }
                return c;
            }
        }
        Holder h = new Holder(pid, fd.fd(), fd.ino(), OpenFile.save(nextId++, fd, src));
        if (h.file() instanceof jcriu.files.DeletedDirectory d) jcriu.files.GhostDirectories.checkDistinct(files, d);
        files.add(h.file());
        if (h.file() instanceof jcriu.files.DeletedDirectory d) {
            removedParents("fd " + fd.fd() + " of process " + pid, PROC.resolve(pid + "/fd/" + fd.fd()), d);
        }
        same.add(h);
        return h;
    }

    /** A file in flight in a socket's queue, received by jcriu as fd {@code jcriuFd} while peeking. */
    @Override
    public int fileId(int jcriuFd) throws IOException {
        Holder h;
        try {
            try (Source src = new Source(self, false, options, log)) {
                h = holder(self, Fds.read(PROC, self, jcriuFd, jcriu.proc.FdStat.FOLLOW), src);
            }
        } catch (IOException | RuntimeException e) {
            Sys.close(jcriuFd);
            throw new IOException("a file in flight in a socket's queue: " + e.getMessage(), e);
        }
        if (h.pid() == self && h.fd() == jcriuFd) held.add(jcriuFd); // a description seen first here: keep it reachable
        else Sys.close(jcriuFd);
        log.debug("file " + h.file().id() + " (" + h.file().describe() + ") is in flight in a socket's queue");
        return h.file().id();
    }

    /** What only the whole tree tells: whether every unix socket's peer was dumped too. */
    void checkSockets() throws IOException {
        sockets.check();
        // as CRIU: an entry for each peer outside, which the tree's sockets name by inode
        for (jcriu.net.UnixSocket p : sockets.outsidePeers()) files.add(new jcriu.files.UnixSocketFile(nextId++, p, jcriu.files.Owner.NONE, true));
    }

    /** The network lock's method and run id, for the inventory. */
    jcriu.net.LockInventory.Written networkLock() {
        return sockets.lockRecord();
    }

    /**
     * The images are written: sockets of a tree left running leave repair mode and the network
     * is unlocked; a tree about to be killed keeps the lock until its restore.
     */
    void finish() throws IOException {
        sockets.finish();
    }

    @Override
    public void close() throws IOException {
        try {
            sockets.close();
        } finally {
            for (int fd : held) Sys.close(fd);
            held.clear();
        }
    }

    List<OpenFile> files() {
        return List.copyOf(files);
    }

    @Override
    public List<OpenFile> all() {
        return files();
    }

    @Override
    public boolean shellJob() {
        return shellJob;
    }

    /**
     * Once every process's fds are added: each description's references to others (the files
     * an epoll watches) resolved to their ids; a reference to a file no fd of the tree holds
     * is refused.
     */
    void link() throws IOException {
        for (List<Holder> hs : byInode.values()) {
            for (int i = 0; i < hs.size(); i++) {
                Holder h = hs.get(i);
                OpenFile linked = h.file().link(this, h.pid(), h.fd());
                if (linked != h.file()) {
                    files.set(files.indexOf(h.file()), linked);
                    hs.set(i, new Holder(h.pid(), h.fd(), h.ino(), linked));
                }
            }
        }
    }

    @Override
    public boolean holds(int pid) {
        return dumped.contains(pid);
    }

    @Override
    public int firstOnInode(Class<? extends OpenFile> kind, long ino) {
        return files.stream().filter(f -> kind.isInstance(f) && byInode.values().stream().flatMap(List::stream)
                .anyMatch(h -> h.file().id() == f.id() && h.ino() == ino)).mapToInt(OpenFile::id).min().orElse(-1);
    }

    @Override
    public int fdHolding(int pid, int fileId, int preferred) {
        int lowest = -1;
        for (List<Holder> hs : byInode.values()) {
            for (Holder h : hs) {
                if (h.pid() != pid || h.file().id() != fileId) continue;
                if (h.fd() == preferred) return preferred;
                if (lowest < 0 || h.fd() < lowest) lowest = h.fd();
            }
        }
        return lowest;
    }

    @Override
    public int epollTarget(int pid, int efd, int tfd, int toff, long ino) {
        for (List<Holder> hs : byInode.values()) {
            for (Holder h : hs) {
                if (h.ino() != ino) continue;
                if (FdSys.kcmpEpollTarget(h.pid(), h.fd(), pid, efd, tfd, toff) == 0) return h.file().id();
            }
        }
        return -1;
    }

    /**
     * The pipes behind the tree's pipe ends, with their unread bytes. A pipe with an end held
     * outside the tree (a shell's pipe, a supervisor's) is external, as CRIU dumps it: no data
     * is saved (it stays in the pipe, for the outside end) and the restore plugs in a pipe the
     * user gives with --inherit-fd.
     */
    List<PipeState> pipes() throws IOException {
        Map<Long, List<Holder>> byPipe = new LinkedHashMap<>();
        for (List<Holder> hs : byInode.values()) {
            for (Holder h : hs) {
                if (h.file() instanceof PipeEnd p) byPipe.computeIfAbsent(p.ino(), k -> new ArrayList<>()).add(h);
            }
        }
        List<PipeState> out = new ArrayList<>();
        for (var e : byPipe.entrySet()) {
            Holder reader = null, writer = null;
            for (Holder h : e.getValue()) {
                if (((PipeEnd) h.file()).readEnd()) reader = reader == null ? h : reader;
                else writer = writer == null ? h : writer;
            }
            if (reader == null || writer == null) {
                Holder held = reader != null ? reader : writer;
                if (otherEndHeld(held, reader != null)) {
                    external(e.getValue());
                    continue;
                }
                // no one holds the other end (closed everywhere): the tree's own pipe, as it is
                log.debug("pipe:[" + e.getKey() + "]: its " + (reader != null ? "write" : "read") + " end is closed");
                if (reader == null) {
                    out.add(new PipeState(e.getKey(), 0, new byte[0])); // nothing can read what it holds
                    continue;
                }
            }
            out.add(peek(e.getKey(), reader));
        }
        return out;
    }

    /**
     * Whether some process holds the end of the pipe that the tree does not: asked of the
     * description itself (a copy by pidfd_getfd), which polls EPOLLHUP for a read end without
     * writers and EPOLLERR for a write end without readers.
     */
    private static boolean otherEndHeld(Holder h, boolean readEnd) {
        int pidfd = FdSys.pidfdOpen(h.pid());
        try {
            int fd = FdSys.pidfdGetfd(pidfd, h.fd());
            try {
                int ev = FdSys.pollNow(fd, 0);
                return (ev & (readEnd ? FdSys.POLLHUP : FdSys.POLLERR)) == 0;
            } finally {
                Sys.close(fd);
            }
        } finally {
            Sys.close(pidfd);
        }
    }

    private void external(List<Holder> ends) {
        for (Holder h : ends) {
            PipeEnd p = (PipeEnd) h.file();
            if (p.external()) continue;
            PipeEnd ext = p.asExternal();
            files.set(files.indexOf(p), ext);
            List<Holder> same = byInode.values().stream().filter(l -> l.contains(h)).findFirst().orElseThrow();
            same.set(same.indexOf(h), new Holder(h.pid(), h.fd(), h.ino(), ext));
            log.warn("fd " + h.fd() + " of process " + h.pid() + " is " + p.key() + ", whose " + (p.readEnd() ? "write"
                    : "read") + " end is outside the dumped processes: dumped as external; restore with --inherit-fd"
                    + " fd[N]:" + p.key());
        }
    }

    /** Capacity and unread bytes, read without consuming them (a --leave-running dump loses nothing). */
    private PipeState peek(long ino, Holder readEnd) throws IOException {
        PipeData d = PipeData.peek("/proc/" + readEnd.pid() + "/fd/" + readEnd.fd(), "pipe:[" + ino + "]");
        log.debug("pipe:[" + ino + "]: " + d.data().length + " unread bytes, capacity " + d.capacity());
        return new PipeState(ino, d.capacity(), d.data());
    }
}

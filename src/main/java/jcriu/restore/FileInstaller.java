package jcriu.restore;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcriu.api.Log;
import jcriu.files.FileOpener;
import jcriu.files.OpenFile;
import jcriu.files.ProcessFiles;
import jcriu.state.FdState;
import jcriu.state.PipeState;
import jcriu.state.TreeState;
import jcriu.sys.Nr;
import jcriu.sys.Sys;

/**
 * The open file descriptions of a tree, each opened once in jcriu and copied into every
 * restored fd that refers to it with pidfd_getfd(2) injected into the restored process:
 * the fd then refers to the very description jcriu holds, so fds that shared a description
 * (dup, fork, threads) share it again, with one offset and one set of flags.
 */
final class FileInstaller implements FileOpener, AutoCloseable {
    private static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_NONBLOCK = 04000, O_CLOEXEC = 02000000;
    private static final int FD_CLOEXEC = 1;

    private final TreeState tree;
    private final Log log;
    private final SharedMemory shm;
    private final boolean checkFiles;
    /** Each FIFO's fd held open read-write while the tree's ends are reopened, by inode. */
    private final Map<Long, Integer> fifos = new HashMap<>();
    private final java.util.Set<Long> sealed = new java.util.HashSet<>();
    private final java.util.Set<String> createdTaken = new java.util.HashSet<>();
    private final int self = Sys.getpid();
    private final Map<Integer, Integer> byId = new HashMap<>();
    private final Map<Long, int[]> pipes = new HashMap<>();
    private final Map<String, Integer> handedOut = new HashMap<>();
    /** Every fd of jcriu's that this object opened; jcriu's own fds 0-2 (--shell-job) are not among them. */
    private final java.util.Set<Integer> owned = new java.util.LinkedHashSet<>();

    private final jcriu.net.NetOptions net;
    /** Where the inventory names the dump's network lock. */
    private final java.nio.file.Path imageDir;
    private jcriu.net.SocketRestore sockets;

    private final Map<String, Integer> inheritFds;
    private final Terminals terminals;
    private final RemadeDirectories directories;

    FileInstaller(TreeState tree, Log log, SharedMemory shm, boolean checkFiles, Map<String, Integer> inheritFds,
                  jcriu.net.NetOptions net, java.nio.file.Path imageDir) {
        this.tree = tree;
        this.net = net;
        this.imageDir = imageDir;
        this.log = log;
        this.shm = shm;
        this.checkFiles = checkFiles;
        this.inheritFds = inheritFds;
        this.terminals = new Terminals(tree, log);
        this.directories = new RemadeDirectories(tree.files().stream().filter(f -> f instanceof jcriu.files.DeletedDirectory)
                .map(f -> (jcriu.files.DeletedDirectory) f).toList(), log);
    }

    @Override
    public int ghostDirectory(jcriu.files.DeletedDirectory d) throws IOException {
        return directories.fdOf(d);
    }

    /**
     * A process whose cwd was a deleted directory is moved into the one made again (fchdir on
     * a copy of jcriu's fd); {@code AttrsStage} does the others by path.
     */
    void deletedCwd(Target t) throws IOException {
        var d = tree.files().stream().filter(f -> f instanceof jcriu.files.DeletedDirectory
                && t.st().cwd().equals(jcriu.files.GhostDirectories.cwdPath(f))).findFirst();
        if (d.isEmpty()) {
            if (!jcriu.files.GhostDirectories.deleted(t.st().cwd())) return;
            throw new IOException("the cwd of process " + t.pid() + " is " + t.st().cwd() + ", which no ghost directory"
                    + " of the images is");
        }
        long fd = fetch(t, directories.fdOf((jcriu.files.DeletedDirectory) d.get()));
        try {
            t.inj().call("fchdir to " + t.st().cwd(), Nr.FCHDIR, fd);
        } finally {
            t.inj().call("close", Nr.CLOSE, fd);
        }
    }

    @Override
    public int pty(jcriu.files.Pty p) throws IOException {
        return terminals.open(p);
    }

    /** Process {@code pid} has just made its session: it takes its controlling terminal if the tree has it. */
    void sessionMade(int pid, Terminals.Inject inj) throws IOException {
        terminals.sessionMade(pid, inj);
    }

    /** jcriu's own fd, never closed here; the preflight made sure it was given. */
    @Override
    public int inheritedFor(String key) throws IOException {
        Integer fd = inheritFds.get(key);
        if (fd == null) throw new IOException(key + " was outside the dumped processes: restore with --inherit-fd fd[N]:" + key);
        log.debug(key + ": jcriu's fd " + fd + " (--inherit-fd)");
        return fd;
    }

    @Override
    public boolean checkFiles() {
        return checkFiles;
    }

    @Override
    public int ghost(jcriu.files.DeletedFile f) throws IOException {
        return shm.ghostOf(f.key(), f::makeAgain);
    }

    @Override
    public int deletedFile(int major, int minor, long ino) throws IOException {
        for (OpenFile f : tree.files()) {
            if (f instanceof jcriu.files.DeletedFile d && d.isInode(major, minor, ino)) {
                ghost(d);
                return shm.readOnly(d.key()); // jcriu's writable fd on it closed before the watch exists
            }
        }
        throw new IOException("no deleted file of the images was inode " + ino + " on device " + major + ":" + minor);
    }

    /**
     * Made once (or the one its mappings use); its seals are added on first use, which is
     * after every process of the tree has mapped its memory, so no mapping is refused by them.
     */
    @Override
    public int memfd(jcriu.files.Memfd m) throws IOException {
        int fd = shm.ghostOf(new jcriu.state.FileSnapshot(m.path(), m.mode(), m.uid(), m.gid(), m.content(), true,
                m.inode()));
        if (m.seals() != 0 && sealed.add(m.inode())) {
            Sys.fcntl(fd, jcriu.sys.FdSys.F_ADD_SEALS, m.seals());
            log.debug(m.path() + ": seals " + Integer.toHexString(m.seals()) + " added again");
        }
        return fd;
    }

    @Override
    public boolean takeCreated(jcriu.files.Memfd m) {
        return createdTaken.add(SharedMemory.memfdKey(m.path(), m.inode())); // keyed as the memfd is made
    }

    /**
     * Opened read-write without blocking (Linux allows it on a FIFO), so neither side waits
     * for the other, and refilled with its unread bytes on first use.
     */
    @Override
    public int fifo(jcriu.files.Fifo f) throws IOException {
        Integer have = fifos.get(f.ino());
        if (have != null) return have;
        int fd;
        try {
            fd = f.deleted() ? jcriu.files.GhostNodes.fifo(f.path(), f.mode(), O_RDWR | O_NONBLOCK | O_CLOEXEC)
                    : Sys.open(f.path(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        } catch (jcriu.sys.SysException e) {
            throw new IOException("cannot open the FIFO " + f.path() + " again: " + e.getMessage(), e);
        }
        owned.add(fd);
        fifos.put(f.ino(), fd);
        if (f.data().length > 0) Sys.write(fd, f.data());
        log.debug("FIFO " + f.describe() + ": " + f.data().length + " unread bytes put back");
        return fd;
    }

    /** jcriu's fd of description {@code id}, opened on first use. */
    int fdOf(int id) throws IOException {
        Integer have = byId.get(id);
        if (have != null) return have;
        OpenFile f = tree.file(id);
        int fd = f.open(this);
        if (!(f instanceof jcriu.files.InheritedTerminal) && !(f instanceof jcriu.files.PipeEnd p && p.external())) {
            owned.add(fd);
        }
        byId.put(id, fd);
        log.debug("file " + id + " (" + f.describe() + ") open as jcriu's fd " + fd);
        return fd;
    }

    @Override
    public int pipeEnd(long ino, boolean readEnd) throws IOException {
        int[] p = pipes.get(ino);
        if (p == null) {
            p = makePipe(ino);
            pipes.put(ino, p);
        }
        int end = p[readEnd ? 0 : 1];
        String key = ino + (readEnd ? "r" : "w");
        if (handedOut.merge(key, 1, Integer::sum) == 1) return end;
        // another description of the same end: a new open of it, as at dump time
        int again = Sys.open("/proc/self/fd/" + end, (readEnd ? O_RDONLY : O_WRONLY) | O_NONBLOCK | O_CLOEXEC);
        owned.add(again);
        return again;
    }

    /** The pipe, with its capacity and unread bytes, written from here before any process holds it. */
    private int[] makePipe(long ino) throws IOException {
        int[] p = Sys.pipe2(O_CLOEXEC);
        owned.add(p[0]);
        owned.add(p[1]);
        var found = tree.pipes().stream().filter(q -> q.ino() == ino).findFirst();
        if (found.isEmpty()) {
            // CRIU writes no data entry for a pipe of which the tree holds only the write end: it
            // cannot read what waits in it; such a pipe comes back empty, as with CRIU's restore
            log.debug("pipe:[" + ino + "]: no data entry, made empty with the default capacity");
            return p;
        }
        PipeState st = found.get();
        if (st.capacity() > 0) Sys.fcntl(p[1], Sys.F_SETPIPE_SZ, st.capacity());
        if (st.data().length > 0) Sys.write(p[1], st.data());
        log.debug("pipe:[" + ino + "]: capacity " + st.capacity() + ", " + st.data().length + " bytes put back");
        return p;
    }

    @Override
    public int inherited(int fd) {
        return fd; // jcriu's own: never closed here
    }

    @Override
    public int socket(int id) throws IOException {
        if (sockets == null) {
            sockets = new jcriu.net.SocketRestore(jcriu.files.SocketFiles.sockets(tree.files()), socketOptions(tree, net, imageDir),
                    this::fdOf, this::inheritedFor, log);
        }
        return sockets.open(id);
    }

    static jcriu.net.SocketRestore.Options socketOptions(TreeState tree, jcriu.net.NetOptions net,
                                                        java.nio.file.Path imageDir) throws IOException {
        return new jcriu.net.SocketRestore.Options(net.extUnixSk(), net.tcpEstablished(), net.tcpClose(),
                jcriu.net.LockInventory.held(imageDir, tree.root().pid()));
    }

    /** A restore failed, its processes are gone: what the tree's files leave behind goes (the network lock). */
    static void restoreFailed(TreeState tree, RestoreOptions opts, Log log, Throwable failure) {
        try {
            jcriu.net.SocketRestore.abandon(jcriu.files.SocketFiles.sockets(tree.files()),
                    socketOptions(tree, opts.net(), opts.imageDir()), log, failure);
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    @Override
    public int file(int id) throws IOException {
        return fdOf(id);
    }

    /**
     * Once every process holds its files: what the files of the tree must do before any of
     * them runs (the network unlocked, TCP connections out of repair mode).
     */
    void allInstalled() throws IOException {
        directories.removeAll(); // every fd and cwd on them is in place: deleted again
        if (sockets != null) sockets.finish();
        else jcriu.net.SocketRestore.finishWithoutSockets(jcriu.net.LockInventory.held(imageDir, tree.root().pid()), log);
    }

    /**
     * jcriu's fd to copy into fd {@code f}. A terminal taken from jcriu (--shell-job) is per
     * fd number, not per description: fds 0, 1 and 2 sharing one terminal at dump time each
     * take jcriu's fd of the same number, which may be three different files now.
     */
    private int source(FdState f) throws IOException {
        if (tree.file(f.fileId()) instanceof jcriu.files.InheritedTerminal t) return f.fd() <= 2 ? f.fd() : t.fd();
        return fdOf(f.fileId());
    }

    /**
     * Gives the process exactly its fds: whatever the helper held is closed, then each fd is
     * fetched from jcriu with pidfd_getfd and moved to its number with its close-on-exec flag.
     */
    void install(Target t) throws IOException {
        if (tree.sharing().sharesFiles(t.pid())) {
            // cloned with CLONE_FILES: its parent, restored before it, filled the one table they share
            log.debug("process " + t.pid() + " shares its parent's fd table, already in place");
            return;
        }
        var inj = t.inj();
        inj.call("close_range", Nr.CLOSE_RANGE, 0, 0xffffffffL, 0);
        List<FdState> fds = t.st().fds();
        if (fds.isEmpty()) return;
        int above = fds.stream().mapToInt(FdState::fd).max().orElse(0) + 1;
        long first = inj.call("pidfd_open(jcriu)", Nr.PIDFD_OPEN, self, 0);
        long pidfd = inj.call("fcntl(F_DUPFD_CLOEXEC)", Nr.FCNTL, first, Sys.F_DUPFD_CLOEXEC, above);
        inj.call("close", Nr.CLOSE, first);
        for (FdState f : fds) {
            int src = source(f);
            long tmp = inj.call("pidfd_getfd(" + src + ")", Nr.PIDFD_GETFD, pidfd, src, 0);
            if (tmp == f.fd()) {
                inj.call("fcntl(F_SETFD) fd " + f.fd(), Nr.FCNTL, f.fd(), Sys.F_SETFD, f.cloexec() ? FD_CLOEXEC : 0);
            } else {
                inj.call("dup3 -> " + f.fd(), Nr.DUP3, tmp, f.fd(), f.cloexec() ? O_CLOEXEC : 0);
                inj.call("close", Nr.CLOSE, tmp);
            }
            log.debug("process " + t.pid() + " fd " + f.fd() + ": " + tree.file(f.fileId()).describe());
        }
        inj.call("close pidfd", Nr.CLOSE, pidfd);
        setUp(t);
    }

    /** Descriptions that {@link OpenFile#setUp} has seen once, in a first process. */
    private final java.util.Set<Integer> setUpDone = new java.util.HashSet<>();

    /** Once every fd of the process is in place: what each description needs done inside it. */
    private void setUp(Target t) throws IOException {
        t.ctl().reset();
        ProcessFiles view = new View(t);
        for (FdState f : t.st().fds()) {
            if (view.fdsOf(f.fileId()).getFirst() != f.fd()) continue; // once per description and process
            tree.file(f.fileId()).setUp(view, setUpDone.add(f.fileId()));
        }
    }

    /** The process as {@link OpenFile#setUp} sees it. */
    private final class View implements ProcessFiles {
        private final Target t;

        View(Target t) {
            this.t = t;
        }

        @Override
        public int pid() { return t.pid(); }

        @Override
        public long call(String what, int nr, long... args) {
            return t.inj().call(what + " in " + t.pid(), nr, args);
        }

        @Override
        public long raw(int nr, long... args) {
            return t.inj().raw(nr, args);
        }

        @Override
        public void log(String message) {
            t.log().debug(message);
        }

        @Override
        public long put(byte[] bytes) throws IOException {
            long a = t.ctl().alloc(bytes.length);
            t.mem().write(a, bytes);
            return a;
        }

        @Override
        public int fileAt(int fd) {
            for (FdState f : t.st().fds()) if (f.fd() == fd) return f.fileId();
            return -1;
        }

        @Override
        public List<Integer> fdsOf(int id) {
            return t.st().fds().stream().filter(f -> f.fileId() == id).map(FdState::fd).sorted().toList();
        }

        @Override
        public boolean cloexec(int fd) {
            return t.st().fds().stream().anyMatch(f -> f.fd() == fd && f.cloexec());
        }

        @Override
        public int borrow(int id) throws IOException {
            return (int) fetch(t, fdOf(id));
        }

        @Override
        public int opened(int id) throws IOException {
            return fdOf(id);
        }
    }

    /** jcriu's fd {@code src} copied into the target (close-on-exec there); the caller closes it. */
    long fetch(Target t, int src) {
        var inj = t.inj();
        long pidfd = inj.call("pidfd_open(jcriu)", Nr.PIDFD_OPEN, self, 0);
        try {
            return inj.call("pidfd_getfd(" + src + ")", Nr.PIDFD_GETFD, pidfd, src, 0);
        } finally {
            inj.call("close pidfd", Nr.CLOSE, pidfd);
        }
    }

    @Override
    public void close() {
        if (sockets != null) sockets.close();
        terminals.close();
        directories.close();
        for (int fd : owned) Sys.close(fd);
        owned.clear();
        byId.clear();
    }
}

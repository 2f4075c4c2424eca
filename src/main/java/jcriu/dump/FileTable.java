package jcriu.dump;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jcriu.api.Log;
import jcriu.files.OpenFile;
import jcriu.files.PipeEnd;
import jcriu.net.SocketDump;
import jcriu.proc.FdInfo;
import jcriu.proc.Fds;
import jcriu.state.FdState;
import jcriu.state.PipeState;
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
final class FileTable implements AutoCloseable, SocketDump.InFlight {
    private static final Path PROC = Path.of("/proc");
    private static final int O_RDONLY_NONBLOCK_CLOEXEC = 04000 | 02000000;
    private static final int SPLICE_F_NONBLOCK = 2, FIONREAD = 0x541B;

    /** An fd through which a description can be reached at dump time. */
    private record Holder(int pid, int fd, OpenFile file) {}

    private final boolean shellJob;
    private final Log log;
    private final List<OpenFile> files = new ArrayList<>();
    private final Map<String, List<Holder>> byInode = new HashMap<>();
    private final SocketDump sockets;
    private final int self = Sys.getpid();
    /** jcriu's fds of files in flight, open until the dump ends. */
    private final List<Integer> held = new ArrayList<>();
    private int nextId = 1;

    FileTable(DumpOptions opts, Log log) {
        this.shellJob = opts.shellJob();
        this.log = log;
        this.sockets = new SocketDump(new SocketDump.Options(opts.net().extUnixSk(), opts.net().tcpEstablished(), opts.net().tcpClose(),
                opts.net().skipInFlight(),
                opts.leaveRunning(), opts.pid()), log);
    }

    /** Every fd of {@code pid}, with the ids of their descriptions. */
    List<FdState> add(int pid) throws IOException {
        List<FdState> out = new ArrayList<>();
        for (FdInfo fd : Fds.list(PROC, pid)) out.add(new FdState(fd.fd(), holder(pid, fd).file().id(), fd.cloexec()));
        return out;
    }

    /** The holder of the description behind {@code fd}: one seen already, or this fd as a new one. */
    private Holder holder(int pid, FdInfo fd) throws IOException {
        List<Holder> same = byInode.computeIfAbsent(fd.stat().dev() + ":" + fd.ino(), k -> new ArrayList<>());
        for (Holder c : same) {
            if (Sys.kcmp(c.pid(), pid, Sys.KCMP_FILE, c.fd(), fd.fd()) == 0) {
                log.debug("fd " + fd.fd() + " of " + pid + " shares its description with fd " + c.fd() + " of " + c.pid());
                return c;
            }
        }
        Holder h = new Holder(pid, fd.fd(), OpenFile.save(nextId++, pid, fd, shellJob, sockets, this));
        files.add(h.file());
        same.add(h);
        return h;
    }

    /** A file in flight in a socket's queue, received by jcriu as fd {@code jcriuFd} while peeking. */
    @Override
    public int fileId(int jcriuFd) throws IOException {
        Holder h;
        try {
            h = holder(self, Fds.read(PROC, self, jcriuFd, jcriu.proc.FdStat.FOLLOW));
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

    /**
     * The pipes behind the tree's pipe ends, with their unread bytes. Both ends must be held
     * inside the tree; a pipe to a process outside it is refused, naming the fd.
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
                Holder h = e.getValue().getFirst();
                throw new IOException("fd " + h.fd() + " of process " + h.pid() + " (pipe:[" + e.getKey() + "]) is a pipe"
                        + " whose " + (reader == null ? "read" : "write") + " end is held outside the dumped processes;"
                        + " pipes to other processes are not supported yet");
            }
            out.add(peek(e.getKey(), reader));
        }
        return out;
    }

    /**
     * Capacity and unread bytes, copied by tee(2) from a second opening of the read end
     * (/proc/PID/fd/N), so that nothing is consumed: a --leave-running dump loses nothing.
     */
    private PipeState peek(long ino, Holder readEnd) throws IOException {
        int fd = Sys.open("/proc/" + readEnd.pid() + "/fd/" + readEnd.fd(), O_RDONLY_NONBLOCK_CLOEXEC);
        int[] tmp = null;
        try {
            int capacity = (int) Sys.fcntl(fd, Sys.F_GETPIPE_SZ, 0);
            int queued = Sys.ioctlInt(fd, FIONREAD);
            byte[] data = new byte[0];
            if (queued > 0) {
                tmp = Sys.pipe2(O_RDONLY_NONBLOCK_CLOEXEC);
                Sys.fcntl(tmp[1], Sys.F_SETPIPE_SZ, capacity);
                long n = Sys.tee(fd, tmp[1], capacity, SPLICE_F_NONBLOCK);
                if (n != queued) {
                    throw new IOException("pipe:[" + ino + "] holds " + queued + " bytes but only " + n
                            + " could be copied");
                }
                ByteArrayOutputStream b = new ByteArrayOutputStream(queued);
                while (b.size() < queued) b.writeBytes(Sys.read(tmp[0], queued - b.size()));
                data = b.toByteArray();
            }
            log.debug("pipe:[" + ino + "]: " + data.length + " unread bytes, capacity " + capacity);
            return new PipeState(ino, capacity, data);
        } finally {
            Sys.close(fd);
            if (tmp != null) {
                Sys.close(tmp[0]);
                Sys.close(tmp[1]);
            }
        }
    }
}

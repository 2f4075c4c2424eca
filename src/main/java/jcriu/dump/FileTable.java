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
import jcriu.proc.FdInfo;
import jcriu.proc.Fds;
import jcriu.state.FdState;
import jcriu.state.PipeState;
import jcriu.sys.Sys;

/**
 * The open file descriptions of a frozen tree. Two fds (of one process or of two) refer to
 * the same description when kcmp(KCMP_FILE) says so; only fds on the same inode can, so
 * each fd is compared with one holder of each description already seen on its inode.
 * Every description gets one id, which all of its fds carry.
 */
final class FileTable {
    private static final Path PROC = Path.of("/proc");
    private static final int O_RDONLY_NONBLOCK_CLOEXEC = 04000 | 02000000;
    private static final int SPLICE_F_NONBLOCK = 2, FIONREAD = 0x541B;

    /** An fd through which a description can be reached at dump time. */
    private record Holder(int pid, int fd, OpenFile file) {}

    private final boolean shellJob;
    private final Log log;
    private final List<OpenFile> files = new ArrayList<>();
    private final Map<String, List<Holder>> byInode = new HashMap<>();

    FileTable(boolean shellJob, Log log) {
        this.shellJob = shellJob;
        this.log = log;
    }

    /** Every fd of {@code pid}, with the ids of their descriptions. */
    List<FdState> add(int pid) throws IOException {
        List<FdState> out = new ArrayList<>();
        for (FdInfo fd : Fds.list(PROC, pid)) {
            List<Holder> same = byInode.computeIfAbsent(fd.stat().dev() + ":" + fd.ino(), k -> new ArrayList<>());
            Holder h = null;
            for (Holder c : same) {
                if (Sys.kcmp(c.pid(), pid, Sys.KCMP_FILE, c.fd(), fd.fd()) == 0) {
                    h = c;
                    break;
                }
            }
            if (h == null) {
                h = new Holder(pid, fd.fd(), OpenFile.save(files.size() + 1, pid, fd, shellJob));
                files.add(h.file());
                same.add(h);
            } else {
                log.debug("fd " + fd.fd() + " of " + pid + " shares its description with fd " + h.fd() + " of " + h.pid());
            }
            out.add(new FdState(fd.fd(), h.file().id(), fd.cloexec()));
        }
        return out;
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

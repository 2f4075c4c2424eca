package jcriu.files;

import java.io.IOException;
import java.nio.file.Path;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.PidfdEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.FdSys;
import jcriu.sys.Spawn;
import jcriu.sys.Sys;

/**
 * A pidfd (pidfd_open(2), clone with CLONE_PIDFD): on a process of the tree (itself included),
 * opened again on the restored process, which has the same PID, with its flags (O_NONBLOCK,
 * PIDFD_THREAD on a process's first thread). On a process that is gone ({@code pid} -1), a
 * pidfd of a process that is gone too: a short-lived process made for it, killed and reaped
 * once it is open; the pidfds of one such process come from one (same inode, as before). As
 * CRIU, a pidfd on a process outside the tree is refused: nothing would bring that one back.
 *
 * @param flags   status flags without the access mode and O_CLOEXEC (O_NONBLOCK, O_EXCL for PIDFD_THREAD)
 * @param ino     the pidfs inode, the same for every pidfd of one process
 * @param pid     the process (or thread, with PIDFD_THREAD) it refers to; -1 if it is gone
 * @param creator for a pidfd of a process that is gone: the lowest id of that process's pidfds
 */
public record PidFd(int id, int flags, long ino, int pid, int creator) implements OpenFile {
    private static final int O_ACCMODE = 03, O_RDWR = 02, O_NONBLOCK = 04000, PIDFD_THREAD = 0200 /* O_EXCL */;
    private static final int SIGKILL = 9;

    static PidFd save(int id, String what, FdInfo fd) throws IOException {
        String pid = Fdinfo.required(fd, "Pid", what);
        int p;
        try {
            p = Integer.parseInt(pid);
        } catch (NumberFormatException e) {
            throw new IOException(what + ": its fdinfo says 'Pid: " + pid + "'", e);
        }
        return new PidFd(id, fd.flags() & ~(O_ACCMODE | O_CLOEXEC), fd.ino(), p, id);
    }

    static PidFd decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasPidfd()) throw new ImageException(where, offset, "file " + e.getId() + " of type PIDFD has no pidfd entry");
        PidfdEntry x = e.getPidfd();
        return new PidFd(e.getId(), x.getFlags() & ~(O_ACCMODE | O_CLOEXEC), Integer.toUnsignedLong(x.getIno()),
                x.getNspid(), x.hasJcriuCreator() ? x.getJcriuCreator() : e.getId());
    }

    /**
     * A pidfd on a live process must name one of the tree, and a PIDFD_THREAD one its first
     * thread (the others are made after the fds, and CRIU refuses them all); one on a process
     * that is gone is tied to the other pidfds of that process.
     */
    @Override
    public OpenFile link(TreeFiles tree, int holder, int fd) throws IOException {
        String what = "fd " + fd + " of process " + holder + " (a pidfd on " + (pid == -1 ? "a process that is gone" : pid) + ")";
        if (pid == -1) return new PidFd(id, flags, ino, pid, tree.firstOnInode(PidFd.class, ino));
        if (tree.holds(pid)) return this;
        int tgid = -1;
        try {
            tgid = jcriu.proc.Status.read(Path.of("/proc"), pid).tgid();
        } catch (IOException | RuntimeException e) {
            // gone meanwhile, or not ours to read: outside the tree either way
        }
        if (tgid != pid && tree.holds(tgid)) {
            throw new IOException(what + ": a pidfd on thread " + pid + " of process " + tgid
                    + ", not its first thread, is not supported yet");
        }
        throw new IOException(what + ": process " + pid + " is not a live process of the dumped tree, so a restore"
                + " could not give it back (dump the tree it belongs to)");
    }

    @Override
    public String describe() {
        return "anon_inode:[pidfd] (" + (pid == -1 ? "a process that is gone" : "pid " + pid) + ")";
    }

    @Override
    public FileEntry encode() {
        var x = PidfdEntry.newBuilder().setId(id).setIno((int) ino).setFlags(flags).setNspid(pid).setFown(NO_OWNER);
        if (creator != id) x.setJcriuCreator(creator);
        return FileEntry.newBuilder().setType(FdTypes.PIDFD).setId(id).setPidfd(x).build();
    }

    @Override
    public int open(FileOpener opener) throws IOException {
        if (pid != -1) return FdSys.pidfdOpen(pid, flags & (O_NONBLOCK | PIDFD_THREAD));
        if (creator != id) {
            // a new description of the creator's pidfd: same process, same inode
            int fd = Sys.open("/proc/self/fd/" + opener.file(creator), O_RDWR | O_CLOEXEC);
            return OpenFile.withFlags(fd, flags & O_NONBLOCK);
        }
        return ofGoneProcess();
    }

    /** A pidfd of a process started for it, then killed and reaped: it refers to a process that is gone. */
    private int ofGoneProcess() throws IOException {
        int child = Spawn.spawn("/bin/sleep", java.util.List.of("sleep", "60"), java.util.List.of());
        int fd = -1;
        try {
            fd = FdSys.pidfdOpen(child, flags & (O_NONBLOCK | PIDFD_THREAD));
        } finally {
            Sys.kill(child, SIGKILL);
            Sys.wait4(child, 0);
        }
        return fd;
    }
}

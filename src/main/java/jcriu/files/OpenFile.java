package jcriu.files;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.FownEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.Sys;

/**
 * An open file description of a dumped process tree, one record per kind (CRIU's
 * {@code fdtype_ops}): each kind knows how it is read from /proc at dump, encoded in
 * {@code files.img}, and opened again at restore. Descriptions are opened in jcriu's own
 * process and then copied into every restored fd that refers to them, so a description
 * shared by several fds, threads or processes stays one (one offset, one set of flags).
 * What must be done inside a process once its fds are in place (epoll watches under its fd
 * numbers) is done by {@link #setUp}. {@link #id} is the CRIU file id that fdinfo entries
 * refer to.
 */
public sealed interface OpenFile permits RegularFile, DeletedFile, DeletedSymlink, DeletedDirectory, Memfd, Fifo, PipeEnd, InheritedTerminal, Pty,
        ControllingTerminal, EventFd,
        TimerFd, SignalFd, Epoll, Inotify, UnixSocketFile,
        InetSocketFile, PidFd, NsFile {
    int O_CLOEXEC = 02000000;

    int id();

    /** What a message names: the path, or {@code pipe:[INODE]}. */
    String describe();

    /** The {@code files.img} entry. */
    FileEntry encode();

    /** Opens the description in jcriu (close-on-exec there) and returns jcriu's fd. */
    int open(FileOpener opener) throws IOException;

    /**
     * At dump, once every fd of the tree is known: the description with its references to
     * other descriptions resolved ({@code fd} of {@code pid} is one of its fds).
     */
    default OpenFile link(TreeFiles tree, int pid, int fd) throws IOException {
        return this;
    }

    /**
     * At restore, once every fd of process {@code p} is in place, for each description it
     * holds; {@code first}: {@code p} is the first restored process that holds it.
     */
    default void setUp(ProcessFiles p, boolean first) throws IOException {}

    /**
     * The description behind {@code fd} of the process {@code ctx} names, or a refusal naming the fd.
     */
    static OpenFile save(int id, FdInfo fd, SaveContext ctx) throws IOException {
        String what = what(fd, ctx);
        OpenFile f = saveKind(id, what, fd, ctx);
        List<FileLock> locks = FileLock.parse(fd, what);
        return locks.isEmpty() ? f : f.withLocks(checked(locks, what, ctx));
    }

    /**
     * Description {@code f}, already saved through another fd, as fd {@code fd} of another
     * process shows it: the POSIX locks that process holds on it are added.
     */
    static OpenFile moreLocks(OpenFile f, FdInfo fd, SaveContext ctx) throws IOException {
        String what = what(fd, ctx);
        List<FileLock> more = new ArrayList<>();
        for (FileLock l : FileLock.parse(fd, what)) if (l.kind() == FileLock.Kind.POSIX && l.pid() == ctx.pid()) more.add(l);
        if (more.isEmpty()) return f;
        List<FileLock> all = new ArrayList<>(f.locks());
        all.addAll(checked(more, what, ctx));
        return f.withLocks(all);
    }

    private static String what(FdInfo fd, SaveContext ctx) {
        return "fd " + fd.fd() + " of process " + ctx.pid() + " (" + fd.target() + ")";
    }

    private static List<FileLock> checked(List<FileLock> locks, String what, SaveContext ctx) throws IOException {
        if (!ctx.fileLocks()) {
            throw new IOException(what + " holds a file lock (" + locks.getFirst().describe() + "); dump with --file-locks"
                    + " to save it");
        }
        return locks;
    }

    /** The locks held through this description ({@code files.img} keeps them only for files opened by path). */
    default List<FileLock> locks() {
        return List.of();
    }

    /** This description holding {@code held}; refused for kinds that cannot be locked again. */
    default OpenFile withLocks(List<FileLock> held) throws IOException {
        throw new IOException(describe() + " holds a file lock (" + held.getFirst().describe() + "), which jcriu restores"
                + " only on files opened by path");
    }

    private static OpenFile saveKind(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        int pid = ctx.pid();
        return switch (fd.kind()) {
            case DIRECTORY -> fd.deleted() ? DeletedDirectory.save(id, what, fd, ctx) : RegularFile.save(id, what, fd, ctx);
            case REGULAR_FILE, CHAR_DEVICE -> RegularFile.save(id, what, fd, ctx);
            case DELETED -> LinkedElsewhere.save(id, what, fd, ctx);
            case MEMFD -> Memfd.save(id, what, fd, ctx);
            case FIFO -> Fifo.save(id, what, fd, ctx);
            case OTHER -> {
                if (NsFile.is(fd)) yield NsFile.save(id, what, fd);
                if ((fd.flags() & RegularFile.O_PATH) != 0 && fd.path().isPresent()) {
                    if (fd.deleted() && fd.stat().type() == jcriu.proc.FileStat.S_IFLNK) {
                        yield DeletedSymlink.save(id, what, fd, ctx);
                    }
                    yield RegularFile.save(id, what, fd, ctx);
                }
                throw new IOException(what + ": this kind of file (" + fd.kind() + ") is not supported yet");
            }
            case PIPE -> PipeEnd.save(id, fd, ctx);
            case TTY -> {
                if (Pty.isMaster(fd)) yield Pty.saveMaster(id, what, fd, ctx);
                if (Pty.isSlave(fd)) yield Pty.saveSlave(id, fd, ctx); // link() decides: in the tree or a shell job's
                if (ControllingTerminal.is(fd)) yield ControllingTerminal.save(id, fd); // likewise
                if (ctx.shellJob() && fd.fd() <= 2) yield InheritedTerminal.save(id, fd);
                throw new IOException(what + " is a terminal"
                        + (fd.fd() <= 2 ? "; use --shell-job to take the restoring terminal instead" : ""));
            }
            case ANON_INODE -> switch (fd.anonInodeName().orElse("")) {
                case "[eventfd]" -> EventFd.save(id, what, fd);
                case "[timerfd]" -> TimerFd.save(id, what, fd, ctx);
                case "[signalfd]" -> SignalFd.save(id, what, fd);
                case "[eventpoll]" -> Epoll.save(id, what, fd);
                case "inotify" -> Inotify.save(id, what, fd, ctx);
                case "[pidfd]" -> PidFd.save(id, what, fd);
                case "[fanotify]" -> throw new IOException(what + " is a fanotify group; fanotify is not supported"
                        + " (its marks and permission events cannot be restored)");
                default -> throw new IOException(what + ": this kind of file is not supported yet");
            };
            case SOCKET -> switch (ctx.socket(fd)) {
                case jcriu.net.UnixSocket u -> new UnixSocketFile(id, u, Owner.save(ctx, fd.fd(), fd.flags()));
                case jcriu.net.InetSocket i -> new InetSocketFile(id, i, Owner.save(ctx, fd.fd(), fd.flags()));
            };
            default -> throw new IOException(what + ": this kind of file (" + fd.kind() + ") is not supported yet");
        };
    }

    /** The description a {@code files.img} entry holds; {@code where} names the image for errors. */
    static OpenFile decode(FileEntry e, java.nio.file.Path where, long offset) throws IOException {
        return switch (e.getType()) {
            case REG -> RegularFile.decode(e, where, offset);
            case MEMFD -> Memfd.decode(e, where, offset);
            case FIFO -> Fifo.decode(e, where, offset);
            case PIPE -> PipeEnd.decode(e, where, offset);
            case TTY -> !e.hasTty() ? InheritedTerminal.decode(e, where, offset)
                    : e.getTty().getTtyInfoId() == ControllingTerminal.INFO_ID
                    ? new ControllingTerminal(e.getId(), e.getTty().getFlags() & ~O_CLOEXEC) : Pty.decode(e, where, offset);
            case UNIXSK -> {
                if (!e.hasUsk()) throw new ImageException(where, offset, "file " + e.getId() + " of type UNIXSK has no usk entry");
                yield new UnixSocketFile(e.getId(), jcriu.net.UnixSocket.decode(e.getUsk()), Owner.decode(e.getUsk().getFown()),
                        (e.getUsk().getUflags() & UnixSocketFile.USK_EXTERN) != 0);
            }
            case INETSK -> {
                if (!e.hasIsk()) throw new ImageException(where, offset, "file " + e.getId() + " of type INETSK has no isk entry");
                yield new InetSocketFile(e.getId(), jcriu.net.InetSocket.decode(e.getIsk()), Owner.decode(e.getIsk().getFown()));
            }
            case EVENTFD -> EventFd.decode(e, where, offset);
            case TIMERFD -> TimerFd.decode(e, where, offset);
            case SIGNALFD -> SignalFd.decode(e, where, offset);
            case EVENTPOLL -> Epoll.decode(e, where, offset);
            case INOTIFY -> Inotify.decode(e, where, offset);
            case PIDFD -> PidFd.decode(e, where, offset);
            case NS -> NsFile.decode(e, where, offset);
            default -> throw new ImageException(where, offset, "file " + e.getId() + " is of type " + e.getType()
                    + ", which jcriu cannot restore yet");
        };
    }

    /** No F_SETOWN: signal-driven I/O owners are not saved yet. */
    FownEntry NO_OWNER = FownEntry.newBuilder().setUid(0).setEuid(0).setSignum(0).setPidType(0).setPid(0).build();

    /** The file types this interface decodes, for callers that sort entries by kind. */
    static boolean isFdType(FdTypes t) {
        return switch (t) {
            case REG, MEMFD, FIFO, PIPE, TTY, EVENTFD, TIMERFD, SIGNALFD, EVENTPOLL, INOTIFY, UNIXSK, INETSK, PIDFD -> true;
            default -> false;
        };
    }

    /**
     * A new description of the file jcriu holds open as {@code fd} (a remade deleted file, a
     * memfd), opened through /proc/self/fd with the dumped flags (less those that would create
     * or truncate) and set at {@code pos}.
     */
    static int reopen(int fd, int flags, long pos) {
        int out = Sys.open("/proc/self/fd/" + fd, (flags & ~(0100 | 0200 | 01000 /* O_CREAT|O_EXCL|O_TRUNC */))
                | 02000000 /* O_CLOEXEC */);
        try {
            if (pos != 0) Sys.lseek(out, pos, 0);
            return out;
        } catch (RuntimeException e) {
            Sys.close(out);
            throw e;
        }
    }

    /** {@code fd}, just made by jcriu, with the description's status flags (O_NONBLOCK...); closed on failure. */
    static int withFlags(int fd, int flags) {
        try {
            Sys.fcntl(fd, Sys.F_SETFL, flags);
            return fd;
        } catch (RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
    }
}

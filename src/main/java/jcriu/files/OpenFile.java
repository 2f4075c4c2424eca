package jcriu.files;

import java.io.IOException;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.FownEntry;
import jcriu.proc.FdInfo;

/**
 * An open file description of a dumped process tree, one record per kind (CRIU's
 * {@code fdtype_ops}): each kind knows how it is read from /proc at dump, encoded in
 * {@code files.img}, and opened again at restore. Descriptions are opened in jcriu's own
 * process and then copied into every restored fd that refers to them, so a description
 * shared by several fds, threads or processes stays one (one offset, one set of flags).
 * {@link #id} is the CRIU file id that fdinfo entries refer to.
 */
public sealed interface OpenFile permits RegularFile, PipeEnd, InheritedTerminal, UnixSocketFile, InetSocketFile {
    int O_CLOEXEC = 02000000;

    int id();

    /** What a message names: the path, or {@code pipe:[INODE]}. */
    String describe();

    /** The {@code files.img} entry. */
    FileEntry encode();

    /** Opens the description in jcriu (close-on-exec there) and returns jcriu's fd. */
    int open(FileOpener opener) throws IOException;

    /**
     * The description behind {@code fd} of process {@code pid}, or a refusal naming the fd.
     * {@code shellJob}: fds 0-2 on a terminal are taken from the restoring jcriu;
     * {@code sockets} reads sockets (and gives the files in flight in their queues to
     * {@code inFlight}).
     */
    static OpenFile save(int id, int pid, FdInfo fd, boolean shellJob, jcriu.net.SocketDump sockets,
                         jcriu.net.SocketDump.InFlight inFlight) throws IOException {
        String what = "fd " + fd.fd() + " of process " + pid + " (" + fd.target() + ")";
        return switch (fd.kind()) {
            case REGULAR_FILE, DIRECTORY, CHAR_DEVICE -> RegularFile.save(id, what, fd);
            case PIPE -> PipeEnd.save(id, fd);
            case TTY -> {
                if (shellJob && fd.fd() <= 2) yield InheritedTerminal.save(id, fd);
                throw new IOException(what + " is a terminal"
                        + (fd.fd() <= 2 ? "; use --shell-job to take the restoring terminal instead" : ""));
            }
            case SOCKET -> switch (sockets.save(pid, fd, inFlight)) {
                case jcriu.net.UnixSocket u -> new UnixSocketFile(id, u);
                case jcriu.net.InetSocket i -> new InetSocketFile(id, i);
            };
            case DELETED -> throw new IOException(what + " refers to a deleted file; not supported yet");
            default -> throw new IOException(what + ": this kind of file (" + fd.kind() + ") is not supported yet");
        };
    }

    /** The description a {@code files.img} entry holds; {@code where} names the image for errors. */
    static OpenFile decode(FileEntry e, java.nio.file.Path where, long offset) throws IOException {
        return switch (e.getType()) {
            case REG -> RegularFile.decode(e, where, offset);
            case PIPE -> PipeEnd.decode(e, where, offset);
            case TTY -> InheritedTerminal.decode(e, where, offset);
            case UNIXSK -> {
                if (!e.hasUsk()) throw new ImageException(where, offset, "file " + e.getId() + " of type UNIXSK has no usk entry");
                yield new UnixSocketFile(e.getId(), jcriu.net.UnixSocket.decode(e.getUsk()));
            }
            case INETSK -> {
                if (!e.hasIsk()) throw new ImageException(where, offset, "file " + e.getId() + " of type INETSK has no isk entry");
                yield new InetSocketFile(e.getId(), jcriu.net.InetSocket.decode(e.getIsk()));
            }
            default -> throw new ImageException(where, offset, "file " + e.getId() + " is of type " + e.getType()
                    + ", which jcriu cannot restore yet");
        };
    }

    /** No F_SETOWN: signal-driven I/O owners are not saved yet. */
    FownEntry NO_OWNER = FownEntry.newBuilder().setUid(0).setEuid(0).setSignum(0).setPidType(0).setPid(0).build();

    /** The file types this interface decodes, for callers that sort entries by kind. */
    static boolean isFdType(FdTypes t) {
        return t == FdTypes.REG || t == FdTypes.PIPE || t == FdTypes.TTY || t == FdTypes.UNIXSK || t == FdTypes.INETSK;
    }
}

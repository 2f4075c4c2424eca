package jcriu.files;

import java.io.IOException;
import java.nio.file.Path;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.RegFileEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * A file opened by path: a regular file, a directory or a simple character device. It is
 * opened again by its path with its flags and moved to its offset. {@code mode} is the
 * file's whole st_mode, type and permission bits, as CRIU stores it (its restore compares
 * them with the file it opens).
 */
public record RegularFile(int id, String path, int flags, long pos, int mode) implements OpenFile {
    public static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFCHR = 0020000, S_IFREG = 0100000;
    private static final int O_CREAT = 0100, O_EXCL = 0200, O_NOCTTY = 0400, O_TRUNC = 01000;
    private static final int SEEK_SET = 0;

    static RegularFile save(int id, String what, FdInfo fd) throws IOException {
        if (fd.kind() == jcriu.proc.FdKind.CHAR_DEVICE && !simpleDevice(fd.target())) {
            throw new IOException(what + ": character device not supported (only /dev/null, /dev/zero, "
                    + "/dev/full, /dev/random, /dev/urandom)");
        }
        int mode = fd.stat().mode();
        return new RegularFile(id, fd.target(), fd.flags() & ~O_CLOEXEC, type(mode) == S_IFCHR ? 0 : fd.pos(), mode);
    }

    private static int type(int mode) {
        return mode & S_IFMT;
    }

    private static boolean simpleDevice(String path) {
        return switch (path) {
            case "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" -> true;
            default -> false;
        };
    }

    static RegularFile decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasReg()) throw new ImageException(where, offset, "file " + e.getId() + " of type REG has no reg entry");
        RegFileEntry r = e.getReg();
        int mode = r.getMode();
        if (type(mode) == 0) mode |= S_IFREG; // CRIU's images before 3.x stored no mode
        return new RegularFile(e.getId(), r.getName(), r.getFlags() & ~O_CLOEXEC, r.getPos(), mode);
    }

    @Override
    public String describe() {
        return path;
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.REG).setId(id).setReg(RegFileEntry.newBuilder().setId(id)
                .setFlags(flags).setPos(pos).setName(path).setMode(mode).setFown(NO_OWNER)).build();
    }

    /** Never creates, truncates or takes a controlling terminal: the file is reopened, not made. */
    @Override
    public int open(FileOpener opener) throws IOException {
        int fd;
        try {
            fd = Sys.open(path, (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC);
        } catch (SysException e) {
            throw new IOException("cannot open " + path + " again: " + e.getMessage(), e);
        }
        if (type(mode) == S_IFREG && pos != 0) Sys.lseek(fd, pos, SEEK_SET);
        return fd;
    }
}

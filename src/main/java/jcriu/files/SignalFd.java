package jcriu.files;

import java.io.IOException;
import java.nio.file.Path;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.SignalfdEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.FdSys;
import jcriu.sys.Sys;

/**
 * A signalfd: only its mask and flags. What it reads are the signals pending for the
 * process that reads it, which are restored with the process.
 */
public record SignalFd(int id, int flags, long mask) implements OpenFile {
    static SignalFd save(int id, String what, FdInfo fd) throws IOException {
        return new SignalFd(id, fd.flags() & ~O_CLOEXEC, Long.parseUnsignedLong(Fdinfo.required(fd, "sigmask", what), 16));
    }

    static SignalFd decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasSgfd()) throw new ImageException(where, offset, "file " + e.getId() + " of type SIGNALFD has no sgfd entry");
        return new SignalFd(e.getId(), e.getSgfd().getFlags() & ~O_CLOEXEC, e.getSgfd().getSigmask());
    }

    @Override
    public String describe() {
        return String.format("anon_inode:[signalfd] (mask %#x)", mask);
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.SIGNALFD).setId(id).setSgfd(SignalfdEntry.newBuilder().setId(id)
                .setFlags(flags).setFown(NO_OWNER).setSigmask(mask)).build();
    }

    @Override
    public int open(FileOpener opener) throws IOException {
        int fd = FdSys.signalfd(mask, O_CLOEXEC);
        Sys.fcntl(fd, Sys.F_SETFL, flags);
        return fd;
    }
}

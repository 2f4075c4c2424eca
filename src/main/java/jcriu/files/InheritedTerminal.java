package jcriu.files;

import java.io.IOException;
import java.nio.file.Path;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.RegFileEntry;
import jcriu.proc.FdInfo;

/**
 * fd 0, 1 or 2 on a terminal, dumped with {@code --shell-job}: at restore it becomes the
 * same fd of the restoring jcriu (its terminal), as CRIU's shell jobs do. Stored as CRIU's
 * TTY type with the terminal's path in a reg entry.
 */
public record InheritedTerminal(int id, String path, int flags, int fd) implements OpenFile {
    static InheritedTerminal save(int id, FdInfo fd) {
        return new InheritedTerminal(id, fd.target(), fd.flags() & ~O_CLOEXEC, fd.fd());
    }

    static InheritedTerminal decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasReg()) throw new ImageException(where, offset, "terminal " + e.getId() + " has no reg entry");
        RegFileEntry r = e.getReg();
        return new InheritedTerminal(e.getId(), r.getName(), r.getFlags(), (int) r.getPos());
    }

    @Override
    public String describe() {
        return path + " (the terminal, taken from jcriu's fd " + fd + ")";
    }

    @Override
    public FileEntry encode() {
        // pos holds the fd number whose terminal is taken: a terminal has no offset
        return FileEntry.newBuilder().setType(FdTypes.TTY).setId(id).setReg(RegFileEntry.newBuilder().setId(id)
                .setFlags(flags).setPos(fd).setName(path).setMode(RegularFile.S_IFCHR).setFown(NO_OWNER)).build();
    }

    @Override
    public int open(FileOpener opener) throws IOException {
        return opener.inherited(fd);
    }
}

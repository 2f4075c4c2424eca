package jcriu.files;

import java.io.IOException;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.RegFileEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.FdSys;
import jcriu.sys.Sys;

/**
 * An O_PATH fd on a symlink that was then unlinked: no path opens it again, so what the link
 * pointed to is saved, and the restore makes the link again beside its old name, opens it
 * O_PATH|O_NOFOLLOW and unlinks it (readlinkat on the fd then answers as before). Stored as
 * a reg entry marked deleted, with the link's target in a jcriu field.
 */
public record DeletedSymlink(int id, String path, int flags, int mode, String target) implements OpenFile {

    static DeletedSymlink save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        int mine = ctx.borrow(fd.fd());
        try {
            String target;
            try {
                target = FdSys.readlinkOf(mine);
            } catch (RuntimeException e) {
                throw new IOException(what + ": cannot read the deleted symlink: " + e.getMessage(), e);
            }
            return new DeletedSymlink(id, fd.path().orElseThrow(), fd.flags() & ~O_CLOEXEC, fd.stat().mode(), target);
        } finally {
            Sys.close(mine);
        }
    }

    static DeletedSymlink decode(FileEntry e) {
        RegFileEntry r = e.getReg();
        return new DeletedSymlink(e.getId(), r.getName(), r.getFlags() & ~O_CLOEXEC, r.getMode(), r.getJcriuLinkTarget());
    }

    @Override
    public String describe() {
        return path + " (deleted symlink to " + target + ")";
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.REG).setId(id).setReg(RegFileEntry.newBuilder().setId(id)
                .setFlags(flags).setPos(0).setName(path).setMode(mode).setFown(NO_OWNER).setJcriuDeleted(true)
                .setJcriuLinkTarget(target)).build();
    }

    @Override
    public int open(FileOpener opener) throws IOException {
        return GhostNodes.symlink(path, target);
    }
}

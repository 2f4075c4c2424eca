package jcriu.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.google.protobuf.ByteString;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.RegFileEntry;
import jcriu.proc.FdInfo;

/**
 * A regular file opened and then unlinked: its content is saved with the images (up to the
 * ghost limit, CRIU's --ghost-limit; above it the dump is refused, naming the file), and the
 * restore makes it again under its old name, opens it with its flags at its offset and
 * unlinks it again. One file made again serves every description and shared mapping of it.
 * Stored as a reg entry with jcriu's content fields, as a deleted file mapped shared is.
 */
public record DeletedFile(int id, String path, int flags, long pos, int mode, int uid, int gid, byte[] content)
        implements OpenFile {

    static DeletedFile save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        if (fd.stat().type() != RegularFile.S_IFREG) {
            throw new IOException(what + " refers to a deleted file that is not a regular file; not supported");
        }
        Path link = Path.of("/proc/" + ctx.pid() + "/fd/" + fd.fd());
        Map<String, Object> a = Files.readAttributes(link, "unix:mode,uid,gid,size");
        long size = (Long) a.get("size");
        if (size > ctx.ghostLimit()) {
            throw new IOException(what + " refers to a deleted file of " + size + " bytes, more than the ghost limit of "
                    + ctx.ghostLimit() + " bytes that a dump saves of a deleted file (--ghost-limit)");
        }
        byte[] content = Files.readAllBytes(link);
        return new DeletedFile(id, fd.path().orElseThrow(), reopenable(fd.flags()), fd.pos(), (Integer) a.get("mode"),
                (Integer) a.get("uid"), (Integer) a.get("gid"), content);
    }

    static DeletedFile decode(FileEntry e) {
        RegFileEntry r = e.getReg();
        return new DeletedFile(e.getId(), r.getName(), reopenable(r.getFlags()), r.getPos(), r.getMode(), r.getJcriuUid(),
                r.getJcriuGid(), r.getJcriuContent().toByteArray());
    }

    /**
     * The open flags less close-on-exec and O_TMPFILE (whose bits include O_DIRECTORY): a file
     * made with O_TMPFILE shows them, but is reopened as the regular file it is.
     */
    private static int reopenable(int flags) {
        return flags & ~(O_CLOEXEC | O_TMPFILE);
    }

    private static final int O_TMPFILE = 020200000;

    @Override
    public String describe() {
        return path + " (deleted)";
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.REG).setId(id).setReg(RegFileEntry.newBuilder().setId(id)
                .setFlags(flags).setPos(pos).setName(path).setMode(mode).setFown(NO_OWNER).setSize(content.length)
                .setJcriuContent(ByteString.copyFrom(content)).setJcriuUid(uid).setJcriuGid(gid).setJcriuDeleted(true))
                .build();
    }

    /** A new description of the file made again (and unlinked again) for the whole tree. */
    @Override
    public int open(FileOpener opener) throws IOException {
        return OpenFile.reopen(opener.ghost(this), flags, pos);
    }
}

package jcriu.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.google.protobuf.ByteString;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.MemfdFileEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.FdSys;
import jcriu.sys.Sys;

/**
 * A description of a memfd (memfd_create). The memfd itself (name, mode, owner, seals and
 * content) is made once at restore for every description and shared mapping of it (mappings
 * find it by its name, as a deleted file mapped shared), so a write through one is seen
 * through the others; its seals are added once every process has mapped it.
 */
public record Memfd(int id, int flags, long pos, long inode, String name, int mode, int uid, int gid, int seals,
                    byte[] content) implements OpenFile {
    public static final String PREFIX = "/memfd:";
    private static final int O_RDONLY = 0, O_RDWR = 2, O_ACCMODE = 3;

    /** Whether a path from maps or an fd link names a memfd (without its " (deleted)"). */
    public static boolean isMemfd(String path) {
        return path != null && path.startsWith(PREFIX);
    }

    static Memfd save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        return read(id, fd.flags() & ~O_CLOEXEC, fd.pos(), fd.path().orElseThrow(),
                Path.of("/proc/" + ctx.pid() + "/fd/" + fd.fd()), what);
    }

    private static Memfd read(int id, int flags, long pos, String path, Path link, String what) throws IOException {
        Map<String, Object> a = Files.readAttributes(link, "unix:mode,uid,gid,size,ino");
        int fd = Sys.open(link.toString(), O_RDONLY | O_CLOEXEC);
        int seals;
        try {
            seals = (int) Sys.fcntl(fd, FdSys.F_GET_SEALS, 0);
        } finally {
            Sys.close(fd);
        }
        byte[] content = Files.readAllBytes(link);
        if (content.length != (Long) a.get("size")) throw new IOException(what + ": its size changed while it was read");
        return new Memfd(id, flags, pos, (Long) a.get("ino"), path.substring(PREFIX.length()), (Integer) a.get("mode"),
                (Integer) a.get("uid"), (Integer) a.get("gid"), seals, content);
    }

    static Memfd decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasMemfd() || !e.getMemfd().hasJcriuContent()) {
            throw new ImageException(where, offset, "memfd " + e.getId() + " has no content (an image of CRIU's?)");
        }
        MemfdFileEntry m = e.getMemfd();
        return new Memfd(e.getId(), m.getFlags() & ~O_CLOEXEC, m.getPos(), m.getJcriuInode(), m.getJcriuName(),
                m.getJcriuMode(), m.getJcriuUid(), m.getJcriuGid(), m.getJcriuSeals(), m.getJcriuContent().toByteArray());
    }

    /** The path maps and fd links show: {@code /memfd:NAME}. */
    public String path() {
        return PREFIX + name;
    }

    @Override
    public String describe() {
        return path() + " (deleted)";
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.MEMFD).setId(id).setMemfd(MemfdFileEntry.newBuilder().setId(id)
                .setFlags(flags).setPos(pos).setFown(NO_OWNER).setInodeId((int) inode).setJcriuName(name)
                .setJcriuMode(mode).setJcriuUid(uid).setJcriuGid(gid).setJcriuSeals(seals)
                .setJcriuContent(ByteString.copyFrom(content)).setJcriuInode(inode)).build();
    }

    /**
     * The first read-write description is the one memfd_create made (a new fd on it), as
     * before the dump, when it was the fd memfd_create returned: a reopen through /proc would
     * be a writer of the inode and make execveat() of the memfd fail with ETXTBSY.
     */
    @Override
    public int open(FileOpener opener) throws IOException {
        int made = opener.memfd(this);
        if ((flags & O_ACCMODE) != O_RDWR || !opener.takeCreated(this)) return OpenFile.reopen(made, flags, pos);
        int fd = (int) Sys.fcntl(made, Sys.F_DUPFD_CLOEXEC, 0);
        try {
            Sys.fcntl(fd, Sys.F_SETFL, flags);
            if (pos != 0) Sys.lseek(fd, pos, 0);
            return fd;
        } catch (RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
    }
}

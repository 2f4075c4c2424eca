package jcriu.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.ByteString;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.GhostChunkEntry;
import jcriu.image.pb.GhostFileEntry;
import jcriu.image.pb.RegFileEntry;
import jcriu.image.pb.Timeval;
import jcriu.proc.FdInfo;
import jcriu.sys.Sys;

/**
 * A regular file opened and then unlinked (or made with O_TMPFILE): its data is saved with
 * the images, only the ranges that hold data ({@code chunks}, found with SEEK_DATA and
 * SEEK_HOLE, as CRIU's ghost files in chunks mode), up to the ghost limit (CRIU's
 * --ghost-limit, counted on the data, not on the size; above it the dump is refused, naming
 * the file). The restore makes it again under its old name with its size, holes, mode,
 * owner and access and modification times, opens it with its flags at its offset and
 * unlinks it again. One file made again serves every description and shared mapping of it,
 * found by its device and inode (two names linked to one file, both unlinked, are one file
 * again). Stored as a reg entry with jcriu's content fields and CRIU's ghost_file_entry.
 *
 * @param content the bytes of the chunks, one after the other
 * @param atime   access time in microseconds since the epoch (-1: not saved)
 * @param mtime   modification time in microseconds since the epoch (-1: not saved)
 * @param dev     the device at dump in the kernel's encoding, as CRIU's ghost_file_entry (0 with ino: not saved)
 * @param ino     the inode number at dump (0: not saved, in older images)
 */
public record DeletedFile(int id, String path, int flags, long pos, int mode, int uid, int gid, byte[] content,
                          List<Chunk> chunks, long size, long atime, long mtime, long dev, long ino) implements OpenFile {
    private static final int O_TMPFILE = 020200000, O_RDONLY = 0, O_RDWR = 2;

    /** {@code len} bytes of data at {@code off} in the file. */
    public record Chunk(long off, long len) {}

    public DeletedFile {
        chunks = List.copyOf(chunks);
    }

    static DeletedFile save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        if (fd.stat().type() != RegularFile.S_IFREG) {
            throw new IOException(what + " refers to a deleted file that is not a regular file; not supported");
        }
        Path link = Path.of("/proc/" + ctx.pid() + "/fd/" + fd.fd());
        Map<String, Object> a = Files.readAttributes(link, "unix:mode,uid,gid,size,lastAccessTime,lastModifiedTime");
        long size = (Long) a.get("size");
        // a description of jcriu's own: seeking in it moves no offset of the process
        int mine = Sys.open(link.toString(), O_RDONLY | O_CLOEXEC);
        try {
            List<Chunk> chunks = new ArrayList<>();
            long data = 0;
            for (long at = 0; at < size; ) {
                long start = Sys.seekDataOrHole(mine, at, true);
                if (start < 0 || start >= size) break;
                long end = Math.min(size, Sys.seekDataOrHole(mine, start, false));
                chunks.add(new Chunk(start, end - start));
                data += end - start;
                at = end;
            }
            if (data > ctx.ghostLimit()) {
                throw new IOException(what + " refers to a deleted file holding " + data + " bytes of data, more than"
                        + " the ghost limit of " + ctx.ghostLimit() + " bytes that a dump saves of a deleted file"
                        + " (--ghost-limit)");
            }
            if (data > Integer.MAX_VALUE - 8) throw new IOException(what + ": a deleted file of " + data + " bytes of data");
            byte[] content = new byte[(int) data];
            try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + mine), StandardOpenOption.READ)) {
                int from = 0;
                for (Chunk c : chunks) {
                    ByteBuffer buf = ByteBuffer.wrap(content, from, (int) c.len());
                    from += (int) c.len();
                    long got = 0;
                    while (got < c.len()) {
                        int n = ch.read(buf, c.off() + got);
                        if (n <= 0) throw new IOException(what + ": the deleted file ended early at " + (c.off() + got));
                        got += n;
                    }
                }
            }
            return new DeletedFile(id, fd.path().orElseThrow(), reopenable(fd.flags()), fd.pos(), (Integer) a.get("mode"),
                    (Integer) a.get("uid"), (Integer) a.get("gid"), content, chunks, size,
                    ((FileTime) a.get("lastAccessTime")).to(TimeUnit.MICROSECONDS),
                    ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.MICROSECONDS), kernelDev(fd.stat().dev()),
                    fd.stat().ino());
        } finally {
            Sys.close(mine);
        }
    }

    static DeletedFile decode(FileEntry e) {
        RegFileEntry r = e.getReg();
        byte[] content = r.getJcriuContent().toByteArray();
        if (!r.hasJcriuGhost()) {
            // written before chunks were saved: the whole content, from offset 0
            return new DeletedFile(e.getId(), r.getName(), reopenable(r.getFlags()), r.getPos(), r.getMode(),
                    r.getJcriuUid(), r.getJcriuGid(), content, List.of(new Chunk(0, content.length)), content.length, -1, -1,
                    0, 0);
        }
        GhostFileEntry g = r.getJcriuGhost();
        List<Chunk> chunks = new ArrayList<>();
        for (GhostChunkEntry c : r.getJcriuChunksList()) chunks.add(new Chunk(c.getOff(), c.getLen()));
        return new DeletedFile(e.getId(), r.getName(), reopenable(r.getFlags()), r.getPos(), g.getMode(), g.getUid(),
                g.getGid(), content, chunks, g.getSize(), g.hasAtim() ? micros(g.getAtim()) : -1,
                g.hasMtim() ? micros(g.getMtim()) : -1, g.getDev() & 0xffffffffL, g.getIno());
    }

    /**
     * What identifies the file among the tree's deleted files: its device and inode when
     * saved, else its path.
     */
    public String key() {
        return ino != 0 ? "inode " + dev + ":" + ino : path;
    }

    /** Whether this was inode {@code ino} on device {@code major:minor} at the dump. */
    public boolean isInode(int major, int minor, long ino) {
        // dev as new_encode_dev() packs it: minor's low byte, major, then minor's upper bits
        long ma = (dev >> 8) & 0xfff, mi = (dev & 0xff) | ((dev >> 12) & 0xfff00);
        return this.ino == ino && ma == major && mi == minor;
    }

    /** glibc's dev_t as the kernel's new_encode_dev() packs it (CRIU's ghost_file_entry.dev). */
    private static long kernelDev(long dev) {
        long major = jcriu.proc.FileStat.major(dev), minor = jcriu.proc.FileStat.minor(dev);
        return ((minor & 0xff) | (major << 8) | ((minor & ~0xffL) << 12)) & 0xffffffffL;
    }

    /**
     * The open flags less close-on-exec and O_TMPFILE (whose bits include O_DIRECTORY): a file
     * made with O_TMPFILE shows them, but is reopened as the regular file it is.
     */
    private static int reopenable(int flags) {
        return flags & ~(O_CLOEXEC | O_TMPFILE);
    }

    /** A ghost's times (CRIU's timeval) in microseconds and back; DeletedDirectory uses them too. */
    static long micros(Timeval t) {
        return t.getTvSec() * 1_000_000 + t.getTvUsec();
    }

    static Timeval timeval(long micros) {
        return Timeval.newBuilder().setTvSec(Math.floorDiv(micros, 1_000_000)).setTvUsec(Math.floorMod(micros, 1_000_000))
                .build();
    }

    @Override
    public String describe() {
        return path + " (deleted)";
    }

    @Override
    public FileEntry encode() {
        GhostFileEntry.Builder g = GhostFileEntry.newBuilder().setUid(uid).setGid(gid).setMode(mode).setChunks(true)
                .setSize(size);
        if (ino != 0) g.setDev((int) dev).setIno(ino);
        if (atime >= 0) g.setAtim(timeval(atime));
        if (mtime >= 0) g.setMtim(timeval(mtime));
        RegFileEntry.Builder r = RegFileEntry.newBuilder().setId(id).setFlags(flags).setPos(pos).setName(path)
                .setMode(mode).setFown(NO_OWNER).setSize(size).setJcriuContent(ByteString.copyFrom(content))
                .setJcriuUid(uid).setJcriuGid(gid).setJcriuDeleted(true).setJcriuGhost(g);
        for (Chunk c : chunks) r.addJcriuChunks(GhostChunkEntry.newBuilder().setOff(c.off()).setLen(c.len()));
        return FileEntry.newBuilder().setType(FdTypes.REG).setId(id).setReg(r).build();
    }

    /** A new description of the file made again (and unlinked again) for the whole tree. */
    @Override
    public int open(FileOpener opener) throws IOException {
        return OpenFile.reopen(opener.ghost(this), flags, pos);
    }

    /**
     * The file made again: created new under its old name (another name beside it if that one
     * is taken), its chunks written at their offsets and its size set (the rest stays holes),
     * owner, mode and times set, opened read-write (close-on-exec) and unlinked again.
     */
    public int makeAgain() throws IOException {
        Path p = Path.of(path);
        var owner = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            p = Files.createTempFile(p.getParent(), p.getFileName() + ".", ".jcriu-ghost", owner);
        } else {
            Files.createFile(p, owner);
        }
        try {
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
                FileChannel ch = f.getChannel();
                long from = 0;
                for (Chunk c : chunks) {
                    ByteBuffer b = ByteBuffer.wrap(content, (int) from, (int) c.len());
                    long at = c.off();
                    while (b.hasRemaining()) at += ch.write(b, at);
                    from += c.len();
                }
                f.setLength(size); // past the last chunk: a hole
            }
            Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
            if (mtime >= 0) Files.setLastModifiedTime(p, FileTime.from(mtime, TimeUnit.MICROSECONDS));
            if (atime >= 0) Files.setAttribute(p, "lastAccessTime", FileTime.from(atime, TimeUnit.MICROSECONDS));
            return Sys.open(p.toString(), O_RDWR | O_CLOEXEC);
        } finally {
            Files.deleteIfExists(p);
        }
    }
}

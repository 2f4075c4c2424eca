package jcriu.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.GhostFileEntry;
import jcriu.image.pb.RegFileEntry;
import jcriu.image.pb.Timeval;
import jcriu.proc.FdInfo;

/**
 * A directory that was removed while a process held it, through an fd (O_RDONLY|O_DIRECTORY
 * or O_PATH) or as its current directory. As CRIU's ghost directories: the restore makes it
 * again at its old path with its mode, owner and times, points the fds and cwds at it and
 * removes it again once every process holds it, so they hold a deleted directory again. Every
 * fd and cwd on one inode ({@link Inode}) shares the one directory made again. Stored as a
 * reg entry (jcriu_deleted set) reached through a GHOST remap (remap-fpath.img) to
 * ghost-file-N.img, whose mode says it is a directory; see {@link GhostDirectories}.
 *
 * @param path  the old path, without " (deleted)"
 * @param flags the open flags (O_RDONLY|O_DIRECTORY for a cwd)
 */
public record DeletedDirectory(int id, String path, int flags, long pos, Inode dir) implements OpenFile {
    static final int O_DIRECTORY = 0200000;
    private static final String DELETED = jcriu.proc.Vma.DELETED_SUFFIX;

    /**
     * The directory itself, as ghost-file.img holds it: {@code dev} and {@code ino} at the dump
     * (what tells two holders of one directory), st_mode, owner, and access and modification
     * times in microseconds.
     */
    public record Inode(long dev, long ino, int mode, int uid, int gid, long atime, long mtime) {
        GhostFileEntry encode() {
            return GhostFileEntry.newBuilder().setUid(uid).setGid(gid).setMode(mode).setDev((int) dev).setIno(ino)
                    .setAtim(timeval(atime)).setMtim(timeval(mtime)).build();
        }

        static Inode decode(GhostFileEntry g) {
            return new Inode(Integer.toUnsignedLong(g.getDev()), g.getIno(), g.getMode(), g.getUid(), g.getGid(),
                    g.hasAtim() ? micros(g.getAtim()) : -1, g.hasMtim() ? micros(g.getMtim()) : -1);
        }

        /** The same directory: the same device and inode. */
        public boolean same(Inode o) {
            return dev == o.dev && ino == o.ino;
        }
    }

    static DeletedDirectory save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        int flags = fd.flags() & ~O_CLOEXEC;
        long pos = (flags & RegularFile.O_PATH) != 0 ? 0 : fd.pos();
        return read(id, what, Path.of("/proc/" + ctx.pid() + "/fd/" + fd.fd()), fd.path().orElseThrow(), flags, pos);
    }

    /**
     * The deleted current directory of {@code pid}, {@code cwd} as /proc shows it (ending in
     * " (deleted)"), as a description of its own opened O_RDONLY|O_DIRECTORY (the restore only
     * takes the directory from it).
     */
    public static DeletedDirectory cwd(int id, int pid, String cwd) throws IOException {
        String path = cwd.substring(0, cwd.length() - DELETED.length());
        return read(id, "the current directory of process " + pid, Path.of("/proc/" + pid + "/cwd"), path, O_DIRECTORY, 0);
    }

    /**
     * Its inode read through {@code link} (a /proc magic link, which reaches the removed
     * directory); refused when the restore could not make it again: a directory under /proc
     * or /sys (a process's directory there cannot be made), or one whose parent is gone too
     * or replaced (the directory would come back elsewhere than its parent is).
     */
    private static DeletedDirectory read(int id, String what, Path link, String path, int flags, long pos)
            throws IOException {
        if (path.equals("/proc") || path.startsWith("/proc/") || path.equals("/sys") || path.startsWith("/sys/")) {
            throw new IOException(what + " is the deleted directory " + path + DELETED + ", which jcriu cannot make"
                    + " again under " + path.substring(0, path.indexOf('/', 1) < 0 ? path.length() : path.indexOf('/', 1)));
        }
        Map<String, Object> a = Files.readAttributes(link, "unix:dev,ino,mode,uid,gid,lastAccessTime,lastModifiedTime");
        Path parent = Path.of(path).getParent();
        if (parent == null) throw new IOException(what + " is the deleted directory " + path + DELETED);
        // ".." of a removed directory is still its old parent: it must be the directory at the parent's path
        Map<String, Object> up = Files.readAttributes(link.resolve(".."), "unix:dev,ino");
        Map<String, Object> there;
        try {
            there = Files.readAttributes(parent, "unix:dev,ino");
        } catch (NoSuchFileException e) {
            there = null;
        }
        if (there == null || !there.get("dev").equals(up.get("dev")) || !there.get("ino").equals(up.get("ino"))) {
            throw new IOException(what + " is the deleted directory " + path + DELETED + ", whose parent " + parent
                    + " was " + (there == null ? "removed" : "replaced") + " too; jcriu makes again only a deleted"
                    + " directory whose parent exists, so the images could not be restored");
        }
        Inode dir = new Inode((Long) a.get("dev"), (Long) a.get("ino"), (Integer) a.get("mode"), (Integer) a.get("uid"),
                (Integer) a.get("gid"), ((FileTime) a.get("lastAccessTime")).to(TimeUnit.MICROSECONDS),
                ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.MICROSECONDS));
        return new DeletedDirectory(id, path, flags, pos, dir);
    }

    /** A reg entry of CRIU's files.img naming the directory; the remap to its ghost is written apart. */
    static DeletedDirectory decode(FileEntry e, Inode dir) {
        RegFileEntry r = e.getReg();
        return new DeletedDirectory(e.getId(), r.getName(), r.getFlags() & ~O_CLOEXEC, r.getPos(), dir);
    }

    private static long micros(Timeval t) {
        return t.getTvSec() * 1_000_000 + t.getTvUsec();
    }

    private static Timeval timeval(long micros) {
        return Timeval.newBuilder().setTvSec(Math.floorDiv(micros, 1_000_000)).setTvUsec(Math.floorMod(micros, 1_000_000))
                .build();
    }

    @Override
    public String describe() {
        return path + DELETED + " (a directory)";
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.REG).setId(id).setReg(RegFileEntry.newBuilder().setId(id)
                .setFlags(flags).setPos(pos).setName(path).setMode(dir.mode()).setFown(NO_OWNER).setJcriuDeleted(true))
                .build();
    }

    /** A new description of the directory made again for the whole tree, with the dumped flags. */
    @Override
    public int open(FileOpener opener) throws IOException {
        return OpenFile.reopen(opener.ghostDirectory(this), flags, pos);
    }
}

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
                    .setAtim(DeletedFile.timeval(atime)).setMtim(DeletedFile.timeval(mtime)).build();
        }

        static Inode decode(GhostFileEntry g) {
            return new Inode(Integer.toUnsignedLong(g.getDev()), g.getIno(), g.getMode(), g.getUid(), g.getGid(),
                    g.hasAtim() ? DeletedFile.micros(g.getAtim()) : -1, g.hasMtim() ? DeletedFile.micros(g.getMtim()) : -1);
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
     * or /sys (a process's directory there cannot be made).
     */
    private static DeletedDirectory read(int id, String what, Path link, String path, int flags, long pos)
            throws IOException {
        if (path.equals("/proc") || path.startsWith("/proc/") || path.equals("/sys") || path.startsWith("/sys/")) {
            throw new IOException(what + " is the deleted directory " + path + DELETED + ", which jcriu cannot make"
                    + " again under " + path.substring(0, path.indexOf('/', 1) < 0 ? path.length() : path.indexOf('/', 1)));
        }
        if (Path.of(path).getParent() == null) throw new IOException(what + " is the deleted directory " + path + DELETED);
        return new DeletedDirectory(id, path, flags, pos, inode(link));
    }

    private static Inode inode(Path link) throws IOException {
        Map<String, Object> a = Files.readAttributes(link, "unix:dev,ino,mode,uid,gid,lastAccessTime,lastModifiedTime");
        return new Inode((Long) a.get("dev"), (Long) a.get("ino"), (Integer) a.get("mode"), (Integer) a.get("uid"),
                (Integer) a.get("gid"), ((FileTime) a.get("lastAccessTime")).to(TimeUnit.MICROSECONDS),
                ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.MICROSECONDS));
    }

    /** A parent of a deleted directory that was removed too: its old path and inode. */
    public record RemovedParent(String path, Inode dir) {
        /** As a description of its own (O_PATH): no fd holds it, the restore makes it again for its child. */
        public DeletedDirectory entry(int id) {
            return new DeletedDirectory(id, path, RegularFile.O_PATH | O_DIRECTORY, 0, dir);
        }
    }

    /**
     * The parents of {@code d} (reached through {@code link}, a /proc magic link to it) that
     * were removed too, nearest first, up to one that is still at its path: the restore makes
     * them again before it, and removes them after it. ".." of a removed directory is still its
     * old parent; a parent whose path now holds another directory (removed and made anew, or
     * replaced) is refused: the directory would come back elsewhere than its parent is.
     */
    public static java.util.List<RemovedParent> removedParents(String what, Path link, DeletedDirectory d)
            throws IOException {
        java.util.List<RemovedParent> out = new java.util.ArrayList<>();
        Path up = link.resolve("..");
        for (Path parent = Path.of(d.path()).getParent(); parent != null; parent = parent.getParent(), up = up.resolve("..")) {
            Map<String, Object> was = Files.readAttributes(up, "unix:dev,ino");
            Map<String, Object> there;
            try {
                there = Files.readAttributes(parent, "unix:dev,ino");
            } catch (NoSuchFileException e) {
                out.add(new RemovedParent(parent.toString(), inode(up)));
                continue;
            }
            if (there.get("dev").equals(was.get("dev")) && there.get("ino").equals(was.get("ino"))) return out;
            throw new IOException(what + " is the deleted directory " + d.path() + DELETED + ", whose parent " + parent
                    + " was replaced by another directory; jcriu cannot make it again there, so the images could not"
                    + " be restored");
        }
        throw new IOException(what + " is the deleted directory " + d.path() + DELETED + ", none of whose parents is at"
                + " its path any more");
    }

    /** A reg entry of CRIU's files.img naming the directory; the remap to its ghost is written apart. */
    static DeletedDirectory decode(FileEntry e, Inode dir) {
        RegFileEntry r = e.getReg();
        return new DeletedDirectory(e.getId(), r.getName(), r.getFlags() & ~O_CLOEXEC, r.getPos(), dir);
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

package jcriu.restore;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import jcriu.api.Log;
import jcriu.files.DeletedDirectory;
import jcriu.sys.Sys;

/**
 * The deleted directories of a restore, each made again once (CRIU's ghost directories): at
 * its old path, or, when something is there now, at a new name beside it (the restored
 * process then sees that name followed by " (deleted)"); with its mode, owner and times;
 * then held open by jcriu, which every fd and cwd on it is taken from. Once every process
 * holds what it needs, {@link #removeAll} removes each again (checked to be the one made
 * here, and empty), so the processes hold deleted directories again; a failed restore
 * removes what it made the same way and nothing else.
 */
final class RemadeDirectories implements AutoCloseable {
    private static final int O_RDONLY = 0, O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000, O_CLOEXEC = 02000000;

    /** A directory made here: its path, jcriu's fd on it, and what it was at the dump. */
    private record Made(Path path, int fd, DeletedDirectory.Inode was) {}

    private final Log log;
    /** Every deleted directory of the tree: those an fd or cwd holds, and their parents removed with them. */
    private final List<DeletedDirectory> all;
    /** In the order made: a parent before its children. */
    private final List<Made> made = new ArrayList<>();

    RemadeDirectories(List<DeletedDirectory> all, Log log) {
        this.all = List.copyOf(all);
        this.log = log;
    }

    /** jcriu's fd on {@code d}'s directory, made on first use (after its parent when that was removed too). */
    int fdOf(DeletedDirectory d) throws IOException {
        return made(d).fd();
    }

    private Made made(DeletedDirectory d) throws IOException {
        for (Made m : made) if (m.was().same(d.dir())) return m;
        Path path = Path.of(d.path());
        for (DeletedDirectory p : all) {
            if (Path.of(p.path()).equals(path.getParent())) { // removed too: made first, the child goes in it
                path = made(p).path().resolve(path.getFileName());
                break;
            }
        }
        Made m = make(path, d.dir());
        made.add(m);
        return m;
    }

    private Made make(Path path, DeletedDirectory.Inode was) throws IOException {
        Path parent = path.getParent();
        if (parent == null || !Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot make the deleted directory " + path + " again: its parent " + parent
                    + " is not a directory now");
        }
        var owner = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        Path at = path;
        try {
            Files.createDirectory(at, owner);
        } catch (FileAlreadyExistsException taken) {
            at = beside(path, owner);
            log.warn("the deleted directory " + path + " is made again as " + at + ", since " + path + " exists now;"
                    + " the restored processes see that name");
        } catch (IOException e) {
            throw new IOException("cannot make the deleted directory " + path + " again: " + e, e);
        }
        int fd = -1;
        try {
            fd = Sys.open(at.toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            Path self = Path.of("/proc/self/fd/" + fd);
            Files.setAttribute(self, "unix:uid", was.uid());
            Files.setAttribute(self, "unix:gid", was.gid());
            Files.setAttribute(self, "unix:mode", was.mode() & 07777);
            times(fd, was);
            log.debug("deleted directory " + path + " made again as " + at + " (jcriu's fd " + fd + ")");
            return new Made(at, fd, was);
        } catch (IOException | RuntimeException e) {
            if (fd >= 0) Sys.close(fd);
            try {
                Files.delete(at);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw new IOException("cannot make the deleted directory " + path + " again: " + e.getMessage(), e);
        }
    }

    /** Access and modification times as at the dump (set again once its children made again are gone). */
    private static void times(int fd, DeletedDirectory.Inode was) throws IOException {
        Path self = Path.of("/proc/self/fd/" + fd);
        if (was.mtime() >= 0) Files.setLastModifiedTime(self, FileTime.from(was.mtime(), TimeUnit.MICROSECONDS));
        if (was.atime() >= 0) Files.setAttribute(self, "lastAccessTime", FileTime.from(was.atime(), TimeUnit.MICROSECONDS));
    }

    /** A new directory at a name no file has, beside {@code path}. */
    private static Path beside(Path path, java.nio.file.attribute.FileAttribute<?> owner) throws IOException {
        for (int i = 0; i < 100; i++) {
            Path p = path.resolveSibling(path.getFileName() + ".jcriu-ghost." + Long.toHexString(
                    ThreadLocalRandom.current().nextLong() & 0xffffffffL));
            try {
                return Files.createDirectory(p, owner);
            } catch (FileAlreadyExistsException taken) {
                // another name
            }
        }
        throw new IOException("cannot make the deleted directory " + path + " again: " + path
                + " exists and no free name was found beside it");
    }

    /**
     * Every directory made here removed again (rmdir), once every process holds it; refused,
     * naming it, when its path is not that directory any more or something was put in it.
     */
    void removeAll() throws IOException {
        IOException failed = null;
        for (Made m : made.reversed()) { // children first
            try {
                remove(m);
            } catch (IOException e) {
                if (failed == null) failed = e;
                else failed.addSuppressed(e);
            }
        }
        if (failed != null) throw failed;
    }

    private void remove(Made m) throws IOException {
        if (m.fd() < 0) return;
        Map<String, Object> mine = Files.readAttributes(Path.of("/proc/self/fd/" + m.fd()), "unix:dev,ino,nlink");
        if ((Integer) mine.get("nlink") == 0) return; // removed already
        Map<String, Object> there;
        try {
            there = Files.readAttributes(m.path(), "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException gone) {
            throw new IOException("the deleted directory made again as " + m.path() + " was moved away during the restore");
        }
        if (!there.get("dev").equals(mine.get("dev")) || !there.get("ino").equals(mine.get("ino"))) {
            throw new IOException(m.path() + " is no longer the deleted directory the restore made there; left as it is");
        }
        times(m.fd(), m.was()); // a child made and removed in it moved its mtime
        try {
            Files.delete(m.path());
        } catch (DirectoryNotEmptyException e) {
            throw new IOException("the deleted directory made again as " + m.path() + " cannot be removed again:"
                    + " something was put in it during the restore; left as it is", e);
        }
        log.debug("deleted directory " + m.path() + " removed again");
    }

    /** What is still made is removed (a failed restore); jcriu's fds are closed. */
    @Override
    public void close() {
        for (Made m : made.reversed()) {
            try {
                remove(m);
            } catch (IOException | RuntimeException e) {
                log.warn(e.getMessage());
            }
            Sys.close(m.fd());
        }
        made.clear();
    }
}

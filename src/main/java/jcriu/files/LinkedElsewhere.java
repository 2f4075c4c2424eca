package jcriu.files;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import jcriu.proc.FdInfo;

/**
 * An fd whose name was unlinked while the file keeps other hard links (link(), then unlink()
 * of the name it was opened by). Its content alone would come back as a new file, cut off
 * from its other names: the restored fd must be on the same inode. The inode is found under
 * another name in the directory of the one unlinked and opened again by that name, as a file
 * opened by path; when none is there, the dump is refused, naming the fd.
 */
final class LinkedElsewhere {
    private LinkedElsewhere() {}

    /** The description behind deleted {@code fd}: by another name when the file still has one, else its saved content. */
    static OpenFile save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        if (jcriu.dump.ShmemObjects.isFd(fd.target(), fd.stat().dev())) {
            throw new IOException(what + " is shared anonymous memory opened through /proc/PID/map_files; jcriu"
                    + " would restore a copy that the process's shared mappings no longer see, so it refuses");
        }
        Path link = Path.of("/proc/" + ctx.pid() + "/fd/" + fd.fd());
        Map<String, Object> a = Files.readAttributes(link, "unix:nlink,dev,ino");
        int nlink = (Integer) a.get("nlink");
        if (nlink == 0 || fd.stat().type() != RegularFile.S_IFREG) return DeletedFile.save(id, what, fd, ctx);
        Optional<Path> other = otherName(Path.of(fd.path().orElseThrow()), (Long) a.get("dev"), (Long) a.get("ino"));
        if (other.isEmpty()) {
            throw new IOException(what + " was unlinked but its file still has " + nlink + " other link"
                    + (nlink == 1 ? "" : "s") + " outside its directory; jcriu would restore a copy instead of that"
                    + " file, so it refuses");
        }
        FdInfo renamed = new FdInfo(fd.fd(), fd.kind(), other.get().toString(), fd.pos(), fd.flags(), fd.mntId(), fd.ino(),
                fd.stat(), fd.extra());
        return RegularFile.save(id, what + " (still linked as " + other.get() + ")", renamed, ctx);
    }

    /** A name in {@code gone}'s directory for the file with {@code dev} and {@code ino}. */
    private static Optional<Path> otherName(Path gone, long dev, long ino) throws IOException {
        Path dir = gone.getParent();
        if (dir == null || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        try (DirectoryStream<Path> names = Files.newDirectoryStream(dir)) {
            for (Path p : names) {
                try {
                    Map<String, Object> b = Files.readAttributes(p, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
                    if ((Long) b.get("ino") == ino && (Long) b.get("dev") == dev) return Optional.of(p);
                } catch (java.nio.file.NoSuchFileException raced) {
                    // removed while listed: not the one
                }
            }
        }
        return Optional.empty();
    }
}

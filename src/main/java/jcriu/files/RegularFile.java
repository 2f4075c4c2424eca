package jcriu.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.JcriuFileLock;
import jcriu.image.pb.RegFileEntry;
import jcriu.proc.FdInfo;
import jcriu.proc.FileStat;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * A file opened by path: a regular file, a directory, a file under /proc or /sys, a
 * character device other than a terminal, or any file opened with O_PATH. It is opened again
 * by its path with its flags and moved to its offset. {@code mode} is the whole st_mode; a
 * regular file whose size ({@code size}, -1 when not checked) or permissions differ at
 * restore, or a device whose number ({@code rdev}) differs, was changed since the dump and is
 * refused unless the restore is told to skip that check. So is an ELF file (an executable or
 * library, opened or mapped) whose build-id ({@code buildId}, hex, padded to whole words as in
 * CRIU's {@code build_id} field; empty when it had none) is another one now. Locks held through
 * the description and its O_ASYNC owner come back too.
 */
public record RegularFile(int id, String path, int flags, long pos, int mode, long size, long rdev,
                          List<FileLock> locks, Owner owner, String buildId) implements OpenFile {
    public static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFCHR = 0020000, S_IFREG = 0100000;
    static final int O_PATH = 010000000;
    private static final int O_ACCMODE = 3, O_WRONLY = 1, O_APPEND = 02000;
    private static final int O_CREAT = 0100, O_EXCL = 0200, O_NOCTTY = 0400, O_TRUNC = 01000;
    private static final int SEEK_SET = 0;
    /** Devices whose every open has a state of its own, which reopening the path cannot give back. */
    private static final List<String> STATEFUL = List.of("/dev/kvm", "/dev/net/tun", "/dev/fuse", "/dev/vhost-",
            "/dev/userfaultfd", "/dev/uinput", "/dev/dri/", "/dev/snd/", "/dev/nvidia", "/dev/vfio/");

    public RegularFile {
        locks = List.copyOf(locks);
        java.util.Objects.requireNonNull(buildId, "buildId");
    }

    public RegularFile(int id, String path, int flags, long pos, int mode, long size, long rdev, List<FileLock> locks,
                       Owner owner) {
        this(id, path, flags, pos, mode, size, rdev, locks, owner, "");
    }

    /** A plain file with no lock, owner or size check (cwd, exe and the like). */
    public RegularFile(int id, String path, int flags, long pos, int mode) {
        this(id, path, flags, pos, mode, -1, 0, List.of(), Owner.NONE);
    }

    static RegularFile save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        int flags = fd.flags() & ~O_CLOEXEC;
        int mode = fd.stat().mode(), type = mode & S_IFMT;
        String path = fd.path().orElseThrow(() -> new IOException(what + " has no path"));
        if (fd.deleted()) {
            // nothing could open it again at restore: refused here rather than lost there
            throw new IOException(what + " is a deleted " + kindName(type) + "; jcriu cannot make it again, so the"
                    + " images could not be restored");
        }
        boolean opath = (flags & O_PATH) != 0;
        long rdev = 0, size = -1;
        if (!opath && type == S_IFCHR) {
            for (String s : STATEFUL) {
                if (path.startsWith(s)) {
                    throw new IOException(what + " is a device whose state jcriu cannot save; not supported");
                }
            }
            rdev = fd.stat().rdev();
        }
        // a log written with O_APPEND grows after the dump as a matter of course: not checked, as CRIU does
        boolean appending = (flags & O_ACCMODE) == O_WRONLY && (flags & O_APPEND) != 0;
        if (!opath && type == S_IFREG && !appending && !path.startsWith("/proc/") && !path.startsWith("/sys/")) {
            size = (Long) Files.getAttribute(Path.of("/proc/" + ctx.pid() + "/fd/" + fd.fd()), "unix:size");
        }
        long pos = opath || type == S_IFCHR ? 0 : fd.pos();
        String buildId = size >= 0 && (flags & O_ACCMODE) != O_WRONLY ? buildIdThrough(ctx, fd.fd(), size) : "";
        return new RegularFile(id, path, flags, pos, mode, size, rdev, List.of(), Owner.save(ctx, fd.fd(), flags), buildId);
    }

    /**
     * The build-id of the file behind {@code fd} of the process, read through a copy of that fd:
     * opening the file again would break a lease on it, and wait for the break.
     */
    private static String buildIdThrough(SaveContext ctx, int fd, long size) throws IOException {
        int mine = ctx.borrow(fd);
        try {
            return ElfBuildId.ofFd(mine, size).map(b -> ElfBuildId.hex(ElfBuildId.padded(b))).orElse("");
        } finally {
            Sys.close(mine);
        }
    }

    /** The build-id of the file at {@code p} as stored (hex, padded to words), empty if it has none. */
    static String buildIdOf(Path p) throws IOException {
        return ElfBuildId.of(p).map(b -> ElfBuildId.hex(ElfBuildId.padded(b))).orElse("");
    }

    private static String kindName(int type) {
        return switch (type) {
            case S_IFDIR -> "directory";
            case S_IFCHR -> "device";
            case FileStat.S_IFLNK -> "symlink opened without O_PATH";
            default -> "file of type " + Integer.toOctalString(type);
        };
    }

    static OpenFile decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasReg()) throw new ImageException(where, offset, "file " + e.getId() + " of type REG has no reg entry");
        RegFileEntry r = e.getReg();
        if (r.getJcriuDeleted() && r.hasJcriuContent()) return DeletedFile.decode(e);
        if (r.getJcriuDeleted() && r.hasJcriuLinkTarget()) return DeletedSymlink.decode(e);
        int mode = r.getMode();
        if ((mode & FileStat.S_IFMT) == 0) mode |= S_IFREG; // CRIU's images before 3.x stored no mode
        List<FileLock> locks = new ArrayList<>();
        for (JcriuFileLock l : r.getJcriuLocksList()) locks.add(FileLock.decode(l));
        return new RegularFile(e.getId(), r.getName(), r.getFlags() & ~O_CLOEXEC, r.getPos(), mode,
                r.hasSize() ? r.getSize() : -1, r.getJcriuRdev(), locks, Owner.decode(r.getFown()),
                ElfBuildId.hex(ElfBuildId.fromWords(r.getBuildIdList())));
    }

    @Override
    public String describe() {
        return path;
    }

    @Override
    public FileEntry encode() {
        RegFileEntry.Builder r = RegFileEntry.newBuilder().setId(id).setFlags(flags).setPos(pos).setName(path)
                .setMode(mode).setFown(owner.encode());
        if (size >= 0) r.setSize(size);
        if (rdev != 0) r.setJcriuRdev(rdev);
        for (int w : ElfBuildId.toWords(java.util.HexFormat.of().parseHex(buildId))) r.addBuildId(w);
        for (FileLock l : locks) r.addJcriuLocks(l.encode());
        return FileEntry.newBuilder().setType(FdTypes.REG).setId(id).setReg(r).build();
    }

    @Override
    public OpenFile withLocks(List<FileLock> held) {
        return new RegularFile(id, path, flags, pos, mode, size, rdev, held, owner, buildId);
    }

    /** Never creates, truncates or takes a controlling terminal: the file is reopened, not made. */
    @Override
    public int open(FileOpener opener) throws IOException {
        int fd;
        try {
            fd = Sys.open(path, (flags & ~(O_CREAT | O_EXCL | O_TRUNC | Owner.O_ASYNC)) | O_NOCTTY | O_CLOEXEC);
        } catch (SysException e) {
            throw new IOException("cannot open " + path + " again: " + e.getMessage(), e);
        }
        try {
            if ((flags & O_PATH) == 0) {
                check(fd, opener.checkFiles());
                int type = mode & S_IFMT;
                if ((type == S_IFREG || type == S_IFDIR) && pos != 0) Sys.lseek(fd, pos, SEEK_SET);
            }
            return fd;
        } catch (IOException | RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
    }

    /**
     * The file at {@code path} now is the one dumped: same type and device number always; same
     * size (when it was recorded) and permissions unless {@code strict} is false. Checked
     * before the restore creates anything, and again on the fd it opens.
     */
    public void verify(boolean strict) throws IOException {
        if ((flags & O_PATH) != 0) return;
        check(Path.of(path), strict);
    }

    private void check(int fd, boolean strict) throws IOException {
        check(Path.of("/proc/self/fd/" + fd), strict);
    }

    private void check(Path p, boolean strict) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,size,rdev");
        int now = (Integer) a.get("mode");
        if ((now & S_IFMT) != (mode & S_IFMT)) {
            throw new IOException(path + " is no longer what it was at the dump (file type " + Integer.toOctalString(now
                    & S_IFMT) + ", was " + Integer.toOctalString(mode & S_IFMT) + ")");
        }
        if (rdev != 0 && (Long) a.get("rdev") != rdev) {
            long r = (Long) a.get("rdev");
            throw new IOException(path + " is device " + FileStat.major(r) + ":" + FileStat.minor(r) + " now, it was "
                    + FileStat.major(rdev) + ":" + FileStat.minor(rdev) + " at the dump");
        }
        if (!strict) return;
        String skip = " (restore with --skip-file-rwx-check to use it as it is)";
        if (size >= 0 && (Long) a.get("size") != size) {
            throw new IOException(path + " changed since the dump: its size is " + a.get("size") + ", it was " + size + skip);
        }
        if ((mode & 07777) != 0 && (now & 07777) != (mode & 07777)) {
            throw new IOException(path + " changed since the dump: its mode is " + Integer.toOctalString(now & 07777)
                    + ", it was " + Integer.toOctalString(mode & 07777) + skip);
        }
        // as CRIU: compared only when both have one; a file without a build-id is judged by size and mode alone
        if (!buildId.isEmpty() && (now & S_IFMT) == S_IFREG) {
            String current = buildIdOf(p);
            if (!current.isEmpty() && !current.equals(buildId)) {
                throw new IOException(path + " changed since the dump: its build-id is " + current + ", it was " + buildId
                        + " (another build of this program or library; restore with --skip-file-rwx-check to use it"
                        + " as it is)");
            }
        }
    }

    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        for (FileLock l : locks) l.take(p, id, first, path);
        if (first) owner.apply(p, id, flags, path);
    }
}

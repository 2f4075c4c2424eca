package jcriu.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FhEntry;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.InotifyFileEntry;
import jcriu.image.pb.InotifyWdEntry;
import jcriu.proc.FdInfo;
import jcriu.proc.MountInfo;
import jcriu.sys.FdSys;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * An inotify instance and its watches. fdinfo names each watched inode by a file handle;
 * the dump turns it into a path (open_by_handle_at, then the path of that fd), which the
 * restore watches again, each watch with its old watch descriptor (INOTIFY_IOC_SETNEXTWD),
 * which the program keeps comparing events against. A watch on a file deleted since is kept
 * when the tree still holds the file open: it is saved with the tree's deleted files and the
 * restore watches the file made again. Events queued but not yet read are not kept (the kernel
 * offers no way to read them without taking them from the program): the dump warns.
 */
public record Inotify(int id, int flags, List<Watch> watches, Owner owner) implements OpenFile {
    private static final int IN_ALL_EVENTS = 0xfff, IN_EXCL_UNLINK = 0x04000000, IN_ONESHOT = 0x80000000;
    private static final int O_RDONLY = 0, O_PATH = 010000000, IN_CLOEXEC = O_CLOEXEC, FIONREAD = 0x541B;
    private static final Pattern WD = Pattern.compile("inotify wd:([0-9a-f]+) ino:([0-9a-f]+) sdev:([0-9a-f]+)"
            + " mask:([0-9a-f]+) ignored_mask:([0-9a-f]+)(?: fhandle-bytes:([0-9a-f]+) fhandle-type:([0-9a-f]+)"
            + " f_handle:([0-9a-f]+))?");

    /** One watch: {@code dev} in the kernel's encoding (major << 20 | minor), as fdinfo and CRIU give it. */
    public record Watch(int wd, long ino, int dev, int mask, int ignoredMask, int handleType, byte[] handle,
                        String path) {}

    public Inotify {
        watches = List.copyOf(watches);
    }

    static Inotify save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        List<Watch> ws = new ArrayList<>();
        List<MountInfo.Mount> mounts = MountInfo.read(Path.of("/proc/self/mountinfo"));
        for (String l : fd.extra()) {
            if (!l.startsWith("inotify ")) continue;
            Matcher m = WD.matcher(l);
            if (!m.find() || m.group(8) == null) throw new IOException(what + ": cannot read the inotify watch '" + l + "'");
            int wd = Integer.parseInt(m.group(1), 16), dev = Integer.parseUnsignedInt(m.group(3), 16);
            long ino = Long.parseUnsignedLong(m.group(2), 16);
            int type = Integer.parseInt(m.group(7), 16);
            byte[] handle = HexFormat.of().parseHex(m.group(8));
            String path = pathOf(what + ", watch " + wd, mounts, dev, ino, type, handle);
            ws.add(new Watch(wd, ino, dev, Integer.parseUnsignedInt(m.group(4), 16),
                    Integer.parseUnsignedInt(m.group(5), 16), type, handle, path));
        }
        int mine = ctx.borrow(fd.fd());
        try {
            int queued = Sys.ioctlInt(mine, FIONREAD);
            if (queued > 0) {
                ctx.warn(what + ": " + queued + " bytes of inotify events not yet read are lost (the kernel cannot"
                        + " copy them without taking them from the process)");
            }
        } finally {
            Sys.close(mine);
        }
        return new Inotify(id, fd.flags() & ~O_CLOEXEC, ws, Owner.save(ctx, fd.fd(), fd.flags()));
    }

    /** Kept in a watch's path as readlink gives it: the file was unlinked after it was watched. */
    private static final String DELETED = " (deleted)";

    /**
     * The watched file's path now: its handle opened on a mount of its filesystem; for a file
     * unlinked since it was watched, its last path with " (deleted)" ({@link #link} checks that
     * the tree holds it open, so that it is made again).
     */
    private static String pathOf(String what, List<MountInfo.Mount> mounts, int dev, long ino, int type, byte[] handle)
            throws IOException {
        int major = dev >>> 20, minor = dev & 0xfffff;
        for (MountInfo.Mount m : mounts) {
            if (m.major() != major || m.minor() != minor) continue;
            int mnt;
            try {
                mnt = Sys.open(m.point(), O_RDONLY | O_CLOEXEC); // not O_PATH: open_by_handle_at refuses those
            } catch (SysException e) {
                continue;
            }
            try {
                long fd = FdSys.openByHandle(mnt, type, handle, O_PATH | O_CLOEXEC);
                if (fd < 0) continue;
                try {
                    return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
                } finally {
                    Sys.close((int) fd);
                }
            } finally {
                Sys.close(mnt);
            }
        }
        throw new IOException(what + ": the watched inode " + ino + " (device " + major + ":" + minor
                + ") cannot be found on any mount");
    }

    /** A watch on a deleted file is kept only when a process of the tree holds that file open. */
    @Override
    public OpenFile link(TreeFiles tree, int pid, int fd) throws IOException {
        for (Watch w : watches) {
            if (!deleted(w)) continue;
            int major = w.dev() >>> 20, minor = w.dev() & 0xfffff;
            boolean held = tree.all().stream().anyMatch(f -> f instanceof DeletedFile d && d.isInode(major, minor, w.ino()));
            if (!held) {
                throw new IOException("fd " + fd + " of process " + pid + " (anon_inode:inotify), watch " + w.wd() + " is on "
                        + w.path() + ", a file deleted since that no process of the tree holds open; it cannot be"
                        + " watched again");
            }
        }
        return this;
    }

    private static boolean deleted(Watch w) {
        return w.path() != null && w.path().endsWith(DELETED);
    }

    static Inotify decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasIfy()) throw new ImageException(where, offset, "file " + e.getId() + " of type INOTIFY has no ify entry");
        List<Watch> ws = new ArrayList<>();
        for (InotifyWdEntry w : e.getIfy().getWdList()) {
            FhEntry fh = w.getFHandle();
            ByteBuffer b = ByteBuffer.allocate(fh.getHandleCount() * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (long x : fh.getHandleList()) b.putLong(x);
            byte[] handle = new byte[Math.min(fh.getBytes(), b.capacity())];
            System.arraycopy(b.array(), 0, handle, 0, handle.length);
            ws.add(new Watch(w.getWd(), w.getIIno(), w.getSDev(), w.getMask(), w.getIgnoredMask(), fh.getType(), handle,
                    fh.hasPath() ? fh.getPath() : null));
        }
        return new Inotify(e.getId(), e.getIfy().getFlags() & ~O_CLOEXEC, ws, Owner.decode(e.getIfy().getFown()));
    }

    @Override
    public String describe() {
        return "anon_inode:inotify (" + watches.size() + " watches)";
    }

    /** The handle as CRIU packs it: little-endian u64 words, at least 16 of them. */
    @Override
    public FileEntry encode() {
        InotifyFileEntry.Builder x = InotifyFileEntry.newBuilder().setId(id).setFlags(flags).setFown(owner.encode());
        for (Watch w : watches) {
            int words = Math.max(16, (w.handle().length + 7) / 8);
            ByteBuffer b = ByteBuffer.allocate(words * 8).order(ByteOrder.LITTLE_ENDIAN).put(w.handle()).rewind();
            FhEntry.Builder fh = FhEntry.newBuilder().setBytes(w.handle().length).setType(w.handleType());
            for (int i = 0; i < words; i++) fh.addHandle(b.getLong());
            if (w.path() != null) fh.setPath(w.path());
            x.addWd(InotifyWdEntry.newBuilder().setId(id).setIIno(w.ino()).setMask(w.mask())
                    .setIgnoredMask(w.ignoredMask()).setSDev(w.dev()).setWd(w.wd()).setFHandle(fh));
        }
        return FileEntry.newBuilder().setType(FdTypes.INOTIFY).setId(id).setIfy(x).build();
    }

    /** The instance with every watch, made in jcriu: a watch belongs to the instance, not to a process. */
    @Override
    public int open(FileOpener opener) throws IOException {
        int fd = OpenFile.withFlags(FdSys.inotifyInit(IN_CLOEXEC), flags & ~Owner.O_ASYNC);
        try {
            for (Watch w : watches.stream().sorted(Comparator.comparingInt(Watch::wd)).toList()) add(fd, w, opener);
            return fd;
        } catch (IOException | RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
    }

    /** O_ASYNC and its owner, set inside the process (see {@link Owner}). */
    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        if (first) owner.apply(p, id, flags, describe());
    }

    private static void add(int fd, Watch w, FileOpener opener) throws IOException {
        // a deleted file: the one made again for the tree, an fd of the opener's (not closed here)
        boolean ghost = deleted(w);
        int target = ghost ? opener.deletedFile(w.dev() >>> 20, w.dev() & 0xfffff, w.ino()) : find(w);
        try {
            FdSys.ioctlValue(fd, FdSys.INOTIFY_IOC_SETNEXTWD, w.wd());
            int mask = w.mask() & (IN_ALL_EVENTS | IN_EXCL_UNLINK | IN_ONESHOT);
            long wd = FdSys.inotifyAddWatch(fd, "/proc/self/fd/" + target, mask);
            if (wd < 0) throw new SysException("inotify_add_watch(" + w.path() + ")", (int) -wd, null);
            if (wd != w.wd()) {
                throw new IOException("inotify watch of " + w.path() + " came back as " + wd + ", not " + w.wd());
            }
        } finally {
            if (!ghost) Sys.close(target);
        }
    }

    /**
     * The watched file: by its path if that is still the same inode, else by its handle (a
     * file renamed since), opened on the filesystem of its old path's directory.
     */
    private static int find(Watch w) throws IOException {
        String what = "inotify watch " + w.wd() + " on " + w.path() + " (inode " + w.ino() + ")";
        if (w.path() == null) throw new IOException(what + ": no path in the image");
        try {
            int fd = Sys.open(w.path(), O_PATH | O_CLOEXEC);
            if ((Long) Files.getAttribute(Path.of("/proc/self/fd/" + fd), "unix:ino") == w.ino()) return fd;
            Sys.close(fd);
        } catch (SysException | NoSuchFileException e) {
            // gone from its path: maybe renamed
        }
        for (Path dir = Path.of(w.path()).getParent(); dir != null; dir = dir.getParent()) {
            int mnt;
            try {
                mnt = Sys.open(dir.toString(), O_RDONLY | O_CLOEXEC);
            } catch (SysException e) {
                continue;
            }
            try {
                long fd = FdSys.openByHandle(mnt, w.handleType(), w.handle(), O_PATH | O_CLOEXEC);
                if (fd >= 0) return (int) fd;
            } finally {
                Sys.close(mnt);
            }
            break; // the nearest existing directory is the filesystem to ask
        }
        throw new IOException(what + ": the file is gone (or another one took its path); it cannot be watched again");
    }
}

package jcriu.proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Open file descriptors of a process: /proc/PID/fd, /proc/PID/fdinfo. */
public final class Fds {
    private Fds() {}

    /** All descriptors of {@code pid}, ascending, stat'ed through the link. */
    public static List<FdInfo> list(Path procRoot, int pid) throws IOException {
        return list(procRoot, pid, FdStat.FOLLOW);
    }

    /**
     * All descriptors of {@code pid}, ascending. A descriptor closed between listing and reading
     * it is left out: for a running process the answer is a best effort; freeze it for a
     * consistent one.
     */
    public static List<FdInfo> list(Path procRoot, int pid, FdStat stat) throws IOException {
        Path dir = ProcIo.pidDir(procRoot, pid).resolve("fd");
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                try {
                    fds.add(Integer.parseInt(n));
                } catch (NumberFormatException e) {
                    throw new ProcException(dir, "entry '" + n + "' is not a descriptor number");
                }
            }
        } catch (IOException e) {
            throw ProcIo.gone(e, procRoot, pid);
        }
        fds.sort(null);
        List<FdInfo> out = new ArrayList<>(fds.size());
        for (int fd : fds) {
            try {
                out.add(read(procRoot, pid, fd, stat));
            } catch (NoSuchFileException e) {
                // read() already turned "process gone" into ProcessGoneException; if the fd
                // entry itself vanished, the fd was closed meanwhile, else something is missing.
                Path link = ProcIo.pidDir(procRoot, pid).resolve("fd").resolve(Integer.toString(fd));
                if (Files.exists(link, LinkOption.NOFOLLOW_LINKS)) throw e;
            }
        }
        return out;
    }

    /**
     * One descriptor. NoSuchFileException if the process lives but has no such fd;
     * ProcessGoneException if the process is gone.
     */
    public static FdInfo read(Path procRoot, int pid, int fd, FdStat stat) throws IOException {
        Path pidDir = ProcIo.pidDir(procRoot, pid);
        Path link = pidDir.resolve("fd").resolve(Integer.toString(fd));
        String target = ProcIo.readLink(procRoot, pid, link);
        Path infoFile = pidDir.resolve("fdinfo").resolve(Integer.toString(fd));
        String info = ProcIo.readText(procRoot, pid, infoFile);
        FileStat st;
        try {
            st = stat.stat(link);
        } catch (IOException e) {
            throw ProcIo.gone(e, procRoot, pid);
        }
        return parse(fd, target, info, infoFile, st);
    }

    /** Builds an FdInfo from the link target, the fdinfo text and the stat. */
    public static FdInfo parse(int fd, String target, String fdinfo, Path source, FileStat st) throws ProcException {
        long pos = -1, ino = -1;
        int flags = -1, mntId = -1;
        List<String> extra = new ArrayList<>();
        String[] lines = ProcIo.lines(fdinfo);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            int colon = l.indexOf(':');
            String key = colon > 0 ? l.substring(0, colon) : "";
            String v = colon > 0 ? l.substring(colon + 1).strip() : "";
            switch (key) {
                case "pos" -> pos = ProcIo.parseDec(v, source, i + 1, "pos");
                case "flags" -> flags = (int) ProcIo.parseOct(v, source, i + 1, "flags");
                case "mnt_id" -> mntId = ProcIo.parseInt(v, source, i + 1, "mnt_id");
                case "ino" -> ino = ProcIo.parseUDec(v, source, i + 1, "ino");
                default -> extra.add(l);
            }
        }
        if (pos == -1) throw new ProcException(source, "no pos line");
        if (flags == -1) throw new ProcException(source, "no flags line");
        if (mntId == -1) throw new ProcException(source, "no mnt_id line");
        if (ino == -1) ino = st.ino(); // fdinfo has "ino:" only since Linux 5.14
        return new FdInfo(fd, classify(target, st), target, pos, flags, mntId, ino, st, extra);
    }

    /**
     * Kernel pseudo-files are recognised by their link text; anything that is a path by the
     * file type from stat, since a path's name says nothing reliable about what it is.
     */
    public static FdKind classify(String target, FileStat st) {
        if (target.startsWith("pipe:[")) return FdKind.PIPE;
        if (target.startsWith("socket:[")) return FdKind.SOCKET;
        if (target.startsWith("anon_inode:")) return FdKind.ANON_INODE;
        if (!target.startsWith("/")) return FdKind.OTHER;
        boolean deleted = target.endsWith(Vma.DELETED_SUFFIX);
        return switch (st.type()) {
            case FileStat.S_IFREG -> target.startsWith("/memfd:") && deleted ? FdKind.MEMFD
                    : deleted ? FdKind.DELETED : FdKind.REGULAR_FILE;
            case FileStat.S_IFDIR -> FdKind.DIRECTORY;
            case FileStat.S_IFCHR -> isTty(st.rdevMajor()) ? FdKind.TTY : FdKind.CHAR_DEVICE;
            case FileStat.S_IFBLK -> FdKind.BLOCK_DEVICE;
            case FileStat.S_IFIFO -> FdKind.FIFO;
            case FileStat.S_IFSOCK -> FdKind.SOCKET;
            default -> FdKind.OTHER;
        };
    }

    /** TTY_MAJOR 4, TTYAUX_MAJOR 5, UNIX98_PTY_SLAVE_MAJOR 136..143. */
    public static boolean isTty(int major) {
        return major == 4 || major == 5 || (major >= 136 && major <= 143);
    }
}

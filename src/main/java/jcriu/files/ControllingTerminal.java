package jcriu.files;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.TtyFileEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.Nr;
import jcriu.sys.Sys;

/**
 * An fd on /dev/tty: the process's controlling terminal, which must be a pty pair of the
 * tree (its session leader takes it back at restore). Stored as CRIU stores one: a TTY entry
 * naming CRIU's CTTY tty-info id. At restore jcriu cannot open it for the process (it would
 * be jcriu's own terminal): a placeholder is copied in, then replaced by an open("/dev/tty")
 * injected into the process, once its controlling terminal is back. Each process so gets a
 * description of its own.
 */
public record ControllingTerminal(int id, int flags) implements OpenFile {
    /** CRIU's CTTY_INDEX 1006, as a tty-info id (index << 1). */
    public static final int INFO_ID = 1006 << 1;
    static final int TTYAUX_MAJOR = 5, TTY_MINOR = 0;
    private static final int AT_FDCWD = -100, O_NOCTTY = 0400;

    static boolean is(FdInfo fd) {
        return fd.stat().rdevMajor() == TTYAUX_MAJOR && fd.stat().rdevMinor() == TTY_MINOR;
    }

    static ControllingTerminal save(int id, FdInfo fd) {
        return new ControllingTerminal(id, fd.flags() & ~O_CLOEXEC);
    }

    @Override
    public String describe() {
        return "/dev/tty";
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.TTY).setId(id).setTty(TtyFileEntry.newBuilder().setId(id)
                .setTtyInfoId(INFO_ID).setFlags(flags).setFown(NO_OWNER)).build();
    }

    /** Its session's controlling terminal must be a pty whose master the tree holds; else a shell job's, or refused. */
    @Override
    public OpenFile link(TreeFiles tree, int pid, int fd) throws IOException {
        jcriu.proc.ProcStat st = jcriu.proc.Stat.read(Path.of("/proc"), pid);
        for (OpenFile f : tree.all()) if (f instanceof Pty m && m.master() && m.pair().sid() == st.session()) return this;
        if (tree.shellJob() && fd <= 2) return new InheritedTerminal(id, "/dev/tty", flags, fd);
        int major = jcriu.proc.FileStat.major(st.ttyNr()), minor = jcriu.proc.FileStat.minor(st.ttyNr());
        String tty = major >= PtyPair.SLAVE_MAJOR && major < PtyPair.SLAVE_MAJOR + 8
                ? "/dev/pts/" + ((major - PtyPair.SLAVE_MAJOR) * 256 + minor) : "tty " + major + ":" + minor;
        throw new IOException("fd " + fd + " of process " + pid + " is /dev/tty, its controlling terminal " + tty
                + ", whose master is outside the dumped processes; --shell-job gives the restoring terminal to fds"
                + " 0-2 only");
    }

    /** A placeholder (/dev/null), replaced in {@link #setUp}. */
    @Override
    public int open(FileOpener opener) throws IOException {
        return Sys.open("/dev/null", 2 /* O_RDWR */ | O_CLOEXEC);
    }

    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        long path = p.put("/dev/tty\0".getBytes(StandardCharsets.US_ASCII));
        long tty = p.call("open(/dev/tty)", Nr.OPENAT, AT_FDCWD, path, (flags & ~O_NOCTTY) | O_CLOEXEC, 0);
        try {
            for (int fd : p.fdsOf(id)) {
                p.call("dup3 /dev/tty -> " + fd, Nr.DUP3, tty, fd, p.cloexec(fd) ? O_CLOEXEC : 0);
            }
        } finally {
            p.call("close", Nr.CLOSE, tty);
        }
    }
}

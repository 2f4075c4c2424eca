package jcriu.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.TtyFileEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.Nr;
import jcriu.sys.Sys;
import jcriu.sys.TtySys;

/**
 * One side of a pseudo-terminal pair whose master is held in the dumped tree: the master
 * (/dev/ptmx) or a description of its slave (/dev/pts/N). Stored as CRIU does: a TTY entry
 * in files.img naming tty-info entry {@code index * 2} (slave) or {@code index * 2 + 1}
 * (master); the pair's state is {@link PtyPair}, in tty-info.img and tty-data.img
 * ({@link TtyImages}). A slave read before its master is seen has {@code pair} null until
 * {@link #link}. {@code owner}: the O_ASYNC owner and signal, set inside the process.
 */
public record Pty(int id, int flags, boolean master, int index, PtyPair pair, Owner owner) implements OpenFile {
    /** TTYAUX_MAJOR 5, minor 2: /dev/ptmx. */
    static final int PTMX_MAJOR = 5, PTMX_MINOR = 2;

    static boolean isMaster(FdInfo fd) {
        return fd.stat().rdevMajor() == PTMX_MAJOR && fd.stat().rdevMinor() == PTMX_MINOR;
    }

    static boolean isSlave(FdInfo fd) {
        int major = fd.stat().rdevMajor();
        return major >= PtyPair.SLAVE_MAJOR && major < PtyPair.SLAVE_MAJOR + 8;
    }

    static Pty saveMaster(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        int mine = ctx.borrow(fd.fd());
        try {
            PtyPair p = PtyPair.read(mine, what);
            if (p.toMaster().length > 0) ctx.warn(what + ": " + p.toMaster().length + " bytes queued for the master saved");
            if (p.toSlave().length > 0) ctx.warn(what + ": " + p.toSlave().length + " bytes queued for the slave's reader saved");
            return new Pty(id, fd.flags() & ~O_CLOEXEC, true, p.index(), p, Owner.save(ctx, fd.fd(), fd.flags()));
        } finally {
            Sys.close(mine);
        }
    }

    static Pty saveSlave(int id, FdInfo fd, SaveContext ctx) throws IOException {
        int index = (fd.stat().rdevMajor() - PtyPair.SLAVE_MAJOR) * 256 + fd.stat().rdevMinor();
        int mine = ctx.borrow(fd.fd());
        boolean excl;
        try {
            excl = TtySys.getInt(mine, TtySys.TIOCGEXCL) != 0;
        } finally {
            Sys.close(mine);
        }
        // the exclusive bit rides in a placeholder until link() takes the master's pair
        PtyPair only = new PtyPair(index, null, null, null, false, false, false, excl, 0, 0, 0, 0, new byte[0], new byte[0]);
        return new Pty(id, fd.flags() & ~O_CLOEXEC, false, index, only, Owner.save(ctx, fd.fd(), fd.flags()));
    }

    static Pty decode(FileEntry e, Path where, long offset) throws IOException {
        TtyFileEntry t = e.getTty();
        int info = t.getTtyInfoId();
        return new Pty(e.getId(), t.getFlags() & ~O_CLOEXEC, (info & 1) == 1, info >>> 1, null, Owner.decode(t.getFown()));
    }

    /** The tty-info id of this side, CRIU's numbering. */
    public int infoId() {
        return index * 2 + (master ? 1 : 0);
    }

    public Pty withPair(PtyPair p) {
        return new Pty(id, flags, master, index, p, owner);
    }

    @Override
    public String describe() {
        return master ? "/dev/ptmx (master of /dev/pts/" + index + ")" : "/dev/pts/" + index;
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.TTY).setId(id).setTty(TtyFileEntry.newBuilder().setId(id)
                .setTtyInfoId(infoId()).setFlags(flags).setFown(owner.encode())).build();
    }

    /**
     * A slave takes its master's pair; a slave whose master no process of the tree holds is the
     * terminal of someone outside: fds 0-2 with --shell-job take the restoring jcriu's, else refused.
     */
    @Override
    public OpenFile link(TreeFiles tree, int pid, int fd) throws IOException {
        if (master) return this;
        for (OpenFile f : tree.all()) {
            if (f instanceof Pty m && m.master && m.index == index) return withPair(m.pair.withSlaveExclusive(pair.slaveExclusive()));
        }
        if (tree.shellJob() && fd <= 2) return new InheritedTerminal(id, "/dev/pts/" + index, flags, fd);
        throw new IOException("fd " + fd + " of process " + pid + " is /dev/pts/" + index + ", a terminal whose master"
                + " is held outside the dumped processes" + (fd <= 2 ? "; dump with --shell-job to give the restored"
                + " process the restoring terminal instead" : "; dump its master's holder too"));
    }

    @Override
    public int open(FileOpener opener) throws IOException {
        return opener.pty(this);
    }

    /** The flags jcriu opens this side with: O_ASYNC is set inside the process, with its owner ({@link Owner}). */
    public int openFlags() {
        return flags & ~(O_CLOEXEC | Owner.O_ASYNC);
    }

    /**
     * O_ASYNC and its owner; in the session leader whose controlling terminal this is (made so
     * when its session was made again): the foreground process group, now that every group exists.
     */
    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        if (first) owner.apply(p, id, flags, describe());
        if (pair == null || pair.sid() != p.pid() || pair.pgrp() <= 0) return;
        long arg = p.put(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(pair.pgrp()).array());
        int fd = p.fdsOf(id).getFirst();
        p.call("ioctl(TIOCSPGRP " + pair.pgrp() + ") on " + describe(), Nr.IOCTL, fd, TtySys.TIOCSPGRP, arg);
        p.log("process " + p.pid() + ": foreground group of " + pair.slavePath() + " is " + pair.pgrp());
    }
}

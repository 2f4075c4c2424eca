package jcriu.restore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcriu.api.Log;
import jcriu.files.OpenFile;
import jcriu.files.Pty;
import jcriu.files.PtyPair;
import jcriu.state.TreeState;
import jcriu.sys.Nr;
import jcriu.sys.Sys;
import jcriu.sys.SysException;
import jcriu.sys.TtySys;

/**
 * The tree's pty pairs made again, each once, in jcriu: a master opened from /dev/ptmx with
 * the slave index it had (the kernel gives the lowest free index, so lower ones are held
 * open meanwhile, as CRIU does; a taken index is refused, naming it), its termios, window size,
 * modes and the bytes queued for the master. A session leader whose controlling terminal
 * the pair was gets it back as soon as its session is made, before any of its children
 * is cloned, so that they inherit it.
 */
final class Terminals implements AutoCloseable {
    private static final int O_RDWR = 2, O_NOCTTY = 0400, O_NONBLOCK = 04000, O_CLOEXEC = 02000000;
    /** More than any machine's ptys in use; bounds the search for a free index. */
    private static final int MAX_INDEX = 4096;

    /** jcriu's fds on a pair: its master, handed out once, and a slave kept for set-up. */
    private static final class Open {
        final int master, slave;
        boolean masterHandedOut;

        Open(int master, int slave) {
            this.master = master;
            this.slave = slave;
        }
    }

    private final TreeState tree;
    private final Log log;
    private final Map<Integer, Open> open = new HashMap<>();

    Terminals(TreeState tree, Log log) {
        this.tree = tree;
        this.log = log;
    }

    /** Runs one system call inside a process being restored. */
    interface Inject {
        long call(String what, int nr, long... args);
    }

    /** jcriu's fd for side {@code p}: the master (once), or a new description of the slave. */
    int open(Pty p) throws IOException {
        Open o = pair(p.pair());
        if (p.master()) {
            if (o.masterHandedOut) throw new IOException(p.describe() + " is wanted by two descriptions; a master has one");
            o.masterHandedOut = true;
            return OpenFile.withFlags(o.master, p.openFlags());
        }
        int fd = TtySys.openPeer(o.master, p.openFlags() | O_NOCTTY | O_CLOEXEC);
        return OpenFile.withFlags(fd, p.openFlags());
    }

    /**
     * Process {@code pid} has just called setsid(): if a pair was its session's controlling
     * terminal, it takes it (TIOCSCTTY on a copy of jcriu's slave fd).
     */
    void sessionMade(int pid, Inject inj) throws IOException {
        for (OpenFile f : tree.files()) {
            if (!(f instanceof Pty p) || !p.master() || p.pair().sid() != pid) continue;
            Open o = pair(p.pair());
            long pidfd = inj.call("pidfd_open(jcriu)", Nr.PIDFD_OPEN, Sys.getpid(), 0);
            try {
                long fd = inj.call("pidfd_getfd(" + o.slave + ")", Nr.PIDFD_GETFD, pidfd, o.slave, 0);
                try {
                    inj.call("ioctl(TIOCSCTTY) on " + p.pair().slavePath(), Nr.IOCTL, fd, TtySys.TIOCSCTTY, 0);
                } finally {
                    inj.call("close", Nr.CLOSE, fd);
                }
            } finally {
                inj.call("close pidfd", Nr.CLOSE, pidfd);
            }
            log.debug("process " + pid + ": controlling terminal " + p.pair().slavePath());
        }
    }

    private Open pair(PtyPair p) throws IOException {
        Open o = open.get(p.index());
        if (o != null) return o;
        int master = ptmxAt(p.index());
        int slave = -1;
        try {
            TtySys.setInt(master, TtySys.TIOCSPTLCK, 0);
            slave = TtySys.openPeer(master, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
            configure(master, slave, p);
        } catch (IOException | RuntimeException e) {
            if (slave >= 0) Sys.close(slave);
            Sys.close(master);
            throw e;
        }
        o = new Open(master, slave);
        open.put(p.index(), o);
        log.debug(p.slavePath() + ": pty pair made again (" + p.toMaster().length + " bytes queued for the master, " + p.toSlave().length
                + " for the slave's reader)");
        return o;
    }

    private static void configure(int master, int slave, PtyPair p) throws IOException {
        // the bytes queued for the master go in through the slave with output processing off
        PtyPair.writeBack(slave, p.termios(), p.toMaster(), p.slavePath());
        PtyPair.writeInput(master, slave, p);
        TtySys.setLockedTermios(slave, p.lockedTermios());
        TtySys.setWinsize(master, p.winsize());
        if (p.packet()) TtySys.setInt(master, TtySys.TIOCPKT, 1);
        if (p.masterExclusive()) Sys.call("ioctl(TIOCEXCL)", Nr.IOCTL, master, TtySys.TIOCEXCL);
        if (p.slaveExclusive()) Sys.call("ioctl(TIOCEXCL)", Nr.IOCTL, slave, TtySys.TIOCEXCL);
        if (p.locked()) TtySys.setInt(master, TtySys.TIOCSPTLCK, 1);
        Path node = Path.of(p.slavePath());
        if (p.uid() != 0 || p.gid() != 0) {
            Files.setAttribute(node, "unix:uid", p.uid());
            Files.setAttribute(node, "unix:gid", p.gid());
        }
    }

    /** /dev/ptmx opened until it gives {@code index}; the lower ones, taken meanwhile, closed again. */
    private static int ptmxAt(int index) throws IOException {
        List<Integer> lower = new ArrayList<>();
        try {
            for (int tries = 0; tries <= MAX_INDEX; tries++) {
                int fd = Sys.open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
                int got;
                try {
                    got = TtySys.getInt(fd, TtySys.TIOCGPTN);
                } catch (SysException e) {
                    Sys.close(fd);
                    throw e;
                }
                if (got == index) return fd;
                if (got > index) {
                    Sys.close(fd);
                    throw new IOException("cannot make /dev/pts/" + index + " again: it is in use now (a new pty got"
                            + " /dev/pts/" + got + "); end what holds it, or restore where that index is free");
                }
                lower.add(fd);
            }
            throw new IOException("cannot make /dev/pts/" + index + " again: no free index up to it");
        } catch (SysException e) {
            throw new IOException("cannot make /dev/pts/" + index + " again: " + e.getMessage(), e);
        } finally {
            for (int fd : lower) Sys.close(fd);
        }
    }

    @Override
    public void close() {
        for (Open o : open.values()) {
            Sys.close(o.slave);
            if (!o.masterHandedOut) Sys.close(o.master);
        }
        open.clear();
    }
}

package jcriu.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import jcriu.sys.Errno;
import jcriu.sys.FdSys;
import jcriu.sys.Sys;
import jcriu.sys.SysException;
import jcriu.sys.TtySys;
import jcriu.sys.TtySys.Termios;
import jcriu.sys.TtySys.Winsize;

/**
 * A Unix98 pseudo-terminal pair as its master shows it: the slave's index (/dev/pts/N), its
 * termios (locked bits too), window size, the master's lock and packet mode, the session whose
 * controlling terminal it is and that session's foreground group, the slave node's owner, and
 * the bytes the slave wrote that the master has not read yet ({@code toMaster}) and those
 * written to the master that the slave's reader has not read yet ({@code toSlave}, a partial
 * line included: {@link PtyInput}).
 */
public record PtyPair(int index, Termios termios, Termios lockedTermios, Winsize winsize, boolean locked,
                      boolean packet, boolean masterExclusive, boolean slaveExclusive, int sid, int pgrp, int uid,
                      int gid, byte[] toMaster, byte[] toSlave) {
    /** UNIX98_PTY_SLAVE_MAJOR: 136 to 143 hold the slaves' minors. */
    public static final int SLAVE_MAJOR = 136;
    private static final int O_RDWR = 2, O_NOCTTY = 0400, O_NONBLOCK = 04000, O_CLOEXEC = 02000000;
    private static final int POLLIN = 1;

    public String slavePath() {
        return "/dev/pts/" + index;
    }

    /** This pair with the slave's exclusive mode (TIOCEXCL), seen through a slave fd. */
    PtyPair withSlaveExclusive(boolean excl) {
        return new PtyPair(index, termios, lockedTermios, winsize, locked, packet, masterExclusive, excl, sid, pgrp,
                uid, gid, toMaster, toSlave);
    }

    /**
     * Reads the pair through jcriu's fd {@code master} on its master (a copy of a frozen
     * process's). The bytes queued for the master are read out and written back at once
     * through the slave with output processing off, so the live pair holds them again as
     * they were (a dump that then fails or leaves the tree running loses nothing); so are the
     * bytes queued for the slave's reader ({@link PtyInput}).
     */
    static PtyPair read(int master, String what) throws IOException {
        int index = TtySys.getInt(master, TtySys.TIOCGPTN);
        boolean packet = TtySys.getInt(master, TtySys.TIOCGPKT) != 0;
        int peer = TtySys.openPeer(master, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        try {
            Termios t = TtySys.getTermios(master);
            byte[] toSlave = PtyInput.readAndPutBack(master, peer, t, what + ": /dev/pts/" + index);
            byte[] queued = drain(master);
            if (queued.length > 0 && packet) {
                writeBack(peer, t, queued, what);
                throw new IOException(what + ": /dev/pts/" + index + "'s master is in packet mode with " + queued.length
                        + " bytes not read; jcriu cannot save those");
            }
            if (queued.length > 0) writeBack(peer, t, queued, what);
            int uid = 0, gid = 0;
            try {
                Path slave = Path.of("/dev/pts/" + index);
                uid = (Integer) Files.getAttribute(slave, "unix:uid");
                gid = (Integer) Files.getAttribute(slave, "unix:gid");
            } catch (IOException | UnsupportedOperationException e) {
                // another devpts instance: the restore leaves the new node's owner as it comes
            }
            return new PtyPair(index, t, TtySys.getLockedTermios(master), TtySys.getWinsize(master),
                    TtySys.getInt(master, TtySys.TIOCGPTLCK) != 0, packet,
                    TtySys.getInt(master, TtySys.TIOCGEXCL) != 0, TtySys.getInt(peer, TtySys.TIOCGEXCL) != 0,
                    TtySys.session(master), TtySys.foregroundGroup(master), uid, gid, queued, toSlave);
        } finally {
            Sys.close(peer);
        }
    }

    /** At restore: the bytes queued for the slave's reader, typed in again through the master, quietly. */
    public static void writeInput(int master, int slave, PtyPair p) throws IOException {
        if (p.toSlave().length > 0) PtyInput.putBack(master, slave, p.termios(), p.toSlave(), p.slavePath());
    }

    /** Everything the master can read now; poll first, which moves the slave's output into the master's queue. */
    private static byte[] drain(int master) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        while ((FdSys.pollNow(master, POLLIN) & POLLIN) != 0) {
            int n = TtySys.getInt(master, TtySys.FIONREAD);
            if (n <= 0) break;
            out.writeBytes(Sys.read(master, n));
        }
        return out.toByteArray();
    }

    /**
     * Writes {@code data} through slave fd {@code slave} (non-blocking) so that the master reads
     * exactly these bytes: output processing (OPOST) is off meanwhile, then {@code final} is set.
     */
    public static void writeBack(int slave, Termios fin, byte[] data, String what) throws IOException {
        TtySys.setTermios(slave, fin.withOflag(fin.oflag() & ~Termios.OPOST));
        try {
            int off = 0;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (off < data.length) {
                try {
                    off += TtySys.writeSome(slave, data, off);
                } catch (SysException e) {
                    if (!e.is(Errno.EAGAIN) || System.nanoTime() > deadline) {
                        throw new IOException(what + ": cannot put back " + (data.length - off) + " of the " + data.length
                                + " bytes queued for the master: " + e.getMessage(), e);
                    }
                    Thread.onSpinWait();
                }
            }
        } finally {
            TtySys.setTermios(slave, fin);
        }
    }
}

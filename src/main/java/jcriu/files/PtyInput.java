package jcriu.files;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

import jcriu.sys.Errno;
import jcriu.sys.FdSys;
import jcriu.sys.Sys;
import jcriu.sys.SysException;
import jcriu.sys.TtySys;
import jcriu.sys.TtySys.Termios;

/**
 * The input queue of a pty's slave: bytes written to the master (typed) that the slave's
 * reader has not read, a partial line in canonical mode included. In canonical mode the whole
 * lines are read first, one per read(2) as a reader would get them: a line that comes without
 * its newline (or VEOL, VEOL2) was ended by an end-of-file (VEOF, which n_tty does not hand
 * out), and the VEOF character is saved in its place. Then ICANON is lifted for the moment:
 * n_tty makes the partial line readable, and with the queue empty, setting ICANON again
 * leaves no line behind. The queue is put back by writing it through the master with the
 * slave's input processing quiet: no echo (the echo was sent when it was typed), no signals,
 * no translation, no erase, kill or literal-next characters; newlines, VEOL, VEOL2 and VEOF
 * end the same lines as before. CRIU writes the same bytes through the master at its restore.
 */
final class PtyInput {
    // asm-generic/termbits.h
    private static final int ISIG = 01, ICANON = 02, XCASE = 04, ECHO = 010, ECHOE = 020, ECHOK = 040,
            ECHONL = 0100, ECHOCTL = 01000, ECHOPRT = 02000, ECHOKE = 04000, FLUSHO = 010000, PENDIN = 040000,
            IEXTEN = 0100000;
    private static final int IXON = 02000, IXANY = 04000, IXOFF = 010000;
    private static final int VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6, VEOL = 11, VREPRINT = 12,
            VWERASE = 14, VLNEXT = 15, VEOL2 = 16;
    private static final int POLLIN = 1, LINE_MAX = 4096; // N_TTY_BUF_SIZE: a line is never longer

    private PtyInput() {}

    /**
     * Reads out what slave fd {@code slave} (jcriu's own, non-blocking) has queued for its
     * reader and writes it back at once through {@code master}, so that the live pair holds it
     * again (a dump that then fails or leaves the tree running loses nothing). A queue that
     * could not be put back as it is (a line holding a line-ending character typed literally)
     * is refused after the write-back.
     */
    static byte[] readAndPutBack(int master, int slave, Termios t, String what) throws IOException {
        FdSys.pollNow(slave, POLLIN); // moves what the master wrote into the slave's input queue
        boolean canon = (t.lflag() & ICANON) != 0;
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        String literal = null;
        if (canon) {
            for (int i = 0; i < LINE_MAX && (FdSys.pollNow(slave, POLLIN) & POLLIN) != 0; i++) {
                byte[] line;
                try {
                    line = Sys.read(slave, LINE_MAX);
                } catch (SysException e) {
                    if (e.is(Errno.EAGAIN)) break;
                    throw e;
                }
                int body = line.length > 0 && endsLine(t, line[line.length - 1]) ? line.length - 1 : line.length;
                if (literal == null) literal = special(t, line, body);
                data.writeBytes(line);
                if (body == line.length) data.write(t.cc()[VEOF]); // ended by an end-of-file
            }
        }
        Termios lock = TtySys.getLockedTermios(slave);
        boolean locked = !lock.equals(unlocked());
        if (locked) TtySys.setLockedTermios(slave, unlocked()); // a locked ICANON would keep the partial line hidden
        try {
            byte[] raw = t.cc().clone();
            raw[VTIME] = 0;
            raw[VMIN] = 1; // every byte counts as readable, whatever those slots held in canonical mode
            TtySys.setTermios(slave, with(t, t.iflag(), t.lflag() & ~ICANON, raw));
            byte[] partial;
            try {
                partial = drain(slave);
            } finally {
                TtySys.setTermios(slave, t);
            }
            if (canon && literal == null) literal = special(t, partial, partial.length);
            data.writeBytes(partial);
            if (data.size() > 0) putBack(master, slave, t, data.toByteArray(), what);
        } finally {
            if (locked) TtySys.setLockedTermios(slave, lock);
        }
        if (literal != null) {
            throw new IOException(what + ": a line not read yet from its slave holds " + literal + " typed literally,"
                    + " which would end a line if typed again; jcriu cannot save it");
        }
        return data.toByteArray();
    }

    /** Whether {@code c} ends a line in canonical mode under {@code t} (VEOF aside: n_tty drops it). */
    private static boolean endsLine(Termios t, byte c) {
        if (c == '\n') return true;
        if (c != 0 && c == t.cc()[VEOL]) return true;
        return c != 0 && (t.lflag() & IEXTEN) != 0 && c == t.cc()[VEOL2];
    }

    /** The name of a character among the first {@code n} of {@code b} that would end a line if written again. */
    private static String special(Termios t, byte[] b, int n) {
        for (int i = 0; i < n; i++) {
            if (endsLine(t, b[i])) return "a line end (" + (b[i] & 0xff) + ")";
            if (b[i] != 0 && b[i] == t.cc()[VEOF]) return "the end-of-file character";
        }
        return null;
    }

    /**
     * Writes {@code data} through {@code master} into the input queue of its slave ({@code slave}),
     * whose termios is {@code t}, as it was queued; the slave is left with {@code t}.
     */
    static void putBack(int master, int slave, Termios t, byte[] data, String what) throws IOException {
        byte[] cc = t.cc().clone();
        for (int i : new int[] {VERASE, VKILL, VREPRINT, VWERASE, VLNEXT}) cc[i] = 0; // 0: disabled
        int quietL = t.lflag() & ~(ISIG | XCASE | ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOPRT | ECHOKE | FLUSHO
                | PENDIN);
        // flow control stays as it is: changing it would tell a master in packet mode
        TtySys.setTermios(slave, with(t, t.iflag() & (IXON | IXANY | IXOFF), quietL, cc));
        try {
            int off = 0;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (off < data.length) {
                try {
                    off += TtySys.writeSome(master, data, off);
                } catch (SysException e) {
                    if (!e.is(Errno.EAGAIN) || System.nanoTime() > deadline) {
                        throw new IOException(what + ": cannot put back " + (data.length - off) + " of the " + data.length
                                + " bytes queued for the slave's reader: " + e.getMessage(), e);
                    }
                    Thread.onSpinWait();
                }
            }
            FdSys.pollNow(slave, POLLIN); // the line discipline takes them in now, under these settings
        } finally {
            TtySys.setTermios(slave, t);
        }
    }

    private static byte[] drain(int fd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((FdSys.pollNow(fd, POLLIN) & POLLIN) != 0) {
            int n = TtySys.getInt(fd, TtySys.FIONREAD);
            if (n <= 0) break;
            try {
                out.writeBytes(Sys.read(fd, n));
            } catch (SysException e) {
                if (e.is(Errno.EAGAIN)) break;
                throw e;
            }
        }
        return out.toByteArray();
    }

    private static Termios with(Termios t, int iflag, int lflag, byte[] cc) {
        return new Termios(iflag, t.oflag(), t.cflag(), lflag, t.line(), cc);
    }

    private static Termios unlocked() {
        return new Termios(0, 0, 0, 0, 0, new byte[Termios.NCCS]);
    }
}

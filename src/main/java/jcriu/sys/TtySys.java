package jcriu.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Terminal ioctls (asm-generic/ioctls.h values, x86_64) with Java types: termios, window
 * sizes and the pty master's own state (index, lock, packet mode).
 */
public final class TtySys {
    private TtySys() {}

    public static final long TCGETS = 0x5401, TCSETS = 0x5402, TIOCEXCL = 0x540C, TIOCSCTTY = 0x540E,
            TIOCGPGRP = 0x540F, TIOCSPGRP = 0x5410, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, FIONREAD = 0x541B,
            TIOCPKT = 0x5420, TIOCGSID = 0x5429, TIOCGPTN = 0x80045430L, TIOCSPTLCK = 0x40045431L,
            TIOCGPKT = 0x80045438L, TIOCGPTLCK = 0x80045439L, TIOCGEXCL = 0x80045440L, TIOCGPTPEER = 0x5441,
            TIOCGLCKTRMIOS = 0x5456, TIOCSLCKTRMIOS = 0x5457;

    /** The kernel's struct termios: 4 flag words, the line discipline and 19 control characters. */
    public record Termios(int iflag, int oflag, int cflag, int lflag, int line, byte[] cc) {
        public static final int SIZE = 36, NCCS = 19;
        public static final int OPOST = 1;

        static Termios of(byte[] b) {
            ByteBuffer x = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            byte[] cc = new byte[NCCS];
            System.arraycopy(b, 17, cc, 0, NCCS);
            return new Termios(x.getInt(0), x.getInt(4), x.getInt(8), x.getInt(12), b[16] & 0xff, cc);
        }

        byte[] bytes() {
            ByteBuffer x = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
            x.putInt(iflag).putInt(oflag).putInt(cflag).putInt(lflag).put((byte) line).put(cc, 0, NCCS);
            return x.array();
        }

        public Termios withOflag(int o) {
            return new Termios(iflag, o, cflag, lflag, line, cc);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Termios t && java.util.Arrays.equals(bytes(), t.bytes());
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(bytes());
        }
    }

    /** struct winsize. */
    public record Winsize(int rows, int cols, int xpixel, int ypixel) {}

    public static Termios getTermios(int fd) {
        return Termios.of(FdSys.ioctl(fd, TCGETS, null, Termios.SIZE));
    }

    /** TCSETS: at once, without waiting for output to drain. */
    public static void setTermios(int fd, Termios t) {
        FdSys.ioctl(fd, TCSETS, t.bytes(), Termios.SIZE);
    }

    public static Termios getLockedTermios(int fd) {
        return Termios.of(FdSys.ioctl(fd, TIOCGLCKTRMIOS, null, Termios.SIZE));
    }

    /** Needs CAP_SYS_ADMIN. */
    public static void setLockedTermios(int fd, Termios t) {
        FdSys.ioctl(fd, TIOCSLCKTRMIOS, t.bytes(), Termios.SIZE);
    }

    public static Winsize getWinsize(int fd) {
        ByteBuffer b = ByteBuffer.wrap(FdSys.ioctl(fd, TIOCGWINSZ, null, 8)).order(ByteOrder.LITTLE_ENDIAN);
        return new Winsize(b.getShort(0) & 0xffff, b.getShort(2) & 0xffff, b.getShort(4) & 0xffff, b.getShort(6) & 0xffff);
    }

    public static void setWinsize(int fd, Winsize w) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) w.rows()).putShort((short) w.cols()).putShort((short) w.xpixel()).putShort((short) w.ypixel());
        FdSys.ioctl(fd, TIOCSWINSZ, b.array(), 8);
    }

    /** An ioctl answering an int through its pointer argument. */
    public static int getInt(int fd, long request) {
        return Sys.ioctlInt(fd, request);
    }

    /** An ioctl taking a pointer to an int. */
    public static void setInt(int fd, long request, int value) {
        FdSys.ioctl(fd, request, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array(), 4);
    }

    /** The session of the terminal behind {@code fd} (a pty master answers for its slave), 0 if it has none. */
    public static int session(int fd) {
        try {
            return getInt(fd, TIOCGSID);
        } catch (SysException e) {
            if (e.is(Errno.ENOTTY)) return 0;
            throw e;
        }
    }

    /** The foreground process group of the terminal behind {@code fd} (a master answers for its slave); 0 if none. */
    public static int foregroundGroup(int fd) {
        try {
            return getInt(fd, TIOCGPGRP);
        } catch (SysException e) {
            if (e.is(Errno.ENOTTY)) return 0;
            throw e;
        }
    }

    /** One write(2) of {@code data} from {@code off}; the bytes written (a non-blocking fd may take fewer). */
    public static int writeSome(int fd, byte[] data, int off) {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            var buf = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE,
                    java.util.Arrays.copyOfRange(data, off, data.length));
            return (int) Sys.call("write", Nr.WRITE, fd, buf.address(), data.length - off);
        }
    }

    /** A new description of the slave of master {@code master}, opened with {@code flags} (even while locked). */
    public static int openPeer(int master, int flags) {
        return (int) FdSys.ioctlValue(master, TIOCGPTPEER, flags);
    }
}

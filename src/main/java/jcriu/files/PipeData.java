package jcriu.files;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

import jcriu.sys.Sys;

/**
 * What a pipe or FIFO holds: its capacity and its unread bytes, copied by tee(2) from a
 * second opening of its read side ({@code /proc/PID/fd/N}), so that nothing is consumed.
 */
public record PipeData(int capacity, byte[] data) {
    private static final int O_RDONLY_NONBLOCK_CLOEXEC = 04000 | 02000000;
    private static final int SPLICE_F_NONBLOCK = 2, FIONREAD = 0x541B;

    /** {@code link}: a /proc path to an fd on the pipe; {@code what} names it in errors. */
    public static PipeData peek(String link, String what) throws IOException {
        int fd = Sys.open(link, O_RDONLY_NONBLOCK_CLOEXEC);
        int[] tmp = null;
        try {
            int capacity = (int) Sys.fcntl(fd, Sys.F_GETPIPE_SZ, 0);
            int queued = Sys.ioctlInt(fd, FIONREAD);
            byte[] data = new byte[0];
            if (queued > 0) {
                tmp = Sys.pipe2(O_RDONLY_NONBLOCK_CLOEXEC);
                Sys.fcntl(tmp[1], Sys.F_SETPIPE_SZ, capacity);
                long n = Sys.tee(fd, tmp[1], capacity, SPLICE_F_NONBLOCK);
                if (n != queued) throw new IOException(what + " holds " + queued + " bytes but only " + n + " could be copied");
                ByteArrayOutputStream b = new ByteArrayOutputStream(queued);
                while (b.size() < queued) b.writeBytes(Sys.read(tmp[0], queued - b.size()));
                data = b.toByteArray();
            }
            return new PipeData(capacity, data);
        } finally {
            Sys.close(fd);
            if (tmp != null) {
                Sys.close(tmp[0]);
                Sys.close(tmp[1]);
            }
        }
    }
}

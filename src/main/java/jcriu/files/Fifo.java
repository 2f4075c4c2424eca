package jcriu.files;

import java.io.IOException;
import java.nio.file.Path;

import com.google.protobuf.ByteString;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FifoEntry;
import jcriu.image.pb.FileEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.Sys;

/**
 * One end of a named pipe, opened by path, with the bytes that were in the FIFO, unread
 * (copied with tee(2) at dump, so nothing is consumed). At restore jcriu holds the FIFO open
 * for reading and writing while it refills it and reopens every description, so that no
 * open waits for the other side. {@code deleted}: the FIFO was unlinked while open; the
 * restore makes one with its {@code mode} at a temporary name beside the old one, opens it
 * and unlinks it again, so no name stays behind.
 */
public record Fifo(int id, String path, long ino, int flags, byte[] data, Owner owner, boolean deleted, int mode)
        implements OpenFile {
    private static final int O_NONBLOCK = 04000;

    static Fifo save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        String path = fd.path().orElseThrow();
        byte[] data = PipeData.peek("/proc/" + ctx.pid() + "/fd/" + fd.fd(), what).data();
        int flags = fd.flags() & ~O_CLOEXEC;
        return new Fifo(id, path, fd.ino(), flags, data, Owner.save(ctx, fd.fd(), flags), fd.deleted(),
                fd.stat().mode());
    }

    static Fifo decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasFifo() || !e.getFifo().hasJcriuPath()) {
            throw new ImageException(where, offset, "FIFO " + e.getId() + " has no path (an image of CRIU's?)");
        }
        FifoEntry f = e.getFifo();
        return new Fifo(e.getId(), f.getJcriuPath(), Integer.toUnsignedLong(f.getPipeId()), f.getJcriuFlags(),
                f.getJcriuData().toByteArray(), f.hasJcriuFown() ? Owner.decode(f.getJcriuFown()) : Owner.NONE,
                f.getJcriuDeleted(), f.getJcriuMode());
    }

    @Override
    public String describe() {
        return path + (deleted ? " (FIFO, deleted)" : " (FIFO)");
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.FIFO).setId(id).setFifo(FifoEntry.newBuilder().setId(id)
                .setPipeId((int) ino).setJcriuPath(path).setJcriuFlags(flags).setJcriuData(ByteString.copyFrom(data))
                .setJcriuFown(owner.encode()).setJcriuDeleted(deleted).setJcriuMode(mode)).build();
    }

    @Override
    public int open(FileOpener opener) throws IOException {
        int holder = opener.fifo(this);
        int fd = Sys.open("/proc/self/fd/" + holder, (flags & ~Owner.O_ASYNC) | O_NONBLOCK | O_CLOEXEC);
        return OpenFile.withFlags(fd, flags & ~Owner.O_ASYNC); // O_ASYNC: set inside the process (Owner)
    }

    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        if (first) owner.apply(p, id, flags, path);
    }
}

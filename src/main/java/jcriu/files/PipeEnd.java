package jcriu.files;

import java.io.IOException;
import java.nio.file.Path;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.PipeEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.Sys;

/**
 * One end of an unnamed pipe: the pipe is named by its inode, the end by the access mode
 * of its flags. The pipe itself (capacity, unread bytes) is a
 * {@link jcriu.state.PipeState}, created once at restore for all of its ends.
 */
public record PipeEnd(int id, long ino, int flags, Owner owner, boolean external) implements OpenFile {
    private static final int O_ACCMODE = 03, O_RDONLY = 0;

    public PipeEnd(int id, long ino, int flags) {
        this(id, ino, flags, Owner.NONE, false);
    }

    /** This end, of a pipe whose other end is outside the dumped processes. */
    public PipeEnd asExternal() {
        return new PipeEnd(id, ino, flags, owner, true);
    }

    /** CRIU's --inherit-fd key of the pipe. */
    public String key() {
        return "pipe:[" + ino + "]";
    }

    static PipeEnd save(int id, FdInfo fd, SaveContext ctx) throws IOException {
        int flags = fd.flags() & ~O_CLOEXEC;
        return new PipeEnd(id, fd.ino(), flags, Owner.save(ctx, fd.fd(), flags), false);
    }

    static PipeEnd decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasPipe()) throw new ImageException(where, offset, "file " + e.getId() + " of type PIPE has no pipe entry");
        PipeEntry p = e.getPipe();
        return new PipeEnd(e.getId(), Integer.toUnsignedLong(p.getPipeId()), p.getFlags() & ~O_CLOEXEC,
                Owner.decode(p.getFown()), p.getJcriuExternal());
    }

    public boolean readEnd() {
        return (flags & O_ACCMODE) == O_RDONLY;
    }

    @Override
    public String describe() {
        return "pipe:[" + ino + "]";
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.PIPE).setId(id).setPipe(PipeEntry.newBuilder().setId(id)
                .setPipeId((int) ino).setFlags(flags).setFown(owner.encode()).setJcriuExternal(external)).build();
    }

    /**
     * The pipe's end as created for the whole tree, or for an external pipe the fd given for it
     * (--inherit-fd); the flags (O_NONBLOCK) go on the description.
     */
    @Override
    public int open(FileOpener opener) throws IOException {
        int end = external ? opener.inheritedFor(key()) : opener.pipeEnd(ino, readEnd());
        Sys.fcntl(end, Sys.F_SETFL, flags & ~Owner.O_ASYNC);
        return end;
    }

    /** O_ASYNC and its owner, set inside the process (see {@link Owner}). */
    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        if (first) owner.apply(p, id, flags, describe());
    }
}

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
public record PipeEnd(int id, long ino, int flags) implements OpenFile {
    private static final int O_ACCMODE = 03, O_RDONLY = 0;

    static PipeEnd save(int id, FdInfo fd) {
        return new PipeEnd(id, fd.ino(), fd.flags() & ~O_CLOEXEC);
    }

    static PipeEnd decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasPipe()) throw new ImageException(where, offset, "file " + e.getId() + " of type PIPE has no pipe entry");
        PipeEntry p = e.getPipe();
        return new PipeEnd(e.getId(), Integer.toUnsignedLong(p.getPipeId()), p.getFlags() & ~O_CLOEXEC);
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
                .setPipeId((int) ino).setFlags(flags).setFown(NO_OWNER)).build();
    }

    /** The pipe's end as created for the whole tree; the flags (O_NONBLOCK) go on the description. */
    @Override
    public int open(FileOpener opener) throws IOException {
        int end = opener.pipeEnd(ino, readEnd());
        Sys.fcntl(end, Sys.F_SETFL, flags);
        return end;
    }
}

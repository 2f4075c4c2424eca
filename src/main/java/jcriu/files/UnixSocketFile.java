package jcriu.files;

import java.io.IOException;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.net.UnixSocket;

/**
 * An open unix socket; what it is and how it comes back is {@link UnixSocket}'s business (package
 * jcriu.net). Its O_ASYNC owner and signal ({@code owner}) are set inside the process.
 * {@code outside}: not a socket of the tree but the peer of one, outside the dumped processes,
 * written as CRIU does (uflags USK_EXTERN, no fd refers to it) and never made at restore.
 */
public record UnixSocketFile(int id, UnixSocket socket, Owner owner, boolean outside) implements OpenFile {
    public static final int USK_EXTERN = 1;

    public UnixSocketFile(int id, UnixSocket socket, Owner owner) {
        this(id, socket, owner, false);
    }

    @Override
    public String describe() {
        return socket.describe();
    }

    @Override
    public FileEntry encode() {
        var usk = socket.encode(id, owner.encode());
        if (outside) usk = usk.toBuilder().setUflags(USK_EXTERN).build();
        return FileEntry.newBuilder().setType(FdTypes.UNIXSK).setId(id).setUsk(usk).build();
    }

    /** Every socket of the tree is made at the first one asked for: peers must be made together. */
    @Override
    public int open(FileOpener opener) throws IOException {
        if (outside) throw new IOException(describe() + " was outside the dumped processes; no fd can be made of it");
        return opener.socket(id);
    }

    /** O_ASYNC and its owner (the socket is made without O_ASYNC: see {@link Owner}). */
    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        if (first) owner.apply(p, id, socket.flags(), describe());
    }
}

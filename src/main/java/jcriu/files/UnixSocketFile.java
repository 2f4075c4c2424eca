package jcriu.files;

import java.io.IOException;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.net.UnixSocket;

/**
 * An open unix socket; what it is and how it comes back is {@link UnixSocket}'s business (package
 * jcriu.net). Its O_ASYNC owner and signal ({@code owner}) are set inside the process.
 */
public record UnixSocketFile(int id, UnixSocket socket, Owner owner) implements OpenFile {
    @Override
    public String describe() {
        return socket.describe();
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.UNIXSK).setId(id).setUsk(socket.encode(id, owner.encode())).build();
    }

    /** Every socket of the tree is made at the first one asked for: peers must be made together. */
    @Override
    public int open(FileOpener opener) throws IOException {
        return opener.socket(id);
    }

    /** O_ASYNC and its owner (the socket is made without O_ASYNC: see {@link Owner}). */
    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        if (first) owner.apply(p, id, socket.flags(), describe());
    }
}

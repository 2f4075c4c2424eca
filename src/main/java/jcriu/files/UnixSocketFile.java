package jcriu.files;

import java.io.IOException;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.net.UnixSocket;

/** An open unix socket; what it is and how it comes back is {@link UnixSocket}'s business (package jcriu.net). */
public record UnixSocketFile(int id, UnixSocket socket) implements OpenFile {
    @Override
    public String describe() {
        return socket.describe();
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.UNIXSK).setId(id).setUsk(socket.encode(id, NO_OWNER)).build();
    }

    /** Every socket of the tree is made at the first one asked for: peers must be made together. */
    @Override
    public int open(FileOpener opener) throws IOException {
        return opener.socket(id);
    }
}

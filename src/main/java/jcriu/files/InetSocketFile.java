package jcriu.files;

import java.io.IOException;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.net.InetSocket;

/** An open TCP or UDP socket; see {@link InetSocket} (package jcriu.net). */
public record InetSocketFile(int id, InetSocket socket) implements OpenFile {
    @Override
    public String describe() {
        return socket.describe();
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.INETSK).setId(id).setIsk(socket.encode(id, NO_OWNER)).build();
    }

    @Override
    public int open(FileOpener opener) throws IOException {
        return opener.socket(id);
    }
}

package jcriu.files;

import java.io.IOException;

import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.net.InetSocket;

/**
 * An open TCP or UDP socket; see {@link InetSocket} (package jcriu.net). Its O_ASYNC owner and
 * signal ({@code owner}) are set inside the process.
 */
public record InetSocketFile(int id, InetSocket socket, Owner owner) implements OpenFile {
    @Override
    public String describe() {
        return socket.describe();
    }

    @Override
    public FileEntry encode() {
        return FileEntry.newBuilder().setType(FdTypes.INETSK).setId(id).setIsk(socket.encode(id, owner.encode())).build();
    }

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

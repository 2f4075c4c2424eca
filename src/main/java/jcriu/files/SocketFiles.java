package jcriu.files;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jcriu.image.ImageDir;
import jcriu.net.InetSocket;
import jcriu.net.Socket;
import jcriu.net.SocketImages;
import jcriu.net.UnixSocket;

/** The sockets among a tree's open files, and their images beside files.img (queues, TCP streams). */
public final class SocketFiles {
    private SocketFiles() {}

    /**
     * File id to socket, in file order: the tree's sockets, not the entries of peers outside
     * (a socket connected to one is given the outside peer's name when it has none of its own
     * record of it: an image of CRIU's).
     */
    public static Map<Integer, Socket> sockets(List<OpenFile> files) {
        Map<Integer, byte[]> outside = new java.util.HashMap<>();
        for (OpenFile f : files) if (f instanceof UnixSocketFile u && u.outside()) outside.put(u.socket().ino(), u.socket().name());
        Map<Integer, Socket> out = new LinkedHashMap<>();
        for (OpenFile f : files) {
            if (f instanceof UnixSocketFile u && !u.outside()) {
                UnixSocket s = u.socket();
                byte[] name = outside.get(s.peer());
                out.put(u.id(), name != null && name.length > 0 && s.peerName() == null ? s.withPeerName(name) : s);
            }
            if (f instanceof InetSocketFile i) out.put(i.id(), i.socket());
        }
        return out;
    }

    /**
     * The --inherit-fd key of description {@code f} when the restore must take it from the user
     * (a pipe or a unix connection whose other end was outside the dumped processes), else
     * null; {@code sockets}: every socket of the images.
     */
    public static String inheritKey(OpenFile f, java.util.Collection<Socket> sockets) {
        if (f instanceof PipeEnd p && p.external()) return p.key();
        if (f instanceof UnixSocketFile u && u.socket().external(sockets)) return u.socket().inheritKey();
        return null;
    }

    public static void write(ImageDir dir, List<OpenFile> files) throws IOException {
        SocketImages.write(dir, sockets(files));
    }

    /** {@code files} with each socket's queued messages and TCP stream read back. */
    public static List<OpenFile> read(ImageDir dir, List<OpenFile> files) throws IOException {
        Map<Integer, Socket> full = SocketImages.read(dir, sockets(files));
        List<OpenFile> out = new ArrayList<>(files.size());
        for (OpenFile f : files) {
            out.add(switch (full.get(f.id())) {
                case UnixSocket u -> new UnixSocketFile(f.id(), u, ((UnixSocketFile) f).owner());
                case InetSocket i -> new InetSocketFile(f.id(), i, ((InetSocketFile) f).owner());
                case null -> f;
            });
        }
        return out;
    }
}

package jcriu.net;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.protobuf.ByteString;

import jcriu.image.ImageDir;
import jcriu.image.ImageException;
import jcriu.image.ImageFile;
import jcriu.image.ImageInput;
import jcriu.image.ImageOutput;
import jcriu.image.pb.ScmEntry;
import jcriu.image.pb.SkPacketEntry;
import jcriu.image.pb.TcpStreamEntry;
import jcriu.sys.Net;

/**
 * What sockets hold beyond their files.img entries, in CRIU's images: queued messages in
 * sk-queues.img (per message, the id of the socket whose receive queue held it) and each
 * established TCP connection in tcp-stream-INO.img.
 */
public final class SocketImages {
    private SocketImages() {}

    /** Writes the queues and streams of {@code sockets} (file id to socket). */
    public static void write(ImageDir dir, Map<Integer, Socket> sockets) throws IOException {
        boolean anyQueue = sockets.values().stream().anyMatch(s -> !queue(s).isEmpty());
        if (anyQueue) {
            try (ImageOutput o = dir.create(ImageFile.skQueues())) {
                for (var e : sockets.entrySet()) {
                    for (QueuedMessage m : queue(e.getValue())) {
                        SkPacketEntry.Builder p = SkPacketEntry.newBuilder().setIdFor(e.getKey()).setLength(m.data().length);
                        if (m.fileIds().length > 0) {
                            ScmEntry.Builder scm = ScmEntry.newBuilder().setType(Net.SCM_RIGHTS);
                            for (int id : m.fileIds()) scm.addRights(id);
                            p.addScm(scm);
                        }
                        if (m.creds() != null) {
                            p.setJcriuPid(m.creds().pid()).setJcriuUid(m.creds().uid()).setJcriuGid(m.creds().gid());
                        }
                        if (m.from() != null) p.setJcriuAddr(ByteString.copyFrom(m.from()));
                        o.write(p.build());
                        o.writeRaw(m.data());
                    }
                }
            }
        }
        for (Socket s : sockets.values()) {
            if (s instanceof InetSocket i && i.stream() != null) {
                try (ImageOutput o = dir.create(ImageFile.tcpStream(i.ino()))) {
                    o.write(i.stream().encode());
                    o.writeRaw(i.stream().inq());
                    o.writeRaw(i.stream().outq());
                }
            }
        }
    }

    private static List<QueuedMessage> queue(Socket s) {
        return switch (s) {
            case UnixSocket u -> u.queue();
            case InetSocket i -> i.queue();
        };
    }

    /**
     * The sockets with their queues and streams read back. A connection of state ESTABLISHED
     * without a tcp-stream image was dumped to be restored closed (--tcp-close).
     */
    public static Map<Integer, Socket> read(ImageDir dir, Map<Integer, Socket> sockets) throws IOException {
        Map<Integer, List<QueuedMessage>> queues = new HashMap<>();
        if (dir.exists(ImageFile.skQueues())) {
            try (ImageInput in = dir.open(ImageFile.skQueues())) {
                for (SkPacketEntry p; (p = in.next(SkPacketEntry.parser())) != null; ) {
                    long at = in.offset();
                    if (!sockets.containsKey(p.getIdFor())) {
                        throw new ImageException(in.file(), at, "a queued message is for file " + p.getIdFor()
                                + ", which is not a socket of files.img");
                    }
                    byte[] data = in.raw(Integer.toUnsignedLong(p.getLength()), "a message queued on file " + p.getIdFor());
                    List<Integer> ids = new ArrayList<>();
                    for (ScmEntry scm : p.getScmList()) {
                        if (scm.getType() != Net.SCM_RIGHTS) {
                            throw new ImageException(in.file(), at, "control message of type " + scm.getType()
                                    + " queued on file " + p.getIdFor() + " is not supported");
                        }
                        ids.addAll(scm.getRightsList());
                    }
                    QueuedMessage.Creds creds = p.hasJcriuPid()
                            ? new QueuedMessage.Creds(p.getJcriuPid(), p.getJcriuUid(), p.getJcriuGid()) : null;
                    queues.computeIfAbsent(p.getIdFor(), k -> new ArrayList<>()).add(new QueuedMessage(data, creds,
                            ids.stream().mapToInt(Integer::intValue).toArray(),
                            p.hasJcriuAddr() ? p.getJcriuAddr().toByteArray() : null));
                }
            }
        }
        Map<Integer, Socket> out = new LinkedHashMap<>();
        for (var e : sockets.entrySet()) {
            List<QueuedMessage> q = queues.getOrDefault(e.getKey(), List.of());
            Socket s = switch (e.getValue()) {
                case UnixSocket u -> u.withQueue(q);
                case InetSocket i -> {
                    InetSocket withQ = i.withQueue(q);
                    ImageFile f = ImageFile.tcpStream(i.ino());
                    if (!i.connection() || !dir.exists(f)) yield withQ;
                    try (ImageInput in = dir.open(f)) {
                        TcpStreamEntry t = in.next(TcpStreamEntry.parser());
                        if (t == null) throw new ImageException(in.file(), 0, "no TCP stream entry");
                        yield withQ.withStream(TcpStream.decode(t, in.raw(Integer.toUnsignedLong(t.getInqLen()),
                                "receive queue"), in.raw(Integer.toUnsignedLong(t.getOutqLen()), "send queue")));
                    }
                }
            };
            out.put(e.getKey(), s);
        }
        return out;
    }
}

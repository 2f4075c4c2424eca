package jcriu.rpc;

import java.io.IOException;

import com.google.protobuf.InvalidProtocolBufferException;

import jcriu.rpc.pb.Req;
import jcriu.rpc.pb.Resp;
import jcriu.sys.Sockets;
import jcriu.sys.SysException;

/**
 * One client connection: a SOCK_SEQPACKET socket carrying one serialized Req or Resp per
 * packet, as CRIU frames them (no length prefix: the packet is the message).
 */
final class Channel implements AutoCloseable {
    private final int fd;
    private final int peer;

    Channel(int fd) {
        this.fd = fd;
        this.peer = Sockets.peerPid(fd);
    }

    /** The client's PID (SO_PEERCRED): the process whose descriptors the request names. */
    int peer() { return peer; }

    int fd() { return fd; }

    /** The next request, or null once the client has closed its end. */
    Req receive() throws IOException {
        byte[] b;
        try {
            b = Sockets.receive(fd);
        } catch (SysException e) {
            throw new IOException("cannot read a request: " + e.getMessage(), e);
        }
        if (b == null) return null;
        try {
            return Req.parseFrom(b);
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("the client sent " + b.length + " bytes that are not a request: " + e.getMessage(), e);
        }
    }

    void send(Resp r) throws IOException {
        try {
            Sockets.send(fd, r.toByteArray());
        } catch (SysException e) {
            throw new IOException("cannot send the " + r.getType() + " response: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        jcriu.sys.Sys.raw(jcriu.sys.Nr.CLOSE, fd, 0, 0, 0, 0, 0);
    }
}

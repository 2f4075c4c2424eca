package jcriu.net;

/**
 * A socket of a dumped tree, as jcriu saves it: one record per kind. {@code ino} is the
 * socket's inode at dump time, which is how sockets of the images name each other (a unix
 * socket's peer, the TCP stream image of a connection).
 */
public sealed interface Socket permits UnixSocket, InetSocket {
    int ino();

    /** File flags of the open file description (O_NONBLOCK matters). */
    int flags();

    /** What a message names: the kind, the state and the addresses. */
    String describe();
}

package jcriu.net;

/**
 * CRIU's socket flags, which dump and restore share (as with CRIU, a restore needs the flags
 * its dump needed). {@code extUnixSk}: a unix socket may be connected to a socket outside the
 * tree: a datagram socket is connected to its name again, a connection is dumped as external
 * (the restore takes the socket given with --inherit-fd); {@code tcpEstablished}:
 * established TCP connections are saved and restored through TCP_REPAIR; {@code tcpClose}:
 * they are restored closed instead; {@code skipInFlight}: connections waiting in a TCP
 * listener's accept queue are dropped (their clients get a reset) instead of failing the dump;
 * {@code skipLock}: the dump locks nothing (--network-lock skip; a restore lifts what the
 * images' inventory names, whatever this says, as CRIU does).
 */
public record NetOptions(boolean extUnixSk, boolean tcpEstablished, boolean tcpClose, boolean skipInFlight,
                         boolean skipLock) {
    public static final NetOptions NONE = new NetOptions(false, false, false, false);

    public NetOptions(boolean extUnixSk, boolean tcpEstablished, boolean tcpClose, boolean skipInFlight) {
        this(extUnixSk, tcpEstablished, tcpClose, skipInFlight, false);
    }

    public NetOptions(boolean extUnixSk, boolean tcpEstablished, boolean tcpClose) {
        this(extUnixSk, tcpEstablished, tcpClose, false);
    }
}

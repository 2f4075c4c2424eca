package jcriu.net;

import jcriu.image.pb.TcpStreamEntry;

/**
 * An established TCP connection as TCP_REPAIR shows it (CRIU's TcpStreamEntry and its queues):
 * {@code inqSeq} is the next sequence number expected from the peer (rcv_nxt), {@code outqSeq}
 * the next one to be written (write_seq); {@code inq} holds the bytes received but unread,
 * {@code outq} the bytes written but not acknowledged, of which the last {@code unsentLen} were
 * never sent. {@code optMask}: TCPI_OPT_* negotiated at the handshake; {@code window}: snd_wl1,
 * snd_wnd, max_window, rcv_wnd, rcv_wup (null if the kernel could not tell).
 */
public record TcpStream(int inqSeq, int outqSeq, int unsentLen, int optMask, int sndWscale, int rcvWscale, int mssClamp,
                        int timestamp, int[] window, byte[] inq, byte[] outq) {
    public static final int TCPI_OPT_TIMESTAMPS = 1, TCPI_OPT_SACK = 2, TCPI_OPT_WSCALE = 4;

    public TcpStreamEntry encode() {
        TcpStreamEntry.Builder b = TcpStreamEntry.newBuilder().setInqLen(inq.length).setInqSeq(inqSeq)
                .setOutqLen(outq.length).setOutqSeq(outqSeq).setOptMask(optMask).setSndWscale(sndWscale)
                .setMssClamp(mssClamp).setUnsqLen(unsentLen);
        if ((optMask & TCPI_OPT_WSCALE) != 0) b.setRcvWscale(rcvWscale);
        if ((optMask & TCPI_OPT_TIMESTAMPS) != 0) b.setTimestamp(timestamp);
        if (window != null) {
            b.setSndWl1(window[0]).setSndWnd(window[1]).setMaxWindow(window[2]).setRcvWnd(window[3])
                    .setRcvWup(window[4]);
        }
        return b.build();
    }

    public static TcpStream decode(TcpStreamEntry e, byte[] inq, byte[] outq) {
        int[] window = e.hasSndWnd() ? new int[] {e.getSndWl1(), e.getSndWnd(), e.getMaxWindow(), e.getRcvWnd(),
                e.getRcvWup()} : null;
        return new TcpStream(e.getInqSeq(), e.getOutqSeq(), e.getUnsqLen(), e.getOptMask(), e.getSndWscale(),
                e.getRcvWscale(), e.getMssClamp(), e.getTimestamp(), window, inq, outq);
    }
}

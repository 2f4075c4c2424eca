package jcriu.files;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.protobuf.ByteString;

import jcriu.image.ImageDir;
import jcriu.image.ImageException;
import jcriu.image.ImageFile;
import jcriu.image.ImageInput;
import jcriu.image.ImageOutput;
import jcriu.image.pb.TermiosEntry;
import jcriu.image.pb.TtyDataEntry;
import jcriu.image.pb.TtyInfoEntry;
import jcriu.image.pb.TtyPtyEntry;
import jcriu.image.pb.TtyType;
import jcriu.image.pb.WinsizeEntry;
import jcriu.proc.FileStat;
import jcriu.sys.TtySys.Termios;
import jcriu.sys.TtySys.Winsize;

/**
 * The pty pairs among a tree's open files, in CRIU's tty-info.img (one entry per side: the
 * slave {@code index * 2}, the master {@code index * 2 + 1}, as CRIU numbers them) and
 * tty-data.img (bytes queued for each side's reader, under that side's id, as CRIU stores them).
 */
public final class TtyImages {
    private TtyImages() {}

    /** Each pair once, by index, from the files that hold its master. */
    static Map<Integer, PtyPair> pairs(List<OpenFile> files) {
        Map<Integer, PtyPair> out = new LinkedHashMap<>();
        for (OpenFile f : files) if (f instanceof Pty p && p.master()) out.put(p.index(), p.pair());
        for (OpenFile f : files) {
            if (f instanceof Pty p && !p.master() && p.pair() != null && p.pair().slaveExclusive()) {
                out.computeIfPresent(p.index(), (k, v) -> v.withSlaveExclusive(true));
            }
        }
        return out;
    }

    public static void write(ImageDir dir, List<OpenFile> files) throws IOException {
        Map<Integer, PtyPair> pairs = pairs(files);
        if (pairs.isEmpty()) return;
        try (ImageOutput o = dir.create(ImageFile.ttyInfo())) {
            for (PtyPair p : pairs.values()) {
                o.write(info(p, true));
                o.write(info(p, false));
            }
            if (files.stream().anyMatch(f -> f instanceof ControllingTerminal)) { // what CRIU writes for /dev/tty
                o.write(TtyInfoEntry.newBuilder().setId(ControllingTerminal.INFO_ID).setType(TtyType.CTTY).setLocked(false)
                        .setExclusive(false).setPacketMode(false).setSid(0).setPgrp(0)
                        .setRdev((int) FileStat.makedev(ControllingTerminal.TTYAUX_MAJOR, ControllingTerminal.TTY_MINOR))
                        .build());
            }
        }
        if (pairs.values().stream().anyMatch(p -> p.toMaster().length > 0 || p.toSlave().length > 0)) {
            try (ImageOutput o = dir.create(ImageFile.ttyData())) {
                for (PtyPair p : pairs.values()) {
                    if (p.toMaster().length > 0) {
                        o.write(TtyDataEntry.newBuilder().setTtyId(p.index() * 2 + 1)
                                .setData(ByteString.copyFrom(p.toMaster())).build());
                    }
                    if (p.toSlave().length > 0) {
                        o.write(TtyDataEntry.newBuilder().setTtyId(p.index() * 2)
                                .setData(ByteString.copyFrom(p.toSlave())).build());
                    }
                }
            }
        }
    }

    private static TtyInfoEntry info(PtyPair p, boolean master) {
        long rdev = master ? FileStat.makedev(Pty.PTMX_MAJOR, Pty.PTMX_MINOR)
                : FileStat.makedev(PtyPair.SLAVE_MAJOR + p.index() / 256, p.index() % 256);
        return TtyInfoEntry.newBuilder().setId(p.index() * 2 + (master ? 1 : 0)).setType(TtyType.PTY)
                .setLocked(p.locked()).setExclusive(master ? p.masterExclusive() : p.slaveExclusive())
                .setPacketMode(p.packet()).setSid(p.sid()).setPgrp(p.pgrp()).setRdev((int) rdev)
                .setTermios(termios(p.termios())).setTermiosLocked(termios(p.lockedTermios()))
                .setWinsize(WinsizeEntry.newBuilder().setWsRow(p.winsize().rows()).setWsCol(p.winsize().cols())
                        .setWsXpixel(p.winsize().xpixel()).setWsYpixel(p.winsize().ypixel()))
                .setPty(TtyPtyEntry.newBuilder().setIndex(p.index())).setUid(p.uid()).setGid(p.gid()).build();
    }

    private static TermiosEntry termios(Termios t) {
        TermiosEntry.Builder b = TermiosEntry.newBuilder().setCIflag(t.iflag()).setCOflag(t.oflag()).setCCflag(t.cflag())
                .setCLflag(t.lflag()).setCLine(t.line()).setCIspeed(0).setCOspeed(0);
        for (byte c : t.cc()) b.addCCc(c & 0xff);
        return b.build();
    }

    private static Termios termios(TermiosEntry e, java.nio.file.Path where, int id) throws IOException {
        if (e.getCCcCount() != Termios.NCCS) {
            throw new ImageException(where, 0, "tty " + id + " has " + e.getCCcCount() + " control characters, not "
                    + Termios.NCCS);
        }
        byte[] cc = new byte[Termios.NCCS];
        for (int i = 0; i < cc.length; i++) cc[i] = (byte) e.getCCc(i);
        return new Termios(e.getCIflag(), e.getCOflag(), e.getCCflag(), e.getCLflag(), e.getCLine(), cc);
    }

    /** {@code files} with each pty side's pair read back; a pty whose tty-info entries are missing is refused. */
    public static List<OpenFile> read(ImageDir dir, List<OpenFile> files) throws IOException {
        if (files.stream().noneMatch(f -> f instanceof Pty)) return files;
        Map<Integer, TtyInfoEntry> infos = new LinkedHashMap<>();
        java.nio.file.Path where = dir.path().resolve(ImageFile.ttyInfo().name());
        if (dir.exists(ImageFile.ttyInfo())) {
            try (ImageInput in = dir.open(ImageFile.ttyInfo())) {
                for (TtyInfoEntry e; (e = in.next(TtyInfoEntry.parser())) != null; ) infos.put(e.getId(), e);
            }
        }
        Map<Integer, byte[]> data = new LinkedHashMap<>();
        if (dir.exists(ImageFile.ttyData())) {
            try (ImageInput in = dir.open(ImageFile.ttyData())) {
                for (TtyDataEntry e; (e = in.next(TtyDataEntry.parser())) != null; ) {
                    data.put(e.getTtyId(), e.getData().toByteArray());
                }
            }
        }
        List<OpenFile> out = new ArrayList<>(files.size());
        for (OpenFile f : files) {
            if (!(f instanceof Pty p)) {
                out.add(f);
                continue;
            }
            TtyInfoEntry m = infos.get(p.index() * 2 + 1), s = infos.get(p.index() * 2);
            if (m == null || s == null) {
                throw new ImageException(where, 0, "file " + p.id() + " is " + p.describe() + ", but tty-info.img has no"
                        + " entries for both sides of that pair (jcriu restores only ptys whose master was dumped)");
            }
            if (m.getType() != TtyType.PTY || !m.hasTermios() || !m.hasTermiosLocked() || !m.hasWinsize()) {
                throw new ImageException(where, 0, "tty " + m.getId() + " is not a pty with termios and window size");
            }
            WinsizeEntry w = m.getWinsize();
            PtyPair pair = new PtyPair(p.index(), termios(m.getTermios(), where, m.getId()),
                    termios(m.getTermiosLocked(), where, m.getId()),
                    new Winsize(w.getWsRow(), w.getWsCol(), w.getWsXpixel(), w.getWsYpixel()), m.getLocked(),
                    m.getPacketMode(), m.getExclusive(), s.getExclusive(), m.getSid(), m.getPgrp(), m.getUid(),
                    m.getGid(), data.getOrDefault(m.getId(), new byte[0]), data.getOrDefault(s.getId(), new byte[0]));
            out.add(p.withPair(pair));
        }
        return out;
    }
}

package jcriu.files;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jcriu.image.ImageException;
import jcriu.image.pb.EventpollFileEntry;
import jcriu.image.pb.EventpollTfdEntry;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.FdSys;
import jcriu.sys.Nr;
import jcriu.sys.Sys;

/**
 * An epoll instance and every file it watches. A watch is keyed by the watched file and the
 * fd number it was registered under ({@code tfd}), which later EPOLL_CTL_MOD/DEL calls
 * name; the process may since have closed that fd or put another file there, and the epoll
 * still watches the file as long as any fd of it is open. So each watch keeps the id of the
 * description it watches (found with kcmp at dump time), and is registered again under its
 * old fd number: if that number now holds another file (or nothing), the watched description
 * is put there just for the epoll_ctl and the fd table is then put back.
 */
public record Epoll(int id, int flags, List<Watch> watches) implements OpenFile {
    private static final int EPOLL_CLOEXEC = O_CLOEXEC;
    private static final Pattern TFD = Pattern.compile(
            "tfd:\\s*(\\d+)\\s+events:\\s*([0-9a-f]+)\\s+data:\\s*([0-9a-f]+)\\s+pos:\\s*(-?\\d+)\\s+ino:\\s*([0-9a-f]+)"
                    + "\\s+sdev:\\s*([0-9a-f]+)");

    /**
     * One watched file: {@code fileId} is the id of its description, 0 when unknown (images of
     * CRIU, which registers the watch on whatever fd {@code tfd} of the process then is).
     * {@code criuTfd} is the number CRIU's restore is to register it under: {@code tfd} when that
     * fd still holds the file, else another fd of the process on it (CRIU's dump does the same),
     * -1 when the process holds it on none.
     */
    public record Watch(int tfd, int events, long data, long ino, int dev, long pos, int fileId, int criuTfd) {}

    public Epoll {
        watches = List.copyOf(watches);
    }

    static Epoll save(int id, String what, FdInfo fd) throws IOException {
        List<Watch> ws = new ArrayList<>();
        for (String l : fd.extra()) {
            if (!l.startsWith("tfd:")) continue;
            Matcher m = TFD.matcher(l);
            if (!m.find()) throw new IOException(what + ": cannot parse the epoll target line '" + l + "'");
            ws.add(new Watch(Integer.parseInt(m.group(1)), Integer.parseUnsignedInt(m.group(2), 16),
                    Long.parseUnsignedLong(m.group(3), 16), Long.parseUnsignedLong(m.group(5), 16),
                    Integer.parseUnsignedInt(m.group(6), 16), Long.parseLong(m.group(4)), 0, -1));
        }
        return new Epoll(id, fd.flags() & ~O_CLOEXEC, ws);
    }

    /**
     * Each watch with the description it watches. Watches under one fd number are told apart by
     * their rank among those (kcmp's "toff"), in the order fdinfo lists them.
     */
    @Override
    public OpenFile link(TreeFiles tree, int pid, int fd) throws IOException {
        List<Watch> out = new ArrayList<>();
        Map<Integer, Integer> rank = new HashMap<>();
        for (Watch w : watches) {
            int toff = rank.merge(w.tfd(), 1, Integer::sum) - 1;
            int target = tree.epollTarget(pid, fd, w.tfd(), toff, w.ino());
            if (target < 0) {
                throw new IOException("fd " + fd + " of process " + pid + " is an epoll that watches a file registered"
                        + " as fd " + w.tfd() + " (inode " + w.ino() + "), which no process of the tree holds open any"
                        + " more; it cannot be restored");
            }
            out.add(new Watch(w.tfd(), w.events(), w.data(), w.ino(), w.dev(), w.pos(), target,
                    tree.fdHolding(pid, target, w.tfd())));
        }
        return new Epoll(id, flags, out);
    }

    static Epoll decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasEpfd()) throw new ImageException(where, offset, "file " + e.getId() + " of type EVENTPOLL has no epfd entry");
        EventpollFileEntry x = e.getEpfd();
        List<Watch> ws = new ArrayList<>();
        for (EventpollTfdEntry t : x.getTfdList()) {
            ws.add(new Watch(t.hasJcriuTfd() ? t.getJcriuTfd() : t.getTfd(), t.getEvents(), t.getData(), t.getInode(),
                    t.getDev(), t.getPos(), t.getJcriuFileId(), t.getTfd()));
        }
        return new Epoll(e.getId(), x.getFlags() & ~O_CLOEXEC, ws);
    }

    @Override
    public String describe() {
        return "anon_inode:[eventpoll] (" + watches.size() + " watched)";
    }

    @Override
    public FileEntry encode() {
        EventpollFileEntry.Builder x = EventpollFileEntry.newBuilder().setId(id).setFlags(flags).setFown(NO_OWNER);
        for (Watch w : watches) {
            EventpollTfdEntry.Builder t = EventpollTfdEntry.newBuilder().setId(id).setTfd(w.tfd()).setEvents(w.events())
                    .setData(w.data()).setDev(w.dev()).setInode(w.ino()).setPos(w.pos());
            if (w.fileId() != 0) t.setJcriuFileId(w.fileId());
            if (w.criuTfd() >= 0 && w.criuTfd() != w.tfd()) t.setTfd(w.criuTfd()).setJcriuTfd(w.tfd());
            x.addTfd(t);
        }
        return FileEntry.newBuilder().setType(FdTypes.EVENTPOLL).setId(id).setEpfd(x).build();
    }

    @Override
    public int open(FileOpener opener) throws IOException {
        return OpenFile.withFlags(FdSys.epollCreate(EPOLL_CLOEXEC), flags);
    }

    /** The watches, registered once, from the first process that holds the epoll, under their fd numbers. */
    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        if (!first || watches.isEmpty()) return;
        int epfd = p.fdsOf(id).getFirst();
        for (Watch w : watches) {
            long ev = p.put(FdSys.epollEvent(w.events(), w.data()));
            String what = "epoll_ctl(ADD, " + w.tfd() + ") on epoll fd " + epfd;
            if (w.fileId() == 0 || p.fileAt(w.tfd()) == w.fileId()) {
                p.call(what, FdSys.NR_EPOLL_CTL, epfd, FdSys.EPOLL_CTL_ADD, w.tfd(), ev);
                continue;
            }
            // the watched file goes to fd tfd for the call; whatever was there is kept aside and put back
            int tmp = p.borrow(w.fileId());
            if (tmp == w.tfd()) { // the number was free and the copy landed on it
                p.call(what, FdSys.NR_EPOLL_CTL, epfd, FdSys.EPOLL_CTL_ADD, w.tfd(), ev);
                p.call("close", Nr.CLOSE, tmp);
                continue;
            }
            int aside = -1;
            if (p.fileAt(w.tfd()) >= 0) aside = (int) p.call("fcntl(F_DUPFD_CLOEXEC)", Nr.FCNTL, w.tfd(), Sys.F_DUPFD_CLOEXEC, 0);
            p.call("dup3", Nr.DUP3, tmp, w.tfd(), 0);
            p.call(what, FdSys.NR_EPOLL_CTL, epfd, FdSys.EPOLL_CTL_ADD, w.tfd(), ev);
            if (aside >= 0) {
                p.call("dup3", Nr.DUP3, aside, w.tfd(), p.cloexec(w.tfd()) ? O_CLOEXEC : 0);
                p.call("close", Nr.CLOSE, aside);
            } else {
                p.call("close", Nr.CLOSE, w.tfd());
            }
            p.call("close", Nr.CLOSE, tmp);
        }
    }
}

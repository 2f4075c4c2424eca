package jcriu.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.TimerfdEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.FdSys;
import jcriu.sys.Sys;

/**
 * A timerfd: clock, flags, interval, time left, expirations not yet read ({@code ticks}).
 * A relative timer fires as long after the restore as it had left at the dump; an absolute
 * one ({@code TFD_TIMER_ABSTIME}) keeps its expiry on its clock ({@code expiryNs}), so it
 * fires at its time, at once if that passed while the process was not running (the
 * intervals missed meanwhile then count as expirations, as they would have).
 *
 * @param valueNs  time left at the dump, 0 if disarmed
 * @param expiryNs an absolute timer's expiry on {@code clock}, 0 for a relative or disarmed one
 */
public record TimerFd(int id, int flags, int clock, long ticks, int settimeFlags, long valueNs, long intervalNs,
                      long expiryNs) implements OpenFile {
    public static final int TFD_TIMER_ABSTIME = 1;

    /**
     * timerfd_gettime on jcriu's copy of the description: unlike fdinfo it also counts the
     * expirations of a periodic timer that fired unread (the kernel counts them only when asked,
     * which reading the time does, without consuming them) and re-arms it, so that the time
     * left and the ticks are both exact.
     */
    static TimerFd save(int id, String what, FdInfo fd, SaveContext ctx) throws IOException {
        int clock = Integer.parseInt(Fdinfo.required(fd, "clockid", what));
        int settime = Integer.parseInt(Fdinfo.required(fd, "settime flags", what), 8);
        int mine = ctx.borrow(fd.fd());
        try {
            long[] t = FdSys.timerfdGettime(mine);
            long now = Sys.clockNanos(clock);
            long ticks = 0;
            for (String l : Files.readAllLines(Path.of("/proc/self/fdinfo/" + mine))) {
                if (l.startsWith("ticks:")) ticks = Long.parseUnsignedLong(l.substring(6).strip());
            }
            long expiry = (settime & TFD_TIMER_ABSTIME) != 0 && t[0] != 0 ? now + t[0] : 0;
            return new TimerFd(id, fd.flags() & ~O_CLOEXEC, clock, ticks, settime, t[0], t[1], expiry);
        } finally {
            Sys.close(mine);
        }
    }

    static TimerFd decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasTfd()) throw new ImageException(where, offset, "file " + e.getId() + " of type TIMERFD has no tfd entry");
        TimerfdEntry t = e.getTfd();
        return new TimerFd(e.getId(), t.getFlags() & ~O_CLOEXEC, t.getClockid(), t.getTicks(), t.getSettimeFlags(),
                t.getVsec() * 1_000_000_000L + t.getVnsec(), t.getIsec() * 1_000_000_000L + t.getInsec(),
                t.getJcriuExpiryNs());
    }

    @Override
    public String describe() {
        return "anon_inode:[timerfd] (clock " + clock + ")";
    }

    @Override
    public FileEntry encode() {
        TimerfdEntry.Builder t = TimerfdEntry.newBuilder().setId(id).setFlags(flags).setFown(NO_OWNER).setClockid(clock)
                .setTicks(ticks).setSettimeFlags(settimeFlags).setVsec(valueNs / 1_000_000_000L)
                .setVnsec(valueNs % 1_000_000_000L).setIsec(intervalNs / 1_000_000_000L)
                .setInsec(intervalNs % 1_000_000_000L);
        if (expiryNs != 0) t.setJcriuExpiryNs(expiryNs);
        return FileEntry.newBuilder().setType(FdTypes.TIMERFD).setId(id).setTfd(t).build();
    }

    /** Created disarmed; it is armed by {@link #setUp}, as late as possible. */
    @Override
    public int open(FileOpener opener) throws IOException {
        return OpenFile.withFlags(FdSys.timerfdCreate(clock, O_CLOEXEC), flags);
    }

    /**
     * Armed once its process is about to run: a relative timer with the time it had left, an
     * absolute one with its expiry (CRIU's images have no expiry: their time left counts from
     * now, as CRIU does). Then the unread expirations (settime resets them).
     */
    @Override
    public void setUp(ProcessFiles p, boolean first) throws IOException {
        if (!first) return;
        int fd = p.opened(id);
        if (valueNs != 0) {
            boolean absolute = (settimeFlags & TFD_TIMER_ABSTIME) != 0;
            if (absolute && expiryNs != 0) {
                FdSys.timerfdSettime(fd, settimeFlags, expiryNs, intervalNs);
            } else {
                long value = valueNs;
                if (absolute) value += Sys.clockNanos(clock);
                FdSys.timerfdSettime(fd, settimeFlags, value, intervalNs);
            }
        }
        if (ticks != 0) FdSys.timerfdSetTicks(fd, ticks);
    }
}

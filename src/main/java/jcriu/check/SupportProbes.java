package jcriu.check;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jcriu.sys.Errno;
import jcriu.sys.FdSys;
import jcriu.sys.Nr;
import jcriu.sys.Sys;
import jcriu.sys.SysException;

/**
 * Probes, in jcriu's own process, the kernel interfaces that jcriu's dump and restore of some
 * kinds of file, of POSIX timers and of the audit login uid rely on; each is tried, as {@code criu check} does, on a
 * throw-away object. Named as in {@link Features.Feature}.
 */
final class SupportProbes {
    static final String TIMERFD = "timerfd TFD_IOC_SET_TICKS", KCMP_EPOLL = "kcmp KCMP_EPOLL_TFD",
            FDINFO_LOCK = "locks in fdinfo", TIMER_IDS = "PR_TIMER_CREATE_RESTORE_IDS", LOGINUID = "audit loginuid",
            BUF_LOCK = "SO_BUF_LOCK";
    private static final int SO_BUF_LOCK = 72, SOCK_BUF_LOCK_MASK = 3;
    private static final int O_CLOEXEC = 02000000, EPOLLIN = 1, CLOCK_MONOTONIC = 1;
    private static final int PR_TIMER_CREATE_RESTORE_IDS = 77, PR_TIMER_CREATE_RESTORE_IDS_GET = 2;

    private SupportProbes() {}

    static List<Features.Feature> probe() {
        List<Features.Feature> out = new ArrayList<>();
        out.add(timerfdTicks());
        out.add(kcmpEpoll());
        out.add(fdinfoLock());
        out.add(timerIds());
        out.add(loginuid());
        out.add(bufLock());
        return out;
    }

    /** A timerfd's expiration count can be set back (CONFIG_CHECKPOINT_RESTORE). */
    private static Features.Feature timerfdTicks() {
        int fd = -1;
        try {
            fd = FdSys.timerfdCreate(CLOCK_MONOTONIC, O_CLOEXEC);
            FdSys.timerfdSetTicks(fd, 1); // 0 is refused (EINVAL)
            return new Features.Feature(TIMERFD, true, false, "a timerfd's unread expirations can be restored");
        } catch (SysException e) {
            return new Features.Feature(TIMERFD, false, false, e.getMessage());
        } finally {
            if (fd >= 0) Sys.close(fd);
        }
    }

    /** kcmp names the file an epoll instance watches under a given fd number. */
    private static Features.Feature kcmpEpoll() {
        int ep = -1, ev = -1;
        try (Arena a = Arena.ofConfined()) {
            ep = FdSys.epollCreate(O_CLOEXEC);
            ev = FdSys.eventfd(O_CLOEXEC);
            MemorySegment e = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, FdSys.epollEvent(EPOLLIN, 0));
            Sys.call("epoll_ctl", FdSys.NR_EPOLL_CTL, ep, FdSys.EPOLL_CTL_ADD, ev, e.address());
            int self = Sys.getpid();
            long r = FdSys.kcmpEpollTarget(self, ev, self, ep, ev, 0);
            return new Features.Feature(KCMP_EPOLL, r == 0, false, r == 0 ? "an epoll's targets can be identified"
                    : "kcmp answered " + (r < 0 ? Errno.name((int) -r) : Long.toString(r)));
        } catch (SysException e) {
            return new Features.Feature(KCMP_EPOLL, false, false, e.getMessage());
        } finally {
            if (ev >= 0) Sys.close(ev);
            if (ep >= 0) Sys.close(ep);
        }
    }

    /** /proc/PID/fdinfo/FD lists the locks held through the description. */
    private static Features.Feature fdinfoLock() {
        Path tmp = null;
        int fd = -1;
        try {
            tmp = Files.createTempFile("jcriu-check-lock", "");
            fd = Sys.open(tmp.toString(), 2 /* O_RDWR */ | O_CLOEXEC);
            FdSys.flock(fd, FdSys.LOCK_EX | FdSys.LOCK_NB);
            boolean shown = Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd)).stream()
                    .anyMatch(l -> l.startsWith("lock:") && l.contains("FLOCK"));
            return new Features.Feature(FDINFO_LOCK, shown, false, shown ? "file locks can be read (--file-locks)"
                    : "an flock() is not listed in fdinfo");
        } catch (IOException | SysException e) {
            return new Features.Feature(FDINFO_LOCK, false, false, e.getMessage());
        } finally {
            if (fd >= 0) Sys.close(fd);
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a temporary file of 0 bytes
                }
            }
        }
    }

    /** A socket's buffer sizes can be locked as they were (SO_BUF_LOCK, Linux 5.14+). */
    private static Features.Feature bufLock() {
        int fd = -1;
        try {
            fd = jcriu.sys.Net.socket(jcriu.sys.Net.AF_UNIX, jcriu.sys.Net.SOCK_STREAM | O_CLOEXEC, 0);
            jcriu.sys.Net.setsockoptInt(fd, jcriu.sys.Net.SOL_SOCKET, SO_BUF_LOCK, SOCK_BUF_LOCK_MASK);
            int got = jcriu.sys.Net.getsockoptInt(fd, jcriu.sys.Net.SOL_SOCKET, SO_BUF_LOCK);
            return new Features.Feature(BUF_LOCK, got == SOCK_BUF_LOCK_MASK, false, "sockets keep their locked buffer"
                    + " sizes (SO_BUF_LOCK read back as " + got + ")");
        } catch (SysException e) {
            return new Features.Feature(BUF_LOCK, false, false, e.getMessage());
        } finally {
            if (fd >= 0) Sys.close(fd);
        }
    }

    /** The audit login uid is there to be read and written back (CONFIG_AUDITSYSCALL). */
    private static Features.Feature loginuid() {
        try {
            String v = Files.readString(Path.of("/proc/self/loginuid")).strip();
            Long.parseLong(v);
            return new Features.Feature(LOGINUID, true, false, "restored by writing /proc/PID/loginuid (jcriu's: " + v + ")");
        } catch (IOException | NumberFormatException e) {
            return new Features.Feature(LOGINUID, false, false, "/proc/self/loginuid: " + e.getMessage());
        }
    }

    /** timer_create can be told the id to use (Linux 6.15+): the mode is only read here. */
    private static Features.Feature timerIds() {
        long r = Sys.raw(Nr.PRCTL, PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0, 0);
        return new Features.Feature(TIMER_IDS, r >= 0, false, r >= 0 ? "POSIX timers get their ids back"
                : "prctl answered " + Errno.name((int) -r));
    }
}

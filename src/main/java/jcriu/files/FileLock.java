package jcriu.files;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jcriu.image.pb.JcriuFileLock;
import jcriu.proc.FdInfo;
import jcriu.sys.Errno;
import jcriu.sys.FdSys;
import jcriu.sys.Nr;

/**
 * A lock held through a description, as /proc/PID/fdinfo lists it. POSIX locks belong to a
 * process ({@code pid}) and are taken again inside it; flock and OFD locks and leases belong to
 * the description and are taken again through it, in the first process holding it. {@code len} 0: to the end of the file.
 * {@code breakTo}: for a lease being broken, the type it is being broken to (F_RDLCK or
 * F_UNLCK), else -1.
 */
public record FileLock(Kind kind, boolean write, int pid, long start, long len, int breakTo) {
    /** LEASE: an fcntl(F_SETLEASE) lease of the description, broken again at restore if it was being broken. */
    public enum Kind { POSIX, FLOCK, OFD, LEASE }

    public FileLock(Kind kind, boolean write, int pid, long start, long len) {
        this(kind, write, pid, start, len, -1);
    }

    private static final Pattern LINE = Pattern.compile(
            "lock:\\s*\\d+:\\s*(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(-?\\d+)\\s+\\S+\\s+(\\d+)\\s+(\\d+|EOF)");

    /** The locks in an fd's fdinfo; leases and mandatory locks are refused. */
    static List<FileLock> parse(FdInfo fd, String what) throws IOException {
        List<FileLock> out = new ArrayList<>();
        for (String l : fd.extra()) {
            if (!l.startsWith("lock:")) continue;
            Matcher m = LINE.matcher(l);
            if (!m.find()) throw new IOException(what + ": cannot read the lock '" + l + "'");
            Kind k = switch (m.group(1)) {
                case "POSIX" -> Kind.POSIX;
                case "FLOCK" -> Kind.FLOCK;
                case "OFDLCK" -> Kind.OFD;
                case "LEASE" -> Kind.LEASE;
                default -> throw new IOException(what + " holds a " + m.group(1) + " (" + l.strip()
                        + "), which cannot be restored");
            };
            if (k == Kind.LEASE && m.group(2).equals("BREAKING")) {
                // fdinfo names the type it is being broken to; the lease it was is the one the
                // description's access mode allows (a read lease needs O_RDONLY), as CRIU reads it
                int to = m.group(3).equals("UNLCK") ? FdSys.F_UNLCK : FdSys.F_RDLCK;
                out.add(new FileLock(k, fd.accessMode() != 0, Integer.parseInt(m.group(4)), 0, 0, to));
                continue;
            }
            if (k == Kind.LEASE) {
                if (!m.group(2).equals("ACTIVE")) {
                    throw new IOException(what + " holds a lease in state " + m.group(2) + " (" + l.strip()
                            + "), which cannot be restored");
                }
            } else if (!m.group(2).equals("ADVISORY")) {
                throw new IOException(what + " holds a mandatory lock: " + l.strip());
            }
            long start = Long.parseLong(m.group(5));
            long len = m.group(6).equals("EOF") ? 0 : Long.parseLong(m.group(6)) - start + 1;
            out.add(new FileLock(k, m.group(3).equals("WRITE"), Integer.parseInt(m.group(4)), start, len));
        }
        return out;
    }

    /** As messages name it: {@code POSIX write lock on bytes 0-EOF}. */
    public String describe() {
        if (kind == Kind.LEASE) {
            return (write ? "write" : "read") + " lease" + (breakTo < 0 ? ""
                    : " being broken to " + (breakTo == FdSys.F_UNLCK ? "none" : "a read lease"));
        }
        return kind + " " + (write ? "write" : "read") + " lock" + (kind == Kind.FLOCK ? ""
                : " on bytes " + start + (len == 0 ? "-EOF" : "-" + (start + len - 1)));
    }

    static FileLock decode(JcriuFileLock l) {
        return new FileLock(Kind.values()[l.getKind() - 1], l.getWrite(), l.getPid(), l.getStart(), l.getLen(),
                l.hasBreakTo() ? l.getBreakTo() : -1);
    }

    JcriuFileLock encode() {
        JcriuFileLock.Builder b = JcriuFileLock.newBuilder().setKind(kind.ordinal() + 1).setWrite(write).setPid(pid)
                .setStart(start).setLen(len);
        if (breakTo >= 0) b.setBreakTo(breakTo);
        return b.build();
    }

    /**
     * Takes the lock again inside the process, never waiting, so that it shows the process as
     * its holder as before: POSIX locks in their own process (they belong to it), flock, OFD locks and leases
     * locks (they belong to the description) in the first process holding the description. A
     * lock someone else holds now fails the restore, naming the file.
     */
    void take(ProcessFiles p, int id, boolean first, String what) throws IOException {
        if (kind == Kind.POSIX ? pid != p.pid() : !first) return;
        int type = write ? FdSys.F_WRLCK : FdSys.F_RDLCK;
        int fd = p.fdsOf(id).getFirst();
        long r = switch (kind) {
            case FLOCK -> p.raw(Nr.FLOCK, fd, (write ? FdSys.LOCK_EX : FdSys.LOCK_SH) | FdSys.LOCK_NB);
            case POSIX -> p.raw(Nr.FCNTL, fd, FdSys.F_SETLK, p.put(FdSys.flockStruct(type, start, len)));
            case OFD -> p.raw(Nr.FCNTL, fd, FdSys.F_OFD_SETLK, p.put(FdSys.flockStruct(type, start, len)));
            case LEASE -> p.raw(Nr.FCNTL, fd, FdSys.F_SETLEASE, type);
        };
        String lock = describe();
        if (r == -Errno.EAGAIN || r == -Errno.EACCES) {
            throw new IOException(what + ": cannot take its " + lock + " again: another process holds a conflicting one");
        }
        if (r < 0) throw new IOException(what + ": cannot take its " + lock + " again: " + Errno.name((int) -r));
        if (breakTo >= 0) breakAgain(what);
        p.log(what + ": " + lock + " taken again by process " + p.pid());
    }

    /**
     * Starts the lease's break again as another process did before the dump: an open that
     * conflicts with it, not waiting, which the lease makes fail. The kernel then gives the
     * holder its lease-break-time again (the time left at the dump is not known) and signals
     * it; that signal arrives during the restore and is dropped with the others that were not
     * pending at the dump.
     */
    private void breakAgain(String path) throws IOException {
        int flags = (breakTo == FdSys.F_UNLCK ? 1 /* O_WRONLY */ : 0 /* O_RDONLY */) | 04000 /* O_NONBLOCK */
                | 02000000 /* O_CLOEXEC */;
        int fd;
        try {
            fd = jcriu.sys.Sys.open(path, flags);
        } catch (jcriu.sys.SysException e) {
            if (e.errno() == Errno.EAGAIN) return; // EWOULDBLOCK: the break has started
            throw new IOException(path + ": cannot start breaking its " + describe() + " again: " + e.getMessage());
        }
        jcriu.sys.Sys.close(fd);
        throw new IOException(path + ": its " + describe() + " did not conflict with an open for "
                + (breakTo == FdSys.F_UNLCK ? "writing" : "reading") + " after the restore");
    }
}

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
 */
public record FileLock(Kind kind, boolean write, int pid, long start, long len) {
    /** LEASE: an fcntl(F_SETLEASE) lease of the description, restored only while no one breaks it. */
    public enum Kind { POSIX, FLOCK, OFD, LEASE }

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
            if (k == Kind.LEASE) {
                // BREAKING/BREAKER: a lease being broken, whose break-time and waiter cannot be restored
                if (!m.group(2).equals("ACTIVE")) {
                    throw new IOException(what + " holds a lease being broken (" + l.strip() + "), which cannot be restored");
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
        if (kind == Kind.LEASE) return (write ? "write" : "read") + " lease";
        return kind + " " + (write ? "write" : "read") + " lock" + (kind == Kind.FLOCK ? ""
                : " on bytes " + start + (len == 0 ? "-EOF" : "-" + (start + len - 1)));
    }

    static FileLock decode(JcriuFileLock l) {
        return new FileLock(Kind.values()[l.getKind() - 1], l.getWrite(), l.getPid(), l.getStart(), l.getLen());
    }

    JcriuFileLock encode() {
        return JcriuFileLock.newBuilder().setKind(kind.ordinal() + 1).setWrite(write).setPid(pid).setStart(start)
                .setLen(len).build();
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
        p.log(what + ": " + lock + " taken again by process " + p.pid());
    }
}

package jcriu.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * How {@link Fds} stats the object behind /proc/PID/fd/N. The default follows the magic link,
 * which works for pipes, sockets and anon inodes too; tests substitute a table.
 */
@FunctionalInterface
public interface FdStat {
    FileStat stat(Path fdLink) throws IOException;

    /** stat(2) through the link, via the JDK's "unix:" attribute view. */
    FdStat FOLLOW = link -> {
        Map<String, Object> a = Files.readAttributes(link, "unix:mode,dev,ino,rdev");
        return new FileStat((Integer) a.get("mode"), (Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("rdev"));
    };
}

package jcriu.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jcriu.image.ImageException;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.NsFileEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.Sys;

/**
 * An fd on a namespace file (an open of /proc/PID/ns/net, as {@code ip netns} or a container
 * runtime holds one). jcriu dumps only processes in its own namespaces, so such an fd is
 * saved when it is on one of those, and reopened at restore on the same kind of namespace the
 * restoring jcriu runs in (as CRIU does for the namespaces of its root); an fd on any other
 * namespace is refused by name. {@code cloneFlag} is the kind's CLONE_NEW* flag, as CRIU
 * stores it.
 */
public record NsFile(int id, int cloneFlag, int flags) implements OpenFile {
    /** The name in the link ({@code net:[4026531840]}) and the /proc/self/ns entry of each kind. */
    private static final Map<String, Integer> KINDS = Map.of("mnt", 0x00020000, "cgroup", 0x02000000,
            "uts", 0x04000000, "ipc", 0x08000000, "user", 0x10000000, "pid", 0x20000000, "net", 0x40000000,
            "time", 0x00000080);
    private static final Pattern LINK = Pattern.compile("([a-z]+):\\[(\\d+)\\]");
    private static final int O_RDONLY = 0;

    /** Whether {@code fd} is on a namespace file (its link names a namespace kind and inode). */
    static boolean is(FdInfo fd) {
        Matcher m = LINK.matcher(fd.target());
        return m.matches() && KINDS.containsKey(m.group(1));
    }

    static NsFile save(int id, String what, FdInfo fd) throws IOException {
        Matcher m = LINK.matcher(fd.target());
        if (!m.matches()) throw new IOException(what + ": not a namespace file");
        String kind = m.group(1);
        String mine = jcriusOwn(kind);
        if (!mine.equals(fd.target())) {
            throw new IOException(what + " is on " + kind + " namespace " + m.group(2) + ", not jcriu's (" + mine
                    + "); an fd on another namespace is not supported yet");
        }
        return new NsFile(id, KINDS.get(kind), fd.flags() & ~O_CLOEXEC);
    }

    /** The link of jcriu's own namespace of {@code kind}, e.g. {@code net:[4026531840]}. */
    private static String jcriusOwn(String kind) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/ns/" + kind)).toString();
    }

    private String kind() throws IOException {
        for (var e : KINDS.entrySet()) if (e.getValue() == cloneFlag) return e.getKey();
        throw new IOException("namespace file " + id + ": no namespace kind has the flag " + Integer.toHexString(cloneFlag));
    }

    static NsFile decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasNsf()) throw new ImageException(where, offset, "file " + e.getId() + " of type NS has no nsf entry");
        NsFile f = new NsFile(e.getId(), e.getNsf().getNsCflag(), e.getNsf().getFlags() & ~O_CLOEXEC);
        try {
            f.kind();
        } catch (IOException bad) {
            throw new ImageException(where, offset, bad.getMessage());
        }
        return f;
    }

    @Override
    public String describe() {
        try {
            return kind() + " namespace file";
        } catch (IOException e) {
            return "namespace file";
        }
    }

    @Override
    public FileEntry encode() {
        NsFileEntry x = NsFileEntry.newBuilder().setId(id).setNsId(0).setNsCflag(cloneFlag).setFlags(flags).build();
        return FileEntry.newBuilder().setType(FdTypes.NS).setId(id).setNsf(x).build();
    }

    /** The restoring jcriu's namespace of the same kind, which is the restored process's. */
    @Override
    public int open(FileOpener opener) throws IOException {
        return Sys.open("/proc/self/ns/" + kind(), O_RDONLY | O_CLOEXEC);
    }
}

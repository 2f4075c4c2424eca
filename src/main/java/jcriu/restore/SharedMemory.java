package jcriu.restore;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jcriu.api.Log;
import jcriu.image.PageStore;
import jcriu.state.FileSnapshot;
import jcriu.state.ProcessState;
import jcriu.state.TreeState;
import jcriu.state.VmaState;
import jcriu.sys.Sys;

/**
 * Memory objects several mappings share that no path can open again. Shared anonymous
 * memory (MAP_SHARED|MAP_ANONYMOUS) is a shmem object that every process mapping it (a
 * parent and the children it forked, or two mappings of one process) must share again:
 * jcriu makes each object once, in its own address space, keeps an fd on it (through
 * /proc/self/map_files, as CRIU does), writes the saved pages into it, and each process then
 * maps that fd: one object, the same "/dev/zero (deleted)" in its maps. A file mapped
 * shared and then deleted (sem_open's semaphores) is made again under its name with its saved
 * content, opened, and unlinked, and is mapped from that fd the same way.
 */
final class SharedMemory implements AutoCloseable {
    private static final int O_RDWR = 2, O_CLOEXEC = 02000000, MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    private static final String MEMFD = "/memfd:";

    private final Map<Long, Integer> fds = new HashMap<>();
    private final Map<String, Integer> ghosts = new HashMap<>();
    private final java.util.Set<String> readOnly = new java.util.HashSet<>();
    /** The path a deleted file was mapped from, to the key its open descriptions make it under. */
    private final Map<String, String> mappedAs = new HashMap<>();
    private final Log log;

    private SharedMemory(Log log) {
        this.log = log;
    }

    /** Every object of the tree, made and filled. */
    static SharedMemory prepare(TreeState tree, Path imageDir, Log log) throws IOException {
        SharedMemory sm = new SharedMemory(log);
        try {
            Map<Long, Long> sizes = new LinkedHashMap<>();
            for (ProcessState p : tree.processes()) {
                for (VmaState v : p.mm().vmas()) {
                    if (v.kind() == VmaState.Kind.ANON_SHARED) sizes.merge(v.ino(), v.pgoff() + v.size(), Math::max);
                }
            }
            for (var e : sizes.entrySet()) sm.fds.put(e.getKey(), make(e.getValue()));
            for (ProcessState p : tree.processes()) {
                if (p.mm().vmas().stream().anyMatch(v -> v.kind() == VmaState.Kind.ANON_SHARED)) {
                    sm.fill(p, PageStore.open(imageDir, p.pid()));
                }
            }
            if (!sizes.isEmpty()) log.debug("shared anonymous memory: " + sizes.size() + " object(s) " + sizes);
            for (ProcessState p : tree.processes()) {
                for (FileSnapshot f : p.mm().sharedFiles()) {
                    if (!f.deleted()) continue;
                    String key = keyOf(tree, f);
                    sm.mappedAs.put(memfdKey(f.path(), f.ino()), key);
                    sm.ghostOf(key, ghostMaker(tree, f, log));
                }
            }
            return sm;
        } catch (IOException | RuntimeException e) {
            sm.close();
            throw e;
        }
    }

    /** jcriu's fd on deleted file (or memfd) {@code f}, made again on first use for the whole tree. */
    int ghostOf(FileSnapshot f) throws IOException {
        return ghostOf(memfdKey(f.path(), f.ino()), () -> f.path().startsWith(MEMFD) ? memfd(f, log) : ghost(f, log));
    }

    /**
     * A memfd's key: its path and its inode at dump time (memfds share names; CRIU tells them
     * apart by inode too); any other file's key is its path.
     */
    static String memfdKey(String path, long ino) {
        return path.startsWith(MEMFD) && ino != 0 ? path + "\0ino " + ino : path;
    }

    /** The key deleted file {@code f} is made under: its open description's when it has one, else its path. */
    private static String keyOf(TreeState tree, FileSnapshot f) {
        if (f.path().startsWith(MEMFD)) return memfdKey(f.path(), f.ino());
        for (jcriu.files.OpenFile o : tree.files()) {
            if (o instanceof jcriu.files.DeletedFile d && d.path().equals(f.path())) return d.key();
        }
        return f.path();
    }

    /**
     * How deleted file {@code f} is made again: by its open description when it has one (which
     * keeps its holes and times), else from the mapping's snapshot.
     */
    private static Maker ghostMaker(TreeState tree, FileSnapshot f, Log log) {
        // a memfd's mapping has a reg entry too, but only memfd_create makes it again
        for (jcriu.files.OpenFile o : f.path().startsWith(MEMFD) ? List.<jcriu.files.OpenFile>of() : tree.files()) {
            if (o instanceof jcriu.files.DeletedFile d && d.path().equals(f.path())) return d::makeAgain;
        }
        return () -> f.path().startsWith(MEMFD) ? memfd(f, log) : ghost(f, log);
    }

    /** Makes a deleted file again; returns jcriu's fd on it. */
    interface Maker {
        int make() throws IOException;
    }

    /**
     * jcriu's fd on the deleted file known by {@code key} (its path, or its inode), made by
     * {@code maker} on first use for the whole tree.
     */
    int ghostOf(String key, Maker maker) throws IOException {
        Integer fd = ghosts.get(key);
        if (fd == null) {
            fd = maker.make();
            ghosts.put(key, fd);
            log.debug("deleted file " + key + " made again as jcriu's fd " + fd);
        }
        return fd;
    }

    /**
     * jcriu's fd on deleted file {@code key} (made already), read-only from now on: the
     * writable fd that made it is closed at once, so that its IN_CLOSE_WRITE comes before an
     * inotify watch on the file is made again, not after (the program would read one more
     * event than without the checkpoint). The tree's descriptions reopen the file by this fd,
     * with their own flags, and its mappings are made already.
     */
    int readOnly(String key) throws IOException {
        Integer fd = ghosts.get(key);
        if (fd == null) throw new IllegalStateException("deleted file " + key + " was not made yet");
        if (readOnly.add(key)) {
            int ro = Sys.open("/proc/self/fd/" + fd, O_CLOEXEC); // O_RDONLY
            Sys.close(fd);
            ghosts.put(key, ro);
            fd = ro;
        }
        return fd;
    }

    /**
     * A memfd, made again with its name (maps and fd links show {@code /memfd:NAME (deleted)}
     * again), content, owner and mode; sealing allowed, its seals are added by its description.
     */
    private static int memfd(FileSnapshot f, Log log) throws IOException {
        int fd = Sys.memfdCreate(f.path().substring(MEMFD.length()), MFD_CLOEXEC | MFD_ALLOW_SEALING);
        try {
            Path p = Path.of("/proc/self/fd/" + fd);
            Files.write(p, f.content(), StandardOpenOption.WRITE);
            Files.setAttribute(p, "unix:uid", f.uid());
            Files.setAttribute(p, "unix:gid", f.gid());
            Files.setAttribute(p, "unix:mode", f.mode() & 07777);
            log.debug("memfd " + f.path() + " made again (" + f.content().length + " bytes)");
            return fd;
        } catch (IOException | RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
    }

    /**
     * The deleted file, made again: created new under its old name (another name beside it if
     * that one is taken), filled, owner and mode set, opened and unlinked again.
     */
    private static int ghost(FileSnapshot f, Log log) throws IOException {
        Path p = Path.of(f.path());
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            p = Files.createTempFile(p.getParent(), p.getFileName() + ".", ".jcriu-ghost",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        try {
            Files.write(p, f.content(), StandardOpenOption.WRITE);
            Files.setAttribute(p, "unix:uid", f.uid());
            Files.setAttribute(p, "unix:gid", f.gid());
            Files.setAttribute(p, "unix:mode", f.mode() & 07777);
            int fd = Sys.open(p.toString(), O_RDWR | O_CLOEXEC);
            log.debug("deleted file " + f.path() + " made again as " + p + " (" + f.content().length + " bytes)");
            return fd;
        } finally {
            Files.deleteIfExists(p);
        }
    }

    private static int make(long size) {
        long addr = Sys.mmapSharedAnonymous(size);
        try {
            return Sys.open(String.format("/proc/self/map_files/%x-%x", addr, addr + size), O_RDWR | O_CLOEXEC);
        } finally {
            Sys.munmap(addr, size);
        }
    }

    /** The saved pages of {@code p}'s shared anonymous mappings, written into their objects. */
    private void fill(ProcessState p, PageStore pages) throws IOException {
        for (VmaState v : p.mm().vmas()) {
            if (v.kind() != VmaState.Kind.ANON_SHARED) continue;
            try (FileChannel obj = FileChannel.open(Path.of("/proc/self/fd/" + fds.get(v.ino())),
                    StandardOpenOption.WRITE)) {
                for (PageStore.Slice s : pages.slices()) {
                    if (s.addr() < v.start() || s.addr() >= v.end()) continue;
                    try (FileChannel src = FileChannel.open(s.file(), StandardOpenOption.READ)) {
                        long at = v.pgoff() + (s.addr() - v.start()), done = 0;
                        while (done < s.bytes()) {
                            long n = src.transferTo(s.offset() + done, s.bytes() - done, obj.position(at + done));
                            if (n <= 0) {
                                throw new IOException(String.format("pages of %#x of process %d end early in %s",
                                        s.addr(), p.pid(), s.file()));
                            }
                            done += n;
                        }
                    }
                }
            }
        }
    }

    /** jcriu's fd on the object with inode {@code ino} at dump time. */
    int fdOf(long ino) {
        Integer fd = fds.get(ino);
        if (fd == null) throw new IllegalStateException("no shared memory object for inode " + ino);
        return fd;
    }

    /** jcriu's fd on the remade deleted file (or memfd) that mapping {@code v} maps. */
    int ghostFd(VmaState v) {
        String key = memfdKey(v.path(), v.ino());
        Integer fd = ghosts.get(mappedAs.getOrDefault(key, key));
        if (fd == null) throw new IllegalStateException("no deleted file " + v.path() + " was made again");
        return fd;
    }

    @Override
    public void close() {
        for (int fd : fds.values()) Sys.close(fd);
        for (int fd : ghosts.values()) Sys.close(fd);
        fds.clear();
        ghosts.clear();
        log.debug("shared memory objects closed");
    }
}

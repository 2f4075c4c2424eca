package jcriu.image;

import java.util.Objects;

/**
 * An image file name within an image directory and the magic it carries.
 * The factories produce CRIU's names (criu/image-desc.c), so a jcriu image
 * directory looks like a CRIU one.
 */
public record ImageFile(String name, Magic magic) {

    public ImageFile {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(magic, "magic");
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a plain file name: \"" + name + "\"");
        }
    }

    /** Dump-wide options and ids of the root task. */
    public static ImageFile inventory() {
        return new ImageFile("inventory.img", Magic.INVENTORY);
    }

    /** Process tree: one PstreeEntry per process. */
    public static ImageFile pstree() {
        return new ImageFile("pstree.img", Magic.PSTREE);
    }

    /** Registers and per-thread state of thread {@code tid} (process-wide state too for the leader). */
    public static ImageFile core(int tid) {
        return new ImageFile("core-" + u(tid) + ".img", Magic.CORE);
    }

    /** Kernel object ids of process {@code pid}. */
    public static ImageFile ids(int pid) {
        return new ImageFile("ids-" + u(pid) + ".img", Magic.IDS);
    }

    /** Memory layout and VMAs of process {@code pid}. */
    public static ImageFile mm(int pid) {
        return new ImageFile("mm-" + u(pid) + ".img", Magic.MM);
    }

    /** Which page runs of process {@code pid} were saved, and in which pages file. */
    public static ImageFile pagemap(int pid) {
        return new ImageFile("pagemap-" + u(pid) + ".img", Magic.PAGEMAP);
    }

    /** Page contents referenced by a PagemapHead.pages_id; raw, no magic. */
    public static ImageFile pages(int pagesId) {
        return new ImageFile("pages-" + u(pagesId) + ".img", Magic.PAGES);
    }

    /** File descriptions of all dumped processes (FileEntry). */
    public static ImageFile files() {
        return new ImageFile("files.img", Magic.FILES);
    }

    /** Descriptor table with id {@code filesId} (TaskKobjIdsEntry.files_id), not a pid. */
    public static ImageFile fdinfo(int filesId) {
        return new ImageFile("fdinfo-" + u(filesId) + ".img", Magic.FDINFO);
    }

    /** Unread contents of pipes: PipeDataEntry followed by that many raw bytes, per pipe. */
    public static ImageFile pipesData() {
        return new ImageFile("pipes-data.img", Magic.PIPES_DATA);
    }

    /** Messages waiting in sockets' receive queues: SkPacketEntry followed by its bytes, per message. */
    public static ImageFile skQueues() {
        return new ImageFile("sk-queues.img", Magic.SK_QUEUES);
    }

    /** One entry per side of each terminal: termios, window size, lock, session. */
    public static ImageFile ttyInfo() {
        return new ImageFile("tty-info.img", Magic.TTY_INFO);
    }

    /** Bytes queued in terminals for their readers. */
    public static ImageFile ttyData() {
        return new ImageFile("tty-data.img", Magic.TTY_DATA);
    }

    /** An established TCP connection: its TCP_REPAIR state and queues; CRIU names it by the socket's inode in hex. */
    public static ImageFile tcpStream(int ino) {
        return new ImageFile("tcp-stream-" + Integer.toHexString(ino) + ".img", Magic.TCP_STREAM);
    }

    /** Seccomp filters of every thread of the tree (one SeccompEntry). */
    public static ImageFile seccomp() {
        return new ImageFile("seccomp.img", Magic.SECCOMP);
    }

    /** Which files are reached through a remap (a ghost), one RemapFilePathEntry each. */
    public static ImageFile remapFpath() {
        return new ImageFile("remap-fpath.img", Magic.REMAP_FPATH);
    }

    /** The inode of deleted file {@code id} (a ghost id, not a file id) to make again at restore. */
    public static ImageFile ghostFile(int id) {
        return new ImageFile("ghost-file-" + u(id) + ".img", Magic.GHOST_FILE);
    }

    /** cwd, root and umask of process {@code pid}. */
    public static ImageFile fs(int pid) {
        return new ImageFile("fs-" + u(pid) + ".img", Magic.FS);
    }

    /** Statistics of the last {@code "dump"} or {@code "restore"} (CRIU's names: no .img suffix). */
    public static ImageFile stats(String kind) {
        return new ImageFile("stats-" + kind, Magic.STATS);
    }

    // CRIU formats these numbers with %u.
    private static String u(int n) {
        return Integer.toUnsignedString(n);
    }
}

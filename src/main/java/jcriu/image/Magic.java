package jcriu.image;

/**
 * Image file magics, with CRIU's values (criu/include/magic.h).
 *
 * <p>CRIU images start with two little-endian u32s: {@link #IMG_COMMON} and
 * then the per-file magic. Two exceptions: inventory.img carries only its own
 * magic (it is read before the reader knows the image version), and raw files
 * such as pages-N.img have no header at all.
 */
public enum Magic {
    INVENTORY(0x58313116, Header.BARE),
    PSTREE(0x50273030, Header.COMMON),
    CORE(0x55053847, Header.COMMON),
    IDS(0x54432030, Header.COMMON),
    MM(0x57492820, Header.COMMON),
    PAGEMAP(0x56084025, Header.COMMON),
    FILES(0x56303138, Header.COMMON),
    FDINFO(0x56213732, Header.COMMON),
    FS(0x51403912, Header.COMMON),
    /** PipeDataEntry, each followed by its bytes. */
    PIPES_DATA(0x56453709, Header.COMMON),
    /** SkPacketEntry, each followed by its bytes: messages queued on sockets. */
    SK_QUEUES(0x56264026, Header.COMMON),
    /** stats-dump and stats-restore: a service file (IMG_SERVICE first, not IMG_COMMON). */
    STATS(0x57093306, Header.SERVICE),
    /** One TcpStreamEntry, then the receive and send queues' bytes. */
    TCP_STREAM(0x51465506, Header.COMMON),
    /** TtyInfoEntry: one per side of each terminal. */
    TTY_INFO(0x59453036, Header.COMMON),
    /** TtyDataEntry: bytes queued in a terminal for its reader. */
    TTY_DATA(0x59413026, Header.COMMON),
    /** One SeccompEntry: the filters of every thread of the tree. */
    SECCOMP(0x64413049, Header.COMMON),
    /** RemapFilePathEntry: files reached through another (a ghost made again at restore). */
    REMAP_FPATH(0x59133954, Header.COMMON),
    /** One GhostFileEntry (and, for a regular file, its data): the inode of a deleted file. */
    GHOST_FILE(0x52583605, Header.COMMON),
    /** Page contents, no header; the magic value is CRIU's RAW_IMAGE_MAGIC. */
    PAGES(0, Header.RAW);

    /** First word of every non-inventory, non-raw image file. */
    public static final int IMG_COMMON = 0x54564319;
    /** First word of CRIU's service files (stats, irmap cache). */
    public static final int IMG_SERVICE = 0x55105940;

    private enum Header { COMMON, SERVICE, BARE, RAW }

    private final int value;
    private final Header header;

    Magic(int value, Header header) {
        this.value = value;
        this.header = header;
    }

    /** The per-file magic word. */
    public int value() {
        return value;
    }

    /** Whether {@link #IMG_COMMON} precedes the per-file magic. */
    public boolean hasCommonMagic() {
        return header == Header.COMMON;
    }

    /** The word before the per-file magic ({@link #IMG_COMMON} or {@link #IMG_SERVICE}), 0 if none. */
    public int prefix() {
        return switch (header) {
            case COMMON -> IMG_COMMON;
            case SERVICE -> IMG_SERVICE;
            case BARE, RAW -> 0;
        };
    }

    /** Whether the file has no magic and no protobuf entries at all. */
    public boolean isRaw() {
        return header == Header.RAW;
    }

    /** Bytes of header before the first entry. */
    public int headerSize() {
        return switch (header) {
            case COMMON, SERVICE -> 8;
            case BARE -> 4;
            case RAW -> 0;
        };
    }

    static String hex(int v) {
        return String.format("0x%08x", v);
    }
}

package jcriu.image;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jcriu.image.pb.*;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageRoundTripTest {
    @TempDir
    Path tmp;

    static Parser<? extends MessageLite> parserFor(Magic m) {
        return switch (m) {
            case INVENTORY -> InventoryEntry.parser();
            case PSTREE -> PstreeEntry.parser();
            case CORE -> CoreEntry.parser();
            case IDS -> TaskKobjIdsEntry.parser();
            case MM -> MmEntry.parser();
            case FILES -> FileEntry.parser();
            case FDINFO -> FdinfoEntry.parser();
            case FS -> FsEntry.parser();
            case PIPES_DATA -> PipeDataEntry.parser(); // entries are followed by raw bytes
            case SK_QUEUES -> SkPacketEntry.parser(); // likewise
            case STATS -> StatsEntry.parser();
            case TCP_STREAM -> TcpStreamEntry.parser(); // one entry, then the queues' bytes
            case TTY_INFO -> TtyInfoEntry.parser();
            case TTY_DATA -> TtyDataEntry.parser();
            case SECCOMP -> jcriu.image.pb.SeccompEntry.parser();
            case REMAP_FPATH -> RemapFilePathEntry.parser();
            case GHOST_FILE -> GhostFileEntry.parser();
            case PAGEMAP, PAGES -> throw new IllegalArgumentException(m + " has no single entry type");
        };
    }

    @Test
    void everySampleFileReadsBackEqual() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("img"));
        Map<ImageFile, List<MessageLite>> written = SampleImages.writeAll(dir);
        ImageDir in = ImageDir.open(dir.path());
        for (var e : written.entrySet()) {
            ImageFile f = e.getKey();
            assertTrue(in.exists(f), f.name());
            List<MessageLite> read = new ArrayList<>();
            try (ImageInput r = in.open(f)) {
                if (f.magic() == Magic.PAGEMAP) {
                    Pagemap pm = Pagemap.read(r);
                    read.add(PagemapHead.newBuilder().setPagesId(pm.pagesId()).build());
                    read.addAll(pm.entries());
                } else {
                    for (MessageLite m; (m = r.next(parserFor(f.magic()))) != null; ) {
                        read.add(m);
                    }
                }
                assertTrue(r.atEnd());
                assertNull(r.next(FsEntry.parser()), "EOF stays EOF");
            }
            assertEquals(e.getValue(), read, f.name());
        }
        try (FileChannel ch = in.openRaw(ImageFile.pages(SampleImages.PAGES_ID).name())) {
            assertEquals(6 * 4096, ch.size());
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, 2 * 4096);
            assertEquals((byte) 0xa2, b.get(0));
        }
    }

    @Test
    void singleEntryFiles() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("img"));
        SampleImages.writeAll(dir);
        try (ImageInput r = dir.open(ImageFile.core(SampleImages.PID))) {
            CoreEntry core = r.single(CoreEntry.parser());
            assertEquals(SampleImages.RIP, core.getThreadInfo().getGpregs().getIp());
            assertEquals(62, core.getTc().getSigactionsCount());
            assertEquals(16, core.getTc().getRlimits().getRlimitsCount());
            assertEquals(0x53053053, core.getThreadCore().getRseqEntry().getSignature());
        }
        try (ImageInput r = dir.open(ImageFile.inventory())) {
            assertEquals(2, r.single(InventoryEntry.parser()).getImgVersion());
        }
    }

    @Test
    void headerLayoutMatchesCriu() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("img"));
        FsEntry fs = FsEntry.newBuilder().setCwdId(7).setRootId(8).build();
        try (ImageOutput out = dir.create(ImageFile.fs(99))) {
            out.write(fs);
        }
        InventoryEntry inv = InventoryEntry.newBuilder().setImgVersion(2).build();
        try (ImageOutput out = dir.create(ImageFile.inventory())) {
            out.write(inv);
        }

        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(dir.path().resolve("fs-99.img"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Magic.IMG_COMMON, b.getInt());
        assertEquals(0x51403912, b.getInt());
        assertEquals(fs.getSerializedSize(), b.getInt());
        byte[] body = new byte[b.remaining()];
        b.get(body);
        assertArrayEquals(fs.toByteArray(), body);

        // inventory.img has no common magic in front
        b = ByteBuffer.wrap(Files.readAllBytes(dir.path().resolve("inventory.img"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x58313116, b.getInt());
        assertEquals(inv.getSerializedSize(), b.getInt());
        assertEquals(inv.getSerializedSize(), b.remaining());
    }

    @Test
    void zeroLengthEntryIsNotEof() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("img"));
        ImageFile f = new ImageFile("odd.img", Magic.FILES);
        try (ImageOutput out = dir.create(f)) {
            out.write(TaskRlimitsEntry.getDefaultInstance()); // serializes to nothing
            out.write(TaskRlimitsEntry.getDefaultInstance());
        }
        try (ImageInput in = dir.open(f)) {
            assertEquals(TaskRlimitsEntry.getDefaultInstance(), in.next(TaskRlimitsEntry.parser()));
            assertEquals(TaskRlimitsEntry.getDefaultInstance(), in.next(TaskRlimitsEntry.parser()));
            assertNull(in.next(TaskRlimitsEntry.parser()));
        }
    }

    @Test
    void emptyImageHasNoEntries() throws IOException {
        ImageDir dir = ImageDir.create(tmp.resolve("img"));
        try (ImageOutput out = dir.create(ImageFile.fdinfo(5))) {
            // a task without open files
        }
        assertEquals(8, Files.size(dir.path().resolve("fdinfo-5.img")));
        try (ImageInput in = dir.open(ImageFile.fdinfo(5))) {
            assertNull(in.next(FdinfoEntry.parser()));
        }
    }

    @Test
    void pagemapCounts() {
        PagemapEntry small = Pagemap.entry(0x1000, 5, Pagemap.PE_PRESENT);
        assertEquals(5, small.getCompatNrPages());
        assertEquals(5, Pagemap.nrPages(small));
        assertTrue(Pagemap.isPresent(small));

        PagemapEntry huge = Pagemap.entry(0x1000, 1L << 33, Pagemap.PE_LAZY);
        assertEquals(0, huge.getCompatNrPages());
        assertEquals(1L << 33, Pagemap.nrPages(huge));
        assertFalse(Pagemap.isPresent(huge));

        // Shape written by CRIU 3.x: only the 32-bit count.
        PagemapEntry old = PagemapEntry.newBuilder().setVaddr(0x2000).setCompatNrPages(7).setFlags(Pagemap.PE_PRESENT).build();
        assertEquals(7, Pagemap.nrPages(old));

        assertThrows(IllegalArgumentException.class, () -> Pagemap.entry(0x1001, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Pagemap.entry(0x1000, 0, 0));
    }

    @Test
    void fileNamesFollowCriu() {
        assertEquals("inventory.img", ImageFile.inventory().name());
        assertEquals("pstree.img", ImageFile.pstree().name());
        assertEquals("core-4243.img", ImageFile.core(4243).name());
        assertEquals("ids-1.img", ImageFile.ids(1).name());
        assertEquals("mm-1.img", ImageFile.mm(1).name());
        assertEquals("pagemap-1.img", ImageFile.pagemap(1).name());
        assertEquals("pages-3.img", ImageFile.pages(3).name());
        assertEquals("files.img", ImageFile.files().name());
        assertEquals("fdinfo-2.img", ImageFile.fdinfo(2).name());
        assertEquals("fs-1.img", ImageFile.fs(1).name());
        assertEquals("core-4294967295.img", ImageFile.core(-1).name());
        assertEquals(Magic.CORE, ImageFile.core(1).magic());
        assertThrows(IllegalArgumentException.class, () -> new ImageFile("../x.img", Magic.FS));
        assertThrows(IllegalArgumentException.class, () -> new ImageFile("", Magic.FS));
        assertThrows(IllegalArgumentException.class, () -> new ImageFile("..", Magic.FS));
    }

    @Test
    void magicHeaders() {
        assertEquals(0x54564319, Magic.IMG_COMMON);
        assertFalse(Magic.INVENTORY.hasCommonMagic());
        assertEquals(4, Magic.INVENTORY.headerSize());
        assertTrue(Magic.CORE.hasCommonMagic());
        assertEquals(8, Magic.CORE.headerSize());
        assertTrue(Magic.PAGES.isRaw());
        assertEquals(0, Magic.PAGES.headerSize());
        assertEquals(Magic.IMG_SERVICE, Magic.STATS.prefix());
        assertEquals(8, Magic.STATS.headerSize());
        for (Magic m : Magic.values()) {
            assertEquals(m != Magic.PAGES && m != Magic.INVENTORY && m != Magic.STATS, m.hasCommonMagic(), m.name());
        }
    }
}

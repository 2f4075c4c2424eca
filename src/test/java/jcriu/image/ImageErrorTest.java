package jcriu.image;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import jcriu.image.pb.CoreEntry;
import jcriu.image.pb.FsEntry;
import jcriu.image.pb.InventoryEntry;
import jcriu.image.pb.PstreeEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageErrorTest {
    @TempDir
    Path tmp;
    ImageDir dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = ImageDir.create(tmp.resolve("img"));
    }

    private static byte[] le(int... words) {
        ByteBuffer b = ByteBuffer.allocate(4 * words.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int w : words) b.putInt(w);
        return b.array();
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }

    private Path put(ImageFile f, byte[] content) throws IOException {
        return Files.write(dir.path().resolve(f.name()), content);
    }

    private ImageException readFsFails(byte[] content) throws IOException {
        Path p = put(ImageFile.fs(1), content);
        try (ImageInput in = dir.open(ImageFile.fs(1))) {
            ImageException e = assertThrows(ImageException.class, () -> in.next(FsEntry.parser()));
            assertEquals(p, e.file());
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
            return e;
        }
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "\"" + e.getMessage() + "\" lacks \"" + p + "\"");
        }
    }

    @Test
    void wrongCommonMagic() throws IOException {
        Path p = put(ImageFile.core(7), le(0x11223344, Magic.CORE.value()));
        ImageException e = assertThrows(ImageException.class, () -> dir.open(ImageFile.core(7)));
        assertEquals(0, e.offset());
        assertMentions(e, p.toString(), "offset 0", "0x54564319", "0x11223344");
    }

    @Test
    void wrongFileMagic() throws IOException {
        try (ImageOutput out = dir.create(ImageFile.pstree())) {
            out.write(PstreeEntry.newBuilder().setPid(1).setPpid(0).setPgid(1).setSid(1).build());
        }
        // A pstree image opened where a core image is expected.
        ImageException e = assertThrows(ImageException.class,
                () -> dir.open(new ImageFile("pstree.img", Magic.CORE)));
        assertEquals(4, e.offset());
        assertMentions(e, "pstree.img", "offset 4", "CORE", "0x55053847", "0x50273030");
    }

    @Test
    void inventoryWithCommonMagicIsRejected() throws IOException {
        put(ImageFile.inventory(), le(Magic.IMG_COMMON, Magic.INVENTORY.value()));
        ImageException e = assertThrows(ImageException.class, () -> dir.open(ImageFile.inventory()));
        assertMentions(e, "inventory.img", "offset 0", "0x58313116", "0x54564319");
    }

    @Test
    void emptyOrShortHeader() throws IOException {
        put(ImageFile.mm(1), new byte[0]);
        assertMentions(assertThrows(ImageException.class, () -> dir.open(ImageFile.mm(1))),
                "mm-1.img", "offset 0", "end of file");
        put(ImageFile.mm(2), cat(le(Magic.IMG_COMMON), new byte[] {0x20, 0x28}));
        assertMentions(assertThrows(ImageException.class, () -> dir.open(ImageFile.mm(2))),
                "mm-2.img", "offset 4", "end of file after 2 bytes");
    }

    @Test
    void truncatedLength() throws IOException {
        ImageException e = readFsFails(cat(le(Magic.IMG_COMMON, Magic.FS.value()), new byte[] {4, 0}));
        assertEquals(8, e.offset());
        assertMentions(e, "offset 8", "truncated entry length");
    }

    @Test
    void truncatedBody() throws IOException {
        byte[] body = FsEntry.newBuilder().setCwdId(1).setRootId(2).build().toByteArray();
        ImageException e = readFsFails(cat(le(Magic.IMG_COMMON, Magic.FS.value(), body.length + 10), body));
        assertEquals(8, e.offset());
        assertMentions(e, "truncated entry", String.valueOf(body.length + 10));
    }

    @Test
    void absurdLengthIsTruncationNotOutOfMemory() throws IOException {
        ImageException e = readFsFails(cat(le(Magic.IMG_COMMON, Magic.FS.value(), -1), new byte[16]));
        assertMentions(e, "truncated entry", "4294967295");
    }

    @Test
    void garbageBody() throws IOException {
        // 0x07 is a tag with wire type 7, which does not exist.
        ImageException e = readFsFails(cat(le(Magic.IMG_COMMON, Magic.FS.value(), 3), new byte[] {0x07, (byte) 0xff, 0x01}));
        assertEquals(8, e.offset());
        assertInstanceOf(InvalidProtocolBufferException.class, e.getCause());
        assertMentions(e, "offset 8", "FS image");
    }

    @Test
    void missingRequiredFieldOnRead() throws IOException {
        // cwd_id alone: root_id (required) is absent.
        byte[] body = {0x08, 0x01};
        ImageException e = readFsFails(cat(le(Magic.IMG_COMMON, Magic.FS.value(), body.length), body));
        assertMentions(e, "root_id");
    }

    @Test
    void secondEntryErrorReportsItsOffset() throws IOException {
        byte[] ok = FsEntry.newBuilder().setCwdId(1).setRootId(2).build().toByteArray();
        Path p = put(ImageFile.fs(3), cat(le(Magic.IMG_COMMON, Magic.FS.value(), ok.length), ok, le(5), new byte[] {1}));
        try (ImageInput in = dir.open(ImageFile.fs(3))) {
            assertNotNull(in.next(FsEntry.parser()));
            ImageException e = assertThrows(ImageException.class, () -> in.next(FsEntry.parser()));
            assertEquals(12 + ok.length, e.offset());
            assertMentions(e, p.toString());
        }
    }

    @Test
    void singleRejectsNoneOrMore() throws IOException {
        FsEntry fs = FsEntry.newBuilder().setCwdId(1).setRootId(2).build();
        try (ImageOutput out = dir.create(ImageFile.fs(1))) {
            out.write(fs);
            out.write(fs);
        }
        try (ImageInput in = dir.open(ImageFile.fs(1))) {
            assertMentions(assertThrows(ImageException.class, () -> in.single(FsEntry.parser())),
                    "fs-1.img", "expected end of file");
        }
        try (ImageOutput out = dir.create(ImageFile.fs(2))) {
            // nothing
        }
        try (ImageInput in = dir.open(ImageFile.fs(2))) {
            assertMentions(assertThrows(ImageException.class, () -> in.single(FsEntry.parser())),
                    "fs-2.img", "found end of file");
        }
    }

    @Test
    void writeRefusesIncompleteMessage() throws IOException {
        try (ImageOutput out = dir.create(ImageFile.inventory())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> out.write(InventoryEntry.newBuilder().buildPartial()));
            assertMentions(e, "inventory.img", "img_version");
            CoreEntry partial = CoreEntry.newBuilder().setMtype(CoreEntry.March.X86_64)
                    .setThreadInfo(SampleImages.threadInfo(1, 2).toBuilder().clearFpregs().buildPartial())
                    .buildPartial();
            assertMentions(assertThrows(IllegalArgumentException.class, () -> out.write(partial)),
                    "thread_info.fpregs");
        }
    }

    @Test
    void rawFilesGoThroughRawApi() {
        assertThrows(IllegalArgumentException.class, () -> dir.create(ImageFile.pages(1)));
        assertThrows(IllegalArgumentException.class, () -> dir.open(ImageFile.pages(1)));
        assertThrows(IllegalArgumentException.class, () -> dir.createRaw("../pages-1.img"));
    }
}

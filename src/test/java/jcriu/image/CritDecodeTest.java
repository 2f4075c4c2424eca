package jcriu.image;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.MessageLite;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jcriu.image.pb.*;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks wire compatibility with CRIU's own tool: crit (Debian package
 * "criu") must decode every image we write, and images crit encodes must
 * read back here. There is deliberately no skip: without crit this fails.
 */
class CritDecodeTest {
    static String crit;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findCrit() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(d.isEmpty() ? "." : d, "crit");
            if (Files.isExecutable(p)) {
                crit = p.toString();
                return;
            }
        }
        fail("crit not found on PATH; install it with: apt-get install -y criu");
    }

    record Run(int exit, String output) {}

    static Run crit(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(crit));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "crit timed out: " + cmd);
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** Strings crit's pretty JSON must contain for each sample file. */
    static List<String> expectations(ImageFile f) {
        String hexRip = "\"ip\": \"0x" + Long.toHexString(SampleImages.RIP) + "\"";
        return switch (f.name()) {
            case "inventory.img" -> List.of("\"magic\": \"INVENTORY\"", "\"img_version\": 2", "\"fdinfo_per_id\": true",
                    "\"dump_uptime\": 123456789");
            case "pstree.img" -> List.of("\"magic\": \"PSTREE\"", "\"pid\": 4242", "4243");
            case "core-4242.img" -> List.of("\"magic\": \"CORE\"", "\"mtype\": \"X86_64\"", hexRip,
                    "\"orig_ax\": \"0xe6\"",
                    "\"rip\": " + SampleImages.FPU_RIP,                          // fpregs
                    "\"xstate_bv\": 519", "\"pkru\"",                             // xsave
                    "\"task_state\": \"Alive\"", "\"comm\": \"sleeper\"",
                    "\"sigaction\": \"0x401a00\"", "\"restorer\": \"0x7f00000042c0\"",
                    "\"cur\": 8388608", "\"max\": 524288",                       // rlimits
                    "\"uid\": " + SampleImages.UID, "\"cap_bnd\"",                // creds
                    "\"rseq_abi_pointer\": " + SampleImages.RSEQ_ABI, "\"signature\": 1392848979",
                    "\"ss_flags\": 2", "\"siginfo\": \"CgAAAA");
            case "core-4243.img" -> List.of("\"magic\": \"CORE\"",
                    "\"ip\": \"0x" + Long.toHexString(SampleImages.RIP2) + "\"", "\"comm\": \"worker\"",
                    "\"rseq_abi_pointer\": " + (SampleImages.RSEQ_ABI + 0x100000));
            case "ids-4242.img" -> List.of("\"magic\": \"IDS\"", "\"vm_id\": 13", "\"files_id\": 2");
            case "mm-4242.img" -> List.of("\"magic\": \"MM\"",
                    "\"start\": \"0x" + Long.toHexString(SampleImages.HEAP_START) + "\"",
                    "\"start\": \"0x400000\"", "\"end\": \"0x" + Long.toHexString(SampleImages.STACK_TOP) + "\"",
                    "VMA_AREA_STACK", "VMA_AREA_HEAP", "VMA_FILE_PRIVATE", "PROT_READ | PROT_EXEC",
                    "\"exe_file_id\": 1");
            case "pagemap-4242.img" -> List.of("\"magic\": \"PAGEMAP\"", "\"pages_id\": 1",
                    "\"vaddr\": \"0x" + Long.toHexString(SampleImages.HEAP_START) + "\"", "\"nr_pages\": 3",
                    "PE_PRESENT");
            case "files.img" -> List.of("\"magic\": \"FILES\"", "\"type\": \"REG\"",
                    "\"name\": \"" + SampleImages.EXE + "\"", "\"name\": \"" + SampleImages.LOG + "\"",
                    "\"pos\": 8191");
            case "fdinfo-2.img" -> List.of("\"magic\": \"FDINFO\"", "\"fd\": 3", "\"id\": 5", "\"type\": \"REG\"");
            case "fs-4242.img" -> List.of("\"magic\": \"FS\"", "\"cwd_id\": 3", "\"root_id\": 2", "\"umask\": 18");
            default -> throw new AssertionError("no expectations for " + f.name());
        };
    }

    @Test
    void critDecodesEveryImage() throws Exception {
        ImageDir dir = ImageDir.create(tmp.resolve("img"));
        Map<ImageFile, List<MessageLite>> written = SampleImages.writeAll(dir);
        assertEquals(10, written.size());
        for (ImageFile f : written.keySet()) {
            Run r = crit("decode", "-i", dir.path().resolve(f.name()).toString(), "--pretty");
            assertEquals(0, r.exit(), () -> "crit decode " + f.name() + " failed:\n" + r.output());
            for (String want : expectations(f)) {
                assertTrue(r.output().contains(want), () -> f.name() + ": crit output lacks " + want + "\n" + r.output());
            }
        }
    }

    /** crit decode, then crit encode, then our reader: what crit writes must parse here. */
    @Test
    void critEncodedImagesReadBack() throws Exception {
        ImageDir dir = ImageDir.create(tmp.resolve("img"));
        Map<ImageFile, List<MessageLite>> written = SampleImages.writeAll(dir);
        ImageDir back = ImageDir.create(tmp.resolve("back"));
        for (var e : written.entrySet()) {
            ImageFile f = e.getKey();
            Path json = tmp.resolve(f.name() + ".json");
            Run d = crit("decode", "-i", dir.path().resolve(f.name()).toString(), "-o", json.toString());
            assertEquals(0, d.exit(), d.output());
            Run en = crit("encode", "-i", json.toString(), "-o", back.path().resolve(f.name()).toString());
            assertEquals(0, en.exit(), en.output());

            List<MessageLite> read = new ArrayList<>();
            try (ImageInput in = back.open(f)) {
                if (f.magic() == Magic.PAGEMAP) {
                    Pagemap pm = Pagemap.read(in);
                    read.add(PagemapHead.newBuilder().setPagesId(pm.pagesId()).build());
                    read.addAll(pm.entries());
                } else {
                    for (MessageLite m; (m = in.next(ImageRoundTripTest.parserFor(f.magic()))) != null; ) {
                        read.add(m);
                    }
                }
            }
            assertEquals(strip(e.getValue()), strip(read), f.name());
            if (f.magic() == Magic.PAGEMAP) {
                // Whatever crit kept of the page counts still yields the right count.
                assertEquals(3, Pagemap.nrPages((PagemapEntry) read.get(2)));
            }
        }
    }

    /** Drops fields newer than crit 3.17 (Debian 12), which it cannot carry over. */
    static List<MessageLite> strip(List<MessageLite> msgs) {
        List<MessageLite> out = new ArrayList<>();
        for (MessageLite m : msgs) {
            out.add(switch (m) {
                case PagemapEntry p -> p.toBuilder().clearNrPages().build();
                case CoreEntry c -> {
                    CoreEntry.Builder b = c.toBuilder();
                    if (b.hasThreadCore()) {
                        b.getThreadCoreBuilder().clearCgSet();
                        b.getThreadCoreBuilder().getCredsBuilder().clearNoNewPrivs().clearCapAmb();
                    }
                    if (b.hasTc()) {
                        b.getTcBuilder().clearStopSigno().clearMembarrierRegistrationMask();
                    }
                    yield b.build();
                }
                default -> m;
            });
        }
        return out;
    }
}

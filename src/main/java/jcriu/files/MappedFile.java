package jcriu.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jcriu.image.pb.RegFileEntry;
import jcriu.state.ProcessState;
import jcriu.state.TreeState;
import jcriu.state.VmaState;

/**
 * A regular file a process maps (its executable and libraries among them) as it was at the
 * dump: size, whole st_mode and ELF build-id (hex, padded to words; empty if it has none). A
 * restore maps the file again and reads from it every page the process had not written, so a
 * file that changed meanwhile (a library upgraded, a program rebuilt) would run other code; as
 * CRIU does, it is refused, naming it. Stored in the file's entry in files.img (CRIU's
 * {@code size}, {@code mode} and {@code build_id}), which CRIU's restore checks the same way.
 */
public record MappedFile(String path, long size, int mode, String buildId) {
    private static final Path PROC = Path.of("/proc");

    /**
     * Every regular file mapped by process {@code pid} (frozen), read through its
     * /proc/PID/map_files link, which reaches the mapped file itself. A file deleted or replaced
     * since it was mapped is left out: it is not the one at its path (deleted files are saved
     * with the images instead).
     */
    public static List<MappedFile> of(int pid, List<VmaState> vmas) throws IOException {
        List<MappedFile> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (VmaState v : vmas) {
            if ((v.kind() != VmaState.Kind.FILE_PRIVATE && v.kind() != VmaState.Kind.FILE_SHARED) || v.path() == null
                    || !seen.add(v.path())) {
                continue;
            }
            Path link = PROC.resolve(pid + "/map_files/" + Long.toHexString(v.start()) + "-" + Long.toHexString(v.end()));
            Map<String, Object> a = Files.readAttributes(link, "unix:mode,size,ino,dev,isRegularFile");
            if (!(Boolean) a.get("isRegularFile")) continue;
            try {
                Map<String, Object> now = Files.readAttributes(Path.of(v.path()), "unix:ino,dev");
                if (!now.get("ino").equals(a.get("ino")) || !now.get("dev").equals(a.get("dev"))) continue;
            } catch (NoSuchFileException | IllegalArgumentException gone) {
                continue;
            }
            out.add(new MappedFile(v.path(), (Long) a.get("size"), (Integer) a.get("mode"), RegularFile.buildIdOf(link)));
        }
        return out;
    }

    /** This file's size, mode and build-id in its files.img entry. */
    public RegFileEntry stamp(RegFileEntry r) {
        RegFileEntry.Builder b = r.toBuilder().setSize(size).setMode(mode).clearBuildId();
        for (int w : ElfBuildId.toWords(java.util.HexFormat.of().parseHex(buildId))) b.addBuildId(w);
        return b.build();
    }

    /**
     * Before a restore creates anything: every file mapped by a process of {@code tree}, or its
     * executable, whose entry recorded a size is the same file now (size and mode unless
     * {@code strict} is false; build-id unless {@code strict} is false). Files whose content
     * the images hold (small shared ones) are written back from there and not checked.
     */
    public static void verify(TreeState tree, boolean strict) throws IOException {
        Set<String> paths = new HashSet<>();
        for (ProcessState st : tree.processes()) {
            for (VmaState v : st.mm().vmas()) {
                if (v.path() != null && (v.kind() == VmaState.Kind.FILE_PRIVATE || v.kind() == VmaState.Kind.FILE_SHARED)
                        && st.mm().snapshotOf(v).isEmpty()) {
                    paths.add(v.path());
                }
            }
        }
        Set<String> done = new HashSet<>();
        for (OpenFile f : tree.files()) {
            if (f instanceof RegularFile r && r.size() >= 0 && paths.contains(r.path()) && done.add(r.path())
                    && Files.exists(Path.of(r.path()))) {
                try {
                    r.verify(strict);
                } catch (IOException e) {
                    throw new IOException("a file mapped by the process: " + e.getMessage(), e);
                }
            }
        }
    }
}

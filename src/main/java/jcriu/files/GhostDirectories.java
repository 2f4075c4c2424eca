package jcriu.files;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcriu.image.ImageDir;
import jcriu.image.ImageException;
import jcriu.image.ImageFile;
import jcriu.image.ImageInput;
import jcriu.image.ImageOutput;
import jcriu.image.pb.FileEntry;
import jcriu.image.pb.GhostFileEntry;
import jcriu.image.pb.RemapFilePathEntry;
import jcriu.image.pb.RemapType;

/**
 * The deleted directories of a tree in CRIU's layout: each directory (one inode) gets a ghost
 * id and a ghost-file-ID.img (mode S_IFDIR, owner, times, dev and ino), and every files.img
 * entry on it a GHOST entry in remap-fpath.img; fs-PID.img's cwd_id names such an entry.
 */
public final class GhostDirectories {
    private static final String DELETED = jcriu.proc.Vma.DELETED_SUFFIX;
    private static final int S_IFMT = 0170000, S_IFDIR = 0040000;

    private GhostDirectories() {}

    /** At dump: a cwd that /proc shows as removed. */
    public static boolean deleted(String cwd) {
        return cwd.endsWith(DELETED);
    }

    /**
     * The deleted directories among {@code files} added to: one more (a deleted cwd, or a
     * directory of an fd) is refused when another directory with the same path was removed
     * too: the restore makes each again at its path, one at a time would not do, and the
     * cwd names its directory by path.
     */
    public static void checkDistinct(List<OpenFile> files, DeletedDirectory d) throws IOException {
        for (OpenFile f : files) {
            if (f instanceof DeletedDirectory o && o.path().equals(d.path()) && !o.dir().same(d.dir())) {
                throw new IOException(d.path() + DELETED + ": two different deleted directories had this path"
                        + " (inodes " + o.dir().ino() + " and " + d.dir().ino() + "); not supported");
            }
        }
    }

    /** Whether a deleted directory of {@code files} is the one {@code d} holds (then {@code d} needs no entry of its own). */
    public static boolean known(List<OpenFile> files, DeletedDirectory d) {
        return files.stream().anyMatch(f -> f instanceof DeletedDirectory o && o.dir().same(d.dir()));
    }

    /**
     * The files.img id that fs-PID.img names for a deleted cwd (as the dump saw it, ending in
     * " (deleted)"): the entry of a deleted directory with that path.
     */
    public static int cwdId(Map<Integer, FileEntry> files, String cwd) throws IOException {
        String path = cwd.substring(0, cwd.length() - DELETED.length());
        for (FileEntry e : files.values()) {
            if (e.hasReg() && e.getReg().getJcriuDeleted() && (e.getReg().getMode() & S_IFMT) == S_IFDIR
                    && e.getReg().getName().equals(path)) {
                return e.getId();
            }
        }
        throw new IOException("no entry of the deleted directory " + cwd + " among the files");
    }

    /** remap-fpath.img and a ghost-file-ID.img per directory, when the tree has deleted directories. */
    public static void write(ImageDir dir, List<OpenFile> files) throws IOException {
        List<DeletedDirectory> dirs = new ArrayList<>();
        for (OpenFile f : files) if (f instanceof DeletedDirectory d) dirs.add(d);
        if (dirs.isEmpty()) return;
        List<DeletedDirectory.Inode> ghosts = new ArrayList<>();
        try (ImageOutput o = dir.create(ImageFile.remapFpath())) {
            for (DeletedDirectory d : dirs) {
                int g = 0;
                while (g < ghosts.size() && !ghosts.get(g).same(d.dir())) g++;
                if (g == ghosts.size()) ghosts.add(d.dir());
                o.write(RemapFilePathEntry.newBuilder().setOrigId(d.id()).setRemapId(g + 1)
                        .setRemapType(RemapType.GHOST).build());
            }
        }
        for (int g = 0; g < ghosts.size(); g++) {
            try (ImageOutput o = dir.create(ImageFile.ghostFile(g + 1))) {
                o.write(ghosts.get(g).encode());
            }
        }
    }

    /**
     * At restore: the entries of {@code files} that remap-fpath.img sends to a ghost directory
     * become {@link DeletedDirectory}s. Other remaps (a linked file, a ghost that is not a
     * directory, /proc) jcriu does not restore from these images: refused, naming the file.
     */
    public static void read(ImageDir dir, Map<Integer, OpenFile> files) throws IOException {
        if (!dir.exists(ImageFile.remapFpath())) return;
        Map<Integer, DeletedDirectory.Inode> ghosts = new HashMap<>();
        try (ImageInput in = dir.open(ImageFile.remapFpath())) {
            for (RemapFilePathEntry r; (r = in.next(RemapFilePathEntry.parser())) != null; ) {
                long at = in.offset();
                OpenFile f = files.get(r.getOrigId());
                if (f == null) throw new ImageException(in.file(), at, "remap of missing file " + r.getOrigId());
                if (r.getRemapType() != RemapType.GHOST) {
                    throw new ImageException(in.file(), at, "file " + f.describe() + " is remapped as "
                            + r.getRemapType() + ", which jcriu cannot restore");
                }
                DeletedDirectory.Inode g = ghosts.get(r.getRemapId());
                if (g == null) {
                    ImageFile gf = ImageFile.ghostFile(r.getRemapId());
                    try (ImageInput gi = dir.open(gf)) {
                        GhostFileEntry e = gi.next(GhostFileEntry.parser());
                        if (e == null) throw new ImageException(gi.file(), 0, "no ghost file entry");
                        if ((e.getMode() & S_IFMT) != S_IFDIR) {
                            throw new ImageException(gi.file(), 0, "the ghost of " + f.describe() + " is not a directory"
                                    + " (mode " + Integer.toOctalString(e.getMode()) + "); jcriu cannot restore it from"
                                    + " these images");
                        }
                        g = DeletedDirectory.Inode.decode(e);
                    }
                    ghosts.put(r.getRemapId(), g);
                }
                if (!(f instanceof RegularFile)) {
                    throw new ImageException(in.file(), at, "file " + f.describe() + " has a ghost directory but is not"
                            + " a file opened by path");
                }
                files.put(f.id(), DeletedDirectory.decode(f.encode(), g));
            }
        }
    }

    /** What fs-PID.img's cwd names, as the restore takes it: a deleted directory's path ends in " (deleted)". */
    public static String cwdPath(OpenFile f) {
        return f instanceof DeletedDirectory d ? d.path() + DELETED : null;
    }
}

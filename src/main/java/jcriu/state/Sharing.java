package jcriu.state;

import java.util.Set;

/**
 * Which processes of a tree share their parent's fd table (clone with CLONE_FILES) or fs
 * information, cwd, root and umask (CLONE_FS). The restore clones those with the same flag
 * from their restored parent, so that the table or fs is one kernel object again: what one
 * opens, closes or chdirs to, the other sees.
 */
public record Sharing(Set<Integer> filesWithParent, Set<Integer> fsWithParent) {
    public static final Sharing NONE = new Sharing(Set.of(), Set.of());

    private static final long CLONE_FS = 0x200, CLONE_FILES = 0x400;

    public Sharing {
        filesWithParent = Set.copyOf(filesWithParent);
        fsWithParent = Set.copyOf(fsWithParent);
    }

    public boolean sharesFiles(int pid) {
        return filesWithParent.contains(pid);
    }

    public boolean sharesFs(int pid) {
        return fsWithParent.contains(pid);
    }

    /** The clone flags that make process {@code pid} share what it shared with its parent. */
    public long cloneFlags(int pid) {
        return (sharesFiles(pid) ? CLONE_FILES : 0) | (sharesFs(pid) ? CLONE_FS : 0);
    }
}

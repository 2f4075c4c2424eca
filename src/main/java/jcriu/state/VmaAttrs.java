package jcriu.state;

/**
 * What a mapping has beyond its placement, protection and advice.
 *
 * @param fileFlags how the backing file of a shared mapping was opened (O_RDONLY 0, O_RDWR 2):
 *                  a file opened read-write may be mapped read-only and made writable later
 *                  with mprotect, which needs the file open for writing; 0 for other mappings
 * @param lock      mlock state (VmFlags lo, lf)
 * @param anonName  the name given with PR_SET_VMA_ANON_NAME, null if none
 * @param sealed    mseal(2)ed (VmFlags sl)
 */
public record VmaAttrs(int fileFlags, Lock lock, String anonName, boolean sealed) {
    public enum Lock { NONE, LOCKED, LOCKED_ON_FAULT }

    public static final VmaAttrs NONE = new VmaAttrs(0, Lock.NONE, null, false);
}

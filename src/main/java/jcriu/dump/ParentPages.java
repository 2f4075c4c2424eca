package jcriu.dump;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

import jcriu.image.PageStore;

/**
 * The pages of a previous (pre-)dump, mapped read-only, to compare the process's pages
 * against while it is frozen: whatever is unchanged is not written again. Comparing
 * contents needs no dirty-page tracking from the kernel (soft-dirty is not built into
 * every kernel, this machine's included) and is exact.
 */
final class ParentPages implements AutoCloseable {
    private final PageStore store;
    private final Arena arena = Arena.ofShared();
    private final Map<Path, MemorySegment> files = new HashMap<>();
    private long compared, equal;

    ParentPages(Path dir, int pid) throws IOException {
        this.store = PageStore.open(dir, pid);
        for (PageStore.Slice s : store.slices()) {
            if (files.containsKey(s.file())) continue;
            try (FileChannel ch = FileChannel.open(s.file(), StandardOpenOption.READ)) {
                files.put(s.file(), ch.size() == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
            }
        }
    }

    /** Whether the parent holds page {@code addr} with exactly these 4096 bytes. */
    boolean same(long addr, MemorySegment page) {
        PageStore.Slice s = store.page(addr);
        if (s == null) return false;
        MemorySegment f = files.get(s.file());
        if (f.byteSize() < s.offset() + 4096) return false;
        compared++;
        boolean eq = MemorySegment.mismatch(page, 0, 4096, f, s.offset(), s.offset() + 4096) == -1;
        if (eq) equal++;
        return eq;
    }

    long compared() { return compared; }
    long equal() { return equal; }

    @Override
    public void close() { arena.close(); }
}

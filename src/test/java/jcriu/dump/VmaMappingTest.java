package jcriu.dump;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Set;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import jcriu.proc.Vma;
import jcriu.state.VmaAttrs;
import jcriu.state.VmaState;

/** Which mappings are recreated and how, and which refuse the dump naming the mapping and the reason. */
class VmaMappingTest {
    private static Vma anon(String name, String... flags) {
        return new Vma(0x10000, 0x14000, "rw-p", 0, 0, 0, 0, name, Set.of(flags), 0, 0, 0);
    }

    @ParameterizedTest(name = "VmFlags {0}")
    @CsvSource({"ht, hugetlb memory", "um, userfaultfd", "uw, userfaultfd", "ss, shadow stack", "pf, device",
            "io, device", "mm, device", "sf, DAX", "xx, unknown to jcriu"})
    void flagsThatCannotBeRecreatedRefuse(String flag, String why) {
        var e = assertThrows(IOException.class, () -> VmaMapping.toState(anon("", "rd", "wr", "mr", "mw", "me", flag), 42));
        assertTrue(e.getMessage().contains("mapping 0x10000-0x14000 of process 42") && e.getMessage().contains("VmFlags "
                + flag) && e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void uprobesAreaRefuses() {
        var e = assertThrows(IOException.class, () -> VmaMapping.toState(
                new Vma(0x7fff0000, 0x7fff1000, "r-xp", 0, 0, 0, 0, "[uprobes]", Set.of("rd", "ex"), 0, 0, 0), 42));
        assertTrue(e.getMessage().contains("[uprobes]") && e.getMessage().contains("uprobe"), e.getMessage());
    }

    @Test
    void kernelMappingsKeepTheirOwnFlags() throws IOException {
        // the vvar pages are pf/io/de, which only the kernel's own mappings may be
        Vma vvar = new Vma(0x1000, 0x5000, "r--p", 0, 0, 0, 0, "[vvar]", Set.of("rd", "mr", "pf", "io", "de", "dd"), 0, 0, 0);
        assertEquals(VmaState.Kind.VVAR, VmaMapping.toState(vvar, 42).kind());
    }

    @Test
    void locksSealsDroppableAndAdviceAreKept() throws IOException {
        VmaState s = VmaMapping.toState(anon("[anon:cache]", "rd", "wr", "lo", "lf", "sl", "sr", "dc", "nr"), 42);
        assertEquals(new VmaAttrs(0, VmaAttrs.Lock.LOCKED_ON_FAULT, "cache", true), s.attrs());
        assertEquals(VmaState.MAP_PRIVATE | VmaState.MAP_NORESERVE, s.flags());
        assertArrayEquals(new int[] {2 /* SEQUENTIAL */, 10 /* DONTFORK */}, s.madvise());
        assertEquals(VmaAttrs.Lock.LOCKED, VmaMapping.toState(anon("", "rd", "lo"), 42).attrs().lock());
        VmaState d = VmaMapping.toState(anon("", "rd", "wr", "dp", "wf", "dd", "nr"), 42);
        assertEquals(VmaState.MAP_DROPPABLE | VmaState.MAP_NORESERVE, d.flags(), "droppable is a mapping type");
        assertArrayEquals(new int[0], d.madvise(), "which brings wipeonfork and dontdump with it");
    }
}

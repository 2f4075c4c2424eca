package jcriu.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import jcriu.proc.Maps;
import jcriu.proc.Vma;
import jcriu.ptrace.TaskMemory;
import jcriu.rseq.RseqCs;

/** Gadgets found once are taken again only where they still hold (read in this JVM's own memory). */
class RescueGadgetsTest {
    private static final int SELF = (int) ProcessHandle.current().pid();

    @Test
    void foundGadgetsAreReusedWhereTheyHoldAndNowhereElse() throws Exception {
        List<Vma> maps = Maps.readMaps(Path.of("/proc"), SELF);
        try (TaskMemory mem = TaskMemory.open(SELF, false)) {
            RescueGadgets g = RescueGadgets.find(maps, mem, List.of()).orElseThrow();
            assertEquals(Optional.of(g), RescueGadgets.reuse(g, maps, mem, List.of()));
            // one byte off: not the code any more
            assertEquals(Optional.empty(),
                    RescueGadgets.reuse(new RescueGadgets(g.syscallRet() + 1, g.sigreturn(), g.munmapRet()), maps, mem, List.of()));
            assertEquals(Optional.empty(),
                    RescueGadgets.reuse(new RescueGadgets(g.syscallRet(), g.sigreturn() + 1, g.munmapRet()), maps, mem,
                            List.of()));
            assertTrue(g.munmapRet() != 0, "glibc has munmap's syscall template: " + g);
            assertEquals(Optional.empty(), RescueGadgets.reuse(
                    new RescueGadgets(g.syscallRet(), g.sigreturn(), g.munmapRet() + 1), maps, mem, List.of()));
            // inside a critical section of a thread of this process
            RseqCs cs = new RseqCs(0, 0, g.sigreturn() + 2, 1, 0);
            assertEquals(Optional.empty(), RescueGadgets.reuse(g, maps, mem, List.of(cs)));
            // a mapping the scan would not search (not in the maps given)
            List<Vma> without = maps.stream().filter(v -> !v.contains(g.syscallRet())).toList();
            assertEquals(Optional.empty(), RescueGadgets.reuse(g, without, mem, List.of()));
            // and the scan itself steers clear of that section
            RescueGadgets other = RescueGadgets.find(maps, mem, List.of(cs)).orElseThrow();
            assertTrue(other.sigreturn() != g.sigreturn());
        }
    }
}

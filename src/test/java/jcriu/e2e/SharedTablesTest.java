package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.proc.ProcStat;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Trees;
import jcriu.testsupport.Workload;

/**
 * Processes that share one fd table (CLONE_FILES) and one cwd/root/umask (CLONE_FS) share
 * them again after a restore: an fd opened by one is usable by the other, a close by one
 * closes it for the other, and a chdir or umask by one moves the other.
 */
class SharedTablesTest {
    @Test
    void aParentAndAChildClonedWithCloneFilesAndCloneFsStillShareThem() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("shared_tables")); var killW = Trees.killOnClose(w)) {
            w.awaitOutput("ready");
            w.signal(Sig.SIGUSR1);
            w.awaitOutput("round 1 ok");
            List<ProcStat> before = Trees.awaitMembers(w.pid(), 2);
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                assertEquals(before.stream().map(ProcStat::pid).toList(),
                        Trees.members(back.pid()).stream().map(ProcStat::pid).toList(), "the same processes");
                for (int round = 2; round <= 4; round++) {
                    back.signal(Sig.SIGUSR1);
                    back.awaitOutput("(round " + round + " ok|BAD)");
                    assertFalse(back.text().contains("BAD"), back.text());
                }
                assertEquals("child 3\n", Files.readString(w.dir().resolve("round-3.txt")));
                back.signal(Sig.SIGTERM);
                back.awaitOutput("exit code=0");
                assertFalse(back.text().contains("BAD"), back.text());
            }
        }
    }
}

package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Trees;
import jcriu.testsupport.Workload;

/**
 * A process group whose leader is gone (its maker exited) comes back with its members in it,
 * and the helper that leads it during the restore leaves no trace: no child of the root's
 * ends after the restore but those the workload ends itself.
 */
class OrphanGroupTest {
    @Test
    void aGroupWhoseLeaderIsGoneIsRestoredWithItsMembers() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("orphan_group")); var killW = Trees.killOnClose(w)) {
            String member = w.awaitOutput("member pid=");
            long pid = Workload.number(member, "pid"), pgid = Workload.number(member, "pgid");
            w.awaitOutput("ready");
            try (Workload back = Trees.cycle(w); var killBack = Trees.killOnClose(back)) {
                back.signal(Sig.SIGUSR1);
                String check = back.awaitOutput("check pgid=");
                assertEquals(pgid, Workload.number(check, "pgid"), check);
                assertEquals(0, Workload.number(check, "stray"), "no child of the root has ended: " + check);
                assertEquals(List.of((int) pid), Trees.members(back.pid()).stream().skip(1).map(p -> p.pid()).toList());
                back.signal(Sig.SIGTERM);
                back.awaitOutput("exit code=0");
            }
        }
    }
}

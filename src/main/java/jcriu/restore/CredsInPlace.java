package jcriu.restore;

import java.io.IOException;
import java.nio.file.Path;

import jcriu.inject.Injector;
import jcriu.proc.Ids;
import jcriu.proc.ProcStatus;
import jcriu.proc.Status;
import jcriu.state.ProcessState;
import jcriu.sys.Nr;

/**
 * Whether a thread already holds the credentials it is to be restored with: ids, groups,
 * capability sets (from its /proc status) and secure bits (one injected call). A tree dumped
 * from processes of jcriu's own user is restored into copies of a helper with jcriu's
 * credentials, so this is the common case, where setting them all again (eight injected calls for root)
 * would change nothing.
 */
final class CredsInPlace {
    private static final Path PROC = Path.of("/proc");
    private static final int PR_GET_SECUREBITS = 27;

    private CredsInPlace() {}

    static boolean already(Injector inj, int pid, ProcessState.Creds want, int secureBits) throws IOException {
        ProcStatus s = Status.readTask(PROC, pid, inj.tid());
        var c = s.caps();
        ProcessState.Creds now = new ProcessState.Creds(ids(s.uid()), ids(s.gid()),
                s.groups().stream().mapToInt(Integer::intValue).toArray(), c.inheritable(), c.permitted(),
                c.effective(), c.bounding(), c.ambient());
        if (!now.same(want)) return false;
        return inj.raw(Nr.PRCTL, PR_GET_SECUREBITS, 0, 0, 0, 0) == secureBits;
    }

    private static int[] ids(Ids i) {
        return new int[] {i.real(), i.effective(), i.saved(), i.fs()};
    }
}

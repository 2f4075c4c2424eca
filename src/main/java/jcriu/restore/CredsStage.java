package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

import jcriu.inject.Injector;
import jcriu.sys.Errno;
import jcriu.sys.Nr;

/**
 * Credentials of one thread (they are per thread in the kernel): bounding set, groups, ids,
 * capability sets. Applied last, since they may take away what the other stages need.
 */
final class CredsStage {
    private static final int PR_CAPBSET_DROP = 24, PR_SET_KEEPCAPS = 8, PR_CAP_AMBIENT = 47;

    private CredsStage() {}

    static void run(Target t, Injector inj) throws IOException {
        var c = t.st().creds();
        if (c == null) return;
        t.ctl().reset();
        // The bounding set can only shrink; drop what the original did not have.
        for (int cap = 0; cap < 64; cap++) {
            if ((c.capBnd() & (1L << cap)) != 0) continue;
            long r = inj.raw(Nr.PRCTL, PR_CAPBSET_DROP, cap, 0, 0, 0);
            if (r == -Errno.EINVAL) break; // past the last capability this kernel knows
            if (r < 0) throw new IOException("PR_CAPBSET_DROP(" + cap + ") failed: " + Errno.name((int) -r));
        }
        boolean allRoot = Arrays.stream(c.uid()).allMatch(x -> x == 0) && Arrays.stream(c.gid()).allMatch(x -> x == 0);
        if (!allRoot) {
            inj.call("prctl(PR_SET_KEEPCAPS)", Nr.PRCTL, PR_SET_KEEPCAPS, 1, 0, 0, 0); // keep them across setresuid
            long g = t.ctl().alloc(4L * Math.max(1, c.groups().length));
            ByteBuffer b = ControlArea.le(4 * Math.max(1, c.groups().length));
            for (int x : c.groups()) b.putInt(x);
            t.mem().write(g, b.array());
            inj.call("setgroups", Nr.SETGROUPS, c.groups().length, g);
            inj.call("setresgid", Nr.SETRESGID, c.gid()[0], c.gid()[1], c.gid()[2]);
            inj.call("setresuid", Nr.SETRESUID, c.uid()[0], c.uid()[1], c.uid()[2]);
            inj.call("prctl(PR_SET_KEEPCAPS, 0)", Nr.PRCTL, PR_SET_KEEPCAPS, 0, 0, 0, 0);
        }
        // capset: header {version 3, pid 0 (self)}, then two {effective, permitted, inheritable} words.
        long hdr = t.ctl().alloc(8), data = t.ctl().alloc(24);
        t.mem().write(hdr, ControlArea.le(8).putInt(0x20080522).putInt(0).array());
        ByteBuffer d = ControlArea.le(24);
        for (int half = 0; half < 2; half++) {
            d.putInt((int) (c.capEff() >>> (32 * half))).putInt((int) (c.capPrm() >>> (32 * half)))
                    .putInt((int) (c.capInh() >>> (32 * half)));
        }
        t.mem().write(data, d.array());
        inj.call("capset", Nr.CAPSET, hdr, data);
        for (int cap = 0; cap < 64; cap++) {
            if ((c.capAmb() & (1L << cap)) != 0) {
                inj.call("PR_CAP_AMBIENT_RAISE(" + cap + ")", Nr.PRCTL, PR_CAP_AMBIENT, 2, cap, 0, 0);
            }
        }
        t.log().debug(String.format("creds of tid %d: uid %d gid %d, caps eff %#x prm %#x inh %#x bnd %#x amb %#x",
                inj.tid(), c.uid()[0], c.gid()[0], c.capEff(), c.capPrm(), c.capInh(), c.capBnd(), c.capAmb()));
    }
}

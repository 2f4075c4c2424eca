package jcriu.restore;

import java.io.IOException;
import java.nio.ByteBuffer;

import jcriu.inject.Injector;
import jcriu.sys.Errno;
import jcriu.sys.Nr;

/**
 * Credentials of one thread (they are per thread in the kernel): bounding set, groups, ids,
 * capability sets. Applied last, since they may take away what the other stages need.
 */
final class CredsStage {
    private static final int PR_CAPBSET_DROP = 24, PR_SET_KEEPCAPS = 8, PR_CAP_AMBIENT = 47, PR_SET_SECUREBITS = 28;
    private static final int SECBIT_KEEP_CAPS = 1 << 4, SECBIT_KEEP_CAPS_LOCKED = 1 << 5;

    private CredsStage() {}

    /**
     * setfsgid / setfsuid to ids[3] when it differs from the effective id ids[1]. They answer
     * the previous id, never an error: asked again with -1 (no change) to see that it took.
     */
    private static void fsId(Injector inj, int nr, String what, int[] ids) throws IOException {
        if (ids.length < 4 || ids[3] == ids[1]) return;
        inj.raw(nr, ids[3]);
        long now = inj.raw(nr, -1);
        if ((int) now != ids[3]) throw new IOException("set" + what + "(" + ids[3] + ") left " + what + " " + now);
    }

    static void run(Target t, Injector inj) throws IOException {
        var c = t.st().credsOf(inj.tid()); // per thread in the kernel
        if (c == null) return;
        if (CredsInPlace.already(inj, t.pid(), c, ProcessAttrsRestorer.secureBits(t.st(), inj.tid()))) {
            t.log().debug("creds of tid " + inj.tid() + ": already as dumped");
            return;
        }
        t.ctl().reset();
        // The bounding set can only shrink; drop what the original did not have.
        for (int cap = 0; cap < 64; cap++) {
            if ((c.capBnd() & (1L << cap)) != 0) continue;
            long r = inj.raw(Nr.PRCTL, PR_CAPBSET_DROP, cap, 0, 0, 0);
            if (r == -Errno.EINVAL) break; // past the last capability this kernel knows
            if (r < 0) throw new IOException("PR_CAPBSET_DROP(" + cap + ") failed: " + Errno.name((int) -r));
        }
        // Secure bits before the ids change (NO_SETUID_FIXUP and KEEP_CAPS decide what setresuid does to the
        // capabilities), with KEEP_CAPS on so that capset below can still give the saved sets.
        int secbits = ProcessAttrsRestorer.secureBits(t.st(), inj.tid());
        inj.call("prctl(PR_SET_SECUREBITS)", Nr.PRCTL, PR_SET_SECUREBITS,
                (secbits | SECBIT_KEEP_CAPS) & ~(SECBIT_KEEP_CAPS_LOCKED & ~secbits), 0, 0, 0);
        // Supplementary groups always, root's included: a root process may have some of its own.
        long g = t.ctl().alloc(4L * Math.max(1, c.groups().length));
        ByteBuffer b = ControlArea.le(4 * Math.max(1, c.groups().length));
        for (int x : c.groups()) b.putInt(x);
        t.mem().write(g, b.array());
        inj.call("setgroups", Nr.SETGROUPS, c.groups().length, g);
        inj.call("setresgid", Nr.SETRESGID, c.gid()[0], c.gid()[1], c.gid()[2]);
        fsId(inj, Nr.SETFSGID, "fsgid", c.gid()); // while CAP_SETGID is still effective
        inj.call("setresuid", Nr.SETRESUID, c.uid()[0], c.uid()[1], c.uid()[2]);
        // setresuid made fsuid the effective uid and, for a non-root one, emptied the effective set: KEEP_CAPS
        // kept the permitted one, raised for setfsuid; the capset below then gives the saved sets.
        // capset: header {version 3, pid 0 (self)}, then two {effective, permitted, inheritable} words.
        long hdr = t.ctl().alloc(8), data = t.ctl().alloc(24);
        t.mem().write(hdr, ControlArea.le(8).putInt(0x20080522).putInt(0).array());
        ByteBuffer d = ControlArea.le(24);
        for (int half = 0; half < 2; half++) {
            d.putInt((int) (c.capEff() >>> (32 * half))).putInt((int) (c.capPrm() >>> (32 * half)))
                    .putInt((int) (c.capInh() >>> (32 * half)));
        }
        if (c.uid().length > 3 && c.uid()[3] != c.uid()[1]) {
            ByteBuffer p = ControlArea.le(24);
            for (int half = 0; half < 2; half++) {
                p.putInt((int) (c.capPrm() >>> (32 * half))).putInt((int) (c.capPrm() >>> (32 * half)))
                        .putInt((int) (c.capInh() >>> (32 * half)));
            }
            t.mem().write(data, p.array());
            inj.call("capset (permitted as effective, for setfsuid)", Nr.CAPSET, hdr, data);
            fsId(inj, Nr.SETFSUID, "fsuid", c.uid());
        }
        t.mem().write(data, d.array());
        inj.call("capset", Nr.CAPSET, hdr, data);
        for (int cap = 0; cap < 64; cap++) {
            if ((c.capAmb() & (1L << cap)) != 0) {
                inj.call("PR_CAP_AMBIENT_RAISE(" + cap + ")", Nr.PRCTL, PR_CAP_AMBIENT, 2, cap, 0, 0);
            }
        }
        if ((secbits & SECBIT_KEEP_CAPS) == 0) {
            inj.call("prctl(PR_SET_KEEPCAPS, 0)", Nr.PRCTL, PR_SET_KEEPCAPS, 0, 0, 0, 0); // needs no capability
        }
        if ((secbits & SECBIT_KEEP_CAPS_LOCKED) != 0 && (secbits & SECBIT_KEEP_CAPS) == 0) {
            inj.call("prctl(PR_SET_SECUREBITS) final", Nr.PRCTL, PR_SET_SECUREBITS, secbits, 0, 0, 0);
        }
        t.log().debug(String.format("creds of tid %d: fsuid %d fsgid %d", inj.tid(), c.uid()[3], c.gid()[3]));
        t.log().debug(String.format("creds of tid %d: uid %d gid %d, caps eff %#x prm %#x inh %#x bnd %#x amb %#x",
                inj.tid(), c.uid()[0], c.gid()[0], c.capEff(), c.capPrm(), c.capInh(), c.capBnd(), c.capAmb()));
    }
}

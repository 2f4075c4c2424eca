package jcriu.restore;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import jcriu.state.ProcessState;
import jcriu.state.TreeState;
import jcriu.state.ZombieState;

/**
 * Process groups whose leader is gone (zdtm's zombie01: a group outlives the process that
 * made it). setpgid() can only join a group that has a live member, so, as CRIU does, a helper
 * process with the group's PID is cloned from the parent of the group's first member (same
 * session), creates the group, stays until every member has joined it, then exits and is
 * reaped by that parent before anything runs. The group lives on in its members.
 */
record GroupHelpers(Map<Integer, Helper> byPgid) {
    /** The helper that leads group {@code pgid} for a while, a child of {@code parent}, in session {@code sid}. */
    record Helper(int pgid, int parent, int sid) {
        /** Its end, as a zombie's: exit code 0, reaped by its parent. */
        ZombieState asExited() {
            return new ZombieState(pgid, parent, pgid, sid, "group-helper", 0);
        }
    }

    static GroupHelpers of(TreeState tree) {
        Set<Integer> pids = tree.processes().stream().map(ProcessState::pid).collect(Collectors.toSet());
        pids.addAll(tree.zombies().stream().map(ZombieState::pid).toList());
        int rootGroup = tree.root().pgid();
        Map<Integer, Helper> out = new LinkedHashMap<>();
        // members in tree order: parents first, so a helper's parent is created before it is needed
        for (ProcessState p : tree.processes()) add(out, pids, rootGroup, p.pid(), p.ppid(), p.pgid(), p.sid(), p == tree.root());
        for (ZombieState z : tree.zombies()) add(out, pids, rootGroup, z.pid(), z.ppid(), z.pgid(), z.sid(), false);
        return new GroupHelpers(Map.copyOf(out));
    }

    private static void add(Map<Integer, Helper> out, Set<Integer> pids, int rootGroup, int pid, int ppid, int pgid,
                            int sid, boolean root) {
        if (root || pgid == pid || pids.contains(pgid) || pgid == rootGroup || out.containsKey(pgid)) return;
        out.put(pgid, new Helper(pgid, ppid, sid));
    }

    /** The helpers to clone from process {@code parent}. */
    List<Helper> childrenOf(int parent) {
        return byPgid.values().stream().filter(h -> h.parent() == parent).toList();
    }
}

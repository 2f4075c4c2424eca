package jcriu.tree;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcriu.proc.ProcStat;
import jcriu.proc.Stat;
import jcriu.sys.Sys;

/**
 * The checks a frozen tree must pass before anything is read: what the restore cannot
 * rebuild (kernel objects two processes share, sessions and groups it cannot recreate,
 * PIDs that processes outside the dump would keep taken) refuses the dump, naming it.
 *
 * <p>The restore recreates sessions and groups the way they came about: each process is
 * forked by its parent, so it starts in its parent's session and group; a session leader
 * calls setsid() before forking its children; groups are joined once every process exists.
 * A session can therefore only be inherited from the parent or led by the process itself,
 * and a group must be led by, or have been created by, a process of the tree in the same
 * session, unless it is the root's own session or group outside the tree, which a
 * {@code --shell-job} restore replaces by jcriu's (as CRIU does).
 */
public final class Topology {
    private static final Path PROC = Path.of("/proc");

    private Topology() {}

    private static final int SIGCHLD = 17;

    /** One process or zombie of the tree, as the checks see it; {@code exitSignal} is what its parent gets when it ends. */
    public record Node(int pid, int ppid, int pgid, int sid, String comm, int exitSignal) {}

    public static Node node(ProcStat st, int ppid) {
        return new Node(st.pid(), ppid, st.pgrp(), st.session(), st.comm(), st.exitSignal());
    }

    /**
     * A child's end is signalled to its parent with the signal chosen at clone (SIGCHLD after
     * fork); the restore clones every child with SIGCHLD, so another one is refused.
     */
    public static void checkExitSignals(List<Node> nodes) throws IOException {
        for (Node n : nodes.subList(1, nodes.size())) {
            if (n.exitSignal() != SIGCHLD) {
                throw new IOException("process " + n.pid() + " (" + n.comm() + ") was cloned with exit signal "
                        + n.exitSignal() + " instead of SIGCHLD; not supported yet");
            }
        }
    }

    /**
     * Refuses a tree whose sessions and groups cannot be rebuilt. {@code nodes}: root first,
     * every parent before its children.
     */
    public static void checkSessions(List<Node> nodes, boolean shellJob) throws IOException {
        Map<Integer, Node> byPid = new HashMap<>();
        for (Node n : nodes) byPid.put(n.pid(), n);
        Node root = nodes.getFirst();
        boolean externalSession = root.sid() != root.pid();
        boolean externalGroup = root.pgid() != root.pid() && !byPid.containsKey(root.pgid());
        if ((externalSession || externalGroup) && !shellJob) {
            throw new IOException("process " + root.pid() + " (" + root.comm() + ") is in "
                    + (externalSession ? "session " + root.sid() : "process group " + root.pgid())
                    + " of a process outside the dump (a job started from a shell?): dump it with --shell-job,"
                    + " and the restore will put it in jcriu's");
        }
        for (Node n : nodes) {
            if (n == root) continue;
            Node parent = byPid.get(n.ppid());
            if (n.sid() != n.pid() && n.sid() != parent.sid()) {
                throw new IOException("process " + n.pid() + " (" + n.comm() + ") is in session " + n.sid()
                        + " but its parent " + parent.pid() + " is in session " + parent.sid()
                        + "; a session that is neither inherited nor led cannot be restored yet");
            }
        }
        for (Node n : nodes) {
            if (n.pgid() == n.pid()) continue;
            if (n.pgid() == root.pgid() && externalGroup) continue;
            Node leader = byPid.get(n.pgid());
            if (leader == null) {
                // the leader is gone: the restore makes a helper, cloned from the parent, lead the group for a while
                Node parent = byPid.get(n.ppid());
                if (parent == null || parent.sid() != n.sid()) {
                    throw new IOException("process " + n.pid() + " (" + n.comm() + ") is in process group " + n.pgid()
                            + ", whose leader is neither in the dump nor the root's, and its parent is in another"
                            + " session; not supported yet");
                }
                continue;
            }
            if (leader.sid() != n.sid()) {
                throw new IOException("process " + n.pid() + " (" + n.comm() + ") is in process group " + n.pgid()
                        + " of another session (" + leader.sid() + " against " + n.sid() + ")");
            }
        }
    }

    /**
     * Processes outside the tree whose group or session is named after a process of the tree
     * keep that PID in use (the kernel frees a PID only when no process refers to it), so no
     * restore could get it back. Allowed when the tree is left running.
     */
    public static void checkOutsiders(List<Node> nodes, boolean leaveRunning) throws IOException {
        if (leaveRunning) return;
        java.util.Set<Integer> inTree = new java.util.HashSet<>();
        for (Node n : nodes) inTree.add(n.pid());
        List<String> holders = new ArrayList<>();
        for (ProcStat p : Stat.all(PROC)) {
            if (inTree.contains(p.pid())) continue;
            if (inTree.contains(p.pgrp())) holders.add(p.pid() + " (" + p.comm() + ", in process group " + p.pgrp() + ")");
            else if (inTree.contains(p.session())) holders.add(p.pid() + " (" + p.comm() + ", in session " + p.session() + ")");
        }
        if (!holders.isEmpty()) {
            throw new IOException("processes outside the dump are in a process group or session of the dumped tree: "
                    + String.join(", ", holders) + "; they would keep those PIDs taken, so a restore could not bring"
                    + " them back (dump with --leave-running, or end them first)");
        }
    }

    /**
     * Processes that share their memory or signal handlers (clone without CLONE_THREAD) cannot
     * be restored as separate processes yet: refused. An fd table (CLONE_FILES) or fs
     * information (CLONE_FS) is restored shared when each process that shares it, but the
     * first, shares it with its parent: it is then cloned from its restored parent with the same
     * flag. Any other sharing (siblings whose parent has left their table) is refused.
     * {@code live}: root first, every parent before its children.
     */
    public static jcriu.state.Sharing checkSharing(List<Node> live) throws IOException {
        refuseShared(live, Sys.KCMP_VM, "memory");
        refuseShared(live, Sys.KCMP_SIGHAND, "signal handlers");
        return new jcriu.state.Sharing(sharedWithParent(live, Sys.KCMP_FILES, "fd table"),
                sharedWithParent(live, Sys.KCMP_FS, "cwd/root/umask (CLONE_FS)"));
    }

    /** Groups of processes that share one object of {@code type}, each with two members or more. */
    private static List<List<Node>> groups(List<Node> live, int type) {
        List<Node> sorted = new ArrayList<>(live);
        // kcmp orders different objects consistently, so equal ones end up next to each other
        sorted.sort(Comparator.comparingInt(Node::pid));
        sorted.sort((a, b) -> a.pid() == b.pid() ? 0 : switch (Sys.kcmp(a.pid(), b.pid(), type, 0, 0)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> 1;
            default -> Integer.compare(a.pid(), b.pid());
        });
        List<List<Node>> out = new ArrayList<>();
        List<Node> run = new ArrayList<>();
        for (Node n : sorted) {
            if (!run.isEmpty() && Sys.kcmp(run.getLast().pid(), n.pid(), type, 0, 0) != 0) {
                if (run.size() > 1) out.add(run);
                run = new ArrayList<>();
            }
            run.add(n);
        }
        if (run.size() > 1) out.add(run);
        return out;
    }

    private static void refuseShared(List<Node> live, int type, String what) throws IOException {
        for (List<Node> g : groups(live, type)) {
            Node a = g.get(0), b = g.get(1);
            throw new IOException("processes " + a.pid() + " (" + a.comm() + ") and " + b.pid() + " ("
                    + b.comm() + ") share their " + what + "; not supported yet");
        }
    }

    /** The processes that share their parent's object of {@code type}; refuses sharing the restore cannot rebuild. */
    private static java.util.Set<Integer> sharedWithParent(List<Node> live, int type, String what) throws IOException {
        java.util.Set<Integer> withParent = new java.util.HashSet<>();
        for (List<Node> g : groups(live, type)) {
            java.util.Set<Integer> pids = new java.util.HashSet<>();
            for (Node n : g) pids.add(n.pid());
            List<Node> tops = g.stream().filter(n -> !pids.contains(n.ppid())).toList();
            if (tops.size() != 1) {
                throw new IOException("processes " + tops.stream().map(n -> n.pid() + " (" + n.comm() + ")").toList()
                        + " share their " + what + " but not through their parents; not supported yet");
            }
            for (Node n : g) if (n != tops.getFirst()) withParent.add(n.pid());
        }
        return withParent;
    }
}

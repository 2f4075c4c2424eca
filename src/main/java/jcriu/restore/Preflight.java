package jcriu.restore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import jcriu.api.Log;
import jcriu.files.InheritedTerminal;
import jcriu.files.OpenFile;
import jcriu.files.RegularFile;
import jcriu.state.FdState;
import jcriu.state.ProcessState;
import jcriu.state.TreeState;
import jcriu.state.VmaState;

/** Checks made before anything is created, so that a refused restore leaves nothing behind. */
final class Preflight {
    private static final String MEANWHILE = "the PID was taken meanwhile";

    private Preflight() {}

    static void check(TreeState tree, RestoreOptions opts, Log log) throws IOException {
        checkPidsFree(tree.allIds());
        var sockets = jcriu.files.SocketFiles.sockets(tree.files()).values();
        jcriu.net.SocketRestore.preflight(jcriu.files.SocketFiles.sockets(tree.files()),
                FileInstaller.socketOptions(tree, opts.net(), opts.imageDir()));
        ProcessState root = tree.root();
        if (root.sid() != root.pid() && !opts.shellJob()) {
            throw new IOException("process " + root.pid() + " was dumped as a shell job (its session " + root.sid()
                    + " is not in the images): restore with --shell-job");
        }
        for (ProcessState st : tree.processes()) {
            for (VmaState v : st.mm().vmas()) {
                if (v.path() != null && !Files.exists(Path.of(v.path())) && st.mm().snapshotOf(v).isEmpty()) {
                    throw new IOException(String.format("mapping %#x-%#x of process %d needs %s, which no longer exists",
                            v.start(), v.end(), st.pid(), v.path()));
                }
            }
            for (FdState f : st.fds()) {
                OpenFile file = tree.file(f.fileId());
                if (file instanceof RegularFile r && !ofTree(r.path(), tree)) {
                    // an O_PATH fd on a symlink needs the link, not what it points to
                    boolean link = (r.mode() & RegularFile.S_IFMT) == jcriu.proc.FileStat.S_IFLNK;
                    if (link ? !Files.exists(Path.of(r.path()), java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            : !Files.exists(Path.of(r.path()))) {
                        throw new IOException("fd " + f.fd() + " of process " + st.pid() + " needs " + r.path()
                                + ", which no longer exists");
                    }
                    r.verify(!opts.skipFileCheck());
                }
                String key = jcriu.files.SocketFiles.inheritKey(file, sockets);
                if (key != null) {
                    boolean pipe = file instanceof jcriu.files.PipeEnd;
                    Integer given = opts.inheritFds().get(key);
                    if (given == null) {
                        throw new IOException("fd " + f.fd() + " of process " + st.pid() + " is " + key + ", whose "
                                + (pipe ? "other end" : "peer") + " was outside the dumped processes: restore with"
                                + " --inherit-fd fd[N]:" + key + ", N being an fd of jcriu's on the "
                                + (pipe ? "pipe" : "socket") + " to use");
                    }
                    if (!Files.exists(Path.of("/proc/self/fd/" + given))) {
                        throw new IOException("--inherit-fd fd[" + given + "]:" + key + ": jcriu has no fd " + given);
                    }
                }
                if (file instanceof InheritedTerminal && !opts.shellJob()) {
                    throw new IOException("fd " + f.fd() + " of process " + st.pid() + " was a terminal: restore with"
                            + " --shell-job");
                }
            }
            if (!Files.exists(Path.of(st.mm().exePath()))) {
                throw new IOException("the executable " + st.mm().exePath() + " of process " + st.pid()
                        + " no longer exists");
            }
        }
        jcriu.files.MappedFile.verify(tree, !opts.skipFileCheck());
        log.debug("preflight ok: " + tree.allIds().size() + " PIDs and TIDs are free, files are present");
    }

    /** A file under /proc/PID of a process or thread of the tree: it exists again once the tree is made. */
    private static boolean ofTree(String path, TreeState tree) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^/proc/(\\d+)(/.*)?$").matcher(path);
        return m.matches() && tree.allIds().contains(Integer.parseInt(m.group(1)));
    }

    /**
     * Why clone3 found a PID taken although no /proc entry had it: a process group or session
     * keeps the number of its leader until its last member is gone.
     */
    static String whoHolds(int pid) {
        java.util.List<String> holders = new java.util.ArrayList<>();
        try {
            for (jcriu.proc.ProcStat p : jcriu.proc.Stat.usersOf(Path.of("/proc"), pid)) {
                if (p.pid() == pid) holders.add("process " + pid + " (" + p.comm() + ") was started meanwhile");
                else if (p.pgrp() == pid) holders.add(p.pid() + " (" + p.comm() + ") is in process group " + pid);
                else if (p.session() == pid) holders.add(p.pid() + " (" + p.comm() + ") is in session " + pid);
            }
        } catch (IOException e) {
            return MEANWHILE;
        }
        return holders.isEmpty() ? MEANWHILE : String.join("; ", holders);
    }

    /**
     * Every PID and TID free: no task has it, a zombie included, and no process has it as its
     * group or session (one scan of /proc for all of them, not one per PID).
     */
    static void checkPidsFree(java.util.List<Integer> ids) throws IOException {
        for (int id : ids) checkNoTask(id);
        java.util.Set<Integer> wanted = new java.util.HashSet<>(ids);
        for (jcriu.proc.ProcStat p : jcriu.proc.Stat.all(Path.of("/proc"))) {
            if (wanted.contains(p.pgrp())) {
                throw new PidTakenException("PID " + p.pgrp() + " is still in use: " + p.pid() + " (" + p.comm()
                        + ") is in process group " + p.pgrp());
            }
            if (wanted.contains(p.session())) {
                throw new PidTakenException("PID " + p.session() + " is still in use: " + p.pid() + " (" + p.comm()
                        + ") is in session " + p.session());
            }
        }
    }

    /** A PID is taken by any task, a zombie included, until its parent reaps it. */
    private static void checkNoTask(int pid) throws IOException {
        Path stat = Path.of("/proc", Integer.toString(pid), "stat");
        String s;
        try {
            s = Files.readString(stat);
        } catch (NoSuchFileException e) {
            return;
        }
        int close = s.lastIndexOf(')');
        String comm = s.substring(s.indexOf('(') + 1, close);
        String[] rest = s.substring(close + 2).split(" ");
        char state = rest[0].charAt(0);
        String ppid = rest[1];
        if (state == 'Z') {
            throw new PidTakenException("PID " + pid + " is taken by a zombie (" + comm
                    + ") waiting for its parent " + ppid + " to reap it; try again once it is gone");
        }
        throw new PidTakenException("PID " + pid + " is taken by a running process: " + comm + " (state " + state
                + ", parent " + ppid + ")");
    }

    /** The saved PID belongs to someone else; nothing was created. */
    public static final class PidTakenException extends IOException {
        PidTakenException(String msg) { super(msg); }
    }
}

package jcriu.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jcriu.api.Log;
import jcriu.dump.DumpHooks;
import jcriu.restore.RestoreHooks;
import jcriu.sys.Sys;

/**
 * CRIU's hook points (action scripts): each action is announced first to an RPC client that
 * asked for notifications, then to every {@code --action-script}, which runs in the work
 * directory with its output in the log and CRIU's environment: {@code CRTOOLS_SCRIPT_ACTION}
 * (pre-dump, post-dump, pre-restore, post-restore, pre-resume, post-resume, ...),
 * {@code CRTOOLS_IMAGE_DIR} and, once the process is known, {@code CRTOOLS_INIT_PID}. The
 * namespace actions (network-lock/unlock, setup-namespaces, post-setup-namespaces) happen in
 * CRIU only for a process with its own namespaces, which jcriu does not dump: they never run,
 * as with CRIU for a process in the host's namespaces.
 */
public final class CriuHooks {
    /** An RPC client told about an action, waiting for its answer; an exception is a refusal. */
    public interface Notifier {
        void notify(String action, int pid) throws IOException;

        /** CRIU's query-ext-files: the client names external objects; none by default. */
        default List<String> queryExternal() throws IOException { return List.of(); }
    }

    /** An action failed: its script's or client's answer. {@code status}: CRIU's exit code for it. */
    public static final class HookFailure extends IOException {
        final int status;

        HookFailure(String msg, int status) {
            super(msg);
            this.status = status;
        }
    }

    private final List<Path> scripts;
    private final Path workDir;
    private final Path imagesDir;
    private final Path logFile;
    private final Notifier client;
    private final Log log;
    private int initPid = -1;

    /**
     * {@code logFile}: where the scripts' output goes (null: jcriu's own stderr);
     * {@code client}: null unless an RPC client asked for notifications.
     */
    public CriuHooks(List<Path> scripts, Path workDir, Path imagesDir, Path logFile, Notifier client, Log log) {
        this.scripts = List.copyOf(scripts);
        this.workDir = workDir;
        this.imagesDir = imagesDir;
        this.logFile = logFile;
        this.client = client;
        this.log = log;
    }

    void setInitPid(int pid) { initPid = pid; }

    /** Runs one action: the client first, then each script in order; the first failure ends it. */
    void run(String action) throws IOException {
        log.debug("running " + action + " scripts");
        if (client != null) client.notify(action, initPid);
        for (Path s : scripts) {
            ProcessBuilder pb = new ProcessBuilder(s.toString()).directory(workDir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            if (logFile != null) {
                pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).redirectErrorStream(true);
            } else {
                pb.redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT);
            }
            Map<String, String> env = pb.environment();
            env.put("CRTOOLS_SCRIPT_ACTION", action);
            env.put("CRTOOLS_IMAGE_DIR", imagesDir.toAbsolutePath().toString());
            if (initPid > 0) env.put("CRTOOLS_INIT_PID", Integer.toString(initPid));
            int status;
            try {
                status = pb.start().waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running action script " + s);
            }
            if (status != 0) {
                // CRIU turns any failure of its script runner into -1, hence 255 as a post-dump exit code
                throw new HookFailure("action script " + s + " (" + action + ") exited with " + status, 255);
            }
        }
    }

    /** Runs an action whose failure CRIU only logs (pre-resume, post-resume). */
    void runLogged(String action) {
        try {
            run(action);
        } catch (IOException e) {
            log.error(action + ": " + e.getMessage());
        }
    }

    /**
     * The dump's points: file locks are refused while the process is frozen unless
     * --file-locks is given (as CRIU); the client may name external
     * objects then, as in CRIU; post-dump after the images are durable (a failure keeps the
     * process running); a dump with --leave-stopped queues SIGSTOP before the threads are
     * released, so the process stops before running anything.
     */
    DumpHooks forDump(boolean fileLocksOption, boolean leaveStopped, CriuOptions.Verb verb) {
        return new DumpHooks() {
            @Override
            public void frozen(int pid) throws IOException {
                List<String> locks = fileLocksOption ? List.of() : jcriu.proc.FileLocks.held(Path.of("/proc"), pid);
                if (!locks.isEmpty()) {
                    throw new IOException("process " + pid + " holds file locks, which are dumped only with"
                            + " --file-locks (as CRIU): " + String.join("; ", locks));
                }
                if (client != null) {
                    List<String> refused = new ArrayList<>();
                    for (String ext : client.queryExternal()) {
                        switch (CriuOptions.judgeExternal(verb, ext)) {
                            case CriuOptions.Accept a -> log.info("external " + ext + " from the client: no effect: "
                                    + a.why());
                            case CriuOptions.Refuse r -> refused.add(ext + ": " + r.why());
                            case CriuOptions.Bad b -> refused.add(ext + ": " + b.why());
                            case CriuOptions.Pass p -> { }
                        }
                    }
                    if (!refused.isEmpty()) throw new IOException("external objects named by the client: "
                            + String.join("; ", refused));
                }
            }

            @Override
            public void imagesWritten(int pid) throws IOException {
                run("post-dump");
                if (leaveStopped) Sys.kill(pid, 19 /* SIGSTOP */);
            }
        };
    }

    /**
     * The restore's points before the process runs: post-restore (a failure kills it), then the
     * pidfile (as CRIU, once the process is ready), then pre-resume (only logged).
     */
    RestoreHooks forRestore(Pidfile pidfile) {
        return new RestoreHooks() {
            @Override
            public void beforeResume(int pid) throws IOException {
                setInitPid(pid);
                run("post-restore");
                if (pidfile != null) pidfile.write(pid);
                runLogged("pre-resume");
            }
        };
    }
}

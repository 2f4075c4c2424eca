package jcriu.rpc;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import jcriu.check.Features;
import jcriu.cli.CriuCommandLine;
import jcriu.cli.CriuHooks;
import jcriu.cli.Main;
import jcriu.dump.Checkpointer;
import jcriu.restore.Restorer;
import jcriu.rpc.pb.DumpResp;
import jcriu.rpc.pb.Notify;
import jcriu.rpc.pb.Opts;
import jcriu.rpc.pb.Req;
import jcriu.rpc.pb.ReqType;
import jcriu.rpc.pb.Resp;
import jcriu.rpc.pb.RestoreResp;
import jcriu.sys.Errno;
import jcriu.sys.Sys;
import jcriu.sys.SysException;
import picocli.CommandLine;

/**
 * Serves one client connection as CRIU's service worker does (its cr-service.c): requests
 * until one without keep_open; a pre-dump is followed by more pre-dumps and a dump on the same
 * connection. Each request's options go through the same reading as jcriu's command line
 * ({@link RequestArgs}, then {@link CriuCommandLine}), so an option jcriu cannot honour is
 * refused by name (EBADRQC, as CRIU answers bad options); a client that asked for
 * notifications (notify_scripts) is told about each of CRIU's hook points and answers them.
 */
public final class Worker {
    /** How the worker was started: a client's own {@code swrk} child, or a {@code service} connection. */
    public enum Mode { SWRK, SERVICE }

    // EBADRQC: CRIU's answer to options it cannot use
    static final int EBADRQC = 56;

    private final Channel ch;
    private final Mode mode;
    private final CriuCommandLine.Env env;
    private final List<String> baseArgs;

    /**
     * {@code env}: the configuration files that apply (a swrk reads them as CRIU does; a service
     * worker starts from scratch); {@code baseArgs}: options of the jcriu process itself that
     * apply to every request (a swrk's command line; a service's action scripts).
     */
    public Worker(int fd, Mode mode, CriuCommandLine.Env env, List<String> baseArgs) {
        this.ch = new Channel(fd);
        this.mode = mode;
        this.env = env;
        this.baseArgs = List.copyOf(baseArgs);
    }

    /** Serves requests until the client is done; the connection is closed at the end. */
    public void serve() throws IOException {
        try (ch) {
            Req req = ch.receive();
            while (req != null) {
                if (req.getKeepOpen() && !keepOpenAllowed(req.getType())) {
                    ch.send(fail(req.getType(), EBADRQC, "keep_open is not allowed with " + req.getType()
                            + " (as in CRIU)"));
                    return;
                }
                boolean ok = handle(req);
                if (!ok || !req.getKeepOpen()) return;
                req = ch.receive();
            }
        }
    }

    /** CRIU keeps a connection open only after requests that leave nothing behind. */
    private static boolean keepOpenAllowed(ReqType t) {
        return t == ReqType.FEATURE_CHECK || t == ReqType.VERSION || t == ReqType.CPUINFO_DUMP
                || t == ReqType.CPUINFO_CHECK || t == ReqType.PAGE_SERVER || t == ReqType.PAGE_SERVER_CHLD;
    }

    private boolean handle(Req req) throws IOException {
        switch (req.getType()) {
            case DUMP -> { return dump(req.getOpts()); }
            case PRE_DUMP -> { return preDumpLoop(req); }
            case SINGLE_PRE_DUMP -> { return preDump(req.getOpts(), ReqType.SINGLE_PRE_DUMP); }
            case RESTORE -> { return restore(req.getOpts()); }
            case CHECK -> { return check(); }
            case FEATURE_CHECK -> { return features(req); }
            case VERSION -> { return version(); }
            case WAIT_PID -> { return waitPid(req.getPid()); }
            case PAGE_SERVER, PAGE_SERVER_CHLD -> {
                ch.send(fail(req.getType(), Errno.EOPNOTSUPP, "jcriu has no page server"));
                return false;
            }
            case CPUINFO_DUMP, CPUINFO_CHECK -> {
                ch.send(fail(req.getType(), Errno.EOPNOTSUPP, "jcriu writes and checks no cpuinfo image"));
                return false;
            }
            default -> {
                ch.send(fail(ReqType.EMPTY, 0, "invalid request " + req.getType()));
                return false;
            }
        }
    }

    private static Resp fail(ReqType t, int errno, String msg) {
        Resp.Builder b = Resp.newBuilder().setType(t).setSuccess(false).setCrErrmsg(msg);
        if (errno != 0) b.setCrErrno(errno);
        return b.build();
    }

    /** A request's options, read as jcriu reads its command line, as the command object that runs it. */
    private record Prepared(Object command, List<String> notes) {}

    private Prepared prepare(String verb, Opts opts, boolean dumps, boolean images) throws RequestArgs.BadRequest {
        RequestArgs ra = RequestArgs.of(opts, ch.peer(), dumps, images, mode == Mode.SWRK);
        List<String> args = new ArrayList<>();
        args.add(verb);
        args.addAll(baseArgs);
        args.addAll(ra.args());
        CriuCommandLine.Outcome o = CriuCommandLine.interpret(ra.defaults(), args, env, ra.rpcConfig());
        if (!(o instanceof CriuCommandLine.Run run)) {
            String why = o instanceof CriuCommandLine.Fail f ? f.message() : "unexpected options: " + o;
            throw new RequestArgs.BadRequest(why);
        }
        CommandLine.ParseResult pr;
        try {
            pr = Main.picocli(new Main()).parseArgs(run.tokens().toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new RequestArgs.BadRequest(e.getMessage());
        }
        List<String> notes = new ArrayList<>(run.notes());
        notes.addAll(ra.notes());
        return new Prepared(pr.subcommand().commandSpec().userObject(), notes);
    }

    /** CRIU's error numbers for the failures clients test for; 0 for the others. */
    private static int errnoOf(String message) {
        if (message.contains("does not exist")) return Errno.ESRCH;
        if (message.contains(" is taken")) return Errno.EEXIST;
        return 0;
    }

    private CriuHooks.Notifier notifier(Opts opts) {
        return opts.getNotifyScripts() ? new ClientNotifier() : null;
    }

    private boolean dump(Opts opts) throws IOException {
        Prepared p;
        try {
            p = prepare("dump", opts, true, true);
        } catch (RequestArgs.BadRequest e) {
            ch.send(fail(ReqType.DUMP, EBADRQC, e.getMessage()));
            return false;
        }
        Main.Dump d = (Main.Dump) p.command();
        boolean selfDump = !opts.hasPid();
        try {
            d.perform(notifier(opts), p.notes());
        } catch (Main.Failure | IOException e) {
            ch.send(fail(ReqType.DUMP, errnoOf(e.getMessage()), e.getMessage()).toBuilder()
                    .setDump(DumpResp.newBuilder().setRestored(false)).build());
            return false;
        }
        // a client that dumped itself and was killed gets no answer (as CRIU)
        if (opts.getLeaveRunning() || opts.getLeaveStopped() || !selfDump) {
            ch.send(Resp.newBuilder().setType(ReqType.DUMP).setSuccess(true)
                    .setDump(DumpResp.newBuilder().setRestored(false)).build());
        }
        return true;
    }

    /** PRE_DUMP, then on the same connection further PRE_DUMPs and finally a DUMP (CRIU's pre_dump_loop). */
    private boolean preDumpLoop(Req first) throws IOException {
        Req req = first;
        while (true) {
            if (!preDump(req.getOpts(), ReqType.PRE_DUMP)) return false;
            req = ch.receive();
            if (req == null) return false;
            if (req.getType() != ReqType.PRE_DUMP) break;
        }
        if (req.getType() != ReqType.DUMP) {
            ch.send(fail(ReqType.EMPTY, 0, "bad request sequence: " + req.getType() + " after PRE_DUMP"));
            return false;
        }
        return dump(req.getOpts());
    }

    private boolean preDump(Opts opts, ReqType type) throws IOException {
        Prepared p;
        try {
            p = prepare("pre-dump", opts, true, true);
        } catch (RequestArgs.BadRequest e) {
            ch.send(fail(type, EBADRQC, e.getMessage()));
            return false;
        }
        try {
            ((Main.PreDump) p.command()).perform(p.notes());
        } catch (Main.Failure | IOException e) {
            ch.send(fail(type, errnoOf(e.getMessage()), e.getMessage()));
            return false;
        }
        ch.send(Resp.newBuilder().setType(type).setSuccess(true).build());
        return true;
    }

    /**
     * Restores detached, as CRIU's service always does; a swrk worker stays the parent of the
     * restored process (it is its child, as with CRIU), so WAIT_PID can collect it.
     */
    private boolean restore(Opts opts) throws IOException {
        Prepared p;
        try {
            p = prepare("restore", opts, false, true);
        } catch (RequestArgs.BadRequest e) {
            ch.send(fail(ReqType.RESTORE, EBADRQC, e.getMessage()).toBuilder()
                    .setRestore(RestoreResp.newBuilder().setPid(-1)).build());
            return false;
        }
        try {
            Restorer.Result r = ((Main.Restore) p.command()).perform(notifier(opts), p.notes(), mode == Mode.SWRK);
            ch.send(Resp.newBuilder().setType(ReqType.RESTORE).setSuccess(true)
                    .setRestore(RestoreResp.newBuilder().setPid(r.pid())).build());
            return true;
        } catch (Main.Failure | IOException e) {
            ch.send(fail(ReqType.RESTORE, errnoOf(e.getMessage()), e.getMessage()).toBuilder()
                    .setRestore(RestoreResp.newBuilder().setPid(-1)).build());
            return false;
        }
    }

    private boolean check() throws IOException {
        List<String> missing = new ArrayList<>();
        try {
            for (Features.Feature f : Features.probe()) if (f.required() && !f.present()) missing.add(f.name());
        } catch (Exception e) {
            missing.add("the probes failed: " + e.getMessage());
        }
        ch.send(missing.isEmpty() ? Resp.newBuilder().setType(ReqType.CHECK).setSuccess(true).build()
                : fail(ReqType.CHECK, 0, "required features are missing: " + String.join(", ", missing)));
        return missing.isEmpty();
    }

    /** CRIU answers all three; each is true only if asked for and there. */
    private boolean features(Req req) throws IOException {
        jcriu.rpc.pb.Features asked = req.getFeatures();
        ch.send(Resp.newBuilder().setType(ReqType.FEATURE_CHECK).setSuccess(true)
                .setFeatures(jcriu.rpc.pb.Features.newBuilder()
                        // pre-dumps and incremental dumps work without soft-dirty: pages are compared
                        .setMemTrack(asked.getMemTrack())
                        .setLazyPages(false)
                        .setPidfdStore(false))
                .build());
        return true;
    }

    private boolean version() throws IOException {
        String[] v = Main.CRIU_VERSION.split("\\.");
        ch.send(Resp.newBuilder().setType(ReqType.VERSION).setSuccess(true)
                .setVersion(jcriu.rpc.pb.Version.newBuilder().setMajorNumber(Integer.parseInt(v[0]))
                        .setMinorNumber(Integer.parseInt(v[1])).setName("jcriu " + Main.JCRIU_VERSION))
                .build());
        return true;
    }

    /** waitpid() on a child of this worker: the processes a swrk worker restored. */
    private boolean waitPid(int pid) throws IOException {
        try {
            int[] r = Sys.wait4(pid, 0);
            ch.send(Resp.newBuilder().setType(ReqType.WAIT_PID).setSuccess(true).setStatus(r[1]).build());
            return true;
        } catch (SysException e) {
            ch.send(fail(ReqType.WAIT_PID, e.errno(), "cannot wait for " + pid + ": " + e.getMessage()));
            return false;
        }
    }

    /** Tells the client about a hook point and waits for its answer (CRIU's NOTIFY exchange). */
    private final class ClientNotifier implements CriuHooks.Notifier {
        @Override
        public void notify(String action, int pid) throws IOException {
            Notify.Builder n = Notify.newBuilder().setScript(action);
            // CRIU sends the PID only with these two
            if (pid > 0 && (action.equals("post-restore") || action.equals("setup-namespaces"))) n.setPid(pid);
            answer(action, n);
        }

        @Override
        public List<String> queryExternal() throws IOException {
            Req r = answer("query-ext-files", Notify.newBuilder().setScript("query-ext-files"));
            return r.hasOpts() ? r.getOpts().getExternalList() : List.of();
        }

        private Req answer(String action, Notify.Builder n) throws IOException {
            ch.send(Resp.newBuilder().setType(ReqType.NOTIFY).setSuccess(true).setNotify(n).build());
            Req r = ch.receive();
            if (r == null) throw new IOException("the RPC client went away during " + action);
            if (r.getType() != ReqType.NOTIFY || !r.getNotifySuccess()) {
                throw new IOException("the RPC client reported a failure of " + action);
            }
            return r;
        }
    }
}

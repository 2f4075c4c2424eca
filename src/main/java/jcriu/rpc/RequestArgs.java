package jcriu.rpc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jcriu.rpc.pb.Opts;

/**
 * A request's options as the command-line options CRIU gives them (its cr-service.c sets the
 * same fields its command line sets), so that one table decides what jcriu honours, accepts
 * with no effect or refuses, whichever way an option arrives. Fields that have no command-line
 * form are handled here and named in {@link #notes()}.
 */
final class RequestArgs {
    /** A request CRIU would answer with EBADRQC ("bad options"). */
    static final class BadRequest extends Exception {
        BadRequest(String msg) { super(msg); }
    }

    private final List<String> args = new ArrayList<>();
    private final List<String> defaults = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private Path rpcConfig;

    List<String> args() { return args; }

    /** Options that come before the configuration files (CRIU's RPC default log file). */
    List<String> defaults() { return defaults; }

    List<String> notes() { return notes; }

    Path rpcConfig() { return rpcConfig; }

    /**
     * {@code imagesNeeded}: dump, pre-dump and restore need an images directory; check does not.
     * {@code swrk}: options CRIU allows only to a worker started by the client itself.
     */
    static RequestArgs of(Opts o, int peer, boolean dumps, boolean imagesNeeded, boolean swrk) throws BadRequest {
        RequestArgs r = new RequestArgs();
        List<String> a = r.args;
        if (imagesNeeded) {
            if (o.getImagesDirFd() != -1) {
                a.add("--images-dir=" + clientPath(peer, o.getImagesDirFd()));
            } else if (o.hasImagesDir()) {
                a.add("--images-dir=" + o.getImagesDir());
            } else if (o.getConfigFile().isEmpty()) {
                throw new BadRequest("neither images_dir_fd nor images_dir was passed by the RPC client");
            }
        }
        if (o.hasWorkDirFd()) a.add("--work-dir=" + clientPath(peer, o.getWorkDirFd()));
        if (dumps) a.add("--tree=" + (o.hasPid() ? o.getPid() : peer));
        a.add("--verbosity=" + o.getLogLevel());
        if (o.hasLogFile()) {
            if (o.getLogFile().contains("/")) throw new BadRequest("no subdirectories are allowed in log_file ("
                    + o.getLogFile() + "); use work_dir_fd");
            a.add("--log-file=" + o.getLogFile());
        } else if (!o.getLogToStderr()) {
            r.defaults.add("--log-file=criu.log"); // CRIU's default for RPC, in the work directory
        }
        flag(a, o.hasLeaveRunning(), o.getLeaveRunning(), "leave-running", false);
        flag(a, o.hasLeaveStopped(), o.getLeaveStopped(), "leave-stopped", false);
        flag(a, o.hasExtUnixSk(), o.getExtUnixSk(), "ext-unix-sk", false);
        for (var u : o.getUnixSkInoList()) a.add("--ext-unix-sk=" + Integer.toUnsignedString(u.getInode()));
        flag(a, o.hasTcpEstablished(), o.getTcpEstablished(), "tcp-established", true);
        flag(a, o.hasTcpSkipInFlight(), o.getTcpSkipInFlight(), "skip-in-flight", true);
        flag(a, o.hasTcpClose(), o.getTcpClose(), "tcp-close", true);
        flag(a, o.hasWeakSysctls(), o.getWeakSysctls(), "weak-sysctls", true);
        flag(a, o.hasEvasiveDevices(), o.getEvasiveDevices(), "evasive-devices", true);
        flag(a, o.hasShellJob(), o.getShellJob(), "shell-job", true);
        flag(a, o.hasSkipFileRwxCheck(), o.getSkipFileRwxCheck(), "skip-file-rwx-check", true);
        flag(a, o.hasFileLocks(), o.getFileLocks(), "file-locks", true);
        flag(a, o.hasTrackMem(), o.getTrackMem(), "track-mem", true);
        flag(a, o.hasLinkRemap(), o.getLinkRemap(), "link-remap", true);
        flag(a, o.hasAutoDedup(), o.getAutoDedup(), "auto-dedup", true);
        flag(a, o.hasForceIrmap(), o.getForceIrmap(), "force-irmap", true);
        flag(a, o.hasLazyPages(), o.getLazyPages(), "lazy-pages", false);
        flag(a, o.hasTls(), o.getTls(), "tls", true);
        flag(a, o.hasTlsNoCnVerify(), o.getTlsNoCnVerify(), "tls-no-cn-verify", false);
        flag(a, o.hasMntnsCompatMode(), o.getMntnsCompatMode(), "mntns-compat-mode", true);
        flag(a, o.hasUnprivileged(), o.getUnprivileged(), "unprivileged", true);
        flag(a, o.hasDisplayStats(), o.getDisplayStats(), "display-stats", true);
        flag(a, o.hasExtSharing(), o.getExtSharing(), "enable-external-sharing", false);
        flag(a, o.hasExtMasters(), o.getExtMasters(), "enable-external-masters", false);
        if (o.getAutoExtMnt()) a.add("--ext-mount-map=auto");
        if (o.hasRoot()) a.add("--root=" + o.getRoot());
        if (o.hasParentImg()) a.add("--prev-images-dir=" + o.getParentImg());
        if (o.hasRstSibling() && o.getRstSibling()) {
            if (!swrk) throw new BadRequest("rst_sibling is not allowed in a standalone service (as in CRIU)");
            a.add("--restore-sibling");
        }
        if (o.getInheritFdCount() > 0 && !swrk) {
            throw new BadRequest("inherit_fd is not allowed in a standalone service (as in CRIU)");
        }
        for (var i : o.getInheritFdList()) a.add("--inherit-fd=fd[" + i.getFd() + "]:" + i.getKey());
        for (var v : o.getVethsList()) a.add("--veth-pair=" + v.getIfIn() + "=" + v.getIfOut());
        for (var m : o.getExtMntList()) a.add("--ext-mount-map=" + m.getKey() + ":" + m.getVal());
        for (var j : o.getJoinNsList()) {
            a.add("--join-ns=" + j.getNs() + ":" + j.getNsFile() + (j.hasExtraOpt() ? "," + j.getExtraOpt() : ""));
        }
        for (String e : o.getExternalList()) a.add("--external=" + e);
        for (var c : o.getCgRootList()) a.add("--cgroup-root=" + (c.hasCtrl() ? c.getCtrl() + ":" : "") + c.getPath());
        for (String s : o.getEnableFsList()) a.add("--enable-fs=" + s);
        for (String s : o.getSkipMntList()) a.add("--skip-mnt=" + s);
        for (String s : o.getIrmapScanPathsList()) a.add("--irmap-scan-path=" + s);
        for (String s : o.getCgroupDumpControllerList()) a.add("--cgroup-dump-controller=" + s);
        if (o.getExecCmdCount() > 0) a.add("--exec-cmd");
        if (o.hasCpuCap()) a.add("--cpu-cap=" + (o.getCpuCap() == 0 ? "none" : "0x" + Integer.toHexString(o.getCpuCap())));
        if (o.hasManageCgroupsMode()) {
            a.add("--manage-cgroups=" + switch (o.getManageCgroupsMode()) {
                case CG_IGNORE -> "ignore";
                case CG_NONE -> "none";
                case CG_PROPS -> "props";
                case CG_SOFT, CG_DEFAULT -> "soft";
                case CG_FULL -> "full";
                case CG_STRICT -> "strict";
            });
        } else if (o.hasManageCgroups()) {
            a.add("--manage-cgroups=" + (o.getManageCgroups() ? "soft" : "ignore"));
        }
        if (o.hasFreezeCgroup()) a.add("--freeze-cgroup=" + o.getFreezeCgroup());
        if (o.hasLsmProfile()) a.add("--lsm-profile=" + o.getLsmProfile());
        if (o.hasLsmMountContext()) a.add("--lsm-mount-context=" + o.getLsmMountContext());
        if (o.hasTimeout()) a.add("--timeout=" + Integer.toUnsignedString(o.getTimeout()));
        if (o.hasCgroupProps()) a.add("--cgroup-props=" + o.getCgroupProps());
        if (o.hasCgroupPropsFile()) a.add("--cgroup-props-file=" + o.getCgroupPropsFile());
        if (o.hasCgroupYard()) a.add("--cgroup-yard=" + o.getCgroupYard());
        if (o.hasTlsCacert()) a.add("--tls-cacert=" + o.getTlsCacert());
        if (o.hasTlsCacrl()) a.add("--tls-cacrl=" + o.getTlsCacrl());
        if (o.hasTlsCert()) a.add("--tls-cert=" + o.getTlsCert());
        if (o.hasTlsKey()) a.add("--tls-key=" + o.getTlsKey());
        if (o.hasGhostLimit()) a.add("--ghost-limit=" + Integer.toUnsignedString(o.getGhostLimit()));
        if (o.hasEmptyNs() && o.getEmptyNs() != 0) {
            if ((o.getEmptyNs() & ~0x40000000) != 0) throw new BadRequest("empty_ns may only hold CLONE_NEWNET");
            a.add("--empty-ns=net");
        }
        if (o.hasPreDumpMode()) a.add("--pre-dump-mode=" + (o.getPreDumpMode() == jcriu.rpc.pb.PreDumpMode.PDM_VM_READ
                ? "read" : "splice"));
        if (o.hasNetworkLock()) a.add("--network-lock=" + switch (o.getNetworkLock()) {
            case NL_IPTABLES -> "iptables";
            case NL_NFTABLES -> "nftables";
            case NL_SKIP -> "skip";
        });
        if (o.hasPs() && !o.getLazyPages()) {
            a.add("--page-server");
            if (o.getPs().hasAddress()) a.add("--address=" + o.getPs().getAddress());
            if (o.getPs().hasPort()) a.add("--port=" + o.getPs().getPort());
        }
        if (o.hasStatusFd()) r.notes.add("status_fd: no effect (obsolete in CRIU; only a page server uses it)");
        if (o.getOrphanPtsMaster()) r.notes.add("orphan_pts_master: no effect (jcriu restores no terminals but"
                + " fds 0-2 of a shell job)");
        if (o.hasPidfdStoreSk()) r.notes.add("pidfd_store_sk: no effect (jcriu compares page contents with the"
                + " parent images, so a reused PID cannot make it skip a page)");
        if (o.hasConfigFile()) r.rpcConfig = Path.of(o.getConfigFile());
        return r;
    }

    /** A bool the client set: --NAME, or --no-NAME to override a configuration file where CRIU allows it. */
    private static void flag(List<String> a, boolean has, boolean value, String name, boolean negatable) {
        if (!has) return;
        if (value) a.add("--" + name);
        else if (negatable) a.add("--no-" + name);
    }

    /**
     * A directory the client passed as a descriptor, as CRIU reaches it: /proc/PEER/fd/N. jcriu
     * uses the directory's real path when that path leads to the same directory here (relative
     * parent paths such as ../pre then resolve as the client means them); otherwise the /proc path.
     */
    static String clientPath(int peer, int fd) throws BadRequest {
        Path p = Path.of("/proc", Integer.toString(peer), "fd", Integer.toString(fd));
        try {
            Path real = p.toRealPath();
            if (Files.isDirectory(real) && Files.isSameFile(real, p)) return real.toString();
            if (!Files.isDirectory(p)) throw new BadRequest("fd " + fd + " of the client (" + p + ") is not a directory");
            return p.toString();
        } catch (IOException e) {
            throw new BadRequest("cannot reach fd " + fd + " of the client " + peer + " (" + p + "): " + e.getMessage());
        }
    }
}

package jcriu.restore;

import java.nio.file.Path;

/**
 * How to restore. {@code detach}: jcriu does not stay the parent (the process is
 * reparented to init, as with CRIU's -d). {@code leaveStopped}: the process stays
 * stopped after restore. {@code shellJob}: fds that were a terminal take jcriu's.
 * {@code hooks}: the caller's points of action (action scripts, RPC notifications).
 * {@code skipFileCheck}: files reopened by path are used even if their size or permissions
 * changed since the dump. {@code inheritFds}: CRIU's --inherit-fd, jcriu's own fd to use for
 * each key ({@code pipe:[INODE]}: a pipe whose other end was outside the dumped processes;
 * {@code socket:[INODE]}: a unix connection whose peer was).
 * {@code net}: CRIU's socket flags; as with CRIU, a restore needs those its dump needed.
 */
public record RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob,
                             RestoreHooks hooks, boolean skipFileCheck, java.util.Map<String, Integer> inheritFds,
                             jcriu.net.NetOptions net) {
    public RestoreOptions {
        java.util.Objects.requireNonNull(hooks, "hooks");
        java.util.Objects.requireNonNull(net, "net");
        inheritFds = java.util.Map.copyOf(inheritFds);
    }

    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob, RestoreHooks hooks,
                          boolean skipFileCheck, java.util.Map<String, Integer> inheritFds) {
        this(imageDir, detach, leaveStopped, shellJob, hooks, skipFileCheck, inheritFds, jcriu.net.NetOptions.NONE);
    }

    /** These options with the socket flags {@code n}. */
    public RestoreOptions withNet(jcriu.net.NetOptions n) {
        return new RestoreOptions(imageDir, detach, leaveStopped, shellJob, hooks, skipFileCheck, inheritFds, n);
    }

    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob, RestoreHooks hooks,
                          boolean skipFileCheck) {
        this(imageDir, detach, leaveStopped, shellJob, hooks, skipFileCheck, java.util.Map.of());
    }

    /**
     * CRIU's --inherit-fd arguments, {@code fd[N]:KEY} each, as a map from key to fd; a
     * malformed one is refused, naming it.
     */
    public static java.util.Map<String, Integer> parseInheritFds(java.util.List<String> args) {
        java.util.Map<String, Integer> out = new java.util.LinkedHashMap<>();
        for (String a : args) {
            var m = java.util.regex.Pattern.compile("fd\\[(\\d+)\\]:(.+)").matcher(a);
            if (!m.matches()) {
                throw new IllegalArgumentException("--inherit-fd " + a + ": expected fd[N]:KEY, as fd[7]:pipe:[12345]");
            }
            out.put(m.group(2), Integer.parseInt(m.group(1)));
        }
        return out;
    }

    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob, RestoreHooks hooks) {
        this(imageDir, detach, leaveStopped, shellJob, hooks, false);
    }

    public RestoreOptions(Path imageDir, boolean detach, boolean leaveStopped, boolean shellJob) {
        this(imageDir, detach, leaveStopped, shellJob, RestoreHooks.NONE);
    }
}

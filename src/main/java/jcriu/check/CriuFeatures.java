package jcriu.check;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * CRIU 4.2's feature names for {@code check --feature NAME} (its criu/cr-check.c table), each
 * answered for jcriu: a feature counts as supported only when jcriu can checkpoint and restore
 * what it is for on this kernel. That is what a caller asks (zdtm skips a test whose feature is
 * missing), so a kernel facility jcriu does not use, or one for objects jcriu refuses, is
 * reported as missing with the reason.
 */
public final class CriuFeatures {
    private CriuFeatures() {}

    /** The answer for one name; {@code why} says what decided it. */
    public record Answer(String name, boolean supported, String why) {}

    private sealed interface Rule permits Probe, Always, Never {}

    /** Supported when jcriu's own probe of that name found it. */
    private record Probe(String feature, String use) implements Rule {}

    private record Always(String why) implements Rule {}

    private record Never(String why) implements Rule {}

    private static final Map<String, Rule> RULES = new LinkedHashMap<>();

    private static void never(String name, String why) { RULES.put(name, new Never(why)); }

    static {
        never("mnt_id", "jcriu saves no mount namespace and records no mount ids");
        RULES.put("mem_dirty_track", new Always("jcriu finds pages changed since a pre-dump by comparing contents,"
                + " without soft-dirty bits"));
        never("aio_remap", "jcriu does not dump AIO rings");
        RULES.put("timerfd", new Probe(SupportProbes.TIMERFD, "timerfds are dumped and restored with their"
                + " unread expirations"));
        never("tun", "jcriu does not dump tun devices");
        never("tun_ns", "jcriu does not dump tun devices");
        never("userns", "jcriu saves no user namespace");
        RULES.put("fdinfo_lock", new Probe(SupportProbes.FDINFO_LOCK, "POSIX, flock and OFD locks and leases not"
                + " being broken are dumped and restored (--file-locks)"));
        RULES.put("seccomp_suspend", new Probe("PTRACE_O_SUSPEND_SECCOMP", "system calls injected into a process"
                + " under seccomp are not judged by its filters"));
        RULES.put("seccomp_filters", new Probe("PTRACE_SECCOMP_GET_FILTER", "seccomp filters are read this way and"
                + " installed again at restore"));
        RULES.put("loginuid", new Probe(SupportProbes.LOGINUID, "the audit login uid is dumped and restored"));
        never("cgroupns", "jcriu saves no cgroup namespace");
        never("autofs", "jcriu does not dump autofs mounts");
        never("tcp_half_closed", "jcriu refuses half-closed TCP connections (restored closed with --tcp-close)");
        never("compat_cr", "jcriu dumps 64-bit processes only");
        never("uffd", "jcriu has no lazy restore");
        never("uffd-noncoop", "jcriu has no lazy restore");
        RULES.put("can_map_vdso", new Always("jcriu moves the helper's vDSO to the dumped address with mremap after"
                + " checking it is identical"));
        never("sk_ns", "jcriu saves no network namespace of a socket");
        never("sk_unix_file", "jcriu finds a unix socket's file by its path, not through the socket");
        never("net_diag_raw", "jcriu refuses raw sockets");
        never("nsid", "jcriu saves no network namespace");
        never("link_nsid", "jcriu saves no network namespace");
        RULES.put("kcmp_epoll", new Probe(SupportProbes.KCMP_EPOLL, "epoll instances are dumped with the files"
                + " they watch, found with kcmp"));
        never("timens", "jcriu saves no time namespace");
        never("external_net_ns", "jcriu saves no network namespace");
        RULES.put("clone3_set_tid", new Probe("clone3 set_tid", "every restored process and thread gets its id this way"));
        never("newifindex", "jcriu saves no network devices");
        never("nftables", "jcriu locks the network with the nft command, not with CRIU's libnftables");
        never("has_ipt_legacy", "jcriu does not lock with iptables-legacy");
        never("pidfd_store", "jcriu's RPC has no pidfd store");
        never("ns_pid", "jcriu saves no pid namespace");
        never("apparmor_stacking", "jcriu restores no LSM profile");
        never("network_lock_nftables", "jcriu locks the network with the nft command, not with CRIU's libnftables");
        RULES.put("sockopt_buf_lock", new Probe(SupportProbes.BUF_LOCK, "SO_BUF_LOCK is dumped and restored with the"
                + " other socket options"));
        never("memfd_hugetlb", "jcriu refuses hugetlb memory, memfds included");
        never("move_mount_set_group", "jcriu restores no mounts");
        never("openat2", "jcriu does not use openat2");
        RULES.put("get_rseq_conf", new Probe("PTRACE_GET_RSEQ_CONFIGURATION", "rseq registrations are read this way"));
        never("ipv6_freebind", "jcriu does not save IPV6_FREEBIND");
        RULES.put("pagemap_scan", new Probe("PAGEMAP_SCAN", "present pages can be found with one ioctl"));
        RULES.put("timer_cr_ids", new Probe(SupportProbes.TIMER_IDS, "POSIX timers are restored with their ids"
                + " by timer_create"));
        never("overlayfs_maps", "jcriu does not check overlayfs mappings");
        never("breakpoints", "jcriu does not restore hardware breakpoints");
        never("pagemap_scan_guard_pages", "jcriu does not restore guard pages");
    }

    /** CRIU's names, in CRIU's order. */
    public static List<String> names() { return List.copyOf(RULES.keySet()); }

    public static boolean known(String name) { return RULES.containsKey(name); }

    /** The answer for {@code name}, using what {@link Features#probe()} found. */
    public static Answer answer(String name, List<Features.Feature> probed) {
        Rule r = RULES.get(name);
        if (r == null) throw new IllegalArgumentException("unknown feature " + name);
        return switch (r) {
            case Always a -> new Answer(name, true, a.why());
            case Never n -> new Answer(name, false, n.why());
            case Probe p -> {
                Optional<Features.Feature> f = probed.stream().filter(x -> x.name().equals(p.feature())).findFirst();
                boolean yes = f.map(Features.Feature::present).orElse(false);
                yield new Answer(name, yes, p.feature() + (yes ? " works: " + p.use()
                        : " is missing: " + f.map(Features.Feature::detail).orElse("not probed")));
            }
        };
    }
}

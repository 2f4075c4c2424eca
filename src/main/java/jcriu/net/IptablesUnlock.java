package jcriu.net;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import jcriu.api.Log;

/**
 * Lifts the lock of a dump CRIU made with --network-lock iptables (its default) of processes in
 * the host's network namespace: for each established TCP connection CRIU inserted two rules in
 * the filter table (criu/netfilter.c, iptables_connection_switch_raw), one in INPUT dropping the
 * peer's packets and one in OUTPUT dropping the connection's own, both sparing packets marked
 * 0xC114 (its SOCCR_MARK); its restore deletes them one by one with the same specification
 * (iptables_unlock_connection_info). jcriu does the same, with ip6tables for IPv6 connections
 * (an IPv4 one on an IPv6 socket has IPv4 rules, as CRIU makes them).
 */
final class IptablesUnlock {
    private static final String MARK = "0xC114";

    private IptablesUnlock() {}

    /** Deletes CRIU's rules of each restored connection; a rule already gone is not an error. */
    static void release(List<InetSocket> connections, Log log) throws IOException {
        for (InetSocket c : connections) {
            byte[] local = NetworkLock.unmapped(c.src()), remote = NetworkLock.unmapped(c.dst());
            String tool = local.length == 4 && remote.length == 4 ? "iptables" : "ip6tables";
            if (tool.equals("ip6tables")) {
                local = c.src();
                remote = c.dst();
            }
            delete(tool, "INPUT", remote, c.dstPort(), local, c.srcPort(), c, log);
            delete(tool, "OUTPUT", local, c.srcPort(), remote, c.dstPort(), c, log);
        }
    }

    /** Before anything is made: the tools the restore will need to lift the lock of {@code connections} are there. */
    static void check(List<InetSocket> connections) throws IOException {
        java.util.Set<String> tools = new java.util.TreeSet<>();
        for (InetSocket c : connections) {
            tools.add(NetworkLock.unmapped(c.src()).length == 4 && NetworkLock.unmapped(c.dst()).length == 4
                    ? "iptables" : "ip6tables");
        }
        for (String tool : tools) {
            NetworkLock.run(List.of(tool, "--version"), "", "to remove the iptables rules with which CRIU's dump locks"
                    + " its TCP connections (Debian package iptables)");
        }
    }

    /** The rule spec of CRIU's IPTABLES_CONN_CMD, as a command that deletes it. */
    static List<String> command(String tool, String chain, byte[] src, int sport, byte[] dst, int dport) {
        return new ArrayList<>(List.of(tool, "-w", "-t", "filter", "-D", chain, "--protocol", "tcp", "-m", "mark", "!",
                "--mark", MARK, "--source", NetworkLock.text(src), "--sport", String.valueOf(sport), "--destination",
                NetworkLock.text(dst), "--dport", String.valueOf(dport), "-j", "DROP"));
    }

    private static void delete(String tool, String chain, byte[] src, int sport, byte[] dst, int dport, InetSocket c,
                               Log log) throws IOException {
        List<String> cmd = command(tool, chain, src, sport, dst, dport);
        try {
            NetworkLock.run(cmd, "", "to remove the iptables rules of CRIU's dump that lock " + c.describe()
                    + " (Debian package iptables)");
            log.info("network unlocked: CRIU's iptables rule in " + chain + " for " + c.describe() + " deleted");
        } catch (IOException e) {
            if (e.getMessage().contains("does a matching rule exist")) {
                log.debug("no iptables rule of CRIU's in " + chain + " for " + c.describe());
                return;
            }
            throw e;
        }
    }
}

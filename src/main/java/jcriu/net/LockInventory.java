package jcriu.net;

import java.io.IOException;
import java.nio.file.Path;
import java.util.UUID;

import jcriu.image.ImageDir;
import jcriu.image.ImageFile;
import jcriu.image.ImageInput;
import jcriu.image.pb.InventoryEntry;

/**
 * How a dump's network lock is named in inventory.img, the way CRIU 4.2 writes and reads it,
 * so that either tool's restore lifts the other's lock. CRIU's dump stores its lock method
 * (network_lock_method, the values of its enum NETWORK_LOCK_METHOD in
 * criu/include/cr_options.h, not those of rpc.proto) and its run id (dump_criu_run_id, a
 * UUID) in criu/image.c; its restore reads them back there and, with nftables, deletes the
 * table {@code inet CRIU-<run id>} (criu/netfilter.c nftables_get_table, criu/net.c
 * nftables_network_unlock), or with iptables deletes the two rules of each restored
 * connection (criu/netfilter.c iptables_unlock_connection_info). jcriu's dump locks under
 * that name and writes both fields.
 */
public final class LockInventory {
    /** CRIU's NETWORK_LOCK_METHOD values, as inventory.img holds them. */
    public static final int IPTABLES = 0, NFTABLES = 1, SKIP = 2;

    /**
     * CRIU prints "inet CRIU-<run id>" into a 32-byte buffer (criu/netfilter.c, criu/net.c):
     * the table it makes and deletes is cut to 31 characters, so to 26 after "inet ".
     */
    private static final int TABLE_NAME_MAX = 31 - "inet ".length();

    private LockInventory() {}

    /** The lock a dump leaves for its restore to lift. */
    public sealed interface Held permits Table, Iptables, Unlocked {}

    /**
     * An nftables table of family inet, deleted whole. {@code always}: made by CRIU's dump,
     * which creates it even when it locks nothing (criu/net.c network_lock) and whose restore
     * deletes it in every case; jcriu's dump makes it only for sockets it locks.
     */
    public record Table(String name, boolean always) implements Held {}

    /** CRIU's iptables rules: two per established TCP connection (CRIU's default method). */
    public record Iptables() implements Held {}

    /** Nothing was locked (--network-lock skip). */
    public record Unlocked() implements Held {}

    /** What a dump writes: its method and run id. */
    public record Written(int method, String runId) {
        /** A new dump's: a fresh run id; {@code lock} false for --network-lock skip. */
        public static Written fresh(boolean lock) {
            return new Written(lock ? NFTABLES : SKIP, UUID.randomUUID().toString());
        }

        /** The nftables table this dump locks with, or null if it does not lock. */
        public String table() {
            return method == NFTABLES ? criuTable(runId) : null;
        }

        public InventoryEntry.Builder fill(InventoryEntry.Builder b) {
            return b.setNetworkLockMethod(method).setDumpCriuRunId(runId);
        }
    }

    /** The table CRIU names after a run id (cut as CRIU cuts it). */
    public static String criuTable(String runId) {
        String name = "CRIU-" + runId;
        return name.length() > TABLE_NAME_MAX ? name.substring(0, TABLE_NAME_MAX) : name;
    }

    /** The table of a dump written by jcriu before it named its lock as CRIU does. */
    public static String olderJcriuTable(int rootPid) {
        return "jcriu-" + rootPid;
    }

    /**
     * The lock named by an inventory. Without a method, CRIU's restore falls back to iptables
     * (images of an older CRIU), but an inventory of jcriu's (it names jcriu's manifest) comes
     * from an older jcriu, which locked with the table jcriu-ROOTPID. Without a run id, CRIU's
     * restore names the table after the root's PID.
     */
    public static Held held(InventoryEntry inv, int rootPid) {
        if (!inv.hasNetworkLockMethod()) {
            return inv.hasJcriuManifest() && !inv.hasDumpCriuRunId() ? new Table(olderJcriuTable(rootPid), false)
                    : new Iptables();
        }
        return switch (inv.getNetworkLockMethod()) {
            case IPTABLES -> new Iptables();
            case NFTABLES -> new Table(inv.hasDumpCriuRunId() && !inv.getDumpCriuRunId().isEmpty()
                    ? criuTable(inv.getDumpCriuRunId()) : "CRIU-" + rootPid, !inv.hasJcriuManifest());
            case SKIP -> new Unlocked();
            default -> throw new IllegalArgumentException("inventory.img: unknown network_lock_method "
                    + inv.getNetworkLockMethod() + " (CRIU knows 0 iptables, 1 nftables, 2 skip)");
        };
    }

    /** The lock named by the inventory of the images in {@code dir}. */
    public static Held held(Path dir, int rootPid) throws IOException {
        try (ImageInput in = ImageDir.open(dir).open(ImageFile.inventory())) {
            return held(in.single(InventoryEntry.parser()), rootPid);
        } catch (IllegalArgumentException e) {
            throw new IOException(dir + "/" + e.getMessage(), e);
        }
    }
}

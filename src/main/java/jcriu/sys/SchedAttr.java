package jcriu.sys;

/**
 * A thread's scheduling as {@code sched_getattr(2)} reports it: policy (SCHED_OTHER 0, FIFO 1,
 * RR 2, BATCH 3, IDLE 5, DEADLINE 6), whether children fall back to the default on fork
 * (SCHED_FLAG_RESET_ON_FORK), nice (normal policies) and the real-time priority (FIFO, RR).
 */
public record SchedAttr(int policy, boolean resetOnFork, int nice, int priority) {
    public static final int SCHED_OTHER = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5,
            SCHED_DEADLINE = 6;
    /** The bit sched_getscheduler(2) ORs into the policy; CRIU's image stores the policy that way. */
    public static final int RESET_ON_FORK_BIT = 0x40000000;

    public static final SchedAttr DEFAULT = new SchedAttr(SCHED_OTHER, false, 0, 0);

    /** The policy word as sched_getscheduler(2) returns it (and CRIU's sched_policy holds it). */
    public int policyWord() {
        return policy | (resetOnFork ? RESET_ON_FORK_BIT : 0);
    }

    public static SchedAttr fromPolicyWord(int word, int nice, int priority) {
        return new SchedAttr(word & ~RESET_ON_FORK_BIT, (word & RESET_ON_FORK_BIT) != 0, nice, priority);
    }

    public String policyName() {
        return switch (policy) {
            case SCHED_OTHER -> "SCHED_OTHER";
            case SCHED_FIFO -> "SCHED_FIFO";
            case SCHED_RR -> "SCHED_RR";
            case SCHED_BATCH -> "SCHED_BATCH";
            case SCHED_IDLE -> "SCHED_IDLE";
            case SCHED_DEADLINE -> "SCHED_DEADLINE";
            default -> "policy " + policy;
        };
    }

    @Override
    public String toString() {
        return policyName() + (resetOnFork ? "|RESET_ON_FORK" : "") + " nice " + nice + " priority " + priority;
    }
}

package jcriu.proc;

import java.util.List;

/**
 * /proc/PID/stat (or /proc/PID/task/TID/stat). Field numbers in the comments are those of
 * proc(5). Address fields read as 0 when the reader may not ptrace the process, and for
 * zombies and kernel threads.
 *
 * @param fields every field as printed, index 0 being field 1 (pid) and index 1 the comm
 *               without its parentheses; see {@link #field(int)}
 */
public record ProcStat(
        int pid,            // 1
        String comm,        // 2, may contain spaces, parentheses and newlines
        char state,         // 3: R S D T t X Z P I
        int ppid,           // 4
        int pgrp,           // 5
        int session,        // 6
        int ttyNr,          // 7
        int tpgid,          // 8
        long flags,         // 9: PF_* flags
        long utime,         // 14, clock ticks
        long stime,         // 15
        long priority,      // 18
        long nice,          // 19
        int numThreads,     // 20
        long startTime,     // 22, clock ticks after boot
        long vsize,         // 23, bytes
        long rss,           // 24, pages
        long startCode,     // 26
        long endCode,       // 27
        long startStack,    // 28
        int exitSignal,     // 38
        int processor,      // 39
        int rtPriority,     // 40
        int policy,         // 41: SCHED_*
        long startData,     // 45
        long endData,       // 46
        long startBrk,      // 47
        long argStart,      // 48
        long argEnd,        // 49
        long envStart,      // 50
        long envEnd,        // 51
        int exitCode,       // 52, as waitpid reports it
        List<String> fields) {

    public ProcStat {
        fields = List.copyOf(fields);
    }

    /** Field {@code n} as printed, numbered as in proc(5) (1 = pid, 2 = comm). */
    public String field(int n) {
        return fields.get(n - 1);
    }

    /** Major number of the controlling terminal (0 when none). */
    public int ttyMajor() {
        return (ttyNr >>> 8) & 0xfff;
    }

    /** Minor number of the controlling terminal. */
    public int ttyMinor() {
        return (ttyNr & 0xff) | ((ttyNr >>> 12) & 0xfff00);
    }
}

package jcriu.proc;

/** The Uid: or Gid: line of /proc/PID/status. Values are unsigned 32-bit (4294967295 reads as -1). */
public record Ids(int real, int effective, int saved, int fs) {}

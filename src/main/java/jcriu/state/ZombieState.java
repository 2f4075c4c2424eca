package jcriu.state;

/**
 * A process of the tree that has exited and not been reaped: it is recreated as a zombie so
 * that its parent reaps it with the same status. {@code exitStatus} is as wait(2) reports it.
 */
public record ZombieState(int pid, int ppid, int pgid, int sid, String comm, int exitStatus) {}

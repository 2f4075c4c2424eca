package jcriu.state;

/**
 * A pipe whose both ends the process holds: its inode (how its fds find each other), its
 * capacity (F_GETPIPE_SZ) and the bytes that were in it, unread.
 */
public record PipeState(long ino, int capacity, byte[] data) {}

package jcriu.proc;

/** SigQ: signals queued for the real uid, and the RLIMIT_SIGPENDING limit. */
public record SigQueue(long queued, long limit) {}

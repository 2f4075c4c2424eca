package jcriu.state;

/** The kernel's {@code struct sigaction} for x86_64 (handler, flags, restorer, 64-bit mask). */
public record SigAction(int sig, long handler, long flags, long restorer, long mask) {}

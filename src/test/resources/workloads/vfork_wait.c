/*
 * vfork_wait: a process whose only thread cannot be stopped: it waits in vfork() for its
 * child, an uninterruptible (killable) sleep that PTRACE_INTERRUPT does not end.
 *
 * Usage: vfork_wait
 * Output: ready pid=<pid> child=<child pid>   (printed by the child, which then pauses)
 * The child shares the parent's memory until it execs or exits: it only calls write() and
 * pause() through raw system calls. SIGTERM to the child ends both.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    pid_t parent = getpid();
    pid_t child = vfork();
    if (child == 0) {
        char line[96];
        int n = snprintf(line, sizeof line, "ready pid=%d child=%ld\n", parent, (long) syscall(SYS_getpid));
        syscall(SYS_write, 1, line, n);
        for (;;) syscall(SYS_pause);
    }
    printf("exit code=0\n");
    return 0;
}

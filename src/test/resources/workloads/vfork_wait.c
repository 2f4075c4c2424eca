/*
 * vfork_wait: a process whose only thread cannot be stopped: it waits, as vfork() does, for a
 * child that shares its memory, an uninterruptible (killable) sleep that PTRACE_INTERRUPT does
 * not end. The child is made with CLONE_PARENT, so it is a sibling outside the dumped tree:
 * the dump cannot see a vfork to refuse and has to give up when its --timeout is reached.
 *
 * Usage: vfork_wait
 * Output: ready pid=<pid> child=<child pid>   (printed by the child, which then pauses)
 * The child only calls write() and pause() through raw system calls on its own stack.
 * SIGKILL to the child lets the parent go on and exit.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t parent;
static char stack[64 * 1024] __attribute__((aligned(16)));

static int child_main(void *arg) {
    (void) arg;
    char line[96];
    int n = snprintf(line, sizeof line, "ready pid=%d child=%ld\n", parent, (long) syscall(SYS_getpid));
    syscall(SYS_write, 1, line, n);
    for (;;) syscall(SYS_pause);
    return 0;
}

int main(void) {
    parent = getpid();
    if (clone(child_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_PARENT | SIGCHLD, NULL) < 0) {
        perror("clone");
        return 1;
    }
    printf("exit code=0\n");
    return 0;
}

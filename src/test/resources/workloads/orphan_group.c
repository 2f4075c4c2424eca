/*
 * orphan_group: a process group that outlives the process that made it (as zdtm's zombie01).
 * The root forks C, which calls setpgid(0, 0) and clones G with CLONE_PARENT (G is the root's
 * child, in C's group), then exits; the root reaps C. G sleeps until killed. The root prints
 * "member pid=G pgid=C", then "ready". On SIGUSR1 it prints "check pgid=P stray=S": P is G's
 * group now, S the PID of any other child that has ended meanwhile (0: none).
 * SIGTERM: G is killed and reaped, then "exit code=0".
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "say.h"

static volatile sig_atomic_t term_requested, usr1;

static void on_sig(int sig)
{
	if (sig == SIGTERM)
		term_requested = 1;
	else
		usr1 = 1;
}


int main(void)
{
	struct sigaction sa;
	sigset_t block, none;
	int pfd[2];
	pid_t c, g = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (pipe(pfd) != 0)
		return 2;
	c = fork();
	if (c == 0) {
		if (setpgid(0, 0) != 0)
			_exit(3);
		pid_t gc = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
		if (gc == 0) {
			close(pfd[0]);
			close(pfd[1]);
			for (;;)
				pause();
		}
		if (write(pfd[1], &gc, sizeof(gc)) != sizeof(gc))
			_exit(4);
		_exit(0);
	}
	if (read(pfd[0], &g, sizeof(g)) != sizeof(g))
		return 2;
	close(pfd[0]);
	close(pfd[1]);
	if (waitpid(c, NULL, 0) != c)
		return 2;
	say("member pid=%d pgid=%d\n", g, getpgid(g));
	say("ready\n");
	sigemptyset(&none);
	for (;;) {
		while (!usr1 && !term_requested)
			sigsuspend(&none);
		if (term_requested)
			break;
		usr1 = 0;
		say("check pgid=%d stray=%d\n", getpgid(g), waitpid(-1, NULL, WNOHANG));
	}
	kill(g, SIGKILL);
	waitpid(g, NULL, 0);
	say("exit code=0\n");
	return 0;
}

/*
 * epoll_outside: a child whose epoll watches a pipe that only its parent still holds open
 * (the child closed its own ends after registering the read end). Dumping the child alone
 * must be refused: no fd of the dumped tree holds the watched file.
 *
 * Usage: epoll_outside
 * Output:
 *   ready pid=<parent pid> child=<child pid>
 *   exit code=0      (the parent, on SIGTERM; it kills the child first)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t term;

static void on_term(int sig)
{
	term = 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int p[2];
	if (pipe(p))
		return 1;
	pid_t child = fork();
	if (child == 0) {
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
		epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
		close(p[0]);
		close(p[1]);
		for (;;)
			pause();
	}
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	usleep(100000); /* the child has registered and closed */
	printf("ready pid=%d child=%d\n", getpid(), child);
	while (!term)
		pause();
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	printf("exit code=0\n");
	return 0;
}

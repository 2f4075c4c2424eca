/*
 * threads N: a process of N threads (N-1 of them waiting in pause() on small stacks).
 *   ready pid=<pid> threads=<N>           once every thread runs
 *   verify ok | verify BAD <count>        on SIGUSR1: the number of threads in /proc/self/task
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "../../src/test/resources/workloads/say.h"

static volatile sig_atomic_t asked;
static void on_usr1(int sig) { (void)sig; asked = 1; }
static void *idle(void *a) { for (;;) pause(); return a; }

static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	sigset_t usr1;
	pthread_attr_t at;

	/* only the main thread takes SIGUSR1 */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	for (int i = 1; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, &at, idle, NULL))
			return 1;
	}
	signal(SIGUSR1, on_usr1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	while (count_tasks() != n)
		usleep(1000);
	say("ready pid=%d threads=%d\n", (int)getpid(), n);
	for (;;) {
		pause();
		if (!asked)
			continue;
		asked = 0;
		int got = count_tasks();
		if (got == n)
			say("verify ok\n");
		else
			say("verify BAD %d\n", got);
	}
}

/*
 * thread_churn: creates and joins short-lived threads in a tight loop, so that a
 * dump races with threads being born and dying.
 *
 * Usage: thread_churn
 * Output: ready pid=<pid>; every 100 ms "spawned=<N>" (strictly increasing);
 *         on SIGTERM "exit code=0".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term_requested;
static volatile unsigned long spawned;

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
}

static void *brief(void *arg)
{
	return arg; /* born and gone at once */
}

static void *spawner(void *arg)
{
	(void)arg;
	while (!term_requested) {
		pthread_t t[4];
		for (int i = 0; i < 4; i++)
			if (pthread_create(&t[i], NULL, brief, NULL) != 0)
				abort();
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		spawned += 4;
	}
	return NULL;
}

int main(void)
{
	pthread_t sp;
	struct sigaction sa = { .sa_handler = on_term };

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	if (pthread_create(&sp, NULL, spawner, NULL) != 0)
		return 1;
	printf("ready pid=%d\n", (int)getpid());
	while (!term_requested) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		printf("spawned=%lu\n", spawned);
	}
	pthread_join(sp, NULL);
	printf("exit code=0\n");
	return 0;
}

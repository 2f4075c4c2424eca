/*
 * thread_bomb: chains of threads in which each thread joins the one that made it, makes its
 * successor and exits at once (CRIU's zdtm transition/thread-bomb), so that at any moment
 * threads are being born and dying, and a thread may vanish right after having made another.
 *
 * Usage: thread_bomb [CHAINS]   (8 by default)
 * Output: ready pid=<pid> chains=<CHAINS>; every 100 ms "born=<N>" (threads made so far,
 *         strictly increasing); on SIGTERM "exit code=0".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term_requested;
static unsigned long born;
static pthread_attr_t attr;

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
}

static void *link_fn(void *arg)
{
	pthread_t *self;

	if (arg) {
		pthread_t maker = *(pthread_t *)arg;

		free(arg);
		if (pthread_join(maker, NULL) != 0)
			abort();
	}
	self = malloc(sizeof(*self));
	if (!self)
		abort();
	*self = pthread_self();
	if (pthread_create(&(pthread_t){0}, &attr, link_fn, self) != 0)
		abort();
	__atomic_add_fetch(&born, 1, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char **argv)
{
	int chains = argc > 1 ? atoi(argv[1]) : 8;
	struct sigaction sa = { .sa_handler = on_term };

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	printf("ready pid=%d chains=%d\n", (int)getpid(), chains);
	for (int i = 0; i < chains; i++)
		if (pthread_create(&(pthread_t){0}, &attr, link_fn, NULL) != 0)
			abort();
	while (!term_requested) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		printf("born=%lu\n", __atomic_load_n(&born, __ATOMIC_RELAXED));
	}
	printf("exit code=0\n");
	/* the chains never end: exit_group takes them all */
	return 0;
}

/*
 * blockers: threads parked in blocking system calls, and a pipe holding unread bytes.
 *
 * Threads (all with SIGUSR1 and SIGTERM blocked; main takes them with sigwaitinfo):
 *   reader   read(2) on pipe A, one byte at a time: 'x' is reported, 'q' ends the thread
 *   waiter   pthread_cond_wait (a futex wait without timeout) until "go", then until "quit"
 *   sleeper  nanosleep(400 ms) in a loop, counting the completed sleeps, until "quit"
 * Pipe B gets 13 bytes ("hello-backlog") and a capacity of 8192 before "ready"; nobody
 * reads it until SIGUSR1. The threads are named after their role (pthread_setname_np).
 * SIGUSR2 and SIGWINCH are blocked everywhere; before "ready" SIGUSR2 is sent to the
 * reader thread only and SIGWINCH to the process, so both stay pending (per thread and
 * shared) for as long as the program runs.
 *
 * Output:
 *   ready pid=<pid> reader=<tid> waiter=<tid> sleeper=<tid>
 *   slept n=<N>                    the sleeper, after each completed sleep
 *   (SIGUSR1) poke                 main writes 'x' to pipe A and broadcasts "go"
 *   read got=x                     the reader returned from read(2) with the byte
 *   woke                           the waiter returned from pthread_cond_wait
 *   backlog=<text> capacity=<n>    main read pipe B (non-blocking) and its F_GETPIPE_SZ
 *   (SIGTERM) joined=<k>           main set "quit", wrote 'q', and pthread_join returned k times
 *   exit code=0
 *   BAD <what>                     anything unexpected
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int pipe_a[2], pipe_b[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int go, quit;
static volatile pid_t tid_reader, tid_waiter, tid_sleeper;
static pthread_barrier_t started;

static void *reader(void *arg)
{
	(void)arg;
	tid_reader = gettid();
	pthread_setname_np(pthread_self(), "reader");
	pthread_barrier_wait(&started);
	for (;;) {
		char c;
		ssize_t n = read(pipe_a[0], &c, 1);

		if (n == 1 && c == 'q')
			return NULL;
		if (n == 1) {
			printf("read got=%c\n", c);
		} else {
			printf("BAD read n=%zd errno=%d\n", n, errno);
			return NULL;
		}
	}
}

static void *waiter(void *arg)
{
	(void)arg;
	tid_waiter = gettid();
	pthread_setname_np(pthread_self(), "waiter");
	pthread_barrier_wait(&started);
	pthread_mutex_lock(&lock);
	while (!go && !quit)
		pthread_cond_wait(&cond, &lock);
	if (go)
		printf("woke\n");
	while (!quit)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *sleeper(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	tid_sleeper = gettid();
	pthread_setname_np(pthread_self(), "sleeper");
	pthread_barrier_wait(&started);
	for (;;) {
		struct timespec ts = { 0, 400 * 1000 * 1000 };
		int done;

		/* EINTR would mean a sleep cut short: the kernel restarts it, so must jcriu */
		if (nanosleep(&ts, NULL) != 0) {
			printf("BAD nanosleep errno=%d\n", errno);
			return NULL;
		}
		printf("slept n=%lu\n", ++n);
		pthread_mutex_lock(&lock);
		done = quit;
		pthread_mutex_unlock(&lock);
		if (done)
			return NULL;
	}
}

int main(void)
{
	pthread_t th[3];
	void *(*fn[3])(void *) = { reader, waiter, sleeper };
	sigset_t set;
	const char backlog[] = "hello-backlog";

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	{
		sigset_t all = set;

		sigaddset(&all, SIGUSR2);
		sigaddset(&all, SIGWINCH);
		pthread_sigmask(SIG_BLOCK, &all, NULL); /* inherited by the threads */
	}

	if (pipe(pipe_a) != 0 || pipe2(pipe_b, O_NONBLOCK) != 0 || fcntl(pipe_b[1], F_SETPIPE_SZ, 8192) < 0 ||
	    write(pipe_b[1], backlog, strlen(backlog)) != (ssize_t)strlen(backlog)) {
		printf("BAD setup errno=%d\nexit code=3\n", errno);
		return 3;
	}
	pthread_barrier_init(&started, NULL, 4);
	for (int i = 0; i < 3; i++) {
		if (pthread_create(&th[i], NULL, fn[i], NULL) != 0) {
			printf("BAD pthread_create\nexit code=3\n");
			return 3;
		}
	}
	pthread_barrier_wait(&started);
	if (pthread_kill(th[0], SIGUSR2) != 0 || kill(getpid(), SIGWINCH) != 0) {
		printf("BAD pending signals\nexit code=3\n");
		return 3;
	}
	printf("ready pid=%d reader=%d waiter=%d sleeper=%d\n", (int)getpid(), (int)tid_reader, (int)tid_waiter,
	       (int)tid_sleeper);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);

		if (sig == SIGUSR1) {
			char buf[64];
			ssize_t n;

			printf("poke\n");
			if (write(pipe_a[1], "x", 1) != 1)
				printf("BAD write errno=%d\n", errno);
			pthread_mutex_lock(&lock);
			go = 1;
			pthread_cond_broadcast(&cond);
			pthread_mutex_unlock(&lock);
			n = read(pipe_b[0], buf, sizeof(buf) - 1);
			buf[n > 0 ? n : 0] = 0;
			printf("backlog=%s capacity=%d\n", buf, fcntl(pipe_b[0], F_GETPIPE_SZ));
		} else if (sig == SIGTERM) {
			int joined = 0;

			pthread_mutex_lock(&lock);
			quit = 1;
			pthread_cond_broadcast(&cond);
			pthread_mutex_unlock(&lock);
			if (write(pipe_a[1], "q", 1) != 1)
				printf("BAD write errno=%d\n", errno);
			for (int i = 0; i < 3; i++)
				joined += pthread_join(th[i], NULL) == 0;
			printf("joined=%d\nexit code=0\n", joined);
			return 0;
		} else if (errno != EINTR) {
			printf("BAD sigwaitinfo errno=%d\n", errno);
			printf("exit code=4\n");
			return 4;
		}
	}
}

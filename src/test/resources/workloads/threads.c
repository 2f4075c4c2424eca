/*
 * threads: a multi-threaded counter. Each worker keeps its count in a __thread
 * variable (TLS, reached through the restored FS base) mirrored on its own
 * stack, and checks that its thread id never changes.
 *
 * Usage: threads NTHREADS        (1..16 workers, plus the main thread)
 * Output:
 *   ready pid=<pid> threads=<NTHREADS> tids=<tid>,<tid>,...   worker tids in index order
 *   thread=<i> tid=<tid> count=<N>   each worker every 50 ms, N = 1, 2, ... +1 per line
 *   thread=<i> BAD <what> ...        TLS/stack mismatch or changed tid; worker stops
 *   term counts=<N>,<N>,...          on SIGTERM (main thread), each worker's published
 *                                    count (>= its last printed line; a worker may still
 *                                    print one more line before the exit)
 *   exit code=0
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16

static __thread unsigned long tls_count; /* one per thread, lives in the TLS block */
static volatile unsigned long published[MAX_THREADS];
static pid_t tids[MAX_THREADS];
static pthread_barrier_t started;
static volatile sig_atomic_t term_requested;

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
}

static void *worker(void *arg)
{
	int index = (int)(long)arg;
	volatile unsigned long stack_count = 0;
	pid_t tid = gettid();

	tids[index] = tid;
	pthread_barrier_wait(&started);
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		tls_count++;
		stack_count++;
		if (tls_count != stack_count) {
			printf("thread=%d BAD tls=%lu stack=%lu\n", index, tls_count, stack_count);
			return NULL;
		}
		if (gettid() != tid) {
			printf("thread=%d BAD tid was=%d now=%d\n", index, (int)tid, (int)gettid());
			return NULL;
		}
		published[index] = tls_count;
		/* one printf per line: stdio's lock keeps lines from different threads whole */
		printf("thread=%d tid=%d count=%lu\n", index, (int)tid, tls_count);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t term_only;
	pthread_t threads[MAX_THREADS];
	int n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	n = argc == 2 ? atoi(argv[1]) : 0;
	if (n < 1 || n > MAX_THREADS) {
		printf("usage: threads NTHREADS (1..%d)\n", MAX_THREADS);
		printf("exit code=2\n");
		return 2;
	}

	/* workers block SIGTERM (they inherit this mask) so only main handles it */
	sigemptyset(&term_only);
	sigaddset(&term_only, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term_only, NULL);

	pthread_barrier_init(&started, NULL, n + 1);
	for (int i = 0; i < n; i++) {
		if (pthread_create(&threads[i], NULL, worker, (void *)(long)i) != 0) {
			printf("setup failed: pthread_create\n");
			printf("exit code=3\n");
			return 3;
		}
	}
	pthread_barrier_wait(&started);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	pthread_sigmask(SIG_UNBLOCK, &term_only, NULL);

	printf("ready pid=%d threads=%d tids=", (int)getpid(), n);
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", (int)tids[i]);
	printf("\n");
	fflush(stdout);

	while (!term_requested) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	/* build the line first: a single printf keeps it whole among worker lines */
	{
		char line[MAX_THREADS * 24 + 32];
		int used = snprintf(line, sizeof(line), "term counts=");

		for (int i = 0; i < n; i++)
			used += snprintf(line + used, sizeof(line) - used, "%s%lu", i ? "," : "",
					 published[i]);
		printf("%s\nexit code=0\n", line);
	}
	fflush(stdout);
	exit(0);
}

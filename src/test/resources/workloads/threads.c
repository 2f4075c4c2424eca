/*
 * threads: a multi-threaded counter. Each worker keeps its count in a __thread
 * variable (TLS, reached through the restored FS base) mirrored on its own
 * stack, and checks that its thread id never changes. Every tick a worker first
 * completes a spinning rseq critical section in its own glibc rseq area (retrying
 * after aborts), so a dump may catch any thread inside one.
 *
 * Usage: threads NTHREADS        (1..64 workers, plus the main thread)
 * Output:
 *   ready pid=<pid> threads=<NTHREADS> tids=<tid>,<tid>,... rseq=<glibc|none>
 *                                    worker tids in index order
 *   thread=<i> tid=<tid> count=<N> commits=<C> aborts=<A>
 *                                    each worker every 50 ms, N = 1, 2, ... +1 per line;
 *                                    C: its sections committed, A: aborted (0 without rseq)
 *   thread=<i> BAD <what> ...        TLS/stack mismatch, changed tid, or a section that
 *                                    committed although rseq_cs was cleared under it or
 *                                    after the wrong number of iterations; worker stops
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
#include <sys/rseq.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
/* Spins per section, split among the workers so that 64 threads do not saturate the CPUs. */
#define TOTAL_SPINS 2000000UL

/*
 * One rseq critical section in the calling thread's area: returns 1 committed, 0 aborted,
 * 2 rseq_cs cleared under it, 3 wrong iteration count. The descriptor's signature (glibc's)
 * precedes the abort handler as the kernel requires.
 */
extern struct rseq_cs tcs_desc;
__attribute__((noinline, noclone)) static long spin_cs(struct rseq *rs, unsigned long n)
{
	long res;
	volatile unsigned long it = 0;

	__asm__ volatile(
		".pushsection .data.rseq_cs_tcs, \"aw\"\n"
		".balign 32\n"
		"tcs_desc:\n"
		".long 0, 0\n"
		".quad tcs_start, tcs_end - tcs_start, tcs_abort\n"
		".popsection\n"
		"leaq tcs_desc(%%rip), %%rax\n"
		"movq %%rax, 8(%[rs])\n"
		"tcs_start:\n"
		"movq $0, %[it]\n"
		"movq %[n], %%rcx\n"
		"1: incq %[it]\n"
		"decq %%rcx\n"
		"jnz 1b\n"
		"cmpq %%rax, 8(%[rs])\n"
		"jne 3f\n"
		"cmpq %[n], %[it]\n"
		"jne 5f\n"
		"movq $1, %[res]\n"
		"tcs_end:\n"
		"jmp 4f\n"
		"3: movq $2, %[res]\n"
		"jmp 4f\n"
		"5: movq $3, %[res]\n"
		"jmp 4f\n"
		".long 0x53053053\n"
		"tcs_abort:\n"
		"movq $0, %[res]\n"
		"4:\n"
		: [res] "=&r"(res), [it] "+m"(it)
		: [rs] "r"(rs), [n] "r"(n)
		: "rax", "rcx", "memory", "cc");
	return res;
}

static unsigned long spins_per_section = TOTAL_SPINS;

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
	unsigned long commits = 0, aborts = 0;
	pid_t tid = gettid();
	struct rseq *rs = __rseq_size > 0 ? (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset) : NULL;

	tids[index] = tid;
	pthread_barrier_wait(&started);
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		while (rs != NULL) {
			long r = spin_cs(rs, spins_per_section);

			if (r == 1) {
				commits++;
				break;
			}
			if (r != 0) {
				printf("thread=%d BAD section result=%ld (%s)\n", index, r,
				       r == 2 ? "committed without rseq_cs" : "wrong iterations");
				fflush(stdout);
				return NULL;
			}
			aborts++;
		}
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
		printf("thread=%d tid=%d count=%lu commits=%lu aborts=%lu\n", index, (int)tid, tls_count, commits,
		       aborts);
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

	spins_per_section = TOTAL_SPINS / n;
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
	printf(" rseq=%s\n", __rseq_size > 0 ? "glibc" : "none");
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

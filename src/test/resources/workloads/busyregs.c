/*
 * busyregs: a process that notices if anything it holds in registers, memory or its signal
 * masks changes under it. For jcriu being interrupted (SIGINT/SIGTERM/SIGKILL) at any point
 * of a dump: the thread it worked on must come back exactly as it was.
 *
 * Usage: busyregs MIB [idle|suspend]
 *   spinner      loops in user mode over an asm block that keeps a 256-bit pattern in ymm9,
 *                another in r12-r15, and compares both with memory about a million times per
 *                block (so a freeze almost always catches it between two instructions there);
 *                the main thread, or with "idle" a second thread while the main thread waits
 *                in pause() (a call the kernel restarts, ERESTARTNOHAND), or with "suspend"
 *                with SIGUSR1 and SIGTERM blocked, waits for them in sigsuspend(empty mask)
 *                (the kernel saves its mask for the return);
 *   sleeper      a thread sleeping in nanosleep(200 ms, &rem) in a loop (ERESTART_RESTARTBLOCK
 *                when frozen), with SIGUSR2 blocked (and USR1, TERM), checking its mask after
 *                each nap;
 *   memory       MIB MiB filled with a pattern.
 * Output (line buffered, stdout is a regular file):
 *   ready pid=<pid>
 *   verify ok rounds=<N> naps=<M>      on SIGUSR1: memory and the main thread's mask intact
 *   verify BAD memory at 0x<offset>    on SIGUSR1, first mismatch
 *   verify BAD mask signal <N>         on SIGUSR1, the main thread's mask is not as it set it
 *                                      (empty; "suspend": USR1 and TERM blocked)
 *   mask BAD signal <N>                the sleeper's mask changed (then exit code=1)
 *   regs BAD round=<N> left=<K>        a register lost its value (then exit code=1)
 *   exit code=<N>                      on SIGTERM (0), or after BAD (1)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t verify_requested, term_requested;
static volatile long naps;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		verify_requested = 1;
	else
		term_requested = 1;
}

static void *sleeper(void *arg)
{
	(void)arg;
	sigset_t s; /* USR1 and TERM are for the main thread; USR2 is the sleeper's own */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	sigaddset(&s, SIGTERM);
	pthread_sigmask(SIG_SETMASK, &s, NULL);
	for (;;) {
		struct timespec t = {0, 200 * 1000 * 1000}, rem;
		while (nanosleep(&t, &rem) != 0)
			t = rem;
		sigset_t now;
		pthread_sigmask(SIG_BLOCK, NULL, &now);
		for (int sig = 1; sig < NSIG; sig++) {
			if (sigismember(&now, sig) != sigismember(&s, sig)) {
				printf("mask BAD signal %d\n", sig);
				printf("exit code=1\n");
				exit(1);
			}
		}
		naps++;
	}
	return NULL;
}

static uint64_t word(uint64_t i)
{
	return i * 0x9e3779b97f4a7c15ull ^ 0x5bd1e995u;
}

/* Returns the iterations left when a register no longer held its value, 0 if all held. */
static long spin(const uint64_t pat[4])
{
	long left;
	__asm__ volatile(
		"vmovdqu (%[p]), %%ymm9\n\t"
		"mov 0(%[p]), %%r12\n\t"
		"mov 8(%[p]), %%r13\n\t"
		"mov 16(%[p]), %%r14\n\t"
		"mov 24(%[p]), %%r15\n\t"
		"mov $1000000, %[left]\n"
		"1:\n\t"
		"vpxor (%[p]), %%ymm9, %%ymm10\n\t"
		"vptest %%ymm10, %%ymm10\n\t"
		"jnz 2f\n\t"
		"cmp 0(%[p]), %%r12\n\t"
		"jne 2f\n\t"
		"cmp 8(%[p]), %%r13\n\t"
		"jne 2f\n\t"
		"cmp 16(%[p]), %%r14\n\t"
		"jne 2f\n\t"
		"cmp 24(%[p]), %%r15\n\t"
		"jne 2f\n\t"
		"dec %[left]\n\t"
		"jnz 1b\n"
		"2:\n\t"
		"vzeroupper\n\t"
		: [left] "=&r"(left)
		: [p] "r"(pat)
		: "r12", "r13", "r14", "r15", "xmm9", "xmm10", "memory", "cc");
	return left;
}

static uint64_t *mem;
static sigset_t main_mask; /* what the main thread's mask must be outside sigsuspend */
static size_t words;
static volatile uint64_t rounds;

static void verify(void)
{
	size_t i;
	for (i = 0; i < words && mem[i] == word(i); i++)
		;
	sigset_t now;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	int blocked = 0;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&now, sig) != sigismember(&main_mask, sig))
			blocked = sig;
	if (i < words)
		printf("verify BAD memory at 0x%zx\n", i * 8);
	else if (blocked)
		printf("verify BAD mask signal %d\n", blocked);
	else
		printf("verify ok rounds=%llu naps=%ld\n", (unsigned long long)rounds, naps);
}

/* The register check; the main thread (busy mode) also answers SIGUSR1 and SIGTERM here. */
static void *spinner(void *main_thread)
{
	for (uint64_t round = 1;; round++) {
		rounds = round;
		uint64_t pat[4] = {word(round), ~word(round), word(round) << 7, round};
		long left = spin(pat);
		if (left) {
			printf("regs BAD round=%llu left=%ld\n", (unsigned long long)round, left);
			printf("exit code=1\n");
			exit(1);
		}
		if (!main_thread)
			continue;
		if (verify_requested) {
			verify_requested = 0;
			verify();
		}
		if (term_requested) {
			printf("exit code=0\n");
			exit(0);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	words = (argc > 1 ? strtoul(argv[1], NULL, 0) : 8) << 17;
	int suspend = argc > 2 && argv[2][0] == 's';
	int idle = suspend || (argc > 2 && argv[2][0] == 'i');
	mem = malloc(words * 8);
	if (!mem)
		return 2;
	for (size_t i = 0; i < words; i++)
		mem[i] = word(i);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* the other threads leave both signals to the main thread */
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	pthread_t t;
	pthread_create(&t, NULL, sleeper, NULL);
	if (idle)
		pthread_create(&t, NULL, spinner, NULL);
	main_mask = suspend ? s : old;
	pthread_sigmask(SIG_SETMASK, &main_mask, NULL);
	printf("ready pid=%d\n", getpid());
	if (!idle)
		spinner(&t);
	sigset_t none;
	sigemptyset(&none);
	for (;;) {
		if (suspend)
			sigsuspend(&none);
		else
			pause();
		if (verify_requested) {
			verify_requested = 0;
			verify();
		}
		if (term_requested) {
			printf("exit code=0\n");
			return 0;
		}
	}
}

/*
 * rseq_cs: spins inside a long rseq critical section on glibc's registered rseq area,
 * so that a dump catches the thread inside it.
 *
 * Usage: rseq_cs
 * Output:
 *   ready pid=<pid> area=0x.. start=0x.. end=0x.. abort=0x..
 *   commits=<N> aborts=<M>          about every 100 ms
 *   BAD committed without rseq_cs   a section completed although the kernel had cleared
 *                                   rseq_cs under it (what a restore that keeps rip inside
 *                                   the section, without aborting, leads to)
 *   exit code=0                     on SIGTERM
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/rseq.h>
#include <time.h>
#include <unistd.h>

extern const char cs_desc[], cs_start[], cs_end[], cs_abort[];

static volatile sig_atomic_t term_requested;

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
}

/* 1: committed, 0: aborted, 2: committed although rseq_cs no longer pointed at us. */
static long run_cs(struct rseq *rs, unsigned long spins)
{
	long res;

	__asm__ volatile(
		".pushsection .data.rseq_cs_desc, \"aw\"\n"
		".balign 32\n"
		".globl cs_desc\n"
		"cs_desc:\n"
		".long 0, 0\n"                          /* version, flags */
		".quad cs_start, cs_end - cs_start, cs_abort\n"
		".popsection\n"
		"leaq cs_desc(%%rip), %%rax\n"
		"movq %%rax, 8(%[rs])\n"                /* rs->rseq_cs = &cs_desc */
		".globl cs_start\n"
		"cs_start:\n"
		"movq %[n], %%rcx\n"
		"1: decq %%rcx\n"
		"jnz 1b\n"
		"cmpq %%rax, 8(%[rs])\n"                /* still protected? */
		"jne 3f\n"
		"movq $1, %[res]\n"                     /* the commit */
		".globl cs_end\n"
		"cs_end:\n"
		"jmp 4f\n"
		"3: movq $2, %[res]\n"
		"jmp 4f\n"
		".long 0x53053053\n"                    /* glibc's RSEQ_SIG, checked by the kernel */
		".globl cs_abort\n"
		"cs_abort:\n"
		"movq $0, %[res]\n"
		"4:\n"
		: [res] "=&r"(res)
		: [rs] "r"(rs), [n] "r"(spins)
		: "rax", "rcx", "memory", "cc");
	return res;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	unsigned long commits = 0, aborts = 0;
	long long last = now_ms();

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	if (__rseq_size == 0) {
		printf("rseq not registered by glibc\nexit code=2\n");
		return 2;
	}
	printf("ready pid=%d area=%p start=%p end=%p abort=%p\n", (int)getpid(), (void *)rs,
	       (void *)cs_start, (void *)cs_end, (void *)cs_abort);
	while (!term_requested) {
		long r = run_cs(rs, 20 * 1000 * 1000);

		if (r == 2) {
			printf("BAD committed without rseq_cs\n");
			printf("exit code=1\n");
			return 1;
		}
		if (r == 1)
			commits++;
		else
			aborts++;
		if (now_ms() - last >= 100) {
			printf("commits=%lu aborts=%lu\n", commits, aborts);
			last = now_ms();
		}
	}
	printf("exit code=0\n");
	return 0;
}

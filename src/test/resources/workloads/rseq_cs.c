/*
 * rseq_cs: spins inside rseq critical sections back to back (SPINS iterations between
 * start_ip and post_commit_ip), so that a dump almost always catches the thread inside one.
 *
 * Usage: rseq_cs [MODE]
 *   (none)      glibc's registered area (__rseq_offset from the thread pointer), glibc's
 *               signature 0x53053053. With GLIBC_TUNABLES=glibc.pthread.rseq=0 glibc
 *               registers nothing: the same loop then runs unprotected (rseq=none).
 *   private     unregisters glibc's area (RSEQ_FLAG_UNREGISTER, glibc's signature) and
 *               registers its own 32-byte aligned struct rseq with signature 0xabcdef12.
 *   norestart   glibc's area; a second section (stop_cs, see below) whose descriptor has
 *               RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL: a second thread stops the process while
 *               the main thread spins inside it. A spinning section with such flags does not
 *               survive long: Linux 6.18 answers any preemption inside it with SIGSEGV (the
 *               flags are deprecated since 6.0), and does the same when the stopped process
 *               is continued. Inspect it stopped.
 *   norestart-thread  as norestart, but a second thread (not the main one) spins inside
 *               stop_cs in its own glibc area, printing "worker tid=<tid> area=<p>" first.
 *   badversion  glibc's area; stop_cs with version 1 in its descriptor, stopped the same
 *               way, so a dump meets the bad descriptor. The kernel kills a thread whose
 *               rseq_cs points at a version != 0 descriptor at its next return to user space
 *               after a context switch, so before SIGCONT the version word (at desc) must be
 *               written back to 0 from outside (/proc/PID/mem); the section then aborts and
 *               the program runs like the default mode.
 *
 * Output:
 *   ready pid=<pid> mode=<mode> rseq=<glibc|private|none> area=0x.. sig=0x.. desc=0x..
 *         cs_start=0x.. cs_end=0x.. abort=0x.. start=0x.. end=0x..
 *                                   (one line; start/end repeat cs_start/cs_end)
 *   stopping flags=<f> version=<v>  norestart and badversion: right before stop_cs; the
 *                                   ready line's desc/cs_start/cs_end/abort are stop_cs's
 *   continued result=<aborted|committed|BAD>  when stop_cs returns after SIGCONT
 *   commits=<N> aborts=<M>          about every 100 ms
 *   rseq registered=<yes|no|other|othersig|err> cpu_id=<c> getcpu=<g> cpu_ok=<yes|no>
 *         commits=<N> aborts=<M>    on SIGUSR1: registering the same area again answers
 *                                   EBUSY (yes) when the registration is in place; EINVAL
 *                                   (other area or size), EPERM (other signature); when the
 *                                   register call succeeds (no) it is undone at once.
 *                                   cpu_id of struct rseq against getcpu(2)
 *   BAD committed without rseq_cs   a section completed although rseq_cs no longer pointed
 *                                   at its descriptor: the kernel cleared it (a registration
 *                                   does since 6.15) while rip was inside, which a restore
 *                                   that kept rip inside without aborting leads to
 *   BAD iterations=<n> expected=<N> a section committed after fewer or more loop
 *                                   iterations than it runs from its start
 *   exit code=0                     on SIGTERM
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* About half a millisecond: short enough to commit between preemptions on a busy machine,
 * while the thread still spends nearly all its time inside a section (a dump catches it there). */
#define SPINS 200000UL
#define GLIBC_SIG 0x53053053
#define PRIVATE_SIG 0xabcdef12
#define RSEQ_AREA_SIZE 32

/* Loop iterations of the current section; reset at start_ip, compared at the commit. */
static volatile unsigned long cs_iters;

/*
 * One critical section per signature (the 4 bytes before the abort handler must equal
 * the registered signature). Returns 1 committed, 0 aborted, 2 rseq_cs cleared under
 * the section, 3 wrong iteration count.
 */
#define DEFINE_CS(NAME, SIG)                                                            \
	extern struct rseq_cs NAME##_desc;                                                \
	extern const char NAME##_start[], NAME##_end[], NAME##_abort[];                   \
	__attribute__((noinline, noclone)) static long NAME(struct rseq *rs, unsigned long n) \
	{                                                                                 \
		long res;                                                                 \
		__asm__ volatile(                                                         \
			".pushsection .data.rseq_cs_" #NAME ", \"aw\"\n"                   \
			".balign 32\n"                                                    \
			".globl " #NAME "_desc\n"                                         \
			#NAME "_desc:\n"                                                  \
			".long 0, 0\n"                                                    \
			".quad " #NAME "_start, " #NAME "_end - " #NAME "_start, " #NAME "_abort\n" \
			".popsection\n"                                                   \
			"leaq " #NAME "_desc(%%rip), %%rax\n"                             \
			"movq %%rax, 8(%[rs])\n"                                          \
			".globl " #NAME "_start\n"                                        \
			#NAME "_start:\n"                                                 \
			"movq $0, %[it]\n"                                                \
			"movq %[n], %%rcx\n"                                              \
			"1: incq %[it]\n"                                                 \
			"decq %%rcx\n"                                                    \
			"jnz 1b\n"                                                        \
			"cmpq %%rax, 8(%[rs])\n"                                          \
			"jne 3f\n"                                                        \
			"cmpq %[n], %[it]\n"                                              \
			"jne 5f\n"                                                        \
			"movq $1, %[res]\n" /* the commit: last instruction of the section */ \
			".globl " #NAME "_end\n"                                          \
			#NAME "_end:\n"                                                   \
			"jmp 4f\n"                                                        \
			"3: movq $2, %[res]\n"                                            \
			"jmp 4f\n"                                                        \
			"5: movq $3, %[res]\n"                                            \
			"jmp 4f\n"                                                        \
			".long " #SIG "\n"                                                \
			".globl " #NAME "_abort\n"                                        \
			#NAME "_abort:\n"                                                 \
			"movq $0, %[res]\n"                                               \
			"4:\n"                                                            \
			: [res] "=&r"(res), [it] "+m"(cs_iters)                            \
			: [rs] "r"(rs), [n] "r"(n)                                         \
			: "rax", "rcx", "memory", "cc");                                  \
		return res;                                                               \
	}

DEFINE_CS(glibc_cs, 0x53053053)
DEFINE_CS(private_cs, 0xabcdef12)

/*
 * A section that the thread enters and never leaves by itself: it announces that it is
 * inside (stop_inside = 1) and spins until stop_release is set. The stopper thread, seeing
 * stop_inside, stops the whole process (kill(getpid(), SIGSTOP)), so the main thread is
 * interrupted with rip inside the section without making a system call there (the rseq ABI
 * forbids them; debug kernels kill such threads). Continued, the stopper sets stop_release:
 * the section then commits, unless the kernel aborted it first.
 */
static volatile int stop_inside, stop_release, stopper_running;
extern struct rseq_cs stop_cs_desc;
extern const char stop_cs_start[], stop_cs_end[], stop_cs_abort[];
__attribute__((noinline, noclone)) static long stop_cs(struct rseq *rs)
{
	long res;

	__asm__ volatile(
		".pushsection .data.rseq_cs_stop_cs, \"aw\"\n"
		".balign 32\n"
		".globl stop_cs_desc\n"
		"stop_cs_desc:\n"
		".long 0, 0\n"
		".quad stop_cs_start, stop_cs_end - stop_cs_start, stop_cs_abort\n"
		".popsection\n"
		"leaq stop_cs_desc(%%rip), %%rdx\n"
		"movq %%rdx, 8(%[rs])\n"
		".globl stop_cs_start\n"
		"stop_cs_start:\n"
		"movl $1, %[in]\n"
		"1: pause\n"
		"cmpl $0, %[rel]\n"
		"je 1b\n"
		"cmpq %%rdx, 8(%[rs])\n"
		"jne 3f\n"
		"movq $1, %[res]\n"
		".globl stop_cs_end\n"
		"stop_cs_end:\n"
		"jmp 4f\n"
		"3: movq $2, %[res]\n"
		"jmp 4f\n"
		".long 0x53053053\n"
		".globl stop_cs_abort\n"
		"stop_cs_abort:\n"
		"movq $0, %[res]\n"
		"4:\n"
		: [res] "=&r"(res), [in] "+m"(stop_inside), [rel] "+m"(stop_release)
		: [rs] "r"(rs)
		: "rdx", "memory", "cc");
	return res;
}

static void *stopper(void *arg)
{
	(void)arg;
	stopper_running = 1;
	while (!stop_inside)
		;
	kill(getpid(), SIGSTOP);
	stop_release = 1;
	return NULL;
}

/* norestart-thread: the section runs in this thread, in its own registration. */
static void *section_thread(void *arg)
{
	pthread_t stopper_thread;
	struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	long r;

	(void)arg;
	printf("worker tid=%d area=%p\n", (int)syscall(SYS_gettid), (void *)rs);
	if (pthread_create(&stopper_thread, NULL, stopper, NULL) != 0)
		return NULL;
	while (!stopper_running)
		;
	r = stop_cs(rs);
	pthread_join(stopper_thread, NULL);
	printf("continued result=%s\n", r == 0 ? "aborted" : r == 1 ? "committed" : "BAD");
	return NULL;
}

static struct rseq private_area __attribute__((aligned(32)));

static volatile sig_atomic_t term_requested, report_requested;

static void on_signal(int sig)
{
	if (sig == SIGTERM)
		term_requested = 1;
	else
		report_requested = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long sys_rseq(void *area, unsigned len, int flags, unsigned sig)
{
	return syscall(SYS_rseq, area, len, flags, sig);
}

static void report(struct rseq *rs, unsigned sig, int registered, unsigned long commits, unsigned long aborts)
{
	const char *reg;
	int cpu = -1, got = -1, ok = 0;
	unsigned gc;

	if (sys_rseq(rs, RSEQ_AREA_SIZE, 0, sig) == 0) {
		reg = "no";
		sys_rseq(rs, RSEQ_AREA_SIZE, RSEQ_FLAG_UNREGISTER, sig);
	} else if (errno == EBUSY) {
		reg = "yes";
	} else if (errno == EINVAL) {
		reg = "other";
	} else if (errno == EPERM) {
		reg = "othersig";
	} else {
		reg = "err";
	}
	/* cpu_id and getcpu can differ only if the thread migrates between the two reads. */
	for (int i = 0; i < 100 && !ok; i++) {
		cpu = (int)*(volatile uint32_t *)&rs->cpu_id;
		if (syscall(SYS_getcpu, &gc, NULL, NULL) == 0)
			got = (int)gc;
		ok = registered && cpu == got;
	}
	printf("rseq registered=%s cpu_id=%d getcpu=%d cpu_ok=%s commits=%lu aborts=%lu\n", reg, cpu, got,
	       ok ? "yes" : "no", commits, aborts);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "glibc";
	struct sigaction sa = { .sa_handler = on_signal };
	struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	long (*cs)(struct rseq *, unsigned long) = glibc_cs;
	struct rseq_cs *desc = &glibc_cs_desc;
	const char *start = glibc_cs_start, *end = glibc_cs_end, *abort_ip = glibc_cs_abort;
	unsigned sig = GLIBC_SIG;
	int registered = __rseq_size != 0;
	const char *kind = registered ? "glibc" : "none";
	unsigned long commits = 0, aborts = 0;
	long long last;
	int stop_mode = 0;
	pthread_t stopper_thread;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (strcmp(mode, "private") == 0) {
		if (registered && sys_rseq(rs, RSEQ_AREA_SIZE, RSEQ_FLAG_UNREGISTER, GLIBC_SIG) != 0) {
			printf("cannot unregister glibc's rseq: %s\nexit code=2\n", strerror(errno));
			return 2;
		}
		rs = &private_area;
		rs->cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
		if (sys_rseq(rs, RSEQ_AREA_SIZE, 0, PRIVATE_SIG) != 0) {
			printf("cannot register a private rseq area: %s\nexit code=2\n", strerror(errno));
			return 2;
		}
		registered = 1;
		kind = "private";
		sig = PRIVATE_SIG;
		cs = private_cs;
		desc = &private_cs_desc;
		start = private_cs_start;
		end = private_cs_end;
		abort_ip = private_cs_abort;
	} else if (strcmp(mode, "norestart") == 0 || strcmp(mode, "badversion") == 0
		   || strcmp(mode, "norestart-thread") == 0) {
		stop_mode = 1;
		desc = &stop_cs_desc;
		start = stop_cs_start;
		end = stop_cs_end;
		abort_ip = stop_cs_abort;
	} else if (strcmp(mode, "glibc") != 0) {
		printf("unknown mode %s\nexit code=2\n", mode);
		return 2;
	}
	printf("ready pid=%d mode=%s rseq=%s area=%p sig=%#x desc=%p cs_start=%p cs_end=%p abort=%p start=%p end=%p\n",
	       (int)getpid(), mode, kind, (void *)rs, sig, (void *)desc, (void *)start, (void *)end,
	       (void *)abort_ip, (void *)start, (void *)end);
	if (stop_mode) {
		if (strcmp(mode, "badversion") != 0)
			desc->flags = RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL;
		else
			desc->version = 1;
		printf("stopping flags=%u version=%u\n", desc->flags, desc->version);
		if (strcmp(mode, "norestart-thread") == 0) {
			pthread_t worker;

			if (pthread_create(&worker, NULL, section_thread, NULL) != 0) {
				printf("pthread_create failed\nexit code=2\n");
				return 2;
			}
			pthread_join(worker, NULL);
			desc->flags = 0;
			stop_mode = 0; /* done: the main loop follows */
		}
	}
	if (stop_mode) {
		long r;

		if (pthread_create(&stopper_thread, NULL, stopper, NULL) != 0) {
			printf("pthread_create failed\nexit code=2\n");
			return 2;
		}
		while (!stopper_running) /* running on another CPU: it cannot preempt us inside */
			;
		r = stop_cs(rs);
		pthread_join(stopper_thread, NULL);
		printf("continued result=%s\n", r == 0 ? "aborted" : r == 1 ? "committed" : "BAD");
		desc->version = 0;
		desc->flags = 0;
	}
	last = now_ms();
	while (!term_requested) {
		long r = cs(rs, SPINS);

		if (r == 2) {
			printf("BAD committed without rseq_cs\nexit code=1\n");
			return 1;
		}
		if (r == 3) {
			printf("BAD iterations=%lu expected=%lu\nexit code=1\n", cs_iters, SPINS);
			return 1;
		}
		if (r == 1)
			commits++;
		else
			aborts++;
		if (report_requested) {
			report_requested = 0;
			report(rs, sig, registered, commits, aborts);
		}
		if (now_ms() - last >= 100) {
			printf("commits=%lu aborts=%lu\n", commits, aborts);
			last = now_ms();
		}
	}
	printf("exit code=0\n");
	return 0;
}

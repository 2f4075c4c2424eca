/*
 * attrs: a process that sets a non-default value for every piece of per-process and
 * per-thread kernel state jcriu saves (docs/process-state.md), then reports what it observes
 * of itself on request, so that a test can compare a restored process with the original.
 * Needs root (loginuid, groups, ioprio classes).
 *
 * Usage: attrs [threads=N] [deleted-cwd] [deleted-dirfd] [no-mlockall]
 *   threads=N       workers (1..8, default 3)
 *   deleted-cwd     chdir into a directory, then remove it (the dump must refuse)
 *   deleted-dirfd   keep an fd open on a removed directory (the dump must refuse)
 *   no-mlockall     skip mlockall(MCL_FUTURE)
 * Output:
 *   setup failed=<item,...>           only if something could not be set up (the test fails)
 *   setup skipped=<item,...>          features this CPU/kernel lacks (reported, not set)
 *   ready pid=<pid> threads=<N> tids=<tid,...>
 *   on SIGUSR1, one block, every line starting "report ":
 *     report begin gen=<g>
 *     report proc <key>=<value>       one line per process-wide item
 *     report timer id=<id> ...        one line per POSIX timer, value rounded to 10 ms
 *     report itimer which=<w> ...
 *     report thread idx=<i> ...       one line per worker, printed by the worker itself
 *     report counts alarm=<n> rt=<n> cpu=<n> tid=<n>     timer signals received so far
 *     report end gen=<g>
 *   BAD <what>                        a vector register lost its value, or a check failed
 *   on SIGTERM: exit code=0
 *
 * Every thread keeps a value of its own in ymm15 (xmm15 without AVX) across raw
 * nanosleep system calls and checks it after each: a restore that gave a thread another
 * thread's XSAVE area makes it print BAD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 8
#define PAGE 4096L

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MEMBARRIER_GET_REGISTRATIONS (1 << 9)
#define IOPRIO_PRIO_VALUE(c, d) (((c) << 13) | (d))
#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012

static int nthreads = 3;
static int have_avx;
static char failed[512], skipped[512];
static volatile sig_atomic_t report_gen, term;
/* the generation whose "report begin" line is out: workers report only after it */
static volatile int report_begun;
static volatile sig_atomic_t alarm_count, rt_count, cpu_count;
static __thread volatile sig_atomic_t tid_count;
static volatile int tid_counts[MAX_THREADS];
static timer_t timers[8];
static int ntimers;
static char *shared_map, *locked_map, *onfault_map, *maplocked_map;

struct worker {
	int idx;
	pid_t tid;
	uint64_t pattern[4];
	volatile int acked;
	volatile int bad;
	volatile int ready;
	void *altstack;
	pthread_t th;
};
static struct worker workers[MAX_THREADS];

static void note(char *list, const char *what)
{
	if (list[0]) strncat(list, ",", 511 - strlen(list));
	strncat(list, what, 511 - strlen(list));
}

#define TRY(expr, what) do { if ((expr) < 0) note(failed, what); } while (0)

/* nanosleep without libc: nothing between two checks of ymm15 may touch vector registers. */
static void raw_sleep_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_nanosleep), "D"(&ts), "S"(0L) : "rcx", "r11", "memory");
}

static void load_vec(const uint64_t *p)
{
	if (have_avx)
		__asm__ volatile("vmovdqu (%0), %%ymm15" : : "r"(p) : "xmm15", "memory");
	else
		__asm__ volatile("movdqu (%0), %%xmm15" : : "r"(p) : "xmm15", "memory");
}

static int vec_ok(const uint64_t *want)
{
	uint64_t got[4] = {0, 0, 0, 0};
	if (have_avx)
		__asm__ volatile("vmovdqu %%ymm15, (%0)" : : "r"(got) : "memory");
	else
		__asm__ volatile("movdqu %%xmm15, (%0)" : : "r"(got) : "memory");
	int n = have_avx ? 4 : 2;
	for (int i = 0; i < n; i++)
		if (got[i] != want[i]) return 0;
	return 1;
}

static void on_usr1(int s) { report_gen++; }
static void on_term(int s) { term = 1; }
static void on_alarm(int s) { alarm_count++; }
static void on_rt(int s, siginfo_t *si, void *uc)
{
	if (si->si_value.sival_ptr != (void *)0x1234) write(1, "BAD sival\n", 10);
	rt_count++;
}
static void on_cpu(int s) { cpu_count++; }
static void on_tid(int s) { tid_count++; }

static void mask_hex(char *out, size_t n)
{
	sigset_t s;
	pthread_sigmask(SIG_BLOCK, NULL, &s);
	unsigned long m = 0;
	for (int i = 1; i <= 64; i++)
		if (sigismember(&s, i)) m |= 1UL << (i - 1);
	snprintf(out, n, "%lx", m);
}

static void thread_report(struct worker *w)
{
	char mask[32], name[32];
	cpu_set_t cpus;
	unsigned long cpumask = 0;
	mask_hex(mask, sizeof(mask));
	prctl(PR_GET_NAME, name);
	sched_getaffinity(0, sizeof(cpus), &cpus);
	for (int c = 0; c < 64; c++)
		if (CPU_ISSET(c, &cpus)) cpumask |= 1UL << c;
	int pdeath = 0, tsc = 0, mode = -1;
	unsigned long nodes[16] = {0};
	prctl(PR_GET_PDEATHSIG, &pdeath);
	prctl(PR_GET_TSC, &tsc);
	syscall(SYS_get_mempolicy, &mode, nodes, 1024, 0, 0);
	stack_t ss;
	sigaltstack(NULL, &ss);
	void *robust = NULL;
	size_t robust_len = 0;
	syscall(SYS_get_robust_list, 0, &robust, &robust_len);
	printf("report thread idx=%d tid=%d name=%s mask=%s vec=%s cpus=%lx slack=%d nice=%d ioprio=%ld pdeath=%d"
	       " nnp=%d mempolicy=%d/%lx tsc=%d cpuid=%ld spec=%d mce=%d altstack=%s/%zu robust=%p/%zu\n",
	       w->idx, (int)syscall(SYS_gettid), name, mask, w->bad ? "BAD" : "ok", cpumask,
	       prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), getpriority(PRIO_PROCESS, (int)syscall(SYS_gettid)),
	       syscall(SYS_ioprio_get, 1, 0), pdeath, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), mode, nodes[0], tsc,
	       syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0), prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0),
	       prctl(PR_MCE_KILL_GET, 0, 0, 0, 0), ss.ss_sp == w->altstack ? "same" : "other", ss.ss_size, robust,
	       robust_len);
	fflush(stdout);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];
	w->tid = syscall(SYS_gettid);
	snprintf(name, sizeof(name), "worker-%d", w->idx);
	prctl(PR_SET_NAME, name);
	/* a mask of its own: the common set plus one signal per worker */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGALRM);
	sigaddset(&s, SIGRTMIN + 2);
	sigaddset(&s, SIGRTMIN + 4);
	sigaddset(&s, SIGRTMIN + 10 + w->idx);
	if (w->idx != 0) sigaddset(&s, SIGRTMIN + 5);
	pthread_sigmask(SIG_SETMASK, &s, NULL);
	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	CPU_SET(w->idx % sysconf(_SC_NPROCESSORS_ONLN), &cpus);
	TRY(sched_setaffinity(0, sizeof(cpus), &cpus), "affinity");
	TRY(prctl(PR_SET_TIMERSLACK, 1000 + 111 * w->idx), "timerslack");
	TRY(setpriority(PRIO_PROCESS, w->tid, 2 + w->idx), "nice");
	TRY(syscall(SYS_ioprio_set, 1, 0, IOPRIO_PRIO_VALUE(2, 1 + w->idx)), "ioprio");
	w->altstack = malloc(65536);
	stack_t ss = {.ss_sp = w->altstack, .ss_size = 65536 - 64 * w->idx};
	TRY(sigaltstack(&ss, NULL), "altstack");
	if (w->idx == 0) {
		TRY(prctl(PR_SET_PDEATHSIG, SIGUSR2), "pdeathsig");
	}
	if (w->idx == 1) {
		TRY(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs");
		unsigned long node0 = 1;
		TRY(syscall(SYS_set_mempolicy, MPOL_PREFERRED, &node0, 64 + 1), "set_mempolicy");
		if (prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, PR_SPEC_DISABLE, 0, 0) < 0) note(skipped, "spec_ctrl");
		TRY(prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0), "mce_kill");
	}
	if (w->idx == 2) {
		TRY(prctl(PR_SET_TSC, PR_TSC_SIGSEGV), "tsc");
		if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) < 0) note(skipped, "cpuid_faulting");
	}
	for (int i = 0; i < 4; i++) w->pattern[i] = 0x1111111111111111ULL * (w->idx + 2) + i;
	w->ready = 1;
	int seen = 0;
	load_vec(w->pattern);
	while (!term) {
		raw_sleep_ms(5);
		if (!vec_ok(w->pattern)) {
			w->bad = 1;
			write(1, "BAD vector register of a worker\n", 32);
			load_vec(w->pattern);
		}
		tid_counts[w->idx] = tid_count;
		if (report_begun != seen && w->acked != report_begun) {
			seen = report_begun;
			thread_report(w);
			w->acked = seen;
			load_vec(w->pattern);
		}
	}
	return NULL;
}

static void setup_timers(void)
{
	struct sigevent ev;
	struct itimerspec its;
	memset(&ev, 0, sizeof(ev));
	/* 0: monotonic, periodic 50 ms, SIGRTMIN+2 with a value */
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 2;
	ev.sigev_value.sival_ptr = (void *)0x1234;
	TRY(timer_create(CLOCK_MONOTONIC, &ev, &timers[ntimers]), "timer_create mono");
	its = (struct itimerspec){{0, 50000000}, {0, 50000000}};
	TRY(timer_settime(timers[ntimers++], 0, &its, NULL), "timer_settime mono");
	/* 1: a timer created and deleted, so that ids have a gap */
	timer_t gap;
	TRY(timer_create(CLOCK_MONOTONIC, &ev, &gap), "timer_create gap");
	/* 2: realtime, one shot in 100 s, no notification */
	ev.sigev_notify = SIGEV_NONE;
	TRY(timer_create(CLOCK_REALTIME, &ev, &timers[ntimers]), "timer_create realtime");
	its = (struct itimerspec){{0, 0}, {100, 0}};
	TRY(timer_settime(timers[ntimers++], 0, &its, NULL), "timer_settime realtime");
	timer_delete(gap);
	/* 3: process CPU time, 500 s of it, SIGRTMIN+4 */
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 4;
	ev.sigev_value.sival_int = 77;
	TRY(timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &timers[ntimers]), "timer_create cputime");
	its = (struct itimerspec){{1, 0}, {500, 0}};
	TRY(timer_settime(timers[ntimers++], 0, &its, NULL), "timer_settime cputime");
	/* 4: boottime, periodic 70 ms, to worker 0 only (SIGEV_THREAD_ID) */
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGRTMIN + 5;
	ev._sigev_un._tid = workers[0].tid;
	TRY(timer_create(CLOCK_BOOTTIME, &ev, &timers[ntimers]), "timer_create thread");
	its = (struct itimerspec){{0, 70000000}, {0, 70000000}};
	TRY(timer_settime(timers[ntimers++], 0, &its, NULL), "timer_settime thread");
	/* 5: created but never armed */
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 2;
	ev.sigev_value.sival_ptr = (void *)0x1234;
	TRY(timer_create(CLOCK_MONOTONIC, &ev, &timers[ntimers++]), "timer_create disarmed");

	struct itimerval iv = {{0, 30000}, {0, 30000}};
	TRY(setitimer(ITIMER_REAL, &iv, NULL), "itimer real");
	iv = (struct itimerval){{0, 0}, {1000, 0}};
	TRY(setitimer(ITIMER_VIRTUAL, &iv, NULL), "itimer virtual");
	iv = (struct itimerval){{2, 0}, {900, 0}};
	TRY(setitimer(ITIMER_PROF, &iv, NULL), "itimer prof");
}

static void write_file(const char *path, const char *value, const char *what)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, value, strlen(value)) < 0) note(failed, what);
	if (fd >= 0) close(fd);
}

static void read_file(const char *path, char *out, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t r = fd < 0 ? -1 : read(fd, out, n - 1);
	if (fd >= 0) close(fd);
	out[r < 0 ? 0 : r] = 0;
	char *nl = strchr(out, '\n');
	if (nl) *nl = 0;
}

static char *map(size_t len, int flags, const char *what)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		note(failed, what);
		return NULL;
	}
	memset(p, 0x5a, len);
	return p;
}

static void setup_memory(void)
{
	char *p;
	/* needs CONFIG_ANON_VMA_NAME */
	if ((p = map(4 * PAGE, MAP_PRIVATE, "mmap named")) &&
	    prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, p, 4 * PAGE, "jcriu-named") < 0)
		note(skipped, "anon_name");
	if ((p = map(4 * PAGE, MAP_PRIVATE, "mmap seq"))) TRY(madvise(p, 4 * PAGE, MADV_SEQUENTIAL), "madv seq");
	if ((p = map(4 * PAGE, MAP_PRIVATE, "mmap rand"))) TRY(madvise(p, 4 * PAGE, MADV_RANDOM), "madv random");
	if ((p = map(4 * PAGE, MAP_PRIVATE, "mmap dontfork"))) TRY(madvise(p, 4 * PAGE, MADV_DONTFORK), "madv dontfork");
	if ((p = map(4 * PAGE, MAP_PRIVATE, "mmap wipe"))) TRY(madvise(p, 4 * PAGE, MADV_WIPEONFORK), "madv wipeonfork");
	if ((p = map(4 * PAGE, MAP_PRIVATE, "mmap dontdump"))) TRY(madvise(p, 4 * PAGE, MADV_DONTDUMP), "madv dontdump");
	if ((p = map(4 * PAGE, MAP_PRIVATE, "mmap nohuge"))) TRY(madvise(p, 4 * PAGE, MADV_NOHUGEPAGE), "madv nohugepage");
	if ((p = map(4 * PAGE, MAP_PRIVATE | MAP_NORESERVE, "mmap noreserve")) == NULL) note(failed, "noreserve");
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) note(skipped, "droppable");
	else memset(p, 0x33, 4 * PAGE);
	if ((p = map(4 * PAGE, MAP_PRIVATE, "mmap mbind"))) {
		unsigned long node0 = 1;
		TRY(syscall(SYS_mbind, p, 4 * PAGE, MPOL_BIND, &node0, 64 + 1, 0), "mbind");
	}
	if ((p = map(4 * PAGE, MAP_PRIVATE, "mmap sealed"))) {
		if (syscall(462 /* mseal */, p, 4 * PAGE, 0) < 0) note(skipped, "mseal");
	}
	locked_map = map(8 * PAGE, MAP_PRIVATE, "mmap locked");
	if (locked_map) TRY(mlock(locked_map, 8 * PAGE), "mlock");
	onfault_map = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (onfault_map == MAP_FAILED) note(failed, "mmap onfault");
	else {
		TRY(syscall(SYS_mlock2, onfault_map, 8 * PAGE, MLOCK_ONFAULT), "mlock2 onfault");
		onfault_map[0] = 1; /* one page in, seven not */
	}
	maplocked_map = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	if (maplocked_map == MAP_FAILED) note(failed, "MAP_LOCKED");
	/* a file opened read-write, mapped shared but read-only: mprotect may make it writable later */
	int fd = open("../shared.dat", O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 2 * PAGE) < 0) note(failed, "shared.dat");
	shared_map = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (shared_map == MAP_FAILED) note(failed, "mmap shared ro");
	close(fd);
}

static void report(int gen)
{
	char buf[4096];
	printf("report begin gen=%d\n", gen);
	fflush(stdout);
	report_begun = gen;
	mode_t um = umask(0);
	umask(um);
	printf("report proc umask=%04o\n", um);
	ssize_t n = readlink("/proc/self/cwd", buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = 0;
	printf("report proc cwd=%s\n", buf);
	printf("report proc ids pid=%d pgid=%d sid=%d\n", getpid(), getpgid(0), getsid(0));
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		struct rlimit rl;
		getrlimit(r, &rl);
		printf("report proc rlimit%d=%llu/%llu\n", r, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	}
	printf("report proc personality=%#x\n", personality(0xffffffff));
	void *robust = NULL;
	size_t robust_len = 0;
	syscall(SYS_get_robust_list, 0, &robust, &robust_len);
	printf("report proc robust=%p/%zu\n", robust, robust_len); /* the main thread's */
	struct utsname u;
	uname(&u);
	printf("report proc uname=%.3s\n", u.release);
	read_file("/proc/self/oom_score_adj", buf, sizeof(buf));
	printf("report proc oom_score_adj=%s\n", buf);
	read_file("/proc/self/loginuid", buf, sizeof(buf));
	printf("report proc loginuid=%s\n", buf);
	gid_t g[64];
	int ng = getgroups(64, g);
	printf("report proc groups=");
	for (int i = 0; i < ng; i++) printf("%s%d", i ? "," : "", g[i]);
	printf("\n");
	int v = 0;
	prctl(PR_GET_CHILD_SUBREAPER, &v);
	printf("report proc subreaper=%d\n", v);
	printf("report proc dumpable=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	printf("report proc securebits=%#x\n", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	printf("report proc thp_disable=%d\n", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
	printf("report proc mdwe=%d\n", prctl(PR_GET_MDWE, 0, 0, 0, 0));
	printf("report proc membarrier=%#lx\n", syscall(SYS_membarrier, MEMBARRIER_GET_REGISTRATIONS, 0, 0));
	read_file("/proc/self/coredump_filter", buf, sizeof(buf));
	printf("report proc coredump_filter=%s\n", buf);
	printf("report proc timerslack=%d mce=%d\n", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), prctl(PR_MCE_KILL_GET, 0, 0, 0, 0));
	/* the file behind the read-only shared mapping must be open for writing */
	int ok = shared_map && mprotect(shared_map, PAGE, PROT_READ | PROT_WRITE) == 0;
	if (ok) {
		shared_map[0]++;
		mprotect(shared_map, PAGE, PROT_READ);
	}
	printf("report proc mprotect_rw=%s\n", ok ? "ok" : strerror(errno));
	unsigned char vec[8];
	mincore(onfault_map, 8 * PAGE, vec);
	int resident = 0;
	for (int i = 0; i < 8; i++) resident += vec[i] & 1;
	printf("report proc onfault_resident=%d\n", resident);
	/* with MCL_FUTURE a new mapping comes out locked */
	char *probe = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fresh = 0;
	if (probe != MAP_FAILED) {
		mincore(probe, PAGE, vec);
		fresh = vec[0] & 1; /* populated at mmap: locked */
		munmap(probe, PAGE);
	}
	printf("report proc new_mapping_locked=%d\n", fresh);
	for (int i = 0; i < ntimers; i++) {
		struct itimerspec its;
		int r = timer_gettime(timers[i], &its);
		long value = its.it_value.tv_sec * 1000L + its.it_value.tv_nsec / 1000000;
		printf("report timer id=%ld gettime=%s value_10ms=%ld interval_ms=%ld\n", (long)(intptr_t)timers[i],
		       r == 0 ? "ok" : strerror(errno), (value + 5) / 10,
		       its.it_interval.tv_sec * 1000L + its.it_interval.tv_nsec / 1000000);
	}
	for (int w = 0; w < 3; w++) {
		struct itimerval iv;
		getitimer(w, &iv);
		long value = iv.it_value.tv_sec * 1000L + iv.it_value.tv_usec / 1000;
		printf("report itimer which=%d value_s=%ld interval_ms=%ld\n", w, w == 0 ? 0 : (value + 500) / 1000,
		       iv.it_interval.tv_sec * 1000L + iv.it_interval.tv_usec / 1000);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int deleted_cwd = 0, deleted_dirfd = 0, mlockall_future = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "threads=", 8)) nthreads = atoi(argv[i] + 8);
		else if (!strcmp(argv[i], "deleted-cwd")) deleted_cwd = 1;
		else if (!strcmp(argv[i], "deleted-dirfd")) deleted_dirfd = 1;
		else if (!strcmp(argv[i], "no-mlockall")) mlockall_future = 0;
		else {
			fprintf(stderr, "unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS) return 2;
	__builtin_cpu_init();
	have_avx = __builtin_cpu_supports("avx");

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_cpu;
	sigaction(SIGRTMIN + 4, &sa, NULL);
	sa.sa_handler = on_tid;
	sigaction(SIGRTMIN + 5, &sa, NULL);
	sa.sa_handler = NULL;
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN + 2, &sa, NULL);
	/* the main thread's own mask: neither the workers' signals nor SIGRTMIN+5 (worker 0's timer) */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 5);
	sigaddset(&s, SIGRTMIN + 9);
	pthread_sigmask(SIG_SETMASK, &s, NULL);

	umask(027);
	mkdir("cwd-dir", 0755);
	TRY(chdir("cwd-dir"), "chdir");
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 777;
	TRY(setrlimit(RLIMIT_NOFILE, &rl), "rlimit nofile");
	getrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = 12345 < rl.rlim_max ? 12345 : rl.rlim_max;
	TRY(setrlimit(RLIMIT_CORE, &rl), "rlimit core");
	getrlimit(RLIMIT_MSGQUEUE, &rl);
	rl.rlim_cur = 4096;
	TRY(setrlimit(RLIMIT_MSGQUEUE, &rl), "rlimit msgqueue");
	TRY(personality(PER_LINUX | ADDR_NO_RANDOMIZE | UNAME26), "personality");
	write_file("/proc/self/oom_score_adj", "400", "oom_score_adj");
	write_file("/proc/self/loginuid", "3", "loginuid");
	gid_t groups[] = {7, 42, 1000};
	TRY(setgroups(3, groups), "setgroups");
	TRY(prctl(PR_SET_CHILD_SUBREAPER, 1), "subreaper");
	/* secure bits (per thread, inherited by the workers): no root magic at exec, keep caps across setuid */
	TRY(prctl(PR_SET_SECUREBITS, (1 << 0) | (1 << 4)), "securebits");
	if (prctl(PR_SET_THP_DISABLE, 1, 2 /* PR_THP_DISABLE_EXCEPT_ADVISED */, 0, 0) < 0)
		TRY(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0), "thp_disable");
	TRY(prctl(PR_SET_TIMERSLACK, 3333), "timerslack main");
	TRY(prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0), "mce_kill main");
	write_file("/proc/self/coredump_filter", "0x7", "coredump_filter"); /* a JVM sets 0x3f */
	write_file("/proc/self/autogroup", "7", "autogroup nice"); /* the nice of its session's autogroup */
	TRY(syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0), "membarrier");

	if (deleted_cwd) {
		mkdir("gone", 0700);
		TRY(chdir("gone"), "chdir gone");
		TRY(rmdir("../gone"), "rmdir cwd");
	}
	if (deleted_dirfd) {
		mkdir("gone-fd", 0700);
		TRY(open("gone-fd", O_RDONLY | O_DIRECTORY), "open gone-fd");
		TRY(rmdir("gone-fd"), "rmdir gone-fd");
	}

	for (int i = 0; i < nthreads; i++) {
		workers[i].idx = i;
		if (pthread_create(&workers[i].th, NULL, worker_main, &workers[i])) note(failed, "pthread_create");
	}
	for (int i = 0; i < nthreads; i++)
		while (!workers[i].ready) usleep(1000);
	setup_memory();
	setup_timers();
	if (mlockall_future) TRY(mlockall(MCL_FUTURE), "mlockall");
	TRY(prctl(PR_SET_MDWE, 1 /* PR_MDWE_REFUSE_EXEC_GAIN */, 0, 0, 0), "mdwe");
	TRY(prctl(PR_SET_DUMPABLE, 0), "dumpable");

	if (failed[0]) printf("setup failed=%s\n", failed);
	if (skipped[0]) printf("setup skipped=%s\n", skipped);
	printf("ready pid=%d threads=%d tids=", getpid(), nthreads);
	for (int i = 0; i < nthreads; i++) printf("%s%d", i ? "," : "", workers[i].tid);
	printf("\n");
	fflush(stdout);

	uint64_t pattern[4] = {0xa5a5a5a5a5a5a5a5ULL, 1, 2, 3};
	int seen = 0;
	load_vec(pattern);
	while (!term) {
		raw_sleep_ms(5);
		if (!vec_ok(pattern)) {
			write(1, "BAD vector register of the main thread\n", 39);
			load_vec(pattern);
		}
		if (report_gen != seen) {
			seen = report_gen;
			report(seen);
			for (int i = 0; i < nthreads; i++)
				while (workers[i].acked != seen && !term) usleep(1000);
			printf("report counts alarm=%d rt=%d cpu=%d tid=%d\n", alarm_count, rt_count, cpu_count, tid_counts[0]);
			printf("report end gen=%d\n", seen);
			fflush(stdout);
			load_vec(pattern);
		}
	}
	for (int i = 0; i < nthreads; i++) pthread_join(workers[i].th, NULL);
	printf("exit code=0\n");
	return 0;
}

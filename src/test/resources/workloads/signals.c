/*
 * signals: signal dispositions, the blocked mask, a pending signal and an
 * alternate signal stack, all of which a restore must carry over.
 *
 * Usage: signals
 * Setup:
 *   SIGUSR1     handler with SA_RESTART|SA_SIGINFO, counts calls
 *   SIGUSR2     handler with SA_ONSTACK on a 64 KiB sigaltstack, counts calls
 *               and notes whether it really ran on the alternate stack
 *   SIGRTMIN+1  handler installed, but the signal stays blocked in the main
 *               loop, so a SIGRTMIN+1 sent by the test stays pending
 *   SIGHUP      report request; SIGTERM: exit
 * Output:
 *   ready pid=<pid> rtmin=<SIGRTMIN> rt=<SIGRTMIN+1>     (glibc: 34 and 35)
 *   usr1=<N> usr2=<M>          whenever a count changed (checked every 20 ms)
 *   usr2 BAD not-on-altstack   if the SIGUSR2 handler ran on the normal stack
 *   on SIGHUP, three lines:
 *     hup blocked=<list> pending=<list> rt_blocked=yes|no usr1_restart=yes|no
 *         usr1_siginfo=yes|no usr2_onstack=yes|no altstack=same|changed|disabled
 *     rt arrived count=<K>     after unblocking SIGRTMIN+1 (only if it was pending)
 *     hup done rt=<K>          SIGRTMIN+1 is blocked again afterwards
 *   (<list>: comma-separated signal numbers, or "none")
 *   exit code=0                on SIGTERM
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define ALTSTACK_SIZE (64 * 1024)

static volatile sig_atomic_t usr1_count, usr2_count, rt_count;
static volatile sig_atomic_t usr2_off_altstack;
static volatile sig_atomic_t hup_requested, term_requested;
static char *altstack;

static void on_usr1(int sig, siginfo_t *info, void *uctx)
{
	(void)sig, (void)info, (void)uctx;
	usr1_count++;
}

static void on_usr2(int sig)
{
	char here; /* a local: its address tells which stack we run on */

	(void)sig;
	if (&here < altstack || &here >= altstack + ALTSTACK_SIZE)
		usr2_off_altstack = 1;
	usr2_count++;
}

static void on_rt(int sig)
{
	(void)sig;
	rt_count++;
}

static void on_flag(int sig)
{
	if (sig == SIGHUP)
		hup_requested = 1;
	else
		term_requested = 1;
}

static void finish(int code)
{
	printf("exit code=%d\n", code);
	fflush(stdout);
	exit(code);
}

static void install(int sig, void (*handler)(int), void (*action)(int, siginfo_t *, void *),
		    int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	if (action != NULL)
		sa.sa_sigaction = action;
	else
		sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		perror("sigaction");
		finish(3);
	}
}

/* Formats the members of a set as "n,n,n" or "none". */
static const char *list(const sigset_t *set, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int s = 1; s < NSIG; s++)
		if (sigismember(set, s) == 1 && used < size)
			used += snprintf(buf + used, size - used, "%s%d", used ? "," : "", s);
	return used ? buf : "none";
}

static const char *yes(int b)
{
	return b ? "yes" : "no";
}

static void report(const stack_t *expected_stack, int rt)
{
	sigset_t blocked, pending, only_rt;
	struct sigaction usr1, usr2;
	stack_t ss;
	char bbuf[256], pbuf[256];
	const char *stack_state;
	int was_pending;

	sigprocmask(SIG_BLOCK, NULL, &blocked);
	sigpending(&pending);
	sigaction(SIGUSR1, NULL, &usr1);
	sigaction(SIGUSR2, NULL, &usr2);
	sigaltstack(NULL, &ss);
	if (ss.ss_flags & SS_DISABLE)
		stack_state = "disabled";
	else if (ss.ss_sp == expected_stack->ss_sp && ss.ss_size == expected_stack->ss_size)
		stack_state = "same";
	else
		stack_state = "changed";
	printf("hup blocked=%s pending=%s rt_blocked=%s usr1_restart=%s usr1_siginfo=%s"
	       " usr2_onstack=%s altstack=%s\n",
	       list(&blocked, bbuf, sizeof(bbuf)), list(&pending, pbuf, sizeof(pbuf)),
	       yes(sigismember(&blocked, rt) == 1), yes(usr1.sa_flags & SA_RESTART),
	       yes(usr1.sa_flags & SA_SIGINFO), yes(usr2.sa_flags & SA_ONSTACK), stack_state);

	/* Let a pending SIGRTMIN+1 in: it is delivered before sigprocmask returns. */
	was_pending = sigismember(&pending, rt) == 1;
	sigemptyset(&only_rt);
	sigaddset(&only_rt, rt);
	sigprocmask(SIG_UNBLOCK, &only_rt, NULL);
	sigprocmask(SIG_BLOCK, &only_rt, NULL);
	if (was_pending)
		printf("rt arrived count=%d\n", (int)rt_count);
	printf("hup done rt=%d\n", (int)rt_count);
	fflush(stdout);
}

int main(void)
{
	int rt = SIGRTMIN + 1;
	stack_t ss;
	sigset_t block;
	int seen_usr1 = 0, seen_usr2 = 0, reported_off_stack = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);

	/* mmap, not malloc: a page-aligned, separately mapped alternate stack */
	altstack = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (altstack == MAP_FAILED) {
		perror("mmap");
		finish(3);
	}
	ss.ss_sp = altstack;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) != 0) {
		perror("sigaltstack");
		finish(3);
	}

	install(SIGUSR1, NULL, on_usr1, SA_RESTART | SA_SIGINFO);
	install(SIGUSR2, on_usr2, NULL, SA_ONSTACK);
	install(rt, on_rt, NULL, 0);
	install(SIGHUP, on_flag, NULL, 0);
	install(SIGTERM, on_flag, NULL, 0);

	/* SETMASK, not BLOCK: the mask is inherited over exec, start from a known one */
	sigemptyset(&block);
	sigaddset(&block, rt);
	sigprocmask(SIG_SETMASK, &block, NULL);

	printf("ready pid=%d rtmin=%d rt=%d\n", (int)getpid(), SIGRTMIN, rt);
	fflush(stdout);

	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL); /* EINTR just means: look at the flags now */
		if (usr1_count != seen_usr1 || usr2_count != seen_usr2) {
			seen_usr1 = usr1_count;
			seen_usr2 = usr2_count;
			printf("usr1=%d usr2=%d\n", seen_usr1, seen_usr2);
		}
		if (usr2_off_altstack && !reported_off_stack) {
			reported_off_stack = 1;
			printf("usr2 BAD not-on-altstack\n");
		}
		fflush(stdout);
		if (hup_requested) {
			hup_requested = 0;
			report(&ss, rt);
		}
		if (term_requested)
			finish(0);
	}
}

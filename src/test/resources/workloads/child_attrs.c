/*
 * child_attrs: a parent and a child, only the child with process state of its own, for
 * checking that each process of a tree gets its own back (not its parent's, not none).
 *
 * Usage: child_attrs
 * The child sets oom_score_adj 345, a periodic ITIMER_REAL (every 20 ms, counting
 * SIGALRMs), a periodic POSIX timer (CLOCK_MONOTONIC, SIGRTMIN, every 30 ms, counting its
 * signals) and mlock()s one page; the parent sets none of these.
 * Output:
 *   ready pid=<parent> child=<child>
 *   child alarms=<A> posix=<P> timer=<id>      every 100 ms; A and P only grow while the
 *                                               timers run
 * On SIGTERM (to the parent) the parent passes it on, reaps the child and prints
 * "reaped status=<S>", then "exit code=0"; the child prints "child done" and exits 0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term_requested;
static volatile unsigned long alarms, posix_ticks;

static void on_term(int sig) { (void)sig; term_requested = 1; }
static void on_alarm(int sig) { (void)sig; alarms++; }
static void on_rt(int sig) { (void)sig; posix_ticks++; }

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && !term_requested)
		;
}

static int child(void)
{
	static char page[4096] __attribute__((aligned(4096)));
	struct sigaction sa;
	struct sigevent ev;
	struct itimerspec its = {{0, 30000000}, {0, 30000000}};
	struct itimerval itv = {{0, 20000}, {0, 20000}};
	timer_t t;
	FILE *f;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_rt;
	sigaction(SIGRTMIN, &sa, NULL);
	f = fopen("/proc/self/oom_score_adj", "w");
	if (!f || fprintf(f, "345\n") < 0 || fclose(f) != 0) {
		printf("child setup failed: oom_score_adj\n");
		return 1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN;
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0 || timer_settime(t, 0, &its, NULL) != 0
	    || setitimer(ITIMER_REAL, &itv, NULL) != 0 || mlock(page, sizeof(page)) != 0) {
		printf("child setup failed: timers or mlock\n");
		return 1;
	}
	page[0] = 1;
	while (!term_requested) {
		printf("child alarms=%lu posix=%lu timer=%ld\n", alarms, posix_ticks, (long)(intptr_t)t);
		sleep_ms(100);
	}
	printf("child done\n");
	return 0;
}

int main(void)
{
	struct sigaction sa;
	pid_t kid;
	int status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	kid = fork();
	if (kid < 0) {
		printf("fork failed\nexit code=1\n");
		return 1;
	}
	if (kid == 0)
		return child();
	printf("ready pid=%d child=%d\n", (int)getpid(), (int)kid);
	while (!term_requested)
		pause();
	kill(kid, SIGTERM);
	waitpid(kid, &status, 0);
	printf("reaped status=%d\n", status);
	printf("exit code=0\n");
	return 0;
}

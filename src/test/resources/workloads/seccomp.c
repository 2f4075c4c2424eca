/*
 * seccomp: threads under seccomp filters (and strict mode) whose effect is visible.
 *
 * Usage: seccomp filter|tsync|strict
 *   filter: no_new_privs; the main thread installs F1 (getppid fails with ENOTTY), creates a
 *           thread, then installs F2 (getpgrp fails with EXDEV); the thread installs F3
 *           (getpgrp fails with ENOMSG). Each thread has two filters, F1 shared.
 *   tsync:  as filter, but F2 is installed with SECCOMP_FILTER_FLAG_TSYNC and the thread adds
 *           none: both threads share F1 and F2. SIGUSR1 makes the main thread install one more
 *           filter (allow everything) with TSYNC, which succeeds only if the kernel still sees
 *           one shared chain: "tsync=<return value>" (0, or the id of the thread in the way).
 *   strict: a second thread enters strict mode and echoes each byte the main thread sends it
 *           through a pipe; SIGUSR2 makes the main thread send 'k', on which the strict thread
 *           calls getppid, which strict mode punishes by killing the whole process.
 * Output (line buffered, one regular file):
 *   ready pid=<pid> tid=<second thread's tid>
 *   count=<N> main=<getppid errno>/<getpgrp errno> thread=<getppid errno>/<getpgrp errno>   every 50 ms
 *     (strict: count=<N> echo=<byte>)
 *   tsync=<ret>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int thread_ppid, thread_pgrp, thread_tid, thread_ready;
static volatile sig_atomic_t usr1, usr2;
static int to_thread[2], from_thread[2];

static void on_usr1(int s) { (void)s; usr1 = 1; }
static void on_usr2(int s) { (void)s; usr2 = 1; }

/* nr fails with err (err 0: allow everything) */
static long install(int nr, int err, unsigned flags)
{
	struct sock_filter deny[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog p = { err ? 4 : 1, err ? deny : allow };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
}

static int err_of(long nr)
{
	errno = 0;
	return syscall(nr) < 0 ? errno : 0;
}

static void sleep_50ms(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL);
}

static void *filtered(void *arg)
{
	int own = *(int *)arg;

	thread_tid = gettid();
	if (own && install(SYS_getpgrp, ENOMSG, 0))
		_exit(11);
	thread_ready = 1;
	for (;;) {
		thread_ppid = err_of(SYS_getppid);
		thread_pgrp = err_of(SYS_getpgrp);
		sleep_50ms();
	}
	return NULL;
}

static void *strict(void *arg)
{
	char c;

	(void)arg;
	thread_tid = gettid();
	thread_ready = 1;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		_exit(12);
	for (;;) {
		if (read(to_thread[0], &c, 1) != 1)
			syscall(SYS_exit, 13);
		if (c == 'k')
			syscall(SYS_getppid); /* SIGKILL: not one of the four calls strict mode allows */
		if (write(from_thread[1], &c, 1) != 1)
			syscall(SYS_exit, 14);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "filter";
	int own = strcmp(mode, "filter") == 0;
	pthread_t t;
	unsigned long n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	if (strcmp(mode, "strict") == 0) {
		if (pipe(to_thread) || pipe(from_thread) || pthread_create(&t, NULL, strict, NULL))
			return 2;
	} else {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || install(SYS_getppid, ENOTTY, 0))
			return 3;
		if (pthread_create(&t, NULL, filtered, &own))
			return 4;
		while (!thread_ready)
			sleep_50ms();
		if (install(SYS_getpgrp, EXDEV, own ? 0 : SECCOMP_FILTER_FLAG_TSYNC))
			return 5;
	}
	while (!thread_ready)
		sleep_50ms();
	sleep_50ms();
	printf("ready pid=%d tid=%d\n", getpid(), thread_tid);
	for (;;) {
		char c = usr2 ? 'k' : 'p';

		n++;
		if (usr1) {
			usr1 = 0;
			printf("tsync=%ld\n", install(0, 0, SECCOMP_FILTER_FLAG_TSYNC));
		}
		if (strcmp(mode, "strict") == 0) {
			if (write(to_thread[1], &c, 1) != 1 || read(from_thread[0], &c, 1) != 1)
				return 6;
			printf("count=%lu echo=%c\n", n, c);
		} else {
			printf("count=%lu main=%d/%d thread=%d/%d\n", n, err_of(SYS_getppid), err_of(SYS_getpgrp),
			       thread_ppid, thread_pgrp);
		}
		sleep_50ms();
	}
}

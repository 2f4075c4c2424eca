/*
 * sleeper: one long nanosleep(), to checkpoint a process that is blocked in
 * a restartable syscall. After SIGSTOP/SIGCONT the kernel resumes the sleep
 * transparently (restart_syscall, against the original deadline), so nanosleep
 * returns 0 after about SECONDS in total; a restore must behave the same.
 *
 * Usage: sleeper SECONDS
 * Output:
 *   ready pid=<pid> seconds=<SECONDS>     printed right before the nanosleep
 *   slept ok elapsed_ms=<N>               nanosleep returned 0 (N from CLOCK_MONOTONIC)
 *   slept BAD rc=<rc> errno=<e> elapsed_ms=<N> rem_ms=<R>   nanosleep failed
 *   exit code=7                           after "slept ok" (exit code 1 after BAD)
 * No signal handlers: any handled signal would make nanosleep fail with EINTR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct timespec req = { 0, 0 }, rem = { 0, 0 };
	long long start, elapsed;
	int rc, err, code;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		printf("usage: sleeper SECONDS\n");
		printf("exit code=2\n");
		return 2;
	}
	req.tv_sec = atol(argv[1]);

	printf("ready pid=%d seconds=%ld\n", (int)getpid(), (long)req.tv_sec);
	fflush(stdout);

	start = now_ms();
	rc = nanosleep(&req, &rem); /* exactly once: a restart must be invisible */
	err = errno;
	elapsed = now_ms() - start;

	if (rc == 0) {
		printf("slept ok elapsed_ms=%lld\n", elapsed);
		code = 7;
	} else {
		printf("slept BAD rc=%d errno=%d elapsed_ms=%lld rem_ms=%lld\n", rc, err, elapsed,
		       rem.tv_sec * 1000LL + rem.tv_nsec / 1000000);
		code = 1;
	}
	printf("exit code=%d\n", code);
	fflush(stdout);
	return code;
}

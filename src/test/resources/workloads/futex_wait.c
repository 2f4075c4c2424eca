/*
 * futex_wait: the main (only) thread blocks in FUTEX_WAIT with a relative
 * timeout and nobody ever wakes it, so it must return ETIMEDOUT after about
 * SECONDS. SIGSTOP/SIGCONT restarts the wait transparently (futex_wait_restart,
 * against the original deadline); a restore must behave the same.
 *
 * Usage: futex_wait SECONDS
 * Output:
 *   ready pid=<pid> seconds=<SECONDS> futex=0x<address>   right before the wait
 *   futex returned rc=<rc> errno=<errno> elapsed_ms=<N>   expected: rc=-1 errno=110 (ETIMEDOUT)
 *   exit code=0
 * No signal handlers: a handled signal would make the wait fail with EINTR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t futex_word; /* stays 0 forever, so FUTEX_WAIT(0) sleeps */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct timespec timeout = { 0, 0 };
	long long start;
	long rc;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		printf("usage: futex_wait SECONDS\n");
		printf("exit code=2\n");
		return 2;
	}
	timeout.tv_sec = atol(argv[1]);

	printf("ready pid=%d seconds=%ld futex=%p\n", (int)getpid(), (long)timeout.tv_sec,
	       (void *)&futex_word);
	fflush(stdout);

	start = now_ms();
	rc = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &timeout, NULL, 0);
	err = rc == -1 ? errno : 0;

	printf("futex returned rc=%ld errno=%d elapsed_ms=%lld\n", rc, err, now_ms() - start);
	printf("exit code=0\n");
	fflush(stdout);
	return 0;
}

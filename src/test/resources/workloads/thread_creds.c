/*
 * thread_creds: threads with credentials of their own (the kernel keeps them per thread;
 * raw system calls change only the calling thread, glibc's wrappers change every thread).
 *
 * Usage: thread_creds
 *   main thread: fsgid 777 and fsuid 4000 (setfsgid/setfsuid), other ids untouched (root)
 *   thread A:    setresgid(0, 1234, 0), setresuid(0, 4321, 0): effective ids of its own,
 *                hence an empty effective capability set
 *   thread B:    supplementary groups 5 and 6 (setgroups)
 * Output (line buffered):
 *   ready pid=<pid> a=<tid of A> b=<tid of B>
 *   count=<N>          every 50 ms
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int tid_a, tid_b;

static void sleep_50ms(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL);
}

static void *thread_a(void *arg)
{
	(void)arg;
	if (syscall(SYS_setresgid, 0, 1234, 0) || syscall(SYS_setresuid, 0, 4321, 0))
		exit(3);
	tid_a = gettid();
	for (;;)
		sleep_50ms();
	return NULL;
}

static void *thread_b(void *arg)
{
	gid_t groups[] = { 5, 6 };

	(void)arg;
	if (syscall(SYS_setgroups, 2, groups))
		exit(4);
	tid_b = gettid();
	for (;;)
		sleep_50ms();
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	unsigned long n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	syscall(SYS_setfsgid, 777);
	syscall(SYS_setfsuid, 4000);
	if (pthread_create(&a, NULL, thread_a, NULL) || pthread_create(&b, NULL, thread_b, NULL))
		return 2;
	while (!tid_a || !tid_b)
		sleep_50ms();
	printf("ready pid=%d a=%d b=%d\n", getpid(), tid_a, tid_b);
	for (;;) {
		printf("count=%lu\n", ++n);
		sleep_50ms();
	}
}

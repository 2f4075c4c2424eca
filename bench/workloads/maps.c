/*
 * maps N: a process with N one-page mappings of its own (a reserved run of N pages whose
 * protections alternate, so that no two neighbours merge), each page holding its index.
 *   ready pid=<pid> maps=<N>        once set up
 *   verify ok | verify BAD <index>   on SIGUSR1
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../../src/test/resources/workloads/say.h"

static volatile sig_atomic_t asked;
static void on_usr1(int sig) { (void)sig; asked = 1; }

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10, pg = sysconf(_SC_PAGESIZE);
	char *base = mmap(NULL, (size_t)(n * pg), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return 1;
	for (long i = 0; i < n; i++)
		*(long *)(base + i * pg) = i ^ 0x5a5a5a5aL;
	/* every other page read-only: N separate mappings with N pages of data */
	for (long i = 1; i < n; i += 2)
		if (mprotect(base + i * pg, (size_t)pg, PROT_READ))
			return 2;
	signal(SIGUSR1, on_usr1);
	say("ready pid=%d maps=%ld\n", (int)getpid(), n);
	for (;;) {
		pause();
		if (!asked)
			continue;
		asked = 0;
		long bad = -1;
		for (long i = 0; i < n && bad < 0; i++)
			if (*(long *)(base + i * pg) != (i ^ 0x5a5a5a5aL))
				bad = i;
		if (bad < 0)
			say("verify ok\n");
		else
			say("verify BAD %ld\n", bad);
	}
}

/*
 * novdso: unmaps its own vDSO and vvar pages (as some sandboxes and the zdtm vdso02 test do),
 * then counts. It never calls a vDSO function afterwards (time comes from raw syscalls).
 *
 * Output: "ready pid=<pid> special=<N>" (N: [vdso]/[vvar]* mappings left, 0),
 *         "count=<N>" every 50 ms, "exit code=0" on SIGTERM.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term_requested;

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
}

/* Unmaps (when doit) or counts the special mappings named in /proc/self/maps. */
static int specials(int doit)
{
	char line[512];
	unsigned long ranges[8][2];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < 8) {
		if (strstr(line, "[vdso]") || strstr(line, "[vvar]") || strstr(line, "[vvar_vclock]")) {
			sscanf(line, "%lx-%lx", &ranges[n][0], &ranges[n][1]);
			n++;
		}
	}
	fclose(f);
	if (doit)
		for (int i = 0; i < n; i++)
			if (syscall(SYS_munmap, ranges[i][0], ranges[i][1] - ranges[i][0]) != 0)
				return -1;
	return n;
}

int main(void)
{
	struct sigaction sa;
	unsigned long count = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	if (specials(1) <= 0) {
		printf("BAD no vDSO to unmap\n");
		return 1;
	}
	printf("ready pid=%d special=%d\n", (int)getpid(), specials(0));
	while (!term_requested) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		printf("count=%lu special=%d\n", ++count, specials(0));
		syscall(SYS_nanosleep, &ts, NULL);
	}
	printf("exit code=0\n");
	return 0;
}

/*
 * exitcode: exits with a chosen code on request, so that the exit status of a
 * restored process can be compared with the original.
 *
 * Usage: exitcode CODE
 * Output:
 *   ready pid=<pid> code=<CODE>
 *   exit code=<CODE>          on SIGUSR1, right before exit(CODE)
 * The test that starts it is not its parent and cannot see the status, hence
 * the line; the real status is checked through jcriu's non-detached restore.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t exit_requested;

static void on_usr1(int sig)
{
	(void)sig;
	exit_requested = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int code;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		printf("usage: exitcode CODE\n");
		printf("exit code=2\n");
		return 2;
	}
	code = atoi(argv[1]);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	printf("ready pid=%d code=%d\n", (int)getpid(), code);
	fflush(stdout);

	/* pause() returns after every handled signal; other signals are not ours */
	while (!exit_requested)
		pause();

	printf("exit code=%d\n", code);
	fflush(stdout);
	exit(code);
}

/*
 * counter: the simplest "did the state survive?" workload.
 *
 * Usage: counter [pipe|extpipe|dropcaps|nofixup|groupmate|nobody]
 *   pipe: also keeps a pipe open on two fds; extpipe: holds only the read end of a pipe (fd 3)
 *   whose write end a "sleep 600" in its own session keeps; dropcaps: runs with reduced capabilities;
 *   nofixup: runs with secure bit SECBIT_NO_SETUID_FIXUP, its ids and capabilities unchanged;
 *   groupmate: leaves a "sleep 600" behind in its process group and session that is not
 *   its child (double fork), printing "groupmate pid=<pid>"; nobody: runs as uid/gid 65534 (no
 *   capabilities left), so that only /proc, not prlimit64, tells its rlimits to a dump
 * Output (stdout, line buffered, stdout is a regular file):
 *   ready pid=<pid>
 *   count=<N>                 every 50 ms, N = 1, 2, 3, ... strictly +1 per line
 *   term at count=<N>         on SIGTERM, N = last value printed
 *   exit code=0               right before exit(0)
 *   counter BAD <what> ...    if the global, stack and heap copies disagree or
 *                             getpid() changed; then "exit code=1" and exit(1)
 *
 * The counter lives in a global (data segment); mirrors on the stack and on
 * the heap must stay equal to it, so a restore that loses any of those
 * memory areas, or that resets the counter, is visible in the output.
 * Oracle: SIGSTOP + SIGCONT must give the same observations as a dump/restore.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Global on purpose: it must be in the process image, not a register only. */
static volatile unsigned long count;
static volatile sig_atomic_t term_requested;

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1; /* only a flag: stdio is not async-signal-safe */
}

static void finish(int code)
{
	printf("exit code=%d\n", code);
	fflush(stdout);
	exit(code);
}

/* Sleeps 50 ms, resuming after interruptions, but returns early on SIGTERM. */
static void sleep_50ms(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !term_requested)
		;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	volatile unsigned long stack_copy = 0; /* lives in the main stack */
	unsigned long *heap_copy;
	pid_t pid = getpid();
	int pipefd[2];

	/* "counter pipe": also hold a pipe, which a dump must refuse cleanly. */
	if (argc > 1 && strcmp(argv[1], "pipe") == 0 && pipe(pipefd) != 0)
		return 3;
	if (argc > 1 && strcmp(argv[1], "extpipe") == 0) {
		pid_t mid;

		if (pipe(pipefd) != 0 || (mid = fork()) < 0)
			return 3;
		if (mid == 0) {
			/* double fork: the sleep is neither our child nor in our group or session */
			if (fork() == 0) {
				pid_t me = getpid();

				setsid();
				close(pipefd[0]);
				/* tell the counter who holds the write end: its first 4 bytes */
				if (write(pipefd[1], &me, sizeof(me)) != sizeof(me))
					_exit(126);
				execl("/bin/sleep", "sleep", "600", (char *)NULL);
				_exit(127);
			}
			_exit(0);
		}
		waitpid(mid, NULL, 0);
		close(pipefd[1]);
	}
	/* "counter dropcaps": give up CAP_SYS_TIME and CAP_NET_RAW (bounding, effective,
	 * permitted) and make CAP_KILL inheritable, so a restore must reproduce reduced sets. */
	if (argc > 1 && strcmp(argv[1], "dropcaps") == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		unsigned drop = (1u << CAP_SYS_TIME) | (1u << CAP_NET_RAW);

		if (prctl(PR_CAPBSET_DROP, CAP_SYS_TIME) || prctl(PR_CAPBSET_DROP, CAP_NET_RAW) ||
		    syscall(SYS_capget, &h, d))
			return 4;
		d[0].effective &= ~drop;
		d[0].permitted &= ~drop;
		d[0].inheritable |= 1u << CAP_KILL;
		if (syscall(SYS_capset, &h, d))
			return 5;
	}

	/* "counter nofixup": only secure bit SECBIT_NO_SETUID_FIXUP (4) set; ids and capabilities as started. */
	if (argc > 1 && strcmp(argv[1], "nofixup") == 0 && prctl(PR_SET_SECUREBITS, 1 << 2, 0, 0, 0))
		return 9;

	if (argc > 1 && strcmp(argv[1], "nobody") == 0) {
		gid_t none[1] = { 65534 };
		if (setgroups(1, none) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			return 6;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc > 1 && strcmp(argv[1], "groupmate") == 0) {
		int gp[2];
		pid_t mid, mate = 0;

		if (pipe(gp) != 0 || (mid = fork()) < 0)
			return 6;
		if (mid == 0) {
			pid_t g = fork();

			if (g == 0) {
				close(gp[0]);
				close(gp[1]);
				execl("/bin/sleep", "sleep", "600", (char *)NULL);
				_exit(127);
			}
			write(gp[1], &g, sizeof(g));
			_exit(g > 0 ? 0 : 1);
		}
		close(gp[1]);
		if (read(gp[0], &mate, sizeof(mate)) != sizeof(mate) || waitpid(mid, NULL, 0) != mid)
			return 7;
		close(gp[0]);
		printf("groupmate pid=%d\n", (int)mate);
	}
	if (argc > 1 && strcmp(argv[1], "extpipe") == 0) {
		pid_t writer = 0;

		if (read(pipefd[0], &writer, sizeof(writer)) != sizeof(writer))
			return 8;
		printf("extpipe writer pid=%d\n", (int)writer);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0) {
		perror("sigaction");
		finish(1);
	}

	heap_copy = malloc(sizeof(*heap_copy));
	if (heap_copy == NULL)
		finish(1);
	*heap_copy = 0;

	printf("ready pid=%d\n", (int)pid);
	fflush(stdout);

	for (;;) {
		sleep_50ms();
		if (term_requested) {
			printf("term at count=%lu\n", count);
			finish(0);
		}
		count++;
		stack_copy++;
		(*heap_copy)++;
		if (stack_copy != count || *heap_copy != count) {
			printf("counter BAD copies global=%lu stack=%lu heap=%lu\n",
			       count, stack_copy, *heap_copy);
			finish(1);
		}
		if (getpid() != pid) {
			printf("counter BAD pid was=%d now=%d\n", (int)pid, (int)getpid());
			finish(1);
		}
		printf("count=%lu\n", count);
		fflush(stdout);
	}
}

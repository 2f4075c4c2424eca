/*
 * shared_tables: a parent and a child cloned with CLONE_FILES|CLONE_FS (one fd table, one
 * cwd/root/umask), as threads-less servers and zdtm's fdt_shared make them.
 *
 * Prints "child pid=X", then "ready". Each SIGUSR1 to the parent runs one round N (1, 2, ...):
 *   - the parent opens "round-N.txt" as fd 100, chdirs into "dir-N" (made beforehand) and
 *     sets umask 0N, then sends SIGUSR2 to the child;
 *   - the child checks that fd 100 is open and names round-N.txt (writes "child N" to it),
 *     that its cwd is dir-N and its umask 0N; then it opens "answer-N.txt" as fd 101, chdirs
 *     back to "..", closes fd 100, and sends SIGUSR2 to the parent;
 *   - the parent checks that fd 101 is open and names answer-N.txt, that fd 100 is closed
 *     and that its cwd is the start directory again, closes fd 101 and prints "round N ok".
 * Any check that fails prints "BAD ..." instead. Only one fd table and one fs, shared, pass.
 * SIGTERM to the parent: the child is ended and reaped, then "exit code=0".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "say.h"

static volatile sig_atomic_t term_requested, usr1, usr2;
static char start_dir[4096];

static void on_sig(int sig)
{
	if (sig == SIGTERM)
		term_requested = 1;
	else if (sig == SIGUSR1)
		usr1 = 1;
	else
		usr2 = 1;
}


/* Whether fd names a file whose path ends with /name. */
static int names(int fd, const char *name)
{
	char link[64], path[4096];
	ssize_t n;
	size_t l = strlen(name);

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = 0;
	return (size_t)n > l && path[n - l - 1] == '/' && strcmp(path + n - l, name) == 0;
}

static void wait_for(volatile sig_atomic_t *flag)
{
	sigset_t none;

	sigemptyset(&none);
	while (!*flag && !term_requested)
		sigsuspend(&none);
	*flag = 0;
}

static int child_main(void *arg)
{
	pid_t parent = getppid();
	char name[64], cwd[4096];
	int round = 0;

	(void)arg;
	for (;;) {
		wait_for(&usr2);
		if (term_requested)
			_exit(0);
		round++;
		snprintf(name, sizeof(name), "round-%d.txt", round);
		if (fcntl(100, F_GETFD) < 0 || !names(100, name))
			say("BAD round %d: the child does not see fd 100 as %s\n", round, name);
		else if (dprintf(100, "child %d\n", round) < 0)
			say("BAD round %d: the child cannot write fd 100\n", round);
		snprintf(name, sizeof(name), "/dir-%d", round);
		if (!getcwd(cwd, sizeof(cwd)) || strlen(cwd) < strlen(name)
		    || strcmp(cwd + strlen(cwd) - strlen(name), name) != 0)
			say("BAD round %d: the child's cwd is %s, not ...%s\n", round, cwd, name);
		mode_t m = umask(0);
		umask(m);
		if (m != (mode_t)round)
			say("BAD round %d: the child's umask is %o\n", round, (unsigned)m);
		snprintf(name, sizeof(name), "answer-%d.txt", round);
		int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 101) != 101)
			say("BAD round %d: the child cannot open %s\n", round, name);
		close(fd);
		if (chdir("..") != 0)
			say("BAD round %d: chdir ..\n", round);
		close(100);
		kill(parent, SIGUSR2);
	}
}

int main(void)
{
	struct sigaction sa;
	sigset_t block;
	static char stack[256 * 1024] __attribute__((aligned(16)));
	char name[64], cwd[4096];
	int round = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	/* signals arrive only in sigsuspend: a round is never cut short */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (!getcwd(start_dir, sizeof(start_dir)))
		return 2;
	for (int i = 1; i <= 7; i++) {
		snprintf(name, sizeof(name), "dir-%d", i);
		mkdir(name, 0700);
	}
	pid_t child = clone(child_main, stack + sizeof(stack), CLONE_FILES | CLONE_FS | SIGCHLD, NULL);
	if (child < 0) {
		say("BAD clone: %s\n", strerror(errno));
		return 2;
	}
	say("child pid=%d\n", child);
	say("ready\n");
	for (;;) {
		wait_for(&usr1);
		if (term_requested)
			break;
		round++;
		if (round > 7) {
			say("BAD too many rounds\n");
			continue;
		}
		snprintf(name, sizeof(name), "round-%d.txt", round);
		int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 100) != 100)
			say("BAD round %d: cannot open %s\n", round, name);
		close(fd);
		snprintf(name, sizeof(name), "dir-%d", round);
		if (chdir(name) != 0)
			say("BAD round %d: chdir %s\n", round, name);
		umask((mode_t)round);
		kill(child, SIGUSR2);
		wait_for(&usr2);
		if (term_requested)
			break;
		snprintf(name, sizeof(name), "answer-%d.txt", round);
		int ok = 1;
		if (fcntl(101, F_GETFD) < 0 || !names(101, name)) {
			say("BAD round %d: the parent does not see fd 101 as %s\n", round, name);
			ok = 0;
		}
		if (fcntl(100, F_GETFD) >= 0) {
			say("BAD round %d: fd 100, closed by the child, is open in the parent\n", round);
			ok = 0;
		}
		if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, start_dir) != 0) {
			say("BAD round %d: the parent's cwd is %s, not %s\n", round, cwd, start_dir);
			ok = 0;
		}
		close(101);
		if (ok)
			say("round %d ok\n", round);
	}
	kill(child, SIGTERM);
	int st;
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		say("BAD child status %d\n", st);
	say("exit code=0\n");
	return 0;
}

/*
 * pidfds: pidfds of every kind jcriu restores.
 *
 * Usage: pidfds          forks a child that sleeps until killed and opens: a pidfd on the
 *                        child, one on itself with PIDFD_NONBLOCK, one on itself with
 *                        PIDFD_THREAD, and two on a second child that it has reaped since
 *                        (a process that is gone). Prints "child pid=X", then "ready".
 *                        On SIGUSR1 it checks them all and prints "pidfds ok", or a "BAD ..."
 *                        line for each failed check: the child's and its own pidfds name those
 *                        PIDs with their flags; the two of the gone process share one inode,
 *                        unlike the child's, and signalling through them fails with ESRCH;
 *                        finally it kills the child through its pidfd and waits for it
 *                        through it (waitid P_PIDFD), which must report that SIGKILL.
 *                        SIGTERM: "exit code=0".
 *        pidfds parent   opens a pidfd on its parent (outside any dump of it), prints "ready"
 *                        and waits for SIGTERM ("exit code=0").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "say.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static volatile sig_atomic_t term_requested, usr1;
static int bad;

static void on_sig(int sig)
{
	if (sig == SIGTERM)
		term_requested = 1;
	else
		usr1 = 1;
}


#define BAD(...) do { say("BAD " __VA_ARGS__); bad++; } while (0)

static int pidfd_open(pid_t pid, unsigned flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send_signal(int fd, int sig) { return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0); }

/* The "Pid:" line of the pidfd's fdinfo. */
static int pid_of(int fd)
{
	char path[64], line[256];
	int pid = -2;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -3;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

static unsigned long ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

static void wait_for(volatile sig_atomic_t *flag)
{
	sigset_t none;

	sigemptyset(&none);
	while (!*flag && !term_requested)
		sigsuspend(&none);
	*flag = 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);

	if (argc > 1 && strcmp(argv[1], "parent") == 0) {
		int fd = pidfd_open(getppid(), 0);
		if (fd < 0)
			say("BAD pidfd_open(parent): %s\n", strerror(errno));
		say("ready\n");
		wait_for(&usr1);
		say("exit code=0\n");
		return 0;
	}

	pid_t child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	pid_t gone = fork();
	if (gone == 0)
		_exit(3);
	int cfd = pidfd_open(child, 0);
	int nb = pidfd_open(getpid(), O_NONBLOCK);
	int th = pidfd_open(getpid(), PIDFD_THREAD);
	int g1 = pidfd_open(gone, 0), g2 = pidfd_open(gone, 0);
	if (cfd < 0 || nb < 0 || th < 0 || g1 < 0 || g2 < 0) {
		say("BAD pidfd_open: %s\n", strerror(errno));
		return 1;
	}
	waitpid(gone, NULL, 0);
	say("child pid=%d\n", child);
	say("ready\n");
	for (;;) {
		wait_for(&usr1);
		if (term_requested)
			break;
		bad = 0;
		if (pid_of(cfd) != child)
			BAD("the child's pidfd names %d, not %d\n", pid_of(cfd), child);
		if (pidfd_send_signal(cfd, 0) != 0)
			BAD("signal 0 through the child's pidfd: %s\n", strerror(errno));
		if (pid_of(nb) != getpid() || pid_of(th) != getpid())
			BAD("its own pidfds name %d and %d, not %d\n", pid_of(nb), pid_of(th), getpid());
		if (!(fcntl(nb, F_GETFL) & O_NONBLOCK))
			BAD("the PIDFD_NONBLOCK pidfd is blocking (flags %o)\n", fcntl(nb, F_GETFL));
		if (!(fcntl(th, F_GETFL) & PIDFD_THREAD))
			BAD("the PIDFD_THREAD pidfd lost it (flags %o)\n", fcntl(th, F_GETFL));
		if (fcntl(cfd, F_GETFL) & (O_NONBLOCK | PIDFD_THREAD))
			BAD("the child's pidfd has flags %o\n", fcntl(cfd, F_GETFL));
		if (pid_of(g1) != -1 || pid_of(g2) != -1)
			BAD("the gone process's pidfds name %d and %d\n", pid_of(g1), pid_of(g2));
		if (pidfd_send_signal(g1, 0) == 0 || errno != ESRCH)
			BAD("signal 0 through a gone process's pidfd: %s\n", strerror(errno));
		if (ino_of(g1) != ino_of(g2) || g1 == g2)
			BAD("the gone process's pidfds have inodes %lu and %lu\n", ino_of(g1), ino_of(g2));
		if (ino_of(g1) == ino_of(cfd) || ino_of(cfd) != ino_of(pidfd_open(child, 0)))
			BAD("inodes: gone %lu, child's pidfd %lu\n", ino_of(g1), ino_of(cfd));
		if (bad == 0) {
			siginfo_t si;

			memset(&si, 0, sizeof(si));
			if (pidfd_send_signal(cfd, SIGKILL) != 0)
				BAD("SIGKILL through the child's pidfd: %s\n", strerror(errno));
			else if (waitid(P_PIDFD, (id_t)cfd, &si, WEXITED) != 0 || si.si_pid != child
				 || si.si_code != CLD_KILLED || si.si_status != SIGKILL)
				BAD("waitid(P_PIDFD): pid %d code %d status %d (%s)\n", si.si_pid, si.si_code,
				    si.si_status, strerror(errno));
		}
		if (bad == 0)
			say("pidfds ok\n");
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	say("exit code=0\n");
	return 0;
}

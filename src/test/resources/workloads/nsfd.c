/*
 * nsfd: fds on namespace files, as `ip netns` or a container runtime holds them.
 *
 * Usage: nsfd [other]
 *   holds fds on /proc/self/ns/net and /proc/self/ns/uts; with "other", also one on a network
 *   namespace of its own making, which it is no longer in (jcriu refuses that one).
 * Output:
 *   ready pid=<pid> net=<fd> uts=<fd>
 *   on SIGUSR1: ns net=<link of the fd> own=<link of /proc/self/ns/net> uts=<same|differs> setns=<0|errno>
 *   exit code=0 on SIGTERM
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "say.h"

static volatile sig_atomic_t usr1, term;
static void on_usr1(int s) { (void)s; usr1 = 1; }
static void on_term(int s) { (void)s; term = 1; }

static void link_of(const char *path, char *out, size_t n)
{
	ssize_t r = readlink(path, out, n - 1);
	out[r < 0 ? 0 : r] = 0;
}

static void fd_link(int fd, char *out, size_t n)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	link_of(p, out, n);
}

int main(int argc, char **argv)
{
	int net = open("/proc/self/ns/net", O_RDONLY);
	int uts = open("/proc/self/ns/uts", O_RDONLY);
	if (net < 0 || uts < 0) {
		say("BAD open: %s\n", strerror(errno));
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "other")) {
		/* a namespace of its own, held by an fd after going back to the first one */
		if (unshare(CLONE_NEWNET) || open("/proc/self/ns/net", O_RDONLY) < 0 || setns(net, CLONE_NEWNET)) {
			say("BAD other: %s\n", strerror(errno));
			return 1;
		}
	}
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	say("ready pid=%d net=%d uts=%d\n", (int)getpid(), net, uts);
	while (!term) {
		pause();
		if (usr1) {
			char a[64], b[64], c[64], d[64];
			usr1 = 0;
			fd_link(net, a, sizeof a);
			link_of("/proc/self/ns/net", b, sizeof b);
			fd_link(uts, c, sizeof c);
			link_of("/proc/self/ns/uts", d, sizeof d);
			int r = setns(net, CLONE_NEWNET) ? errno : 0;
			say("ns net=%s own=%s uts=%s setns=%d\n", a, b, strcmp(c, d) ? "differs" : "same", r);
		}
	}
	say("exit code=0\n");
	return 0;
}

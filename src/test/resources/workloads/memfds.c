/*
 * memfds: memfds whose identity a restore must keep: the inode, not the name.
 *
 * Usage: memfds twins
 *   Two memfds both named "twin" (fds 3 and 4): 3 holds "first twin" (sealed F_SEAL_GROW), 4
 *   holds "the second one" (sealed F_SEAL_SHRINK), each mapped MAP_SHARED read-write.
 *   On SIGUSR1: each one's content is read through its fd and its mapping, its seals and size
 *   are checked, then a byte written through each mapping must be seen by that fd alone.
 * Usage: memfds shared
 *   A memfd "common" holding "hello shared" and sealed F_SEAL_SHRINK|F_SEAL_GROW, mapped
 *   MAP_SHARED (4096 bytes), then fork(): the child keeps the inherited mapping, maps the fd
 *   again MAP_SHARED, and answers through the memory: whenever byte 100 holds a new request
 *   number it writes "child-N" at 200 through its own new mapping. On SIGUSR1 the parent writes
 *   request N into its mapping and waits (5 s) for the answer, then checks the seals and the
 *   content through the child's answer and its fd.
 * Output (say(): one write per line):
 *   ready pid=<pid> [child=<pid>]
 *   "check ok" or "check BAD <what>", after each SIGUSR1
 *   on SIGTERM: "exit code=0"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "say.h"

#define SIZE 4096

static volatile sig_atomic_t usr1, term;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static void on_term(int sig)
{
	(void)sig;
	term = 1;
}

static int make(const char *name, const char *content, int seals)
{
	int fd = (int)syscall(SYS_memfd_create, name, MFD_ALLOW_SEALING);

	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content) || ftruncate(fd, SIZE) ||
	    fcntl(fd, F_ADD_SEALS, seals)) {
		say("setup BAD memfd %s: %s\n", name, strerror(errno));
		_exit(1);
	}
	return fd;
}

static char *map(int fd)
{
	char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		say("setup BAD mmap: %s\n", strerror(errno));
		_exit(1);
	}
	return p;
}

/* The memfd on fd: its content starts with want (through fd and map), its seals and size are as set. */
static const char *same(int fd, const char *m, const char *want, int seals)
{
	static char why[128];
	char buf[64] = { 0 };
	struct stat st;

	if (pread(fd, buf, strlen(want), 0) != (ssize_t)strlen(want) || memcmp(buf, want, strlen(want)))
		snprintf(why, sizeof(why), "fd %d reads '%s', not '%s'", fd, buf, want);
	else if (memcmp(m, want, strlen(want)))
		snprintf(why, sizeof(why), "the mapping of fd %d reads '%.20s', not '%s'", fd, m, want);
	else if (fcntl(fd, F_GET_SEALS) != seals)
		snprintf(why, sizeof(why), "fd %d has seals %#x, not %#x", fd, fcntl(fd, F_GET_SEALS), seals);
	else if (fstat(fd, &st) || st.st_size != SIZE)
		snprintf(why, sizeof(why), "fd %d has size %ld", fd, (long)st.st_size);
	else
		return NULL;
	return why;
}

static void twins(void)
{
	int a = make("twin", "first twin", F_SEAL_GROW), b = make("twin", "the second one", F_SEAL_SHRINK);
	char *ma, *mb;
	int round = 0;

	if (dup2(a, 3) != 3 || dup2(b, 4) != 4) {
		say("setup BAD dup2\n");
		_exit(1);
	}
	if (a != 3 && a != 4)
		close(a);
	if (b != 3 && b != 4)
		close(b);
	ma = map(3);
	mb = map(4);
	say("ready pid=%d\n", (int)getpid());
	for (;;) {
		sigset_t none;
		struct stat sa, sb;
		const char *bad;
		char c;

		sigemptyset(&none);
		while (!usr1 && !term)
			sigsuspend(&none);
		if (term)
			break;
		usr1 = 0;
		round++;
		fstat(3, &sa);
		fstat(4, &sb);
		if (sa.st_ino == sb.st_ino) {
			say("check BAD one inode for both\n");
			continue;
		}
		if ((bad = same(3, ma, "first twin", F_SEAL_GROW)) || (bad = same(4, mb, "the second one", F_SEAL_SHRINK))) {
			say("check BAD %s\n", bad);
			continue;
		}
		/* a write through one mapping is the one memfd's: its fd sees it, the other does not */
		ma[1000] = (char)('A' + round);
		if (pread(3, &c, 1, 1000) != 1 || c != 'A' + round) {
			say("check BAD fd 3 does not see its mapping's write\n");
			continue;
		}
		if (pread(4, &c, 1, 1000) != 1 || c != 0 || mb[1000] != 0) {
			say("check BAD fd 4 sees fd 3's write\n");
			continue;
		}
		ma[1000] = 0;
		say("check ok\n");
	}
	say("exit code=0\n");
	_exit(0);
}

static void shared(void)
{
	int fd = make("common", "hello shared", F_SEAL_SHRINK | F_SEAL_GROW), n = 0;
	volatile char *pm = map(fd);
	pid_t child = fork();

	if (child < 0) {
		say("setup BAD fork\n");
		_exit(1);
	}
	if (child == 0) {
		volatile char *own = map(fd); /* a mapping of its own beside the inherited one */
		char seen = 0;

		signal(SIGUSR1, SIG_IGN);
		for (;;) {
			if (pm[100] != seen) {
				seen = pm[100];
				char reply[32];

				snprintf(reply, sizeof(reply), "child-%d", seen);
				memcpy((char *)own + 200, reply, strlen(reply) + 1);
			}
			if (getppid() == 1)
				_exit(0);
			usleep(1000);
		}
	}
	say("ready pid=%d child=%d\n", (int)getpid(), (int)child);
	for (;;) {
		sigset_t none;
		char want[32], buf[32] = { 0 };
		const char *bad;
		int i;

		sigemptyset(&none);
		while (!usr1 && !term)
			sigsuspend(&none);
		if (term)
			break;
		usr1 = 0;
		n++;
		snprintf(want, sizeof(want), "child-%d", n);
		pm[100] = (char)n;
		for (i = 0; i < 5000 && strcmp((char *)pm + 200, want); i++)
			usleep(1000);
		if (i == 5000) {
			say("check BAD no answer '%s' from the child: '%.20s'\n", want, (char *)pm + 200);
			continue;
		}
		if (pread(fd, buf, strlen(want), 200) != (ssize_t)strlen(want) || strcmp(buf, want)) {
			say("check BAD the fd reads '%s' at 200\n", buf);
			continue;
		}
		if ((bad = same(fd, (const char *)pm, "hello shared", F_SEAL_SHRINK | F_SEAL_GROW))) {
			say("check BAD %s\n", bad);
			continue;
		}
		if (ftruncate(fd, 2 * SIZE) == 0) {
			say("check BAD the memfd grew despite F_SEAL_GROW\n");
			continue;
		}
		say("check ok\n");
	}
	kill(child, SIGKILL);
	say("exit code=0\n");
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { 0 };
	sigset_t block;

	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (argc == 2 && !strcmp(argv[1], "twins"))
		twins();
	if (argc == 2 && !strcmp(argv[1], "shared"))
		shared();
	say("usage: memfds twins|shared\n");
	return 2;
}

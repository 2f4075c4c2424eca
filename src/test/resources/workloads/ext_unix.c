/*
 * ext_unix: a unix stream connection whose other end is a process outside the dumped tree
 * (a daemon the process talks to, a supervisor's socket).
 *
 * Usage: ext_unix server PATH
 *   Listens on the unix stream socket PATH, prints "ready pid=<pid>", then serves every
 *   connection: each message "<text>" is printed as "got <text>" and answered "ack <text>";
 *   a connection closed by its client prints "closed".
 * Usage: ext_unix client PATH
 *   Connects (fd 3) to PATH, prints "ready pid=<pid> ino=<socket inode>"; on each SIGUSR1
 *   sends "ping-<n>", reads the answer and prints "reply <answer> fd3=<what fd 3 is>"
 *   (or "client BAD <what>"). On SIGTERM prints "exit code=0" and exits.
 * Usage: ext_unix connect-exec PATH FD CMD [ARG...]
 *   Connects a unix stream socket to PATH, moves it to fd FD and executes CMD: how a test
 *   hands a restore (--inherit-fd fd[FD]:socket:[INODE]) a new connection to the server.
 * Output through say(): one write per line.
 * Oracle: stopped and continued, the client's next ping is answered as before.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "say.h"

static volatile sig_atomic_t pings, term;

static void on_usr1(int sig)
{
	(void)sig;
	pings++;
}

static void on_term(int sig)
{
	(void)sig;
	term = 1;
}

static socklen_t addr_of(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strncpy(a->sun_path, path, sizeof(a->sun_path) - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

static int server(const char *path)
{
	struct sockaddr_un a;
	socklen_t len = addr_of(&a, path);
	struct pollfd p[16];
	int n = 1;

	unlink(path);
	p[0].fd = socket(AF_UNIX, SOCK_STREAM, 0);
	p[0].events = POLLIN;
	if (p[0].fd < 0 || bind(p[0].fd, (struct sockaddr *)&a, len) || listen(p[0].fd, 8)) {
		say("server BAD listen %s\n", strerror(errno));
		return 1;
	}
	say("ready pid=%d\n", (int)getpid());
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			say("server BAD poll %s\n", strerror(errno));
			return 1;
		}
		if ((p[0].revents & POLLIN) && n < 16) {
			int c = accept(p[0].fd, NULL, NULL);

			if (c >= 0) {
				p[n].fd = c;
				p[n].events = POLLIN;
				p[n].revents = 0;
				n++;
				say("accepted\n");
			}
		}
		for (int i = 1; i < n; i++) {
			char buf[128], ack[160];
			ssize_t r;

			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(p[i].fd, buf, sizeof(buf) - 1);
			if (r <= 0) {
				say("closed\n");
				close(p[i].fd);
				p[i] = p[--n];
				i--;
				continue;
			}
			buf[r] = 0;
			say("got %s\n", buf);
			snprintf(ack, sizeof(ack), "ack %s", buf);
			if (write(p[i].fd, ack, strlen(ack)) < 0)
				say("server BAD write %s\n", strerror(errno));
		}
	}
}

static int client(const char *path)
{
	struct sockaddr_un a;
	socklen_t len = addr_of(&a, path);
	struct stat st;
	sigset_t block, none;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), done = 0;

	if (s < 0 || dup2(s, 3) != 3 || connect(3, (struct sockaddr *)&a, len)) {
		say("client BAD connect %s\n", strerror(errno));
		return 1;
	}
	if (s != 3)
		close(s);
	signal(SIGUSR1, on_usr1);
	signal(SIGTERM, on_term);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &none);
	fstat(3, &st);
	say("ready pid=%d ino=%lu\n", (int)getpid(), (unsigned long)st.st_ino);
	for (;;) {
		while (!term && pings == done)
			sigsuspend(&none);
		if (term) {
			say("exit code=0\n");
			return 0;
		}
		char msg[32], buf[128], link[64];
		ssize_t r, l;

		done++;
		snprintf(msg, sizeof(msg), "ping-%d", done);
		if (write(3, msg, strlen(msg)) != (ssize_t)strlen(msg)) {
			say("client BAD write %s\n", strerror(errno));
			continue;
		}
		r = read(3, buf, sizeof(buf) - 1);
		if (r <= 0) {
			say("client BAD read %zd %s\n", r, r < 0 ? strerror(errno) : "EOF");
			continue;
		}
		buf[r] = 0;
		l = readlink("/proc/self/fd/3", link, sizeof(link) - 1);
		link[l < 0 ? 0 : l] = 0;
		say("reply %s fd3=%s\n", buf, link);
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "client"))
		return client(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "connect-exec")) {
		struct sockaddr_un a;
		socklen_t len = addr_of(&a, argv[2]);
		int fd = atoi(argv[3]), s = socket(AF_UNIX, SOCK_STREAM, 0);

		if (s < 0 || connect(s, (struct sockaddr *)&a, len) || (s != fd && dup2(s, fd) != fd)) {
			say("connect-exec BAD %s\n", strerror(errno));
			return 1;
		}
		if (s != fd)
			close(s);
		execvp(argv[4], argv + 4);
		say("connect-exec BAD exec %s\n", strerror(errno));
		return 127;
	}
	say("usage: ext_unix server PATH | client PATH | connect-exec PATH FD CMD...\n");
	return 2;
}

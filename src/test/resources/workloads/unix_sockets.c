/*
 * unix_sockets: unix sockets in every state a restore must bring back.
 *
 * Usage: unix_sockets all DIR
 *   Sets up, in one process (DIR: a directory for the socket files, made absolute):
 *     stream pair a-b   b's queue: "fd" with an fd in flight (DIR/passed, opened at
 *                       offset 3) and, b having SO_PASSCRED, the sender's credentials,
 *                       then "hello-from-a"; a's queue: "hi-from-b"; a has
 *                       SO_SNDBUF 65536 and O_NONBLOCK
 *     dgram pair c-d    d's queue: "one", "" (empty), "three"; c has SO_RCVTIMEO 1.5 s
 *     seqpacket pair e-f  f's queue: "rec1", "record-2"
 *     listener L        bound to DIR/listen.sock (mode 0640), backlog 5; client g is
 *                       connected to it and not accepted yet
 *     dgram server S    bound to the abstract name @jcriu-srv-PID; client h, bound to
 *                       @jcriu-cli-PID and connected to S, has sent "d1", "d2" (queued on S)
 *     stream pair i-j   i wrote "last" then shut down writing: j reads "last", then EOF
 *     dgram socket k    bound to DIR/gone.sock, whose file was then unlinked
 *   Output: "ready pid=<pid>"; on SIGUSR1 every socket is read and checked:
 *     "check ok" or "check BAD <what>" (the first failing check), then "exit code=0".
 *
 * Usage: unix_sockets fork-pair
 *   A stream pair and a seqpacket pair between the process and its child, data queued both
 *   ways: "ready pid=<pid> child=<pid>"; on SIGUSR1 both read and check, "check ok".
 *
 * Usage: unix_sockets dgram-server NAME    (NAME: an abstract name without the @)
 *   Binds a datagram socket to @NAME, prints "ready pid=<pid>", then "got <text>"
 *   for every datagram.
 * Usage: unix_sockets dgram-client NAME
 *   Connects a datagram socket to @NAME, prints "ready pid=<pid>"; on SIGUSR1 sends
 *   "ping-<n>" and prints "sent ping-<n>".
 * Usage: unix_sockets stream-client PATH
 *   Connects a stream socket to PATH, prints "ready pid=<pid>"; on SIGUSR1 sends
 *   "ping" and prints "sent".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1;

static void on_usr1(int sig) { (void) sig; usr1 = 1; }

static void finish(int code)
{
	printf("exit code=%d\n", code);
	fflush(stdout);
	exit(code);
}

static void die(const char *what)
{
	printf("setup failed: %s: %s\n", what, strerror(errno));
	finish(3);
}

#define BAD(...) do { printf("check BAD "); printf(__VA_ARGS__); printf("\n"); finish(0); } while (0)

static socklen_t addr_of(struct sockaddr_un *a, const char *name, int abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		a->sun_path[0] = 0;
		strncpy(a->sun_path + 1, name, sizeof(a->sun_path) - 2);
		return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
	}
	strncpy(a->sun_path, name, sizeof(a->sun_path) - 1);
	return sizeof(*a);
}

static void wait_usr1(void)
{
	sigset_t none;
	sigemptyset(&none);
	while (!usr1)
		sigsuspend(&none);
	usr1 = 0;
}

/* Reads one message, or as many bytes of a stream as wanted (a reader may get more at once). */
static void expect_read(int fd, const char *want, const char *what)
{
	char buf[256];
	int type = 0;
	socklen_t tl = sizeof(type);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
	ssize_t n = recv(fd, buf, type == SOCK_STREAM ? strlen(want) : sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		BAD("%s: recv: %s (wanted \"%s\")", what, strerror(errno), want);
	if ((size_t) n != strlen(want) || memcmp(buf, want, n) != 0)
		BAD("%s: read \"%.*s\", wanted \"%s\"", what, (int) n, buf, want);
}

static int all(const char *reldir)
{
	char dir[4096];
	if (!realpath(reldir, dir) || strlen(dir) > 80)
		die("realpath (or a directory too long for sun_path)");
	char path[4200], listen_path[4200], gone_path[4200], srv[64], cli[64];
	int ab[2], cd[2], ef[2], ij[2], one = 1;
	pid_t me = getpid();

	snprintf(path, sizeof(path), "%s/passed", dir);
	snprintf(listen_path, sizeof(listen_path), "%s/listen.sock", dir);
	snprintf(gone_path, sizeof(gone_path), "%s/gone.sock", dir);
	snprintf(srv, sizeof(srv), "jcriu-srv-%d", (int) me);
	snprintf(cli, sizeof(cli), "jcriu-cli-%d", (int) me);

	FILE *f = fopen(path, "w");
	if (!f || fputs("0123456789", f) < 0 || fclose(f))
		die("passed file");

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, ab))
		die("stream pair");
	int sndbuf = 65536;
	if (setsockopt(ab[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    setsockopt(ab[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		die("stream options");
	if (send(ab[1], "hi-from-b", 9, 0) != 9)
		die("stream send");
	int passed = open(path, O_RDONLY);
	if (passed < 0 || lseek(passed, 3, SEEK_SET) != 3)
		die("open passed");
	{
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { .iov_base = "fd", .iov_len = 2 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &passed, sizeof(int));
		if (sendmsg(ab[0], &mh, 0) != 2)
			die("sendmsg fd");
	}
	close(passed);
	if (send(ab[0], "hello-from-a", 12, 0) != 12)
		die("stream send");
	fcntl(ab[0], F_SETFL, O_NONBLOCK);

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, cd))
		die("dgram pair");
	struct timeval tv = { .tv_sec = 1, .tv_usec = 500000 };
	if (setsockopt(cd[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		die("rcvtimeo");
	if (send(cd[0], "one", 3, 0) != 3 || send(cd[0], "", 0, 0) != 0 || send(cd[0], "three", 5, 0) != 5)
		die("dgram send");

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ef))
		die("seqpacket pair");
	if (send(ef[0], "rec1", 4, 0) != 4 || send(ef[0], "record-2", 8, 0) != 8)
		die("seqpacket send");

	struct sockaddr_un a;
	socklen_t len;
	int L = socket(AF_UNIX, SOCK_STREAM, 0);
	len = addr_of(&a, listen_path, 0);
	if (L < 0 || bind(L, (struct sockaddr *) &a, len) || chmod(listen_path, 0640) || listen(L, 5))
		die("listener");
	int g = socket(AF_UNIX, SOCK_STREAM, 0);
	if (g < 0 || connect(g, (struct sockaddr *) &a, len))
		die("client g");

	int S = socket(AF_UNIX, SOCK_DGRAM, 0), h = socket(AF_UNIX, SOCK_DGRAM, 0);
	len = addr_of(&a, srv, 1);
	if (S < 0 || bind(S, (struct sockaddr *) &a, len))
		die("dgram server");
	struct sockaddr_un b;
	socklen_t blen = addr_of(&b, cli, 1);
	if (h < 0 || bind(h, (struct sockaddr *) &b, blen) || connect(h, (struct sockaddr *) &a, len))
		die("dgram client");
	if (send(h, "d1", 2, 0) != 2 || send(h, "d2", 2, 0) != 2)
		die("dgram client send");

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, ij))
		die("shutdown pair");
	if (send(ij[0], "last", 4, 0) != 4 || shutdown(ij[0], SHUT_WR))
		die("shutdown");

	int k = socket(AF_UNIX, SOCK_DGRAM, 0);
	len = addr_of(&a, gone_path, 0);
	if (k < 0 || bind(k, (struct sockaddr *) &a, len) || unlink(gone_path))
		die("unlinked socket");

	printf("ready pid=%d\n", (int) me);
	fflush(stdout);
	wait_usr1();

	/* b: "fd" with the passed file and a's (this process's) credentials, then "hello-from-a" */
	{
		char buf[16], cbuf[256];
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(ab[1], &mh, MSG_DONTWAIT);
		if (n != 2 || memcmp(buf, "fd", 2))
			BAD("stream b: second message %zd bytes", n);
		int got_fd = -1, got_pid = -1, got_uid = -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_type == SCM_RIGHTS)
				memcpy(&got_fd, CMSG_DATA(c), sizeof(int));
			if (c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred u;
				memcpy(&u, CMSG_DATA(c), sizeof(u));
				got_pid = u.pid;
				got_uid = u.uid;
			}
		}
		if (got_fd < 0)
			BAD("stream b: no fd in flight");
		if (got_pid != me || got_uid != (int) getuid())
			BAD("stream b: credentials pid=%d uid=%d, wanted pid=%d uid=%d", got_pid, got_uid, (int) me, (int) getuid());
		char c3[4] = { 0 };
		if (read(got_fd, c3, 3) != 3 || memcmp(c3, "345", 3))
			BAD("fd in flight: read \"%s\" at its offset, wanted \"345\"", c3);
	}
	expect_read(ab[1], "hello-from-a", "stream b");
	expect_read(ab[0], "hi-from-b", "stream a");
	len = sizeof(int);
	int v;
	if (getsockopt(ab[1], SOL_SOCKET, SO_PASSCRED, &v, &len) || v != 1)
		BAD("b: SO_PASSCRED %d", v);
	if (getsockopt(ab[0], SOL_SOCKET, SO_SNDBUF, &v, &len) || v != 2 * sndbuf)
		BAD("a: SO_SNDBUF %d, wanted %d", v, 2 * sndbuf);
	if (!(fcntl(ab[0], F_GETFL) & O_NONBLOCK) || (fcntl(ab[1], F_GETFL) & O_NONBLOCK))
		BAD("O_NONBLOCK of a and b");
	if (send(ab[0], "again", 5, 0) != 5)
		BAD("a: send after restore: %s", strerror(errno));
	expect_read(ab[1], "again", "stream b after a send");

	expect_read(cd[1], "one", "dgram d 1");
	expect_read(cd[1], "", "dgram d 2");
	expect_read(cd[1], "three", "dgram d 3");
	{
		struct timeval t;
		socklen_t tl = sizeof(t);
		if (getsockopt(cd[0], SOL_SOCKET, SO_RCVTIMEO, &t, &tl) || t.tv_sec != 1 || t.tv_usec != 500000)
			BAD("c: SO_RCVTIMEO %ld.%06ld", (long) t.tv_sec, (long) t.tv_usec);
	}
	expect_read(ef[1], "rec1", "seqpacket f 1");
	expect_read(ef[1], "record-2", "seqpacket f 2");

	struct stat st;
	if (stat(listen_path, &st) || !S_ISSOCK(st.st_mode) || (st.st_mode & 0777) != 0640)
		BAD("%s: mode %o", listen_path, st.st_mode);
	int acc = accept(L, NULL, NULL);
	if (acc < 0)
		BAD("accept: %s", strerror(errno));
	if (send(g, "ping", 4, 0) != 4)
		BAD("g: send");
	expect_read(acc, "ping", "accepted");
	if (send(acc, "pong", 4, 0) != 4)
		BAD("accepted: send");
	expect_read(g, "pong", "client g");
	len = sizeof(a);
	if (getsockname(L, (struct sockaddr *) &a, &len) || strcmp(a.sun_path, listen_path))
		BAD("listener name %s", a.sun_path);

	for (int n = 1; n <= 2; n++) {
		char buf[16], want[4];
		snprintf(want, sizeof(want), "d%d", n);
		len = sizeof(b);
		ssize_t r = recvfrom(S, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *) &b, &len);
		if (r != 2 || memcmp(buf, want, 2))
			BAD("dgram server: message %d: %zd bytes", n, r);
		if (len != blen || memcmp(b.sun_path + 1, cli, strlen(cli)))
			BAD("dgram server: message %d from @%.*s, wanted @%s", n, (int) (len - 3), b.sun_path + 1, cli);
	}
	if (send(h, "d3", 2, 0) != 2)
		BAD("h: send after restore: %s", strerror(errno));
	expect_read(S, "d3", "dgram server after restore");

	expect_read(ij[1], "last", "j");
	{
		char c;
		ssize_t r = recv(ij[1], &c, 1, MSG_DONTWAIT);
		if (r != 0)
			BAD("j: %zd after \"last\", wanted end of stream", r);
	}
	if (access(gone_path, F_OK) == 0)
		BAD("%s exists again", gone_path);
	len = sizeof(a);
	if (getsockname(k, (struct sockaddr *) &a, &len) || strcmp(a.sun_path, gone_path))
		BAD("unlinked socket's name %s", a.sun_path);

	printf("check ok\n");
	finish(0);
	return 0;
}

/*
 * A stream pair and a seqpacket pair split between a parent and its child, data queued both
 * ways on each; on SIGUSR1 (to the parent, which passes it on) each reads what the other
 * sent, the child exits 0 if all was right, and the parent says "check ok".
 */
static int fork_pair(void)
{
	int st[2], sq[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq))
		die("socketpair");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(st[0]);
		close(sq[0]);
		if (send(st[1], "up-stream", 9, 0) != 9 || send(sq[1], "up-record", 9, 0) != 9)
			_exit(3);
		wait_usr1();
		char buf[64];
		if (recv(st[1], buf, 11, MSG_DONTWAIT) != 11 || memcmp(buf, "down-stream", 11))
			_exit(1);
		if (recv(sq[1], buf, sizeof(buf), MSG_DONTWAIT) != 11 || memcmp(buf, "down-record", 11))
			_exit(2);
		_exit(0);
	}
	close(st[1]);
	close(sq[1]);
	if (send(st[0], "down-stream", 11, 0) != 11 || send(sq[0], "down-record", 11, 0) != 11)
		die("send");
	printf("ready pid=%d child=%d\n", (int) getpid(), (int) child);
	wait_usr1();
	kill(child, SIGUSR1);
	char buf[64];
	int status = -1;
	/* the child's bytes were queued before the dump: poll until they are there */
	ssize_t n = recv(st[0], buf, 9, 0);
	if (n != 9 || memcmp(buf, "up-stream", 9)) {
		printf("check BAD parent stream read %zd\n", n);
		finish(1);
	}
	n = recv(sq[0], buf, sizeof(buf), 0);
	if (n != 9 || memcmp(buf, "up-record", 9)) {
		printf("check BAD parent seqpacket read %zd\n", n);
		finish(1);
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("check BAD child status %d\n", status);
		finish(1);
	}
	printf("check ok\n");
	finish(0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (argc == 3 && !strcmp(argv[1], "all"))
		return all(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "fork-pair"))
		return fork_pair();
	if (argc == 3 && !strcmp(argv[1], "dgram-server")) {
		struct sockaddr_un a;
		socklen_t len = addr_of(&a, argv[2], 1);
		int s = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (s < 0 || bind(s, (struct sockaddr *) &a, len))
			die("bind");
		printf("ready pid=%d\n", (int) getpid());
		sigprocmask(SIG_UNBLOCK, &block, NULL);
		for (;;) {
			char buf[64];
			ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("recv");
			buf[n] = 0;
			printf("got %s\n", buf);
		}
	}
	if (argc == 3 && (!strcmp(argv[1], "dgram-client") || !strcmp(argv[1], "stream-client"))) {
		int dgram = !strcmp(argv[1], "dgram-client");
		struct sockaddr_un a;
		socklen_t len = addr_of(&a, argv[2], dgram);
		int s = socket(AF_UNIX, dgram ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (s < 0 || connect(s, (struct sockaddr *) &a, len))
			die("connect");
		printf("ready pid=%d\n", (int) getpid());
		for (int n = 1;; n++) {
			wait_usr1();
			char msg[32];
			snprintf(msg, sizeof(msg), "ping-%d", n);
			if (send(s, msg, strlen(msg), 0) < 0)
				printf("send failed: %s\n", strerror(errno));
			else
				printf("sent %s\n", msg);
		}
	}
	fprintf(stderr, "usage: unix_sockets all DIR | dgram-server NAME | dgram-client NAME | stream-client PATH\n");
	return 2;
}

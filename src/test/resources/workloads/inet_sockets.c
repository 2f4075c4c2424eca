/*
 * inet_sockets: TCP and UDP echo servers, over IPv4 or IPv6.
 *
 * Usage: inet_sockets tcp-echo ADDR
 *   Listens on ADDR (127.0.0.1 or ::1), port chosen by the kernel, backlog 7, with
 *   SO_REUSEADDR, SO_KEEPALIVE, TCP_NODELAY, TCP_KEEPIDLE 77, TCP_KEEPINTVL 7,
 *   TCP_KEEPCNT 5 and TCP_DEFER_ACCEPT 3; every accepted connection gets TCP_NODELAY.
 *   Each connection's bytes are echoed back as they come (one poll() loop).
 *   Output: "ready pid=<pid> port=<port>"; "accepted n=<count>" per connection;
 *           "closed n=<count>" when a peer closes;
 *           on SIGUSR1 "opts reuseaddr=<0|1> keepalive=<0|1> nodelay=<0|1> keepidle=<s>
 *           keepintvl=<s> keepcnt=<n> defer=<0|1> listening=<0|1> v6only=<0|1|->";
 *           on SIGUSR2 it opens a netlink socket (which jcriu refuses), "netlink fd=<fd>".
 * Usage: inet_sockets udp-echo ADDR
 *   Binds a UDP socket to ADDR, port chosen by the kernel, and sends every datagram
 *   back to its sender. SIGUSR2 stops reading (datagrams queue up) or starts again.
 *   Output: "ready pid=<pid> port=<port>", "paused", "reading",
 *           "echoed <text> from <addr>:<port>" per datagram.
 * Usage: inet_sockets udp-client ADDR PORT
 *   Connects a UDP socket to ADDR:PORT; on SIGUSR1 sends "ping-<n>" and waits (20 s at
 *   most) for the answer. Output: "ready pid=<pid> port=<its port>",
 *           "got <answer> from port <its port>".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXC 64

static volatile sig_atomic_t usr1, usr2;
/* The signals are blocked but while waiting (ppoll, sigsuspend): a flag is never missed. */
static sigset_t unblocked;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		usr1 = 1;
	else
		usr2 = 1;
}

static __attribute__((noreturn)) void die(const char *what)
{
	printf("setup failed: %s: %s\n", what, strerror(errno));
	printf("exit code=3\n");
	exit(3);
}

static int family_of(const char *addr)
{
	return strchr(addr, ':') ? AF_INET6 : AF_INET;
}

static socklen_t make_addr(struct sockaddr_storage *ss, const char *addr)
{
	memset(ss, 0, sizeof(*ss));
	if (family_of(addr) == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *) ss;
		a->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
			die("address");
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *) ss;
	a->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &a->sin_addr) != 1)
		die("address");
	return sizeof(*a);
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *) &ss, &len))
		die("getsockname");
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
					      : ((struct sockaddr_in *) &ss)->sin_port);
}

static int opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	if (getsockopt(fd, level, name, &v, &len))
		return -1;
	return v;
}

static void setopt(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)))
		die("setsockopt");
}

static __attribute__((noreturn)) void tcp_echo(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, addr);
	int l = socket(ss.ss_family, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	setopt(l, SOL_SOCKET, SO_REUSEADDR, 1);
	setopt(l, SOL_SOCKET, SO_KEEPALIVE, 1);
	setopt(l, IPPROTO_TCP, TCP_NODELAY, 1);
	setopt(l, IPPROTO_TCP, TCP_KEEPIDLE, 77);
	setopt(l, IPPROTO_TCP, TCP_KEEPINTVL, 7);
	setopt(l, IPPROTO_TCP, TCP_KEEPCNT, 5);
	setopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, 3);
	if (bind(l, (struct sockaddr *) &ss, len) || listen(l, 7))
		die("listen");
	printf("ready pid=%d port=%d\n", (int) getpid(), port_of(l));
	struct pollfd p[MAXC];
	int n = 1, accepted = 0, closed = 0;
	p[0].fd = l;
	p[0].events = POLLIN;
	for (;;) {
		if (usr1) {
			usr1 = 0;
			printf("opts reuseaddr=%d keepalive=%d nodelay=%d keepidle=%d keepintvl=%d keepcnt=%d defer=%d"
			       " listening=%d v6only=%d\n",
			       opt(l, SOL_SOCKET, SO_REUSEADDR), opt(l, SOL_SOCKET, SO_KEEPALIVE),
			       opt(l, IPPROTO_TCP, TCP_NODELAY), opt(l, IPPROTO_TCP, TCP_KEEPIDLE),
			       opt(l, IPPROTO_TCP, TCP_KEEPINTVL), opt(l, IPPROTO_TCP, TCP_KEEPCNT),
			       opt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT) > 0, opt(l, SOL_SOCKET, SO_ACCEPTCONN),
			       ss.ss_family == AF_INET6 ? opt(l, IPPROTO_IPV6, IPV6_V6ONLY) : -1);
		}
		if (usr2) {
			usr2 = 0;
			printf("netlink fd=%d\n", socket(AF_NETLINK, SOCK_RAW, 0));
		}
		if (ppoll(p, n, NULL, &unblocked) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if ((p[0].revents & POLLIN) && n < MAXC) {
			int c = accept(l, NULL, NULL);
			if (c >= 0) {
				setopt(c, IPPROTO_TCP, TCP_NODELAY, 1);
				p[n].fd = c;
				p[n].events = POLLIN;
				n++;
				printf("accepted n=%d\n", ++accepted);
			}
		}
		for (int i = 1; i < n; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[65536];
			ssize_t r = recv(p[i].fd, buf, sizeof(buf), 0);
			if (r <= 0) {
				if (r < 0)
					printf("recv failed: %s\n", strerror(errno));
				close(p[i].fd);
				p[i] = p[--n];
				i--;
				printf("closed n=%d\n", ++closed);
				continue;
			}
			for (ssize_t off = 0; off < r;) {
				ssize_t w = send(p[i].fd, buf + off, r - off, MSG_NOSIGNAL);
				if (w < 0) {
					printf("send failed: %s\n", strerror(errno));
					break;
				}
				off += w;
			}
		}
	}
}

static __attribute__((noreturn)) void udp_echo(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, addr);
	int s = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *) &ss, len))
		die("bind");
	printf("ready pid=%d port=%d\n", (int) getpid(), port_of(s));
	int paused = 0;
	for (;;) {
		if (usr2) {
			usr2 = 0;
			paused = !paused;
			printf(paused ? "paused\n" : "reading\n");
		}
		if (paused) {
			sigsuspend(&unblocked);
			continue;
		}
		struct pollfd pf = { .fd = s, .events = POLLIN };
		if (ppoll(&pf, 1, NULL, &unblocked) < 0) {
			if (errno == EINTR)
				continue;
			die("ppoll");
		}
		char buf[2048], host[64];
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t r = recvfrom(s, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *) &from, &flen);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("recvfrom");
		}
		buf[r] = 0;
		int port = from.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *) &from)->sin6_port)
						      : ntohs(((struct sockaddr_in *) &from)->sin_port);
		inet_ntop(from.ss_family, from.ss_family == AF_INET6 ? (void *) &((struct sockaddr_in6 *) &from)->sin6_addr
								   : (void *) &((struct sockaddr_in *) &from)->sin_addr,
			  host, sizeof(host));
		if (sendto(s, buf, r, 0, (struct sockaddr *) &from, flen) != r)
			printf("sendto failed: %s\n", strerror(errno));
		printf("echoed %s from %s:%d\n", buf, host, port);
	}
}

static __attribute__((noreturn)) void udp_client(const char *addr, int server_port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, addr);
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *) &ss)->sin6_port = htons(server_port);
	else
		((struct sockaddr_in *) &ss)->sin_port = htons(server_port);
	int s = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *) &ss, len))
		die("connect");
	struct timeval tv = { .tv_sec = 20 };
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		die("SO_RCVTIMEO");
	printf("ready pid=%d port=%d\n", (int) getpid(), port_of(s));
	for (int n = 1;; n++) {
		while (!usr1)
			sigsuspend(&unblocked);
		usr1 = 0;
		char buf[64];
		int k = snprintf(buf, sizeof(buf), "ping-%d", n);
		if (send(s, buf, k, 0) != k)
			die("send");
		ssize_t r = recv(s, buf, sizeof(buf) - 1, 0);
		if (r < 0)
			die("recv");
		buf[r] = 0;
		printf("got %s from port %d\n", buf, port_of(s));
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	if (argc == 3 && !strcmp(argv[1], "tcp-echo"))
		tcp_echo(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "udp-echo"))
		udp_echo(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "udp-client"))
		udp_client(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: inet_sockets tcp-echo ADDR | udp-echo ADDR | udp-client ADDR PORT\n");
	return 2;
}

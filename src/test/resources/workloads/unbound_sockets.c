/*
 * unbound_sockets: sockets made and never bound, as a program holds them before it uses them
 * (zdtm's sock_opts02): TCP over IPv4 with a locked send buffer, TCP over IPv6 (IPV6_V6ONLY),
 * UDP over IPv4 with a locked receive buffer.
 * Output:
 *   ready pid=<pid>
 *   on SIGUSR1: obs <per socket: domain/type/proto sndbuf rcvbuf buflock v6only port>
 *   on SIGUSR2: the sockets put to use: the TCP one listens, the UDP one binds, on 127.0.0.1:
 *               "used listen=<0|errno> bind=<0|errno>"
 *   exit code=0 on SIGTERM
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "say.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

static volatile sig_atomic_t usr1, usr2, term;
static void on_usr1(int s) { (void)s; usr1 = 1; }
static void on_usr2(int s) { (void)s; usr2 = 1; }
static void on_term(int s) { (void)s; term = 1; }

static int opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof v;
	getsockopt(fd, level, name, &v, &l);
	return v;
}

static int port_of(int fd)
{
	struct sockaddr_storage a;
	socklen_t l = sizeof a;
	if (getsockname(fd, (struct sockaddr *)&a, &l))
		return -1;
	return ntohs(((struct sockaddr_in *)&a)->sin_port);
}

int main(void)
{
	int sk[3];
	int size = 16384, one = 1;
	sk[0] = socket(AF_INET, SOCK_STREAM, 0);
	sk[1] = socket(AF_INET6, SOCK_STREAM, 0);
	sk[2] = socket(AF_INET, SOCK_DGRAM, 0);
	if (sk[0] < 0 || sk[1] < 0 || sk[2] < 0 || setsockopt(sk[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size)
	    || setsockopt(sk[1], IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)
	    || setsockopt(sk[2], SOL_SOCKET, SO_RCVBUF, &size, sizeof size)) {
		say("BAD setup: %s\n", strerror(errno));
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	say("ready pid=%d\n", (int)getpid());
	while (!term) {
		pause();
		if (usr1) {
			char line[400];
			int n = snprintf(line, sizeof line, "obs");
			usr1 = 0;
			for (int i = 0; i < 3; i++)
				n += snprintf(line + n, sizeof line - n, " %d/%d/%d:%d:%d:%d:%d:%d", opt(sk[i], SOL_SOCKET, SO_DOMAIN),
					      opt(sk[i], SOL_SOCKET, SO_TYPE), opt(sk[i], SOL_SOCKET, SO_PROTOCOL),
					      opt(sk[i], SOL_SOCKET, SO_SNDBUF), opt(sk[i], SOL_SOCKET, SO_RCVBUF),
					      opt(sk[i], SOL_SOCKET, SO_BUF_LOCK),
					      i == 1 ? opt(sk[i], IPPROTO_IPV6, IPV6_V6ONLY) : 0, port_of(sk[i]));
			say("%s\n", line);
		}
		if (usr2) {
			struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			usr2 = 0;
			int l = bind(sk[0], (struct sockaddr *)&lo, sizeof lo) || listen(sk[0], 1) ? errno : 0;
			int b = bind(sk[2], (struct sockaddr *)&lo, sizeof lo) ? errno : 0;
			say("used listen=%d bind=%d\n", l, b);
		}
	}
	say("exit code=0\n");
	return 0;
}

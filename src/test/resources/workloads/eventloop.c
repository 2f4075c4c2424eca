/*
 * eventloop: what an event loop holds (eventfd, timerfd, signalfd, epoll), with state a
 * restore must keep, observed on demand.
 *
 * Usage: eventloop
 * Objects (fd numbers in the ready line):
 *   efd    eventfd, counter 5, EFD_NONBLOCK
 *   sem    eventfd, counter 3, EFD_SEMAPHORE|EFD_NONBLOCK
 *   big    eventfd, counter 2^32+7 (more than eventfd2's 32-bit start value)
 *   sfd    signalfd for SIGUSR2 and SIGRTMIN+3 (both blocked, both pending: SIGUSR2 raised,
 *          SIGRTMIN+3 queued with value 42), SFD_NONBLOCK|SFD_CLOEXEC
 *   rel    timerfd CLOCK_MONOTONIC, relative one-shot, REL_MS after start
 *   abs    timerfd CLOCK_REALTIME, TFD_TIMER_ABSTIME one-shot at start + ABS_MS
 *   fired  timerfd CLOCK_MONOTONIC one-shot of 10 ms that expired unread (1 tick)
 *   per    timerfd CLOCK_BOOTTIME, every 50 ms, never read until an observation
 *   ep     epoll watching (data in parentheses): efd (1, level), sem (2, EPOLLET),
 *          sfd (3), rel (4), abs (5, EPOLLONESHOT), fired (6), the read end of an empty
 *          pipe (7, EPOLLEXCLUSIVE), the eventfd "hidden" (counter 2) registered under a dup
 *          that was then closed and whose number /dev/null took (8: closed=<fd>), a nested
 *          epoll watching efd (9)
 *   main   epoll watching rel and abs, which the main loop waits in (epoll_wait, no timeout)
 * Output:
 *   ready pid=<pid> ep=<fd> closed=<fd> sem=<fd> start_mono_ms=<ms> abs_real_ms=<ms>
 *   fired rel mono_ms=<CLOCK_MONOTONIC ms>      when rel expires (the main loop sees it)
 *   fired abs real_ms=<CLOCK_REALTIME ms>       when abs expires
 *   on SIGUSR1, observation number N (1, 2, ...), each line starting "obs N":
 *     obs N ready <data>:<events hex> ...       epoll_wait(ep, timeout 0), by data
 *     obs N counts efd=<v> sem=<v>,<v>,<v>,<v|EAGAIN> big=<v> closed=<v>   (first observation)
 *     obs N signals <signo>:<ssi_int> ...       read through sfd until EAGAIN (first)
 *     obs N fired=<ticks> per=<ticks>           reads of fired and per (first)
 *     obs N flags efd=<F_GETFL octal> sem=.. sfd=.. rel=.. ep=..
 *     obs N left rel_ms=<ms> abs_ms=<ms>        timerfd_gettime
 *   exit code=0                                 on SIGTERM
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define REL_MS 15000
#define ABS_MS 18000

static volatile sig_atomic_t usr1, term;
static int hidden, efd, sem, big, sfd, rel, abst, fired, per, ep, ep2, epmain, closedfd, pipefd[2];

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		usr1 = 1;
	else
		term = 1;
}

static void die(const char *what)
{
	printf("BAD %s: %s\n", what, strerror(errno));
	exit(1);
}

static long long ms(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void arm(int fd, int flags, long long value_ms, long long interval_ms)
{
	struct itimerspec its = {
		.it_interval = {interval_ms / 1000, (interval_ms % 1000) * 1000000},
		.it_value = {value_ms / 1000, (value_ms % 1000) * 1000000},
	};
	if (timerfd_settime(fd, flags, &its, NULL))
		die("timerfd_settime");
}

static void watch(int epfd, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl");
}

static void put(int fd, uint64_t v)
{
	if (write(fd, &v, 8) != 8)
		die("write eventfd");
}

static char *take(int fd, char *buf)
{
	uint64_t v;
	if (read(fd, &v, 8) != 8) {
		if (errno != EAGAIN)
			die("read");
		return strcpy(buf, "EAGAIN");
	}
	sprintf(buf, "%llu", (unsigned long long)v);
	return buf;
}

static long long left_ms(int fd)
{
	struct itimerspec its;
	if (timerfd_gettime(fd, &its))
		die("timerfd_gettime");
	return its.it_value.tv_sec * 1000LL + its.it_value.tv_nsec / 1000000;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct epoll_event *)a)->data.u64, y = ((const struct epoll_event *)b)->data.u64;
	return x < y ? -1 : x > y;
}

static void observe(int n)
{
	struct epoll_event evs[32];
	int k = epoll_wait(ep, evs, 32, 0);
	if (k < 0)
		die("epoll_wait(ep)");
	qsort(evs, k, sizeof evs[0], cmp);
	printf("obs %d ready", n);
	for (int i = 0; i < k; i++)
		printf(" %llu:%x", (unsigned long long)evs[i].data.u64, evs[i].events);
	printf("\n");
	if (n == 1) {
		char a[32], b[32], c[32], d[32], e[32], f[32], g[32];
		take(efd, a); /* one at a time: the order of reads matters */
		take(sem, b);
		take(sem, c);
		take(sem, d);
		take(sem, e);
		take(big, f);
		take(hidden, g);
		printf("obs %d counts efd=%s sem=%s,%s,%s,%s big=%s closed=%s\n", n, a, b, c, d, e, f, g);
		printf("obs %d signals", n);
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof si) == sizeof si)
			printf(" %u:%d", si.ssi_signo, si.ssi_int);
		if (errno != EAGAIN)
			die("read sfd");
		printf("\n");
		take(fired, a);
		take(per, b);
		printf("obs %d fired=%s per=%s\n", n, a, b);
	}
	printf("obs %d flags efd=%o sem=%o sfd=%o rel=%o ep=%o\n", n, fcntl(efd, F_GETFL), fcntl(sem, F_GETFL),
	       fcntl(sfd, F_GETFL), fcntl(rel, F_GETFL), fcntl(ep, F_GETFL));
	printf("obs %d left rel_ms=%lld abs_ms=%lld\n", n, left_ms(rel), left_ms(abst));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: epoll_wait returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	long long start = ms(CLOCK_MONOTONIC), start_real = ms(CLOCK_REALTIME);

	efd = eventfd(0, EFD_NONBLOCK);
	put(efd, 5);
	sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	big = eventfd(0, 0);
	put(big, (1ULL << 32) + 7);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGRTMIN + 3);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	raise(SIGUSR2);
	union sigval v = {.sival_int = 42};
	sigqueue(getpid(), SIGRTMIN + 3, v);

	rel = timerfd_create(CLOCK_MONOTONIC, 0);
	arm(rel, 0, REL_MS, 0);
	abst = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	arm(abst, TFD_TIMER_ABSTIME, start_real + ABS_MS, 0);
	fired = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	arm(fired, 0, 10, 0);
	per = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	arm(per, 0, 50, 50);
	if (pipe(pipefd))
		die("pipe");

	ep = epoll_create1(0);
	ep2 = epoll_create1(EPOLL_CLOEXEC);
	watch(ep, efd, EPOLLIN, 1);
	watch(ep, sem, EPOLLIN | EPOLLET, 2);
	watch(ep, sfd, EPOLLIN, 3);
	watch(ep, rel, EPOLLIN, 4);
	watch(ep, abst, EPOLLIN | EPOLLONESHOT, 5);
	watch(ep, fired, EPOLLIN, 6);
	watch(ep, pipefd[0], EPOLLIN | EPOLLEXCLUSIVE, 7);
	hidden = eventfd(2, EFD_NONBLOCK);
	closedfd = dup(hidden);
	watch(ep, closedfd, EPOLLIN, 8);
	close(closedfd);
	if (open("/dev/null", O_RDONLY) != closedfd) /* the number now names another file */
		die("reuse of the closed fd");
	watch(ep2, efd, EPOLLIN, 1);
	watch(ep, ep2, EPOLLIN, 9);
	epmain = epoll_create1(EPOLL_CLOEXEC);
	watch(epmain, rel, EPOLLIN, 4);
	watch(epmain, abst, EPOLLIN, 5);
	struct timespec ten = {0, 30 * 1000000};
	nanosleep(&ten, NULL); /* fired expires */

	printf("ready pid=%d ep=%d closed=%d sem=%d start_mono_ms=%lld abs_real_ms=%lld\n", getpid(), ep, closedfd,
	       sem, start, start_real + ABS_MS);
	int n = 0;
	for (;;) {
		struct epoll_event evs[4];
		int k = epoll_wait(epmain, evs, 4, -1);
		if (k < 0) {
			if (errno != EINTR)
				die("epoll_wait");
			if (usr1) {
				usr1 = 0;
				observe(++n);
			}
			if (term) {
				printf("exit code=0\n");
				return 0;
			}
			continue;
		}
		for (int i = 0; i < k; i++) {
			/* not read: ep must still see them ready; no longer waited for here */
			if (evs[i].data.u64 == 4) {
				printf("fired rel mono_ms=%lld\n", ms(CLOCK_MONOTONIC));
				epoll_ctl(epmain, EPOLL_CTL_DEL, rel, NULL);
			} else {
				printf("fired abs real_ms=%lld\n", ms(CLOCK_REALTIME));
				epoll_ctl(epmain, EPOLL_CTL_DEL, abst, NULL);
			}
		}
	}
}

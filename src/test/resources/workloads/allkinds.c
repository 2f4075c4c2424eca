/*
 * allkinds: one process holding every kind of open file jcriu saves, all at once, observed
 * on demand and checked by the process itself.
 *
 * Usage: allkinds DIR   (DIR, relative to the run directory, is made if missing and watched)
 * Objects (made in the run directory):
 *   sem     eventfd, counter 3, EFD_SEMAPHORE|EFD_NONBLOCK
 *   tfd     timerfd CLOCK_MONOTONIC, relative, first expiry TIMER_MS after arm_ms, then every
 *           PERIOD_MS, never read until the observation
 *   sfd     signalfd for SIGUSR2 (blocked, queued with value 7), SFD_NONBLOCK
 *   ino     inotify watching DIR (IN_CREATE|IN_DELETE)
 *   pipe    pipe2(O_NONBLOCK) holding "pipe-bytes" unread
 *   fifo    FIFO ./fifo, both ends, "fifo-bytes" unread
 *   unix    SOCK_STREAM socketpair, "to-b" queued towards b, "to-a" towards a
 *   tcp     listener on 127.0.0.1 (port in the ready line), a client connected to it and the
 *           accepted end: "c2s-bytes" queued to the accepted end, "s2c-bytes" to the client
 *   ep      epoll watching (EPOLLIN, data in parentheses): sem (1), tfd (2), sfd (3), ino (4),
 *           pipe read end (5), fifo read end (6), unix a (7), accepted (8), listener (9),
 *           pty master (10)
 *   mem     memfd "allmem", 4096 bytes "memfd-content" then zeros, mapped MAP_SHARED,
 *           sealed F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL
 *   del     ./deleted.dat, 3000 bytes i%251, O_RDWR, offset 11, unlinked
 *   locks   ./lock.flock flock(LOCK_EX); ./lock.posix POSIX write lock on bytes 0-9;
 *           ./lock.ofd OFD write lock on bytes 5-EOF
 *   attrs   /dev/null O_RDONLY|O_CLOEXEC; ./append.log O_WRONLY|O_APPEND ("abc" written);
 *           a pipe read end O_NONBLOCK|O_ASYNC; ./opath.target O_PATH; DIR O_RDONLY|O_DIRECTORY;
 *           /proc/self/stat; /sys/devices/system/cpu/online (offset 1); /dev/zero O_RDWR;
 *           /dev/urandom O_NONBLOCK; ./sync.dat O_RDWR|O_SYNC|O_NOATIME
 *   pty     a pty pair (O_NOCTTY, non-blocking): slave termios ECHO off, VINTR ^X, window
 *           33x111; "to-master\n" written by the slave, "to-slave\n" by the master, both unread
 *   O_ASYNC: the pipe read end above, unix b, the TCP client, the pty master and ino have O_ASYNC, owner
 *           this process (F_SETOWN_EX F_OWNER_PID), F_SETSIG SIGRTMIN+2
 *   close-on-exec: tfd, ino, the FIFO's write end, unix b, the accepted end, ep, mem, lock.posix,
 *           the pty slave, opath and DIR's fd have FD_CLOEXEC, the others not
 * Output:
 *   ready pid=<pid> port=<tcp port> pts=<N> arm_ms=<CLOCK_MONOTONIC ms when tfd was armed>
 *   on SIGUSR1 (once), lines starting "obs " (pids, fd paths and ports left out, so two runs
 *   print the same lines), the timer's line apart:
 *     obs epoll ready <data>:<events hex> ...
 *     obs eventfd sem=<v>,<v>,<v>,<v|EAGAIN> flags=<octal>
 *     obs timer ticks=<n> read_ms=<CLOCK_MONOTONIC ms of the read> left_ok=<0|1>
 *     obs signalfd <signo>:<ssi_int> ... then=<EAGAIN|...>
 *     obs inotify <mask hex>:<name> ...         (the test creates DIR/created before SIGUSR1)
 *     obs pipe unread=<n> data=<bytes>
 *     obs fifo unread=<n> data=<bytes>
 *     obs unix a=<bytes> b=<bytes>
 *     obs tcp server=<bytes> client=<bytes> echo=<bytes> listener=<ok|errno name>
 *     obs memfd name=<link> seals=<hex> size=<n> head=<bytes> shared=<0|1> grow=<errno name>
 *     obs deleted nlink=<n> pos=<off> flags=<octal> sum=<sum of bytes> link=<basename of link>
 *     obs locks flock=<errno name> posix=<l_type>:<by parent 0|1> ofd=<l_type> (from a child)
 *     obs devices sys=<cpu/online>:<offset>:<flags octal> zero=<read zeros 0|1>:<octal> urandom=<octal>
 *     obs attrs devnull=<FD_CLOEXEC>:<octal> append=<octal>:<size after a write> nonblock=<octal>
 *           async=<octal>:<owner type>:<owner is self>:<sig> opath=<octal> dir=<isdir>:<name>
 *           proc=<first field of stat is pid 0|1>
 *     obs pty pts_same=<0|1> echo=<0|1> vintr=<n> ws=<rows>x<cols> master=<bytes> slave=<bytes>
 *     obs sigio pipe=<0|1> unix=<0|1> tcp=<0|1> pty=<0|1> inotify=<0|1>   (after a byte is written
 *           towards each O_ASYNC fd, or DIR/async made, did F_SETSIG's signal come, naming it)
 *     obs summary checks=<n> failed=<n> [names of the failed checks]
 *   exit code=0                                on SIGTERM
 * Bytes are printed with \r as "\r" and \n as "\n".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "say.h"

#define TIMER_MS 300
#define PERIOD_MS 100
#define MEM_SIZE 4096
#define DEL_SIZE 3000

static volatile sig_atomic_t usr1, term, sigio_fd = -1, sigio_sig;
static int sem, tfd, sfd, ino, pipefd[2], fifo_r, fifo_w, ua, ub, lst, cli, acc, ep, mem, del, flk, plk, olk;
static int syncfd, sysfd, zero, urandom, devnull, appendfd, apipe[2], opath, dirfd_, procfd, ptm, pts, ptsn;
static unsigned char *memmap;
static long long arm_ms;
static const char *dir;
static int checks, failed;
static char failures[256];

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		usr1 = 1;
	else
		term = 1;
}

static void on_io(int sig, siginfo_t *si, void *c)
{
	(void)c;
	sigio_fd = si->si_fd;
	sigio_sig = sig;
}

static void die(const char *what)
{
	say("BAD %s: %s\n", what, strerror(errno));
	exit(1);
}

static void check(int ok, const char *name)
{
	checks++;
	if (!ok) {
		failed++;
		if (strlen(failures) + strlen(name) + 2 < sizeof failures) {
			strcat(failures, " ");
			strcat(failures, name);
		}
	}
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die("write");
}

/* What a non-blocking fd holds, read whole, printable: \r and \n escaped. */
static char *drain(int fd, char *out, size_t n)
{
	char b[128];
	ssize_t r = read(fd, b, sizeof b);
	size_t k = 0;
	if (r < 0) {
		snprintf(out, n, "%s", strerrorname_np(errno));
		return out;
	}
	for (ssize_t i = 0; i < r && k + 3 < n; i++) {
		if (b[i] == '\n' || b[i] == '\r') {
			out[k++] = '\\';
			out[k++] = b[i] == '\n' ? 'n' : 'r';
		} else {
			out[k++] = b[i];
		}
	}
	out[k] = 0;
	return out;
}

static int unread(int fd)
{
	int n = -1;
	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

static void watch(int fd, uint64_t data)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = data};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl");
}

/* O_ASYNC with this process as owner and SIGRTMIN+2 as the signal. */
static void make_async(int fd)
{
	struct f_owner_ex own = {F_OWNER_PID, getpid()};
	if (fcntl(fd, F_SETOWN_EX, &own) || fcntl(fd, F_SETSIG, SIGRTMIN + 2)
	    || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC))
		die("async");
}

/*
 * A byte written to wfd (wfd -1: a file made in DIR): does its O_ASYNC reader rfd get F_SETSIG's
 * signal, naming rfd?
 */
static int async_ok(int rfd, int wfd)
{
	char x[512] __attribute__((aligned(8)));
	sigio_fd = -1;
	if (wfd >= 0) {
		put(wfd, "!");
	} else {
		snprintf(x, sizeof x, "%s/async", dir);
		close(open(x, O_CREAT | O_WRONLY, 0644));
	}
	struct timespec ms10 = {0, 10 * 1000000};
	for (int i = 0; i < 300 && sigio_fd < 0; i++)
		nanosleep(&ms10, NULL);
	for (int i = 0; i < 300 && read(rfd, x, sizeof x) <= 0; i++)
		nanosleep(&ms10, NULL);
	return sigio_fd == rfd && sigio_sig == SIGRTMIN + 2;
}

static int mk(const char *path, const char *content, size_t n)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, content, n) != (ssize_t)n)
		die(path);
	return fd;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct epoll_event *)a)->data.u64, y = ((const struct epoll_event *)b)->data.u64;
	return x < y ? -1 : x > y;
}

static void obs_epoll(void)
{
	struct epoll_event evs[16];
	char line[256];
	int k = epoll_wait(ep, evs, 16, 0), n;
	if (k < 0)
		die("epoll_wait");
	qsort(evs, k, sizeof evs[0], cmp);
	n = snprintf(line, sizeof line, "obs epoll ready");
	for (int i = 0; i < k; i++)
		n += snprintf(line + n, sizeof line - n, " %llu:%x", (unsigned long long)evs[i].data.u64, evs[i].events);
	say("%s\n", line);
	check(strcmp(line, "obs epoll ready 1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1 10:1") == 0, "epoll");
}

static const char *take(int fd, char *buf)
{
	uint64_t v;
	if (read(fd, &v, 8) != 8)
		return strcpy(buf, strerrorname_np(errno));
	sprintf(buf, "%llu", (unsigned long long)v);
	return buf;
}

static void obs_events(void)
{
	char a[16], b[16], c[16], d[16];
	take(sem, a), take(sem, b), take(sem, c), take(sem, d);
	say("obs eventfd sem=%s,%s,%s,%s flags=%o\n", a, b, c, d, fcntl(sem, F_GETFL));
	check(!strcmp(a, "1") && !strcmp(b, "1") && !strcmp(c, "1") && !strcmp(d, "EAGAIN"), "eventfd");

	uint64_t ticks = 0;
	struct itimerspec its;
	long long now = mono_ms();
	if (read(tfd, &ticks, 8) != 8 || timerfd_gettime(tfd, &its))
		die("timerfd");
	long long left = its.it_value.tv_sec * 1000LL + its.it_value.tv_nsec / 1000000;
	say("obs timer ticks=%llu read_ms=%lld left_ok=%d\n", (unsigned long long)ticks, now,
	    left >= 0 && left <= PERIOD_MS && its.it_interval.tv_nsec == PERIOD_MS * 1000000LL);
	check(ticks > 0 && left <= PERIOD_MS, "timer");

	struct signalfd_siginfo si;
	char line[128];
	int n = snprintf(line, sizeof line, "obs signalfd");
	while (read(sfd, &si, sizeof si) == sizeof si)
		n += snprintf(line + n, sizeof line - n, " %u:%d", si.ssi_signo, si.ssi_int);
	say("%s then=%s\n", line, strerrorname_np(errno));
	check(strcmp(line, "obs signalfd 12:7") == 0, "signalfd");

	char buf[512] __attribute__((aligned(8)));
	ssize_t r = read(ino, buf, sizeof buf);
	n = snprintf(line, sizeof line, "obs inotify");
	for (char *p = buf; r > 0 && p < buf + r;) {
		struct inotify_event *e = (struct inotify_event *)p;
		n += snprintf(line + n, sizeof line - n, " %x:%s", e->mask, e->len ? e->name : "-");
		p += sizeof *e + e->len;
	}
	say("%s\n", line);
	check(strcmp(line, "obs inotify 100:created") == 0, "inotify");
}

static void obs_streams(void)
{
	char a[128], b[128], c[128];
	int u = unread(pipefd[0]);
	say("obs pipe unread=%d data=%s\n", u, drain(pipefd[0], a, sizeof a));
	check(u == 10 && !strcmp(a, "pipe-bytes"), "pipe");
	u = unread(fifo_r);
	say("obs fifo unread=%d data=%s\n", u, drain(fifo_r, a, sizeof a));
	check(u == 10 && !strcmp(a, "fifo-bytes"), "fifo");
	say("obs unix a=%s b=%s\n", drain(ua, a, sizeof a), drain(ub, b, sizeof b));
	check(!strcmp(a, "to-a") && !strcmp(b, "to-b"), "unix");

	drain(acc, a, sizeof a);
	drain(cli, b, sizeof b);
	put(cli, "ping"); /* the connection still carries bytes */
	struct timespec ms10 = {0, 10 * 1000000};
	for (int i = 0; i < 300 && unread(acc) < 4; i++)
		nanosleep(&ms10, NULL);
	drain(acc, c, sizeof c);
	/* the listener still takes connections on its port */
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	const char *listener = "ok";
	int s = socket(AF_INET, SOCK_STREAM, 0), t = -1;
	if (getsockname(lst, (struct sockaddr *)&sin, &sl) || connect(s, (struct sockaddr *)&sin, sl))
		listener = strerrorname_np(errno);
	else if ((t = accept(lst, NULL, NULL)) < 0) /* the listener fd is blocking */
		listener = strerrorname_np(errno);
	close(s);
	if (t >= 0)
		close(t);
	say("obs tcp server=%s client=%s echo=%s listener=%s\n", a, b, c, listener);
	check(!strcmp(a, "c2s-bytes") && !strcmp(b, "s2c-bytes") && !strcmp(c, "ping") && !strcmp(listener, "ok"), "tcp");
}

static void obs_memory_files(void)
{
	char name[128] = {0}, p[64], head[14] = {0};
	snprintf(p, sizeof p, "/proc/self/fd/%d", mem);
	if (readlink(p, name, sizeof name - 1) < 0)
		die("readlink memfd");
	struct stat st;
	fstat(mem, &st);
	if (pread(mem, head, 13, 0) != 13)
		die("pread memfd");
	memmap[2000] = 'Z';
	char z = 0;
	if (pread(mem, &z, 1, 2000) != 1)
		die("pread memfd");
	memmap[2000] = 0;
	const char *grow = ftruncate(mem, 2 * MEM_SIZE) ? strerrorname_np(errno) : "OK";
	int seals = fcntl(mem, F_GET_SEALS);
	say("obs memfd name=%s seals=%x size=%ld head=%s shared=%d grow=%s\n", name, seals, (long)st.st_size, head,
	    z == 'Z', grow);
	check(!strcmp(name, "/memfd:allmem (deleted)") && seals == (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
		      && st.st_size == MEM_SIZE && !strcmp(head, "memfd-content") && z == 'Z' && !strcmp(grow, "EPERM"),
	      "memfd");

	unsigned char c[DEL_SIZE];
	unsigned long sum = 0, want = 0;
	fstat(del, &st);
	if (pread(del, c, DEL_SIZE, 0) != DEL_SIZE)
		die("pread deleted");
	for (int i = 0; i < DEL_SIZE; i++)
		sum += c[i], want += i % 251;
	snprintf(p, sizeof p, "/proc/self/fd/%d", del);
	memset(name, 0, sizeof name);
	if (readlink(p, name, sizeof name - 1) < 0)
		die("readlink deleted");
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	long pos = lseek(del, 0, SEEK_CUR);
	say("obs deleted nlink=%lu pos=%ld flags=%o sum=%lu link=%s\n", (unsigned long)st.st_nlink, pos,
	    fcntl(del, F_GETFL), sum, base);
	check(st.st_nlink == 0 && pos == 11 && sum == want && !strcmp(base, "deleted.dat (deleted)"), "deleted");
}

/* From a child, a process of its own: what the locks leave it. */
static void obs_locks(void)
{
	int p[2];
	if (pipe(p))
		die("pipe");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		char out[128];
		int f = open("lock.flock", O_RDWR), x = open("lock.posix", O_RDWR), o = open("lock.ofd", O_RDWR);
		const char *fl = flock(f, LOCK_EX | LOCK_NB) ? strerrorname_np(errno) : "GOT";
		struct flock pl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
		fcntl(x, F_GETLK, &pl);
		struct flock ol = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		fcntl(o, F_OFD_GETLK, &ol);
		snprintf(out, sizeof out, "flock=%s posix=%d:%d ofd=%d:%lld", fl, pl.l_type, pl.l_pid == getppid(), ol.l_type,
			 (long long)ol.l_start);
		if (write(p[1], out, strlen(out)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	char out[128] = {0};
	if (read(p[0], out, sizeof out - 1) < 0)
		die("read child");
	close(p[0]);
	waitpid(child, NULL, 0);
	say("obs locks %s\n", out);
	char want[64];
	snprintf(want, sizeof want, "flock=EAGAIN posix=%d:1 ofd=%d:5", F_WRLCK, F_WRLCK);
	check(!strcmp(out, want), "locks");
}

static void obs_attrs(void)
{
	struct f_owner_ex own = {0};
	struct stat st;
	char d[128] = {0}, p[64], pst[32] = {0};
	fcntl(apipe[0], F_GETOWN_EX, &own);
	put(appendfd, "d");
	fstat(appendfd, &st);
	long appsize = (long)st.st_size;
	fstat(dirfd_, &st);
	snprintf(p, sizeof p, "/proc/self/fd/%d", dirfd_);
	if (readlink(p, d, sizeof d - 1) < 0)
		die("readlink dir");
	if (pread(procfd, pst, sizeof pst - 1, 0) < 0)
		die("pread proc");
	const char *dbase = strrchr(d, '/') ? strrchr(d, '/') + 1 : d;
	int procself = atoi(pst) == getpid();
	char sys[64] = {0}, zeros[8] = {1}, rnd[8];
	if (pread(sysfd, sys, sizeof sys - 1, 0) <= 0 || read(zero, zeros, sizeof zeros) != sizeof zeros
	    || read(urandom, rnd, sizeof rnd) != sizeof rnd)
		die("sys/dev");
	*strchrnul(sys, '\n') = 0;
	long syspos = lseek(sysfd, 0, SEEK_CUR);
	int allzero = !memcmp(zeros, "\0\0\0\0\0\0\0\0", 8);
	say("obs devices sys=%s:%ld:%o zero=%d:%o urandom=%o\n", sys, syspos, fcntl(sysfd, F_GETFL), allzero,
	    fcntl(zero, F_GETFL), fcntl(urandom, F_GETFL));
	check(syspos == 1 && allzero && (fcntl(urandom, F_GETFL) & O_NONBLOCK), "devices");
	say("obs attrs devnull=%d:%o append=%o:%ld nonblock=%o async=%o:%d:%d:%d opath=%o dir=%d:%s proc=%d\n",
	    fcntl(devnull, F_GETFD), fcntl(devnull, F_GETFL), fcntl(appendfd, F_GETFL), appsize, fcntl(pipefd[0], F_GETFL),
	    fcntl(apipe[0], F_GETFL), own.type, own.pid == getpid(), fcntl(apipe[0], F_GETSIG), fcntl(opath, F_GETFL),
	    S_ISDIR(st.st_mode), dbase, procself);
	check(fcntl(devnull, F_GETFD) == FD_CLOEXEC && (fcntl(appendfd, F_GETFL) & O_APPEND) && appsize == 4
		      && (fcntl(pipefd[0], F_GETFL) & O_NONBLOCK) && (fcntl(apipe[0], F_GETFL) & O_ASYNC)
		      && own.type == F_OWNER_PID && own.pid == getpid() && fcntl(apipe[0], F_GETSIG) == SIGRTMIN + 2
		      && (fcntl(opath, F_GETFL) & O_PATH) && S_ISDIR(st.st_mode) && !strcmp(dbase, dir) && procself,
	      "attrs");

}

/* O_ASYNC: a byte written towards each sends F_SETSIG's signal to the owner, naming the fd */
static void obs_sigio(void)
{
	int p = async_ok(apipe[0], apipe[1]), u = async_ok(ub, ua), t = async_ok(cli, acc), m = async_ok(ptm, pts);
	int i = async_ok(ino, -1);
	say("obs sigio pipe=%d unix=%d tcp=%d pty=%d inotify=%d\n", p, u, t, m, i);
	check(p && u && t && m && i, "sigio");
}

static void obs_pty(void)
{
	struct termios t;
	struct winsize ws;
	char m[128], s[128];
	int n = -1;
	if (tcgetattr(pts, &t) || ioctl(pts, TIOCGWINSZ, &ws) || ioctl(ptm, TIOCGPTN, &n))
		die("pty");
	say("obs pty pts_same=%d echo=%d vintr=%d ws=%dx%d master=%s slave=%s\n", n == ptsn, (t.c_lflag & ECHO) != 0,
	    t.c_cc[VINTR], ws.ws_row, ws.ws_col, drain(ptm, m, sizeof m), drain(pts, s, sizeof s));
	check(n == ptsn && !(t.c_lflag & ECHO) && t.c_cc[VINTR] == 24 && ws.ws_row == 33 && ws.ws_col == 111
		      && !strcmp(m, "to-master\\r\\n") && !strcmp(s, "to-slave\\n"),
	      "pty");
}

static void setup(void)
{
	sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec its = {.it_interval = {0, PERIOD_MS * 1000000L}, .it_value = {0, TIMER_MS * 1000000L}};
	arm_ms = mono_ms();
	if (sem < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL))
		die("eventfd/timerfd");

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK);
	union sigval v = {.sival_int = 7};
	if (sfd < 0 || sigqueue(getpid(), SIGUSR2, v))
		die("signalfd");

	mkdir(dir, 0755);
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino < 0 || inotify_add_watch(ino, dir, IN_CREATE | IN_DELETE) != 1)
		die("inotify");

	if (pipe2(pipefd, O_NONBLOCK))
		die("pipe");
	put(pipefd[1], "pipe-bytes");
	unlink("fifo");
	if (mkfifo("fifo", 0600))
		die("mkfifo");
	fifo_r = open("fifo", O_RDONLY | O_NONBLOCK);
	fifo_w = open("fifo", O_WRONLY | O_CLOEXEC);
	if (fifo_r < 0 || fifo_w < 0)
		die("fifo");
	put(fifo_w, "fifo-bytes");

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) || fcntl(sv[1], F_SETFD, FD_CLOEXEC))
		die("socketpair");
	ua = sv[0], ub = sv[1];
	put(ua, "to-b");
	put(ub, "to-a");

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sin;
	lst = socket(AF_INET, SOCK_STREAM, 0);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	if (lst < 0 || cli < 0 || bind(lst, (struct sockaddr *)&sin, sl) || listen(lst, 4)
	    || getsockname(lst, (struct sockaddr *)&sin, &sl) || connect(cli, (struct sockaddr *)&sin, sl)
	    || (acc = accept4(lst, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		die("tcp");
	fcntl(cli, F_SETFL, O_NONBLOCK);
	put(cli, "c2s-bytes");
	put(acc, "s2c-bytes");

	ptm = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (ptm < 0 || grantpt(ptm) || unlockpt(ptm) || ioctl(ptm, TIOCGPTN, &ptsn))
		die("pty master");
	pts = open(ptsname(ptm), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct termios t;
	struct winsize ws = {.ws_row = 33, .ws_col = 111};
	if (pts < 0 || tcgetattr(pts, &t))
		die("pty slave");
	t.c_lflag &= ~ECHO;
	t.c_cc[VINTR] = 24;
	if (tcsetattr(pts, TCSANOW, &t) || ioctl(pts, TIOCSWINSZ, &ws))
		die("pty settings");
	put(pts, "to-master\n");
	put(ptm, "to-slave\n");

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	watch(sem, 1);
	watch(tfd, 2);
	watch(sfd, 3);
	watch(ino, 4);
	watch(pipefd[0], 5);
	watch(fifo_r, 6);
	watch(ua, 7);
	watch(acc, 8);
	watch(lst, 9);
	watch(ptm, 10);

	mem = memfd_create("allmem", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (mem < 0 || ftruncate(mem, MEM_SIZE))
		die("memfd");
	memmap = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
	if (memmap == MAP_FAILED)
		die("mmap memfd");
	memcpy(memmap, "memfd-content", 13);
	if (fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		die("seals");

	unsigned char g[DEL_SIZE];
	for (int i = 0; i < DEL_SIZE; i++)
		g[i] = (unsigned char)(i % 251);
	del = mk("deleted.dat", (char *)g, DEL_SIZE);
	lseek(del, 11, SEEK_SET);
	unlink("deleted.dat");

	flk = mk("lock.flock", "x", 1);
	plk = mk("lock.posix", "0123456789", 10);
	fcntl(plk, F_SETFD, FD_CLOEXEC);
	olk = mk("lock.ofd", "0123456789", 10);
	struct flock pl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	struct flock ol = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 0};
	if (flock(flk, LOCK_EX | LOCK_NB) || fcntl(plk, F_SETLK, &pl) || fcntl(olk, F_OFD_SETLK, &ol))
		die("locks");

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	appendfd = open("append.log", O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
	syncfd = open("sync.dat", O_RDWR | O_CREAT | O_TRUNC | O_SYNC | O_NOATIME, 0600);
	if (syncfd < 0)
		die("sync.dat");
	if (devnull < 0 || appendfd < 0 || pipe(apipe))
		die("attrs");
	put(appendfd, "abc");
	fcntl(apipe[0], F_SETFL, O_NONBLOCK);
	make_async(apipe[0]);
	make_async(ub);
	make_async(cli);
	make_async(ptm);
	make_async(ino);
	close(mk("opath.target", "p", 1));
	opath = open("opath.target", O_PATH | O_CLOEXEC);
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	procfd = open("/proc/self/stat", O_RDONLY);
	sysfd = open("/sys/devices/system/cpu/online", O_RDONLY);
	zero = open("/dev/zero", O_RDWR);
	urandom = open("/dev/urandom", O_RDONLY | O_NONBLOCK);
	char c;
	if (opath < 0 || dirfd_ < 0 || procfd < 0 || sysfd < 0 || zero < 0 || urandom < 0 || read(sysfd, &c, 1) != 1)
		die("open");
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	dir = argv[1];
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_sigaction = on_io;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 2, &sa, NULL);
	setup();

	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	getsockname(lst, (struct sockaddr *)&sin, &sl);
	say("ready pid=%d port=%d pts=%d arm_ms=%lld\n", getpid(), ntohs(sin.sin_port), ptsn, arm_ms);
	int done = 0;
	while (!term) {
		struct timespec ms20 = {0, 20 * 1000000};
		nanosleep(&ms20, NULL);
		if (!usr1 || done)
			continue;
		done = 1;
		obs_epoll();
		obs_events();
		obs_streams();
		obs_memory_files();
		obs_locks();
		obs_attrs();
		obs_pty();
		obs_sigio();
		say("obs summary checks=%d failed=%d%s\n", checks, failed, failures);
	}
	say("exit code=0\n");
	return 0;
}

/*
 * files: open file descriptors whose numbers, targets, offsets and flags a
 * restore must preserve.
 *
 * Usage: files PATH      (PATH: a regular file of at least 1000 bytes, e.g.
 *                         the bytes 0..255 repeated; the test creates it)
 * Descriptors (numbers are whatever open() returns, printed in the ready line):
 *   data   PATH, O_RDONLY; 1000 bytes read at start, so its offset is 1000
 *   42     dup2(data, 42): shares data's open file description (same offset)
 *   log    files.log in the working dir, O_WRONLY|O_APPEND|O_CREAT|O_TRUNC
 *   null   /dev/null, O_RDWR|O_NONBLOCK
 *   zero   /dev/zero, O_RDONLY
 *   random /dev/urandom, O_RDONLY|O_CLOEXEC   (the only fd with FD_CLOEXEC)
 * Output:
 *   ready pid=<pid> data=<fd> dup=42 log=<fd> null=<fd> zero=<fd> random=<fd> offset=1000
 *   read at=<offset before> bytes=<32 lowercase hex digits> offset=<lseek after>
 *                                   on SIGUSR1: the next 16 bytes of PATH
 *   fds ok                          after each read line, when every check passed
 *   fds BAD <name> <what>           otherwise (first failing check)
 *   exit code=0                     on SIGTERM
 * Each SIGUSR1 also appends "usr1 n=<N> at=<offset before>" to files.log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define DUP_FD 42
/* The F_GETFL bits that open() flags leave behind and we check. */
#define CHECKED_FLAGS (O_ACCMODE | O_APPEND | O_NONBLOCK)

struct fdinfo {
	const char *name;
	int fd;
	int flags;     /* expected F_GETFL & CHECKED_FLAGS */
	int cloexec;   /* expected FD_CLOEXEC */
	struct stat st; /* identity recorded at open time */
};

enum { DATA, DUP, LOG, NUL, ZERO, RANDOM, NFDS };
static struct fdinfo fds[NFDS];

static volatile sig_atomic_t usr1_requested;
static volatile sig_atomic_t term_requested;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		usr1_requested = 1;
	else
		term_requested = 1;
}

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

static void track(int slot, const char *name, int fd, int flags, int cloexec)
{
	if (fd < 0)
		die(name);
	fds[slot].name = name;
	fds[slot].fd = fd;
	fds[slot].flags = flags & CHECKED_FLAGS;
	fds[slot].cloexec = cloexec;
	if (fstat(fd, &fds[slot].st) != 0)
		die(name);
}

/* Returns NULL if the descriptor still is what it was at start, else what differs. */
static const char *check_fd(const struct fdinfo *f)
{
	struct stat st;
	int fl, fdfl;

	if (fstat(f->fd, &st) != 0)
		return "fstat-failed";
	if (st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino)
		return "other-file";
	if (st.st_rdev != f->st.st_rdev || (st.st_mode & S_IFMT) != (f->st.st_mode & S_IFMT))
		return "other-type";
	fl = fcntl(f->fd, F_GETFL);
	if (fl < 0 || (fl & CHECKED_FLAGS) != f->flags)
		return "flags";
	fdfl = fcntl(f->fd, F_GETFD);
	if (fdfl < 0 || !!(fdfl & FD_CLOEXEC) != f->cloexec)
		return "cloexec";
	return NULL;
}

/* Checks identity, flags and behaviour of every descriptor; prints one line. */
static void check_all(const char *path)
{
	struct stat st;
	char buf[16];
	const char *bad = NULL;
	int i;

	for (i = 0; i < NFDS && bad == NULL; i++)
		bad = check_fd(&fds[i]);
	if (bad != NULL) {
		printf("fds BAD %s %s\n", fds[i - 1].name, bad);
		return;
	}
	/* PATH must still be the file data was opened on */
	if (stat(path, &st) != 0 || st.st_ino != fds[DATA].st.st_ino
	    || st.st_dev != fds[DATA].st.st_dev) {
		printf("fds BAD data not-path\n");
		return;
	}
	/* the devices are the real ones: null 1:3, zero 1:5, urandom 1:9 */
	if (fds[NUL].st.st_rdev != makedev(1, 3) || fds[ZERO].st.st_rdev != makedev(1, 5)
	    || fds[RANDOM].st.st_rdev != makedev(1, 9)) {
		printf("fds BAD devices rdev\n");
		return;
	}
	/* fd 42 shares the open file description with data, hence the offset */
	if (lseek(fds[DUP].fd, 0, SEEK_CUR) != lseek(fds[DATA].fd, 0, SEEK_CUR)) {
		printf("fds BAD dup offset-not-shared\n");
		return;
	}
	memset(buf, 0xff, sizeof(buf));
	if (read(fds[ZERO].fd, buf, sizeof(buf)) != sizeof(buf)
	    || memcmp(buf, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", sizeof(buf)) != 0) {
		printf("fds BAD zero read\n");
		return;
	}
	if (read(fds[NUL].fd, buf, sizeof(buf)) != 0
	    || write(fds[NUL].fd, buf, sizeof(buf)) != sizeof(buf)) {
		printf("fds BAD null io\n");
		return;
	}
	if (read(fds[RANDOM].fd, buf, sizeof(buf)) != sizeof(buf)) {
		printf("fds BAD random read\n");
		return;
	}
	printf("fds ok\n");
}

int main(int argc, char **argv)
{
	static char initial[1000];
	struct sigaction sa;
	int fd, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		printf("usage: files PATH\n");
		finish(2);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = open(argv[1], O_RDONLY);
	track(DATA, "data", fd, O_RDONLY, 0);
	if (read(fd, initial, sizeof(initial)) != sizeof(initial))
		die("initial read");
	track(DUP, "dup", dup2(fd, DUP_FD), O_RDONLY, 0);
	track(LOG, "log", open("files.log", O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644),
	      O_WRONLY | O_APPEND, 0);
	track(NUL, "null", open("/dev/null", O_RDWR | O_NONBLOCK), O_RDWR | O_NONBLOCK, 0);
	track(ZERO, "zero", open("/dev/zero", O_RDONLY), O_RDONLY, 0);
	track(RANDOM, "random", open("/dev/urandom", O_RDONLY | O_CLOEXEC), O_RDONLY, 1);

	printf("ready pid=%d data=%d dup=%d log=%d null=%d zero=%d random=%d offset=%lld\n",
	       (int)getpid(), fds[DATA].fd, fds[DUP].fd, fds[LOG].fd, fds[NUL].fd,
	       fds[ZERO].fd, fds[RANDOM].fd, (long long)lseek(fd, 0, SEEK_CUR));
	fflush(stdout);

	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL); /* EINTR just means: look at the flags now */
		if (usr1_requested) {
			unsigned char bytes[16];
			char hex[2 * sizeof(bytes) + 1], line[64];
			off_t at = lseek(fd, 0, SEEK_CUR);
			ssize_t got = read(fd, bytes, sizeof(bytes));
			int len;

			usr1_requested = 0;
			if (got < 0)
				got = 0;
			for (ssize_t i = 0; i < got; i++)
				sprintf(hex + 2 * i, "%02x", bytes[i]);
			hex[2 * got] = '\0';
			printf("read at=%lld bytes=%s offset=%lld\n", (long long)at, hex,
			       (long long)lseek(fd, 0, SEEK_CUR));
			len = snprintf(line, sizeof(line), "usr1 n=%d at=%lld\n", ++n,
				       (long long)at);
			if (write(fds[LOG].fd, line, len) != len)
				printf("fds BAD log write\n");
			else
				check_all(argv[1]);
			fflush(stdout);
		}
		if (term_requested)
			finish(0);
	}
}

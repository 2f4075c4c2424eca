/*
 * inotify: an inotify instance with watches whose descriptors have a gap, read by a main
 * loop blocked in read(2).
 *
 * Usage: inotify DIR [fanotify|held]
 *   watches DIR (IN_CREATE|IN_DELETE|IN_ONLYDIR) as wd 1, DIR/gone (removed again: a gap)
 *   as wd 2, DIR/file (IN_MODIFY|IN_CLOSE_WRITE) as wd 3; DIR/file and DIR/gone are created
 *   here. With "fanotify", also holds a fanotify group (which jcriu refuses). With "held",
 *   also watches DIR/held (IN_CLOSE_WRITE|IN_DELETE_SELF) as wd 4, a file it keeps open for
 *   writing and then deletes; SIGUSR1 closes it (events: IN_CLOSE_WRITE, IN_DELETE_SELF,
 *   IN_IGNORED on wd 4).
 * Output:
 *   ready pid=<pid> fd=<inotify fd> dir=<wd> file=<wd> [held=<wd>]
 *   event wd=<wd> mask=<hex> name=<name or ->    per event read
 *   exit code=0                                   on SIGTERM
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <unistd.h>

static volatile sig_atomic_t term, usr1;

static void on_term(int sig)
{
	term = 1;
}

static void on_usr1(int sig)
{
	usr1 = 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	struct sigaction su = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &su, NULL);
	int held = argc > 2 && !strcmp(argv[2], "held");
	char file[PATH_MAX], gone[PATH_MAX];
	snprintf(file, sizeof file, "%s/file", argv[1]);
	snprintf(gone, sizeof gone, "%s/gone", argv[1]);
	close(open(file, O_CREAT | O_WRONLY, 0644));
	close(open(gone, O_CREAT | O_WRONLY, 0644));
	if (argc > 2 && !held && fanotify_init(FAN_CLASS_NOTIF, O_RDONLY) < 0) {
		printf("BAD fanotify_init: %s\n", strerror(errno));
		return 1;
	}
	int fd = inotify_init1(IN_CLOEXEC);
	int d = inotify_add_watch(fd, argv[1], IN_CREATE | IN_DELETE | IN_ONLYDIR);
	int g = inotify_add_watch(fd, gone, IN_ATTRIB);
	int f = inotify_add_watch(fd, file, IN_MODIFY | IN_CLOSE_WRITE);
	if (d < 0 || g < 0 || f < 0 || inotify_rm_watch(fd, g)) {
		printf("BAD inotify: %s\n", strerror(errno));
		return 1;
	}
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n = read(fd, buf, sizeof buf); /* the IN_IGNORED of the removed watch */
	if (n <= 0 || ((struct inotify_event *)buf)->wd != g || !(((struct inotify_event *)buf)->mask & IN_IGNORED)) {
		printf("BAD no IN_IGNORED for the removed watch\n");
		return 1;
	}
	int hfd = -1, h = -1;
	if (held) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/held", argv[1]);
		hfd = open(path, O_CREAT | O_RDWR, 0644);
		h = inotify_add_watch(fd, path, IN_CLOSE_WRITE | IN_DELETE_SELF);
		if (hfd < 0 || h < 0 || write(hfd, "held", 4) != 4 || unlink(path)) {
			printf("BAD held: %s\n", strerror(errno));
			return 1;
		}
		/* the directory's IN_CREATE then IN_DELETE of "held" */
		for (int deleted = 0; !deleted;) {
			n = read(fd, buf, sizeof buf);
			if (n <= 0) {
				printf("BAD no IN_DELETE for held\n");
				return 1;
			}
			for (char *p = buf; p < buf + n;) {
				struct inotify_event *e = (struct inotify_event *)p;
				deleted |= e->wd == d && (e->mask & IN_DELETE);
				p += sizeof *e + e->len;
			}
		}
		printf("ready pid=%d fd=%d dir=%d file=%d held=%d\n", getpid(), fd, d, f, h);
	} else {
		printf("ready pid=%d fd=%d dir=%d file=%d\n", getpid(), fd, d, f);
	}
	while (!term) {
		if (usr1 && hfd >= 0) {
			close(hfd);
			hfd = -1;
			printf("closed held\n");
		}
		n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			printf("BAD read: %s\n", strerror(errno));
			return 1;
		}
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			printf("event wd=%d mask=%x name=%s\n", e->wd, e->mask, e->len ? e->name : "-");
			p += sizeof *e + e->len;
		}
	}
	printf("exit code=0\n");
	return 0;
}

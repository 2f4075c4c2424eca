/*
 * refusable: a counter with one piece of state that jcriu cannot restore, which a dump
 * must refuse, naming it, while the process runs on unharmed.
 *
 * Usage: refusable MODE
 *   proc-cwd        its current directory is /proc/<pid> of a child that exited and was reaped
 *   replaced-parent fd 3 is open on ./gone/sub, which was removed, and ./gone with it, then
 *                   another ./gone was made
 *   seccomp-notify  runs under a seccomp filter that hands sigaltstack(2) to a supervisor
 *                   (SECCOMP_RET_USER_NOTIF; with no listener the call fails with ENOSYS)
 *   uts-ns          in a UTS namespace of its own
 *   traced          traced (PTRACE_SEIZE) by a child of its own, "tracer pid=<pid>"
 *   thread-cputimer a POSIX timer on CLOCK_THREAD_CPUTIME_ID, with a second thread
 *   other-cputimer  a POSIX timer on the CPU clock of its parent process
 *   ldt             has a local descriptor table (modify_ldt)
 *   threads         nothing to refuse by itself: a second thread, "thread tid=<tid>" (a test
 *                   moves it into a cgroup of its own)
 * Output:
 *   [tracer pid=<pid>]
 *   ready pid=<pid> mode=<MODE>
 *   count=<N>          every 50 ms, strictly +1
 *   exit code=0        on SIGTERM
 *   BAD <what>         if setting the mode up failed
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <asm/ldt.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term;
static void on_term(int s) { term = 1; }

static void bad(const char *what)
{
	printf("BAD %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static void *idle_thread(void *arg)
{
	if (arg && syscall(SYS_setresgid, -1, 5, -1) < 0) bad("setresgid in a thread");
	while (!term) pause();
	return NULL;
}

static void *idle_thread_tid(void *arg)
{
	*(volatile pid_t *)arg = syscall(SYS_gettid);
	while (!term) pause();
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_t th;
	if (!strcmp(mode, "proc-cwd")) {
		pid_t child = fork();
		char dir[64];
		if (child == 0) _exit(0);
		snprintf(dir, sizeof dir, "/proc/%d", child);
		if (child < 0 || chdir(dir) < 0 || waitpid(child, NULL, 0) != child) bad("proc cwd");
		/* output goes to an fd opened before: nothing else needs the directory */
	} else if (!strcmp(mode, "replaced-parent")) {
		if (mkdir("gone", 0700) < 0 || mkdir("gone/sub", 0700) < 0 || open("gone/sub", O_RDONLY | O_DIRECTORY) != 3
		    || rmdir("gone/sub") < 0 || rmdir("gone") < 0 || mkdir("gone", 0700) < 0)
			bad("replaced parent");
	} else if (!strcmp(mode, "seccomp-notify")) {
		struct sock_filter filter[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sigaltstack, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {4, filter};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			bad("seccomp-notify");
	} else if (!strcmp(mode, "uts-ns")) {
		if (unshare(CLONE_NEWUTS) < 0) bad("unshare");
	} else if (!strcmp(mode, "traced")) {
		pid_t parent = getpid(), child = fork();
		if (child == 0) {
			if (ptrace(PTRACE_SEIZE, parent, 0, 0) < 0) _exit(1);
			for (;;) { /* a tracer that passes every signal on */
				int st;
				if (waitpid(parent, &st, __WALL) < 0) _exit(0);
				if (WIFSTOPPED(st)) ptrace(PTRACE_CONT, parent, 0, WSTOPSIG(st));
			}
		}
		printf("tracer pid=%d\n", child);
		for (int i = 0; i < 1000; i++) { /* until the child has seized */
			char path[64], line[256];
			snprintf(path, sizeof(path), "/proc/%d/status", parent);
			FILE *f = fopen(path, "r");
			int tracer = 0;
			while (f && fgets(line, sizeof(line), f))
				if (!strncmp(line, "TracerPid:", 10)) tracer = atoi(line + 10);
			if (f) fclose(f);
			if (tracer == child) break;
			usleep(1000);
		}
	} else if (!strcmp(mode, "thread-cputimer")) {
		pthread_create(&th, NULL, idle_thread, NULL);
		timer_t t;
		struct sigevent ev = {.sigev_notify = SIGEV_NONE};
		struct itimerspec its = {{0, 0}, {100, 0}};
		if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t) < 0 || timer_settime(t, 0, &its, NULL) < 0)
			bad("thread cpu timer");
	} else if (!strcmp(mode, "other-cputimer")) {
		clockid_t c;
		timer_t t;
		struct sigevent ev = {.sigev_notify = SIGEV_NONE};
		struct itimerspec its = {{0, 0}, {100, 0}};
		if (clock_getcpuclockid(getppid(), &c) != 0 || timer_create(c, &ev, &t) < 0
		    || timer_settime(t, 0, &its, NULL) < 0)
			bad("cpu timer of the parent");
	} else if (!strcmp(mode, "ldt")) {
		struct user_desc d = {.entry_number = 0, .base_addr = 0, .limit = 0xfff, .seg_32bit = 1,
				      .limit_in_pages = 1, .useable = 1};
		if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)) < 0) bad("modify_ldt");
	} else if (!strcmp(mode, "threads")) {
		static pid_t tid;
		pthread_create(&th, NULL, idle_thread_tid, &tid);
		while (!tid) usleep(1000);
		printf("thread tid=%d\n", tid);
	} else {
		fprintf(stderr, "unknown mode '%s'\n", mode);
		return 2;
	}
	printf("ready pid=%d mode=%s\n", getpid(), mode);
	for (unsigned long n = 1; !term; n++) {
		printf("count=%lu\n", n);
		struct timespec ts = {0, 50000000};
		nanosleep(&ts, NULL);
	}
	printf("exit code=0\n");
	return 0;
}

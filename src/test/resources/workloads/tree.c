/*
 * tree: process trees for jcriu's tests. Every process writes to the inherited stdout (one
 * open file description, O_APPEND, shared by the whole tree), one line per write.
 *
 * Usage: tree MODE [ARGS]
 *   fan W1 W2   the root forks W1 children, each of which forks W2 grandchildren. Child 1
 *               calls setsid() first (a session of its own), child 2 setpgid(0, 0) (its own
 *               group, which its children inherit), and the grandchildren of child 3 join
 *               child 2's group. Prints "member pid=P ppid=Q" once per process, then
 *               "tree ready n=N" from the root once all have started. On SIGUSR1 every
 *               process prints "alive pid=P ticks=T" (T counts 100 ms ticks, strictly +1).
 *               On SIGTERM the root sends SIGTERM to every child, each parent reaps its
 *               children and prints "reaped pid=P n=K bad=B" (B: children whose status was
 *               not an exit with code 7), the root last; then "exit code=0".
 *   zombie C    forks a child that exits with code C at once (or, as "zombie sN", kills
 *               itself with signal N); prints "child pid=X", then "zombie ready" once the
 *               child is a zombie; on SIGUSR1 reaps it and prints "reaped pid=X status=S"
 *               (S as waitpid reports it); on SIGTERM prints "exit code=0".
 *   stopchild [pgrp]  forks a child printing "child count=N" every 50 ms (strictly +1) (with
 *               "pgrp", in a process group of its own, not orphaned, where SIGTSTP stops it);
 *               prints "child pid=X"; on SIGUSR1 prints "child stopped by S" (WSTOPSIG of
 *               waitpid(WUNTRACED)) or "child not stopped"; on SIGTERM kills the child, reaps
 *               it and prints "exit code=0".
 *   append      opens "shared.txt" (no O_APPEND: one offset shared after fork), forks; parent
 *               and child each write "p <n>\n" / "c <n>\n" lines of fixed size every 20 ms;
 *               on SIGTERM (to the parent, which passes it on) both stop, the parent reaps the child and prints
 *               "wrote parent=P child=C", then "exit code=0". A restore that split the
 *               description would make them overwrite each other's lines.
 *   pipe        the parent writes the numbers 1, 2, 3... ("%08d\n") into a pipe as fast as
 *               it can (it blocks when the pipe is full); the child reads one line every
 *               20 ms and prints "got N"; N must go strictly +1. SIGTERM ends both:
 *               "exit code=0".
 *   forkloop    forks a child that exits at once, reaps it, and again, forever; prints
 *               "forks=N" every 100 forks. SIGTERM: "exit code=0".
 *   shm         maps 64 KiB of MAP_SHARED|MAP_ANONYMOUS memory and forks; only the child
 *               increments the counter in it (every 10 ms), only the parent reads it and
 *               prints "seen N" every 50 ms: N keeps growing only while the memory is shared.
 *               Both check a 64 KiB pattern written before the fork ("pattern BAD" if not).
 *               SIGTERM: "exit code=0".
 *   clonesig    clones a child (fork-like) whose end is signalled to it with SIGUSR2 instead of
 *               SIGCHLD; prints "clonesig child pid=X"; both then wait for SIGTERM.
 *   vfork       vforks a child that sleeps 60 s (a raw nanosleep) before it exits, and prints
 *               "vfork child pid=X" from the child first; the parent waits in vfork() meanwhile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "say.h"

static volatile sig_atomic_t term_requested, usr1_requested;
static volatile unsigned long ticks;

static void on_term(int sig) { (void)sig; term_requested = 1; }
static void on_usr1(int sig) { (void)sig; usr1_requested = 1; }

/* One write(2) per line, so lines of processes sharing stdout never interleave. */

static void handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
}

static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !term_requested)
		;
}

/* A member of the fan: ticks until SIGTERM, answering SIGUSR1; then reaps its children. */
static int member_loop(pid_t *kids, int nkids)
{
	int bad = 0, n = 0;

	while (!term_requested) {
		nap(100);
		ticks++;
		if (usr1_requested) {
			usr1_requested = 0;
			say("alive pid=%d ticks=%lu\n", getpid(), ticks);
		}
	}
	for (int i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	for (int i = 0; i < nkids; i++) {
		int st;

		if (waitpid(kids[i], &st, 0) == kids[i]) {
			n++;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
				bad++;
		}
	}
	say("reaped pid=%d n=%d bad=%d\n", getpid(), n, bad);
	return 7;
}

static int fan(int w1, int w2)
{
	pid_t kids[64], group2 = 0;
	int pipefd[2];

	if (w1 > 64 || w2 > 64 || pipe(pipefd) != 0)
		return 2;
	say("member pid=%d ppid=%d\n", getpid(), getppid());
	for (int i = 0; i < w1; i++) {
		int gate[2];

		if (pipe(gate) != 0)
			return 2;
		kids[i] = fork();
		if (kids[i] < 0)
			return 2;
		if (kids[i] == 0) {
			pid_t grand[64];
			char g;

			close(pipefd[0]);
			close(gate[1]);
			if (read(gate[0], &g, 1) != 1) /* the parent knows our group by now */
				_exit(3);
			close(gate[0]);
			if (i == 0)
				setsid();
			else if (i == 1)
				setpgid(0, 0);
			say("member pid=%d ppid=%d\n", getpid(), getppid());
			for (int j = 0; j < w2; j++) {
				grand[j] = fork();
				if (grand[j] < 0)
					_exit(2);
				if (grand[j] == 0) {
					if (i == 2 && group2 > 0 && setpgid(0, group2) != 0)
						_exit(4);
					say("member pid=%d ppid=%d\n", getpid(), getppid());
					if (write(pipefd[1], "g", 1) != 1)
						_exit(5);
					close(pipefd[1]);
					_exit(member_loop(NULL, 0));
				}
			}
			if (write(pipefd[1], "c", 1) != 1)
				_exit(5);
			close(pipefd[1]);
			_exit(member_loop(grand, w2));
		}
		close(gate[0]);
		if (i == 1) {
			setpgid(kids[i], kids[i]); /* as the child does: whoever runs first */
			group2 = kids[i];
		}
		if (write(gate[1], "x", 1) != 1)
			return 2;
		close(gate[1]);
	}
	close(pipefd[1]);
	for (int n = 0; n < w1 * (1 + w2); n++) {
		char c;

		if (read(pipefd[0], &c, 1) != 1)
			return 6;
	}
	close(pipefd[0]);
	say("tree ready n=%d\n", 1 + w1 * (1 + w2));
	member_loop(kids, w1);
	say("exit code=0\n");
	return 0;
}

static int zombie(const char *how)
{
	pid_t kid;
	int st;

	kid = fork();
	if (kid < 0)
		return 2;
	if (kid == 0) {
		if (how[0] == 's') {
			signal(atoi(how + 1), SIG_DFL);
			kill(getpid(), atoi(how + 1));
			_exit(99);
		}
		_exit(atoi(how));
	}
	say("child pid=%d\n", kid);
	for (;;) { /* a zombie until asked: waitid with WNOWAIT sees it without reaping */
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, kid, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == kid)
			break;
	}
	say("zombie ready\n");
	while (!usr1_requested && !term_requested)
		nap(50);
	if (usr1_requested) {
		if (waitpid(kid, &st, 0) != kid)
			return 3;
		say("reaped pid=%d status=%d\n", kid, st);
	}
	while (!term_requested)
		nap(50);
	say("exit code=0\n");
	return 0;
}

static int stopchild(int own_group)
{
	pid_t kid = fork();

	if (kid < 0)
		return 2;
	if (kid == 0) {
		unsigned long n = 0;

		if (own_group)
			setpgid(0, 0);

		for (;;) {
			nap(50);
			say("child count=%lu\n", ++n);
		}
	}
	if (own_group)
		setpgid(kid, kid); /* either may run first */
	say("child pid=%d\n", kid);
	while (!term_requested) {
		nap(50);
		if (usr1_requested) {
			int st;

			usr1_requested = 0;
			if (waitpid(kid, &st, WUNTRACED | WNOHANG) == kid && WIFSTOPPED(st))
				say("child stopped by %d\n", WSTOPSIG(st));
			else
				say("child not stopped\n");
		}
	}
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	say("exit code=0\n");
	return 0;
}

static int append(void)
{
	int fd = open("shared.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	unsigned long n = 0;
	pid_t kid;
	int st, pfd[2];

	if (fd < 0 || pipe(pfd) != 0)
		return 2;
	kid = fork();
	if (kid < 0)
		return 2;
	while (!term_requested) {
		char line[32];

		snprintf(line, sizeof(line), "%c %010lu\n", kid == 0 ? 'c' : 'p', ++n);
		if (write(fd, line, 13) != 13)
			return 4;
		nap(20);
	}
	if (kid == 0) {
		if (write(pfd[1], &n, sizeof(n)) != sizeof(n))
			_exit(5);
		_exit(0);
	}
	kill(kid, SIGTERM);
	{
		unsigned long c = 0;

		if (read(pfd[0], &c, sizeof(c)) != sizeof(c) || waitpid(kid, &st, 0) != kid)
			return 6;
		say("wrote parent=%lu child=%lu\n", n, c);
	}
	say("exit code=0\n");
	return 0;
}

static int pipeline(void)
{
	int pfd[2];
	pid_t kid;

	if (pipe(pfd) != 0)
		return 2;
	kid = fork();
	if (kid < 0)
		return 2;
	if (kid == 0) {
		FILE *in = fdopen(pfd[0], "r");
		char line[32];
		long want = 1;

		close(pfd[1]);
		setvbuf(in, NULL, _IONBF, 0); /* no stdio buffer: what is unread stays in the pipe */
		while (fgets(line, sizeof(line), in) != NULL) {
			long got = atol(line);

			say("got %ld%s\n", got, got == want ? "" : " BAD");
			want = got + 1;
			nap(20);
			if (term_requested)
				break;
		}
		_exit(0);
	}
	close(pfd[0]);
	signal(SIGPIPE, SIG_IGN);
	for (long n = 1; !term_requested; n++) {
		char line[32];

		snprintf(line, sizeof(line), "%08ld\n", n % 100000000);
		if (write(pfd[1], line, 9) != 9)
			break;
	}
	kill(kid, SIGTERM);
	waitpid(kid, NULL, 0);
	say("exit code=0\n");
	return 0;
}

static int forkloop(void)
{
	unsigned long n = 0;

	while (!term_requested) {
		pid_t kid = fork();

		if (kid < 0)
			return 2;
		if (kid == 0)
			_exit(0);
		waitpid(kid, NULL, 0);
		if (++n % 100 == 0)
			say("forks=%lu\n", n);
	}
	say("exit code=0\n");
	return 0;
}

static int shm(void)
{
	volatile unsigned long *mem = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t kid;

	if (mem == MAP_FAILED)
		return 2;
	for (unsigned long i = 1; i < 65536 / sizeof(long); i++)
		mem[i] = i * 2654435761UL;
	kid = fork();
	if (kid < 0)
		return 2;
	while (!term_requested) {
		for (unsigned long i = 1; i < 65536 / sizeof(long); i++) {
			if (mem[i] != i * 2654435761UL) {
				say("pattern BAD in %s at %lu\n", kid == 0 ? "child" : "parent", i);
				return 3;
			}
		}
		if (kid == 0) {
			__atomic_add_fetch(&mem[0], 1, __ATOMIC_SEQ_CST);
			nap(10);
		} else {
			say("seen %lu\n", __atomic_load_n(&mem[0], __ATOMIC_SEQ_CST));
			nap(50);
		}
	}
	if (kid == 0)
		_exit(0);
	kill(kid, SIGTERM);
	waitpid(kid, NULL, 0);
	say("exit code=0\n");
	return 0;
}

static int clonesig(void)
{
	long kid = syscall(SYS_clone, (long)SIGUSR2, 0L, 0L, 0L, 0L);

	if (kid < 0)
		return 2;
	if (kid == 0) {
		while (!term_requested)
			nap(50);
		_exit(0);
	}
	say("clonesig child pid=%ld\n", kid);
	while (!term_requested)
		nap(50);
	/* the child's end comes as SIGUSR2, whose default action would end this process before
	 * it says so if it were preempted after the kill (a busy machine): blocked, it stays pending */
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	kill((pid_t)kid, SIGTERM);
	say("exit code=0\n");
	return 0;
}

static int vforked(void)
{
	pid_t kid = vfork();

	if (kid == 0) {
		struct timespec ts = { 60, 0 };
		char line[64];
		int n = snprintf(line, sizeof(line), "vfork child pid=%ld\n", (long)syscall(SYS_getpid));

		/* only raw system calls in a vfork child: it runs on its parent's stack */
		syscall(SYS_write, 1, line, n);
		syscall(SYS_nanosleep, &ts, NULL);
		_exit(0);
	}
	say("vfork done\n");
	return 0;
}

int main(int argc, char **argv)
{
	int r = 2;

	handlers();
	say("ready pid=%d\n", getpid());
	if (argc > 3 && strcmp(argv[1], "fan") == 0)
		r = fan(atoi(argv[2]), atoi(argv[3]));
	else if (argc > 2 && strcmp(argv[1], "zombie") == 0)
		r = zombie(argv[2]);
	else if (argc > 1 && strcmp(argv[1], "stopchild") == 0)
		r = stopchild(argc > 2 && strcmp(argv[2], "pgrp") == 0);
	else if (argc > 1 && strcmp(argv[1], "append") == 0)
		r = append();
	else if (argc > 1 && strcmp(argv[1], "pipe") == 0)
		r = pipeline();
	else if (argc > 1 && strcmp(argv[1], "forkloop") == 0)
		r = forkloop();
	else if (argc > 1 && strcmp(argv[1], "shm") == 0)
		r = shm();
	else if (argc > 1 && strcmp(argv[1], "clonesig") == 0)
		r = clonesig();
	else if (argc > 1 && strcmp(argv[1], "vfork") == 0)
		r = vforked();
	else
		say("usage: tree fan W1 W2 | zombie C|sN | stopchild | append | pipe | forkloop | shm | clonesig | vfork\n");
	return r;
}

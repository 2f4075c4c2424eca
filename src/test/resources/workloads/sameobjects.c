/*
 * sameobjects: state a restore can get subtly wrong while the process runs on: which
 * descriptions are the one object, which inode a deleted file is, who holds a memfd open for
 * write, and what droppable memory holds. Observed on demand.
 *
 * Usage: sameobjects MODE   (in its run directory)
 * Modes and objects:
 *   droppable  4 pages MAP_DROPPABLE, every byte 0x5a
 *   memfdexec  memfd "script" holding "#!/bin/true" (the fd from memfd_create, O_RDWR), a
 *              read-only fd opened on it through /proc/self/fd, a MAP_PRIVATE read-write
 *              mapping of the read-only fd and a MAP_SHARED read-write mapping of the memfd
 *   links      ./a.dat opened O_RDWR, linked as ./b.dat, b.dat opened O_RDONLY, both names
 *              unlinked, then 1000 bytes written; ./c.dat opened O_RDWR, linked as ./d.dat,
 *              c.dat unlinked (d.dat stays), then 700 bytes written
 *   shmem      5 pages MAP_SHARED|MAP_ANONYMOUS (page i holds i+1 at byte 0), an fd opened
 *              O_RDWR through /proc/self/map_files, that fd mapped MAP_PRIVATE from page 1
 *              (5 pages) and MAP_SHARED from page 2 (3 pages); page 1 of the private mapping
 *              written (copied on write: 22)
 * Output:
 *   ready pid=<pid> mode=<mode>
 *   on SIGUSR1, one line:
 *     obs droppable nonzero=<bytes not 0>
 *     obs memfdexec exec=<exit status of a child that execveat()s the memfd: 0, or the errno (26 ETXTBSY)>
 *     obs links same=<0|1 fds of a and b on one inode> size=<n> nlink=<n>
 *               kept=<0|1 the c.dat fd is ./d.dat's inode> knlink=<n> dsize=<n of ./d.dat>
 *     obs shmem p0=<int> p1=<int> s0=<int> tracks=<0|1 private page 2 sees a write made
 *               through the shared mapping now> writes=<0|1 a write through the fd is seen
 *               in the shared mapping>
 *   on SIGTERM: "exit code=0"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#define PAGE 4096

static volatile sig_atomic_t want_obs, want_exit;

static void on_usr1(int s) { (void)s; want_obs = 1; }
static void on_term(int s) { (void)s; want_exit = 1; }
static void die(const char *what) { perror(what); exit(1); }

static unsigned char *drop;
static int mfd, mro;
static int fa, fb, fc;
static char *shared, *priv, *shared2;
static int sfd;
static int round_no;

static void setup(const char *mode) {
    if (!strcmp(mode, "droppable")) {
        drop = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
        if (drop == MAP_FAILED) die("mmap droppable");
        memset(drop, 0x5a, 4 * PAGE);
    } else if (!strcmp(mode, "memfdexec")) {
        static const char script[] = "#!/bin/true\n";
        char path[64];
        mfd = syscall(SYS_memfd_create, "script", 0);
        if (mfd < 0) die("memfd_create");
        if (write(mfd, script, sizeof(script) - 1) != sizeof(script) - 1) die("write memfd");
        snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
        mro = open(path, O_RDONLY);
        if (mro < 0) die("open memfd read-only");
        if (mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, mro, 0) == MAP_FAILED) die("mmap private");
        if (mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0) == MAP_FAILED) die("mmap shared");
    } else if (!strcmp(mode, "links")) {
        char buf[1000];
        memset(buf, 'q', sizeof(buf));
        fa = open("a.dat", O_RDWR | O_CREAT | O_TRUNC, 0640);
        if (fa < 0 || link("a.dat", "b.dat") < 0) die("a.dat");
        fb = open("b.dat", O_RDONLY);
        if (fb < 0 || unlink("a.dat") < 0 || unlink("b.dat") < 0) die("b.dat");
        if (write(fa, buf, 1000) != 1000) die("write a");
        fc = open("c.dat", O_RDWR | O_CREAT | O_TRUNC, 0640);
        if (fc < 0 || link("c.dat", "d.dat") < 0 || unlink("c.dat") < 0) die("c.dat");
        if (write(fc, buf, 700) != 700) die("write c");
    } else if (!strcmp(mode, "shmem")) {
        char path[128];
        shared = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared == MAP_FAILED) die("mmap shared");
        for (int i = 0; i < 5; i++) *(int *)(shared + i * PAGE) = i + 1;
        snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (long)shared, (long)shared + 5 * PAGE);
        sfd = open(path, O_RDWR);
        if (sfd < 0) die("open map_files");
        priv = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, sfd, PAGE);
        shared2 = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 2 * PAGE);
        if (priv == MAP_FAILED || shared2 == MAP_FAILED) die("mmap fd");
        *(int *)(priv + PAGE) = 22;
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        exit(2);
    }
}

static void observe(const char *mode) {
    if (!strcmp(mode, "droppable")) {
        int n = 0;
        for (int i = 0; i < 4 * PAGE; i++) n += drop[i] != 0;
        printf("obs droppable nonzero=%d\n", n);
    } else if (!strcmp(mode, "memfdexec")) {
        static char *const argv[] = {"true", NULL}, *const envp[] = {NULL};
        int status;
        pid_t pid = fork();
        if (pid == 0) {
            syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
            _exit(errno & 0xff);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid) die("fork/wait");
        printf("obs memfdexec exec=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    } else if (!strcmp(mode, "links")) {
        struct stat a, b, c, d;
        if (fstat(fa, &a) < 0 || fstat(fb, &b) < 0 || fstat(fc, &c) < 0) die("fstat");
        int dok = stat("d.dat", &d) == 0;
        printf("obs links same=%d size=%lld nlink=%ld kept=%d knlink=%ld dsize=%lld\n",
               a.st_dev == b.st_dev && a.st_ino == b.st_ino, (long long)b.st_size, (long)a.st_nlink,
               dok && c.st_dev == d.st_dev && c.st_ino == d.st_ino, (long)c.st_nlink,
               dok ? (long long)d.st_size : -1LL);
    } else {
        int v = 1000 + ++round_no;
        int p0 = *(int *)priv, p1 = *(int *)(priv + PAGE), s0 = *(int *)shared2;
        *(int *)(shared + 3 * PAGE) = v; /* page 3 of the object: page 2 of the private mapping */
        int tracks = *(int *)(priv + 2 * PAGE) == v;
        int w = v + 500;
        if (pwrite(sfd, &w, sizeof(w), 4 * PAGE) != sizeof(w)) die("pwrite shmem");
        printf("obs shmem p0=%d p1=%d s0=%d tracks=%d writes=%d\n", p0, p1, s0, tracks,
               *(int *)(shared + 4 * PAGE) == w);
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    if (argc != 2) {
        fprintf(stderr, "usage: sameobjects MODE\n");
        return 2;
    }
    setup(argv[1]);
    printf("ready pid=%d mode=%s\n", getpid(), argv[1]);
    sigset_t none, mine;
    sigemptyset(&none);
    sigemptyset(&mine);
    sigaddset(&mine, SIGUSR1);
    sigaddset(&mine, SIGTERM);
    sigprocmask(SIG_BLOCK, &mine, NULL); /* taken only inside sigsuspend: none is missed */
    while (!want_exit) {
        if (want_obs) {
            want_obs = 0;
            observe(argv[1]);
        }
        if (!want_exit) sigsuspend(&none);
    }
    printf("exit code=0\n");
    return 0;
}

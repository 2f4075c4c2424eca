/*
 * ghostdirs: a process whose current directory was removed, holding fds on another removed
 * directory, observed on demand.
 *
 * Usage: ghostdirs [tree|nested]   (in its run directory, where it makes and removes ./cwdgone and ./fdgone)
 *   cwdgone  mode 0751, mtime 1100000000; the process chdir's into it, opens "." as fd cfd,
 *            then removes it
 *   fdgone   mode 0705, mtime 1200000000; opened O_RDONLY|O_DIRECTORY (dfd) and O_PATH|O_DIRECTORY
 *            (pfd), then removed
 *   tree     two children share the removed cwd: "fork" (its own fs) and "clonefs" (cloned with
 *            CLONE_FS: one cwd for both)
 *   nested   the fds are on ./outer/inner (mode 0705, mtime 1200000000) instead of ./fdgone, and
 *            ./outer (mode 0750, mtime 1300000000) is removed too
 * Output:
 *   ready pid=<pid> cfd=<fd> dfd=<fd> pfd=<fd>
 *   [child <name> pid=<pid>]
 *   on SIGUSR1 (handed on to the children), lines starting "obs":
 *     obs cwd getcwd=<path or errno name> link=<readlink /proc/self/cwd> nlink=<n> mode=<octal>
 *         mtime=<s> samecfd=<0|1> creat=<errno name of open("x", O_CREAT)> ino=<st_ino of ".">
 *     obs dirs dnlink=<n> dmode=<octal> dmtime=<s> dlink=<readlink> plink=<readlink> same=<0|1>
 *         dflags=<octal> pflags=<octal> dcreat=<errno name> dmkdir=<errno name> pcreat=<errno name>
 *         dents=<entries getdents64 returns> [up=<nlink>/<octal mode>/<mtime> of ".." of dfd, with nested]
 *     obs child <name> link=<readlink /proc/self/cwd> ino=<st_ino of "."> nlink=<n>
 *   on SIGTERM: the children are ended and reaped, then "exit code=0"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t want_obs, want_exit;
static pid_t kids[2];
static int nkids, nested;

static void on_usr1(int s) { (void)s; want_obs = 1; }
static void on_term(int s) { (void)s; want_exit = 1; }
static void die(const char *what) { perror(what); exit(1); }

static const char *err(int ok) { return ok >= 0 ? "ok" : strerrorname_np(errno); }

static const char *linkof(const char *p, char *buf, size_t n) {
    ssize_t r = readlink(p, buf, n - 1);
    buf[r < 0 ? 0 : r] = 0;
    return buf;
}

static void settimes(int base, const char *name, time_t mtime) {
    struct timespec ts[2] = {{1000000000, 0}, {mtime, 0}};
    if (utimensat(base, name, ts, 0) != 0) die("utimensat");
}

static sigset_t waitmask; /* the mask to wait with: the signals unblocked */

static int child_loop(const char *name) {
    char buf[4096];
    struct stat st;
    printf("child %s pid=%d\n", name, getpid());
    for (;;) {
        sigsuspend(&waitmask);
        if (want_exit) _exit(0);
        if (want_obs) {
            want_obs = 0;
            int r = stat(".", &st);
            printf("obs child %s link=%s ino=%lu nlink=%lu\n", name, linkof("/proc/self/cwd", buf, sizeof buf),
                   r == 0 ? (unsigned long)st.st_ino : 0, r == 0 ? (unsigned long)st.st_nlink : 99);
        }
    }
}

static char clone_stack[65536];
static int clone_main(void *arg) { return child_loop((const char *)arg); }

static void observe(int cfd, int dfd, int pfd) {
    char buf[4096], l1[4096], l2[4096], path[64];
    struct stat st, cst, dst, pst;
    const char *gc = getcwd(buf, sizeof buf) ? buf : strerrorname_np(errno);
    char gcs[4096];
    snprintf(gcs, sizeof gcs, "%s", gc);
    int r = stat(".", &st);
    fstat(cfd, &cst);
    int c = open("x", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    const char *creat = err(c);
    printf("obs cwd getcwd=%s link=%s nlink=%lu mode=%o mtime=%ld samecfd=%d creat=%s ino=%lu\n", gcs,
           linkof("/proc/self/cwd", buf, sizeof buf), r == 0 ? (unsigned long)st.st_nlink : 99,
           r == 0 ? st.st_mode : 0, r == 0 ? (long)st.st_mtime : 0,
           r == 0 && st.st_ino == cst.st_ino && st.st_dev == cst.st_dev, creat, (unsigned long)st.st_ino);
    fstat(dfd, &dst);
    fstat(pfd, &pst);
    snprintf(path, sizeof path, "/proc/self/fd/%d", dfd);
    linkof(path, l1, sizeof l1);
    snprintf(path, sizeof path, "/proc/self/fd/%d", pfd);
    linkof(path, l2, sizeof l2);
    const char *dcreat = err(openat(dfd, "y", O_CREAT | O_RDWR | O_CLOEXEC, 0600));
    const char *dmkdir = err(mkdirat(dfd, "z", 0700));
    const char *pcreat = err(openat(pfd, "w", O_CREAT | O_RDWR | O_CLOEXEC, 0600));
    char dents[4096];
    lseek(dfd, 0, SEEK_SET);
    long n = 0, got;
    while ((got = syscall(SYS_getdents64, dfd, dents, sizeof dents)) > 0) {
        for (long off = 0; off < got; n++) off += *(unsigned short *)(dents + off + 16);
    }
    char up[128] = "";
    struct stat ust;
    if (nested && fstatat(dfd, "..", &ust, 0) == 0)
        snprintf(up, sizeof up, " up=%lu/%o/%ld", (unsigned long)ust.st_nlink, ust.st_mode, (long)ust.st_mtime);
    printf("obs dirs dnlink=%lu dmode=%o dmtime=%ld dlink=%s plink=%s same=%d dflags=%o pflags=%o dcreat=%s"
           " dmkdir=%s pcreat=%s dents=%ld%s\n", (unsigned long)dst.st_nlink, dst.st_mode, (long)dst.st_mtime, l1, l2,
           dst.st_ino == pst.st_ino && dst.st_dev == pst.st_dev, fcntl(dfd, F_GETFL), fcntl(pfd, F_GETFL), dcreat,
           dmkdir, pcreat, got < 0 ? -1 : n, up);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    /* both blocked except inside sigsuspend (children inherit it): a signal arriving between
     * a check of the flags and the wait cannot be lost, as it could with pause() */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    umask(0);

    nested = argc > 1 && !strcmp(argv[1], "nested");
    const char *fdname = nested ? "outer/inner" : "fdgone";
    int base = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (base < 0) die("open .");
    if (mkdirat(base, "cwdgone", 0751) != 0 || (nested && mkdirat(base, "outer", 0750) != 0)
        || mkdirat(base, fdname, 0705) != 0)
        die("mkdir");
    int dfd = openat(base, fdname, O_RDONLY | O_DIRECTORY), pfd = openat(base, fdname, O_PATH | O_DIRECTORY);
    if (dfd < 0 || pfd < 0) die("open fdgone");
    settimes(base, "cwdgone", 1100000000);
    settimes(base, fdname, 1200000000);
    if (fchdir(base) != 0 || chdir("cwdgone") != 0) die("chdir");
    int cfd = open(".", O_RDONLY | O_DIRECTORY);
    if (cfd < 0) die("open cwd");
    if (unlinkat(base, "cwdgone", AT_REMOVEDIR) != 0 || unlinkat(base, fdname, AT_REMOVEDIR) != 0) die("rmdir");
    if (nested) {
        settimes(base, "outer", 1300000000); /* after its child went: rmdir changes it */
        if (unlinkat(base, "outer", AT_REMOVEDIR) != 0) die("rmdir outer");
    }
    close(base);

    if (argc > 1 && !strcmp(argv[1], "tree")) {
        pid_t p = fork();
        if (p < 0) die("fork");
        if (p == 0) return child_loop("fork");
        kids[nkids++] = p;
        p = clone(clone_main, clone_stack + sizeof clone_stack, CLONE_FS | SIGCHLD, (void *)"clonefs");
        if (p < 0) die("clone");
        kids[nkids++] = p;
    }
    printf("ready pid=%d cfd=%d dfd=%d pfd=%d\n", getpid(), cfd, dfd, pfd);

    for (;;) {
        sigsuspend(&waitmask);
        if (want_obs) {
            want_obs = 0;
            for (int i = 0; i < nkids; i++) kill(kids[i], SIGUSR1);
            observe(cfd, dfd, pfd);
        }
        if (want_exit) {
            for (int i = 0; i < nkids; i++) {
                kill(kids[i], SIGTERM);
                waitpid(kids[i], NULL, 0);
            }
            printf("exit code=0\n");
            return 0;
        }
    }
}

/*
 * openfiles: the open files a restore must give back with their state, observed on demand.
 *
 * Usage: openfiles [GHOST_BYTES]   (in its run directory, which it fills)
 * Objects (fd numbers in the ready line):
 *   ghost   ghost.dat (GHOST_BYTES, default 5000, bytes i%251), O_RDWR, offset 7, then unlinked;
 *           also mapped MAP_SHARED, and byte 100 written through the mapping
 *   mem     memfd "jmem" (MFD_ALLOW_SEALING), 8192 bytes "memfd-content" then zeros, mapped
 *           MAP_SHARED read-write, sealed F_SEAL_SHRINK|F_SEAL_GROW, offset 3
 *   ro      memfd "jro", 4 bytes "seal", sealed F_SEAL_WRITE|F_SEAL_SEAL, O_RDONLY reopen
 *   fifo_r  FIFO ./fifo read end, O_RDONLY|O_NONBLOCK|O_ASYNC, owner this process
 *           (F_SETOWN_EX F_OWNER_PID), F_SETSIG SIGRTMIN+2; "fifo-bytes" written, unread
 *   fifo_w  FIFO ./fifo write end, O_WRONLY
 *   flk     lock.flock, flock(LOCK_EX)
 *   plk     lock.posix, POSIX write lock on bytes 0-9
 *   olk     lock.ofd, OFD read lock on bytes 100-EOF
 *   opath   ./opath.target opened O_PATH
 *   dir     "." opened O_RDONLY|O_DIRECTORY
 *   proc    /proc/self/stat (its link names /proc/<pid>/stat)
 *   dev     ./dev.node, a character device node made with mknod (1:3, /dev/null's), O_WRONLY
 *   data    data.txt, 6 bytes, O_RDONLY
 * Output:
 *   ready pid=<pid> ghost=<fd> mem=<fd> ro=<fd> fifo_r=<fd> fifo_w=<fd> flk=<fd> plk=<fd> olk=<fd>
 *         opath=<fd> dir=<fd> proc=<fd> dev=<fd> data=<fd>
 *   on SIGUSR1, lines starting "obs":
 *     obs ghost nlink=<n> pos=<off> flags=<octal> sum=<sum of bytes> b100=<byte> map_sees_fd=<0|1>
 *     obs mem name=<link> seals=<hex> pos=<off> head=<first 13 bytes> shared=<0|1>
 *     obs ro seals=<hex> write=<errno name> flags=<octal>
 *     obs fifo flags=<octal> owner=<type>:<pid> sig=<n> unread=<bytes>
 *     obs paths opath=<O_PATH set 0|1>:<link> dir=<isdir 0|1>:<link> proc=<first field of stat>
 *           dev=<major>:<minor> data=<link>
 *   sigio fd=<si_fd> sig=<n>      when SIGRTMIN+2 arrives (the FIFO became readable)
 *   fifo read=<bytes read>        after a sigio, what the FIFO held (then empty)
 *   exit code=0                   on SIGTERM
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t want_obs, want_exit, sigio_fd = -1, sigio_sig;

static void on_usr1(int s) { (void)s; want_obs = 1; }
static void on_term(int s) { (void)s; want_exit = 1; }
static void on_io(int s, siginfo_t *si, void *c) { (void)c; sigio_fd = si->si_fd; sigio_sig = s; }

static void die(const char *what) { perror(what); exit(1); }

static int mk(const char *path, const char *content, size_t n) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die(path);
    if (write(fd, content, n) != (ssize_t)n) die("write");
    return fd;
}

static const char *link_of(int fd, char *buf, size_t n) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t r = readlink(p, buf, n - 1);
    buf[r < 0 ? 0 : r] = 0;
    return buf;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t gbytes = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000;
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_sigaction = on_io;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 2, &sa, NULL);

    char *g = malloc(gbytes);
    for (size_t i = 0; i < gbytes; i++) g[i] = (char)(i % 251);
    int ghost = mk("ghost.dat", g, gbytes);
    unsigned char *gmap = mmap(NULL, gbytes, PROT_READ | PROT_WRITE, MAP_SHARED, ghost, 0);
    if (gmap == MAP_FAILED) die("mmap ghost");
    gmap[100] = 0xAB;
    lseek(ghost, 7, SEEK_SET);
    unlink("ghost.dat");

    int mem = memfd_create("jmem", MFD_ALLOW_SEALING);
    if (mem < 0 || ftruncate(mem, 8192) != 0) die("memfd");
    char *mmem = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
    if (mmem == MAP_FAILED) die("mmap memfd");
    memcpy(mmem, "memfd-content", 13);
    if (fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) die("seal");
    lseek(mem, 3, SEEK_SET);

    int ro0 = memfd_create("jro", MFD_ALLOW_SEALING);
    if (write(ro0, "seal", 4) != 4 || fcntl(ro0, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL) != 0) die("jro");
    char rp[64];
    snprintf(rp, sizeof rp, "/proc/self/fd/%d", ro0);
    int ro = open(rp, O_RDONLY);
    close(ro0);

    unlink("fifo");
    if (mkfifo("fifo", 0600) != 0) die("mkfifo");
    int fifo_r = open("fifo", O_RDONLY | O_NONBLOCK);
    int fifo_w = open("fifo", O_WRONLY);
    if (fifo_r < 0 || fifo_w < 0) die("fifo");
    if (write(fifo_w, "fifo-bytes", 10) != 10) die("fifo write");
    struct f_owner_ex own = {F_OWNER_PID, getpid()};
    if (fcntl(fifo_r, F_SETOWN_EX, &own) != 0 || fcntl(fifo_r, F_SETSIG, SIGRTMIN + 2) != 0
        || fcntl(fifo_r, F_SETFL, O_NONBLOCK | O_ASYNC) != 0) die("async");

    int flk = mk("lock.flock", "x", 1), plk = mk("lock.posix", "0123456789", 10), olk = mk("lock.ofd", "o", 1);
    if (flock(flk, LOCK_EX | LOCK_NB) != 0) die("flock");
    struct flock pl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    if (fcntl(plk, F_SETLK, &pl) != 0) die("posix lock");
    struct flock ol = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 0};
    if (fcntl(olk, F_OFD_SETLK, &ol) != 0) die("ofd lock");

    close(mk("opath.target", "p", 1));
    int opath = open("opath.target", O_PATH);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    int proc = open("/proc/self/stat", O_RDONLY);
    unlink("dev.node");
    if (mknod("dev.node", S_IFCHR | 0600, makedev(1, 3)) != 0) die("mknod");
    int dev = open("dev.node", O_WRONLY);
    int data = open("data.txt", O_RDONLY);
    if (data < 0) data = (close(mk("data.txt", "data!\n", 6)), open("data.txt", O_RDONLY));
    if (opath < 0 || dir < 0 || proc < 0 || dev < 0 || data < 0) die("open");

    printf("ready pid=%d ghost=%d mem=%d ro=%d fifo_r=%d fifo_w=%d flk=%d plk=%d olk=%d opath=%d dir=%d proc=%d dev=%d"
           " data=%d\n", getpid(), ghost, mem, ro, fifo_r, fifo_w, flk, plk, olk, opath, dir, proc, dev, data);
    while (!want_exit) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (sigio_fd >= 0) {
            printf("sigio fd=%d sig=%d\n", (int)sigio_fd, (int)sigio_sig);
            char b[256];
            ssize_t n = read(fifo_r, b, sizeof b - 1);
            b[n < 0 ? 0 : n] = 0;
            printf("fifo read=%s\n", b);
            sigio_fd = -1;
        }
        if (!want_obs) continue;
        want_obs = 0;
        char buf[512], l1[256], l2[256], l3[256];
        struct stat st;
        fstat(ghost, &st);
        unsigned long sum = 0;
        unsigned char *c = malloc(gbytes);
        if (pread(ghost, c, gbytes, 0) != (ssize_t)gbytes) die("pread ghost");
        for (size_t i = 0; i < gbytes; i++) sum += c[i];
        gmap[200] ^= 0xFF; /* through the mapping, seen through the fd? */
        int seen = pread(ghost, c, 1, 200) == 1 && c[0] == gmap[200];
        gmap[200] ^= 0xFF;
        printf("obs ghost nlink=%lu pos=%ld flags=%o sum=%lu b100=%u map_sees_fd=%d\n", (unsigned long)st.st_nlink,
               (long)lseek(ghost, 0, SEEK_CUR), fcntl(ghost, F_GETFL), sum, gmap[100], seen);
        free(c);

        char head[14] = {0};
        pread(mem, head, 13, 0);
        mmem[4000] = 'Z';
        char z = 0;
        pread(mem, &z, 1, 4000);
        mmem[4000] = 0;
        printf("obs mem name=%s seals=%x pos=%ld head=%s shared=%d\n", link_of(mem, l1, sizeof l1),
               fcntl(mem, F_GET_SEALS), (long)lseek(mem, 0, SEEK_CUR), head, z == 'Z');
        snprintf(rp, sizeof rp, "/proc/self/fd/%d", ro);
        int rw = open(rp, O_RDWR);
        const char *werr = rw < 0 ? strerrorname_np(errno)
                                  : (write(rw, "x", 1) < 0 ? strerrorname_np(errno) : "OK");
        if (rw >= 0) close(rw);
        printf("obs ro seals=%x write=%s flags=%o\n", fcntl(ro, F_GET_SEALS), werr, fcntl(ro, F_GETFL));

        struct f_owner_ex o = {0};
        fcntl(fifo_r, F_GETOWN_EX, &o);
        int unread = -1;
        ioctl(fifo_r, FIONREAD, &unread);
        printf("obs fifo flags=%o owner=%d:%d sig=%d unread=%d\n", fcntl(fifo_r, F_GETFL), o.type, o.pid,
               fcntl(fifo_r, F_GETSIG), unread);

        char pst[64] = {0};
        pread(proc, pst, sizeof pst - 1, 0);
        *strchrnul(pst, ' ') = 0;
        fstat(dir, &st);
        int isdir = S_ISDIR(st.st_mode);
        struct stat ds;
        fstat(dev, &ds);
        snprintf(buf, sizeof buf, "obs paths opath=%d:%s dir=%d:%s proc=%s dev=%u:%u data=%s",
                 (fcntl(opath, F_GETFL) & O_PATH) != 0, link_of(opath, l1, sizeof l1), isdir,
                 link_of(dir, l2, sizeof l2), pst, major(ds.st_rdev), minor(ds.st_rdev), link_of(data, l3, sizeof l3));
        puts(buf);
    }
    printf("exit code=0\n");
    return 0;
}

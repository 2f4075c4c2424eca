/*
 * ghosts: files unlinked (or never linked) while open, which a restore must make again and
 * unlink again, observed on demand.
 *
 * Usage: ghosts [holes]   (in its run directory, which it fills; holes.dat only with "holes")
 * Objects (fd numbers in the ready line):
 *   fifo_r  FIFO ./gfifo opened O_RDONLY|O_NONBLOCK, mode 0640; "ghost-fifo-bytes" written, unread
 *   fifo_w  the same FIFO opened O_WRONLY; then ./gfifo is unlinked
 *   link    ./alive.lnk, a symlink to "nowhere" (dangling), opened O_PATH|O_NOFOLLOW
 *   dlink   ./gone.lnk, a symlink to "gone-target", opened O_PATH|O_NOFOLLOW, then unlinked
 *   tmp     an O_TMPFILE file in ".", O_RDWR, 1000 bytes i%253, mode 0604, offset 10
 *   holes   ./holes.dat, O_RDWR: "head" at 0, "middle" at 1 MiB, "tail" at 8 MiB, mode 0640,
 *           atime/mtime set to 1000000000/1100000000, then unlinked
 *   map     (with "map") ./mapped.dat, 8192 bytes 'a' then 'b', mapped MAP_PRIVATE read-write, byte
 *           4096 of the mapping changed to 'X' (copied on write), then closed and unlinked; and a
 *           memfd "jpriv" of 4096 bytes 'm' mapped MAP_PRIVATE, byte 0 changed to 'Y', then closed
 * Output:
 *   ready pid=<pid> fifo_r=<fd> fifo_w=<fd> link=<fd> dlink=<fd> tmp=<fd> holes=<fd>
 *   on SIGUSR1, lines starting "obs":
 *     obs fifo nlink=<n> mode=<octal> unread=<bytes> rflags=<octal> wflags=<octal>
 *     obs link islnk=<0|1> to=<readlinkat> dislnk=<0|1> dnlink=<n> dto=<readlinkat>
 *     obs tmp nlink=<n> mode=<octal> size=<n> sum=<sum of bytes> pos=<off> accmode=<octal> (O_TMPFILE shows in F_GETFL only until a reopen)
 *     obs holes nlink=<n> mode=<octal> size=<n> data=<start-end,...> blocks_le_64k=<0|1> sum=<sum of bytes>
 *           atime=<s> mtime=<s>
 *     obs map b0=<c> b4096=<c> file4096=<c> deleted=<0|1> m0=<c> m1=<c> memfd=<0|1>
 *   on SIGTERM: "fifo read=<what the FIFO held>" then "exit code=0"
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t want_obs, want_exit;

static void on_usr1(int s) { (void)s; want_obs = 1; }
static void on_term(int s) { (void)s; want_exit = 1; }
static void die(const char *what) { perror(what); exit(1); }

static void put(int fd, const char *s, off_t at) {
    if (pwrite(fd, s, strlen(s), at) != (ssize_t)strlen(s)) die("pwrite");
}

static const char *target(int fd, char *buf, size_t n) {
    ssize_t r = readlinkat(fd, "", buf, n - 1);
    buf[r < 0 ? 0 : r] = 0;
    return buf;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    umask(0);

    unlink("gfifo");
    if (mkfifo("gfifo", 0640) != 0) die("mkfifo");
    int fifo_r = open("gfifo", O_RDONLY | O_NONBLOCK), fifo_w = open("gfifo", O_WRONLY);
    if (fifo_r < 0 || fifo_w < 0) die("fifo");
    if (write(fifo_w, "ghost-fifo-bytes", 16) != 16) die("fifo write");
    unlink("gfifo");

    unlink("alive.lnk");
    unlink("gone.lnk");
    if (symlink("nowhere", "alive.lnk") != 0 || symlink("gone-target", "gone.lnk") != 0) die("symlink");
    int link = open("alive.lnk", O_PATH | O_NOFOLLOW), dlink = open("gone.lnk", O_PATH | O_NOFOLLOW);
    if (link < 0 || dlink < 0) die("open symlink");
    unlink("gone.lnk");

    int tmp = open(".", O_RDWR | O_TMPFILE, 0604);
    if (tmp < 0) die("O_TMPFILE");
    unsigned char b[1000];
    for (int i = 0; i < 1000; i++) b[i] = (unsigned char)(i % 253);
    if (write(tmp, b, sizeof b) != sizeof b) die("write tmp");
    lseek(tmp, 10, SEEK_SET);

    int holes = argc > 1 && strcmp(argv[1], "holes") == 0 ? open("holes.dat", O_RDWR | O_CREAT | O_TRUNC, 0640) : -1;
    if (holes >= 0) {
    put(holes, "head", 0);
    put(holes, "middle", 1 << 20);
    put(holes, "tail", 8 << 20);
    struct timespec times[2] = {{1000000000, 0}, {1100000000, 0}};
    if (futimens(holes, times) != 0) die("futimens");
    unlink("holes.dat");
    }

    char *map = NULL, *pm = NULL;
    if (argc > 1 && strcmp(argv[1], "map") == 0) {
        int f = open("mapped.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
        char page[4096];
        memset(page, 'a', sizeof page);
        if (f < 0 || write(f, page, sizeof page) != sizeof page) die("mapped.dat");
        memset(page, 'b', sizeof page);
        if (write(f, page, sizeof page) != sizeof page) die("mapped.dat");
        map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
        if (map == MAP_FAILED) die("mmap");
        map[4096] = 'X';
        close(f);
        unlink("mapped.dat");
        int m = memfd_create("jpriv", 0);
        memset(page, 'm', sizeof page);
        if (m < 0 || write(m, page, sizeof page) != sizeof page) die("memfd");
        pm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0);
        if (pm == MAP_FAILED) die("mmap memfd");
        pm[0] = 'Y';
        close(m);
    }

    printf("ready pid=%d fifo_r=%d fifo_w=%d link=%d dlink=%d tmp=%d holes=%d\n", getpid(), fifo_r, fifo_w, link,
           dlink, tmp, holes);
    while (!want_exit) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (!want_obs) continue;
        want_obs = 0;
        struct stat st;
        fstat(fifo_r, &st);
        int unread = -1;
        ioctl(fifo_r, FIONREAD, &unread);
        printf("obs fifo nlink=%lu mode=%o unread=%d rflags=%o wflags=%o\n", (unsigned long)st.st_nlink, st.st_mode,
               unread, fcntl(fifo_r, F_GETFL), fcntl(fifo_w, F_GETFL));

        char t1[256], t2[256];
        struct stat ls, ds;
        fstatat(link, "", &ls, AT_EMPTY_PATH);
        fstatat(dlink, "", &ds, AT_EMPTY_PATH);
        printf("obs link islnk=%d to=%s dislnk=%d dnlink=%lu dto=%s\n", S_ISLNK(ls.st_mode), target(link, t1, sizeof t1),
               S_ISLNK(ds.st_mode), (unsigned long)ds.st_nlink, target(dlink, t2, sizeof t2));

        fstat(tmp, &st);
        unsigned long sum = 0;
        if (pread(tmp, b, sizeof b, 0) != sizeof b) die("pread tmp");
        for (int i = 0; i < 1000; i++) sum += b[i];
        printf("obs tmp nlink=%lu mode=%o size=%ld sum=%lu pos=%ld accmode=%o\n", (unsigned long)st.st_nlink, st.st_mode,
               (long)st.st_size, sum, (long)lseek(tmp, 0, SEEK_CUR), fcntl(tmp, F_GETFL) & O_ACCMODE);

        if (map) {
            char maps[8192] = {0}, *file = NULL;
            int mf = open("/proc/self/maps", O_RDONLY);
            ssize_t n = read(mf, maps, sizeof maps - 1);
            (void)n;
            close(mf);
            char *line = strstr(maps, "/mapped.dat (deleted)");
            /* what the file holds under the page the process changed: through /proc/self/map_files */
            char mp[128], c = '?';
            snprintf(mp, sizeof mp, "/proc/self/map_files/%lx-%lx", (unsigned long)map, (unsigned long)map + 8192);
            int ff = open(mp, O_RDONLY);
            if (ff >= 0 && pread(ff, &c, 1, 4096) != 1) c = '?';
            if (ff >= 0) close(ff);
            file = strstr(maps, "/memfd:jpriv (deleted)");
            printf("obs map b0=%c b4096=%c file4096=%c deleted=%d m0=%c m1=%c memfd=%d\n", map[0], map[4096], c,
                   line != NULL, pm[0], pm[1], file != NULL);
        }
        if (holes < 0) {
            printf("obs holes none\n");
            continue;
        }
        fstat(holes, &st);
        char ranges[512] = {0};
        size_t used = 0;
        for (off_t at = 0; used < sizeof ranges - 64;) {
            off_t d = lseek(holes, at, SEEK_DATA);
            if (d < 0) break;
            off_t h = lseek(holes, d, SEEK_HOLE);
            used += snprintf(ranges + used, sizeof ranges - used, "%s%ld-%ld", used ? "," : "", (long)d, (long)h);
            at = h;
        }
        sum = 0;
        char c[4096];
        for (off_t at = 0; at < st.st_size;) {
            ssize_t n = pread(holes, c, sizeof c, at);
            if (n <= 0) break;
            for (ssize_t i = 0; i < n; i++) sum += (unsigned char)c[i];
            at += n;
        }
        printf("obs holes nlink=%lu mode=%o size=%ld data=%s blocks_le_64k=%d sum=%lu atime=%ld mtime=%ld\n",
               (unsigned long)st.st_nlink, st.st_mode, (long)st.st_size, ranges, st.st_blocks * 512 <= 65536, sum,
               (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
    }
    char r[64] = {0};
    ssize_t n = read(fifo_r, r, sizeof r - 1);
    r[n < 0 ? 0 : n] = 0;
    printf("fifo read=%s\n", r);
    printf("exit code=0\n");
    return 0;
}

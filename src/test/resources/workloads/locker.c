/*
 * locker: holds a file lock, to check that a dump refuses what it cannot save.
 *
 * Usage: locker flock|posix|fork
 *   fork: a POSIX write lock on bytes 0-9, and a child (sharing the open file) holding one on
 *   bytes 20-29
 * Output: ready pid=<pid> lock=<kind> [child=<pid>]   once lock.file (in the working directory,
 *         fd 3) is locked
 *         alive <N>                     every 100 ms
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open("lock.file", O_RDWR | O_CREAT, 0600);
    if (fd < 0) { perror("open"); return 1; }
    pid_t child = 0;
    if (argc > 1 && strcmp(argv[1], "fork") == 0) {
        struct flock mine = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
        if (fcntl(fd, F_SETLK, &mine) != 0) { perror("fcntl"); return 1; }
        int ready[2];
        if (pipe(ready) != 0) { perror("pipe"); return 1; }
        child = fork();
        if (child == 0) {
            struct flock its = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 10};
            if (fcntl(fd, F_SETLK, &its) != 0) { perror("fcntl child"); _exit(1); }
            close(ready[1]);
            for (;;) pause();
        }
        close(ready[1]);
        char c;
        if (read(ready[0], &c, 1) != 0) return 1; /* EOF: the child has its lock */
        close(ready[0]);
    } else if (argc > 1 && strcmp(argv[1], "posix") == 0) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_SETLK, &fl) != 0) { perror("fcntl"); return 1; }
    } else if (flock(fd, LOCK_EX) != 0) {
        perror("flock");
        return 1;
    }
    if (child > 0) printf("ready pid=%d lock=fork child=%d\n", getpid(), (int)child);
    else printf("ready pid=%d lock=%s\n", getpid(), argc > 1 ? argv[1] : "flock");
    for (unsigned long n = 1;; n++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        printf("alive %lu\n", n);
    }
}

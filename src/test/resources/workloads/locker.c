/*
 * locker: holds a file lock, to check that a dump refuses what it cannot save.
 *
 * Usage: locker flock|posix
 * Output: ready pid=<pid> lock=<kind>   once lock.file (in the working directory, fd 3) is locked
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
    if (argc > 1 && strcmp(argv[1], "posix") == 0) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_SETLK, &fl) != 0) { perror("fcntl"); return 1; }
    } else if (flock(fd, LOCK_EX) != 0) {
        perror("flock");
        return 1;
    }
    printf("ready pid=%d lock=%s\n", getpid(), argc > 1 ? argv[1] : "flock");
    for (unsigned long n = 1;; n++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        printf("alive %lu\n", n);
    }
}

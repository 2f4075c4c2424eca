/*
 * shm_orphan: shared anonymous memory whose pages only a child that has exited ever touched.
 * The parent maps 4 MiB MAP_SHARED|MAP_ANONYMOUS, a child fills every page with a pattern and
 * exits (reaped), so the pages are in the shmem object but in no page table of the parent.
 *
 * Usage: shm_orphan
 * Output: ready pid=<pid>          once the child is gone; then waits for SIGUSR1
 *         verify ok | verify BAD page=<n>    after SIGUSR1, reading every page
 *         exit code=0
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 1024
#define PG 4096

int main(void) {
    uint64_t *mem = mmap(NULL, (size_t) PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) { perror("mmap"); return 1; }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pid_t child = fork();
    if (child == 0) {
        for (size_t p = 0; p < PAGES; p++) mem[p * PG / 8] = 0x5eed0000u + p;
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("ready pid=%d\n", getpid());
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    for (size_t p = 0; p < PAGES; p++) {
        if (mem[p * PG / 8] != 0x5eed0000u + p) {
            printf("verify BAD page=%zu\n", p);
            return 1;
        }
    }
    printf("verify ok\nexit code=0\n");
    return 0;
}

/*
 * leases: fcntl leases a restore must give back.
 *
 * Usage: leases   (in its run directory)
 *   rd  lease.rd opened O_RDONLY, F_RDLCK lease
 *   wr  lease.wr opened O_WRONLY, F_WRLCK lease
 * Output:
 *   ready pid=<pid> rd=<fd> wr=<fd>
 *   on SIGUSR1: obs rd=<F_GETLEASE of rd> wr=<F_GETLEASE of wr> sigio=<SIGIOs taken>
 *               (F_RDLCK 0, F_WRLCK 1, F_UNLCK 2; a lease break sends SIGIO)
 *   exit code=0 on SIGTERM
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t want_obs, want_exit, sigio;
static void on_io(int s) { (void)s; sigio++; }
static void on_usr1(int s) { (void)s; want_obs = 1; }
static void on_term(int s) { (void)s; want_exit = 1; }

int main(void) {
    int rd = open("lease.rd", O_RDONLY | O_CREAT, 0600);
    int wr = open("lease.wr", O_WRONLY | O_CREAT, 0600);
    if (rd < 0 || wr < 0) { perror("open"); return 1; }
    if (fcntl(rd, F_SETLEASE, F_RDLCK) < 0 || fcntl(wr, F_SETLEASE, F_WRLCK) < 0) { perror("F_SETLEASE"); return 1; }
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_io;
    sigaction(SIGIO, &sa, NULL); /* sent by a lease break (lease_setup made this process the owner) */
    printf("ready pid=%d rd=%d wr=%d\n", getpid(), rd, wr);
    fflush(stdout);
    for (;;) {
        pause();
        if (want_obs) {
            want_obs = 0;
            printf("obs rd=%d wr=%d sigio=%d\n", fcntl(rd, F_GETLEASE), fcntl(wr, F_GETLEASE), (int)sigio);
            fflush(stdout);
        }
        if (want_exit) {
            printf("exit code=0\n");
            fflush(stdout);
            return 0;
        }
    }
}

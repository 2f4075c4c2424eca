/*
 * ptyinput: holds a pty pair (master and slave, canonical mode with echo, as a terminal
 * emulator's child would see it) and types into the master a whole line, an end-of-file (^D)
 * and the start of the next line, which nobody reads until SIGUSR1. Then it types the end of
 * that line, reads the slave three times (one line per read in canonical mode; the
 * end-of-file reads as nothing) and what the master got back as echo.
 *
 * Output:
 *   ready pid=<pid> pts=<N>
 *   after SIGUSR1:
 *   got [<line>]                 three times: "line one", "", "partial"
 *   echo [<bytes, \r and \n escaped>]
 *   exit code=0
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig) { (void)sig; go = 1; }

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) { printf("BAD openpt\n"); return 1; }
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    if (s < 0) { printf("BAD open slave\n"); return 1; }
    if (write(m, "line one\n\004parti", 15) != 15) { printf("BAD write\n"); return 1; }

    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    signal(SIGUSR1, on_usr1);
    printf("ready pid=%d pts=%s\n", getpid(), ptsname(m) + strlen("/dev/pts/"));
    while (!go) sigsuspend(&old);

    if (write(m, "al\n", 3) != 3) { printf("BAD write\n"); return 1; }
    for (int i = 0; i < 3; i++) {
        char buf[256];
        ssize_t n = read(s, buf, sizeof buf);
        if (n < 0) { printf("BAD read\n"); return 1; }
        if (n > 0 && buf[n - 1] == '\n') n--;
        printf("got [%.*s]\n", (int)n, buf);
    }
    usleep(200000);
    fcntl(m, F_SETFL, O_NONBLOCK);
    char e[512], out[1100];
    ssize_t n = read(m, e, sizeof e);
    size_t k = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (e[i] == '\r') { out[k++] = '\\'; out[k++] = 'r'; }
        else if (e[i] == '\n') { out[k++] = '\\'; out[k++] = 'n'; }
        else out[k++] = e[i];
    }
    out[k] = 0;
    printf("echo [%s]\n", out);
    printf("exit code=0\n");
    return 0;
}

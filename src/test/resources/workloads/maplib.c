/*
 * maplib LIB...: dlopen()s each library (each exports `int lib_value(void)`), then counts,
 * calling every library's lib_value() at each step: its code runs from the mapped file.
 *
 * Output:
 *   ready pid=<pid> libs=<N>
 *   count=<i> sum=<sum of lib_value()>      every 100 ms
 *   exit code=0                             after SIGTERM
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int (*fn[16])(void);
    int n = 0;
    for (int i = 1; i < argc && n < 16; i++) {
        void *h = dlopen(argv[i], RTLD_NOW);
        if (!h || !(fn[n] = (int (*)(void))dlsym(h, "lib_value"))) {
            printf("BAD dlopen %s: %s\n", argv[i], dlerror());
            return 1;
        }
        n++;
    }
    signal(SIGTERM, on_term);
    printf("ready pid=%d libs=%d\n", getpid(), n);
    for (long i = 0; !stop; i++) {
        int sum = 0;
        for (int k = 0; k < n; k++) sum += fn[k]();
        printf("count=%ld sum=%d\n", i, sum);
        usleep(100000);
    }
    printf("exit code=0\n");
    return 0;
}

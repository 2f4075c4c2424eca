/*
 * fpu_regs: vector, mask and x87 registers hold known values across a checkpoint.
 *
 * Usage: fpu_regs
 * Output: ready pid=<pid> avx512=<0|1>
 *         tick <N>           every 100 ms while every register read back what was loaded
 *         fpu BAD <what>     if one changed; then "exit code=1" and exit(1)
 *
 * Each round loads ymm0-15 (and, with AVX-512, zmm16-31 whole and k1-k7), MXCSR and st(0)
 * from distinctive patterns, sleeps 100 ms in a raw nanosleep (where a dump finds the thread),
 * then stores them all back and compares in C. Nothing between the load and the store touches
 * those registers, so any difference is the checkpoint's.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint8_t ymm_in[16][32] __attribute__((aligned(64))), ymm_out[16][32] __attribute__((aligned(64)));
static uint8_t zmm_in[16][64] __attribute__((aligned(64))), zmm_out[16][64] __attribute__((aligned(64)));
static uint64_t k_in[8], k_out[8];
static uint32_t mxcsr_in = 0x5f80 /* all exceptions masked, round down */, mxcsr_out;
static long double st_in = 3.14159265358979323846264338327950288L, st_out;

static int has_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!(b & (1u << 16))) return 0; /* AVX512F */
    __get_cpuid(1, &a, &b, &c, &d);
    if (!(c & (1u << 27))) return 0; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xe6) == 0xe6; /* opmask, ZMM_Hi256, Hi16_ZMM and AVX enabled by the OS */
}

#define LOADY(i) "vmovdqu " #i "*32(%[y]), %%ymm" #i "\n"
#define STOREY(i) "vmovdqu %%ymm" #i ", " #i "*32(%[yo])\n"
#define LOADZ(i, r) "vmovdqu64 " #i "*64(%[z]), %%zmm" #r "\n"
#define STOREZ(i, r) "vmovdqu64 %%zmm" #r ", " #i "*64(%[zo])\n"
#define LOADK(i) "kmovq " #i "*8(%[k]), %%k" #i "\n"
#define STOREK(i) "kmovq %%k" #i ", " #i "*8(%[ko])\n"

static void round_plain(struct timespec *ts) {
    __asm__ volatile(
        "ldmxcsr %[m]\n" "fldt %[st]\n"
        LOADY(0) LOADY(1) LOADY(2) LOADY(3) LOADY(4) LOADY(5) LOADY(6) LOADY(7)
        LOADY(8) LOADY(9) LOADY(10) LOADY(11) LOADY(12) LOADY(13) LOADY(14) LOADY(15)
        "mov $35, %%eax\n" "mov %[ts], %%rdi\n" "xor %%esi, %%esi\n" "syscall\n"
        STOREY(0) STOREY(1) STOREY(2) STOREY(3) STOREY(4) STOREY(5) STOREY(6) STOREY(7)
        STOREY(8) STOREY(9) STOREY(10) STOREY(11) STOREY(12) STOREY(13) STOREY(14) STOREY(15)
        "stmxcsr %[mo]\n" "fstpt %[sto]\n" "ldmxcsr %[def]\n"
        : [mo] "=m"(mxcsr_out), [sto] "=m"(st_out)
        : [m] "m"(mxcsr_in), [st] "m"(st_in), [y] "r"(ymm_in), [yo] "r"(ymm_out), [ts] "r"(ts),
          [def] "m"((uint32_t){0x1f80})
        : "rax", "rdi", "rsi", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
          "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* zmm16-31 and k1-k7 are never used by this program's compiled code (built without -mavx512f). */
static void round_avx512(struct timespec *ts) {
    __asm__ volatile(
        "ldmxcsr %[m]\n" "fldt %[st]\n"
        LOADY(0) LOADY(1) LOADY(2) LOADY(3) LOADY(4) LOADY(5) LOADY(6) LOADY(7)
        LOADY(8) LOADY(9) LOADY(10) LOADY(11) LOADY(12) LOADY(13) LOADY(14) LOADY(15)
        LOADZ(0, 16) LOADZ(1, 17) LOADZ(2, 18) LOADZ(3, 19) LOADZ(4, 20) LOADZ(5, 21) LOADZ(6, 22) LOADZ(7, 23)
        LOADZ(8, 24) LOADZ(9, 25) LOADZ(10, 26) LOADZ(11, 27) LOADZ(12, 28) LOADZ(13, 29) LOADZ(14, 30) LOADZ(15, 31)
        LOADK(1) LOADK(2) LOADK(3) LOADK(4) LOADK(5) LOADK(6) LOADK(7)
        "mov $35, %%eax\n" "mov %[ts], %%rdi\n" "xor %%esi, %%esi\n" "syscall\n"
        STOREY(0) STOREY(1) STOREY(2) STOREY(3) STOREY(4) STOREY(5) STOREY(6) STOREY(7)
        STOREY(8) STOREY(9) STOREY(10) STOREY(11) STOREY(12) STOREY(13) STOREY(14) STOREY(15)
        STOREZ(0, 16) STOREZ(1, 17) STOREZ(2, 18) STOREZ(3, 19) STOREZ(4, 20) STOREZ(5, 21) STOREZ(6, 22)
        STOREZ(7, 23) STOREZ(8, 24) STOREZ(9, 25) STOREZ(10, 26) STOREZ(11, 27) STOREZ(12, 28) STOREZ(13, 29)
        STOREZ(14, 30) STOREZ(15, 31)
        STOREK(1) STOREK(2) STOREK(3) STOREK(4) STOREK(5) STOREK(6) STOREK(7)
        "stmxcsr %[mo]\n" "fstpt %[sto]\n" "ldmxcsr %[def]\n"
        : [mo] "=m"(mxcsr_out), [sto] "=m"(st_out)
        : [m] "m"(mxcsr_in), [st] "m"(st_in), [y] "r"(ymm_in), [yo] "r"(ymm_out), [z] "r"(zmm_in),
          [zo] "r"(zmm_out), [k] "r"(k_in), [ko] "r"(k_out), [ts] "r"(ts), [def] "m"((uint32_t){0x1f80})
        : "rax", "rdi", "rsi", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
          "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void bad(const char *what) {
    printf("fpu BAD %s\n", what);
    printf("exit code=1\n");
    exit(1);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int avx512 = has_avx512();
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 32; j++) ymm_in[i][j] = (uint8_t)(0x40 + 7 * i + 13 * j);
        for (int j = 0; j < 64; j++) zmm_in[i][j] = (uint8_t)(0x90 + 11 * i + 5 * j);
    }
    for (int i = 1; i < 8; i++) k_in[i] = 0x0123456789abcdefULL * (uint64_t)(i + 1);
    printf("ready pid=%d avx512=%d\n", getpid(), avx512);
    for (unsigned long n = 1;; n++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        if (avx512) round_avx512(&ts); else round_plain(&ts);
        if (memcmp(ymm_in, ymm_out, sizeof ymm_in)) bad("ymm");
        if (avx512 && memcmp(zmm_in, zmm_out, sizeof zmm_in)) bad("zmm16-31");
        if (avx512 && memcmp(k_in + 1, k_out + 1, 7 * sizeof k_in[0])) bad("k1-7");
        if (mxcsr_out != mxcsr_in) bad("mxcsr");
        if (memcmp(&st_in, &st_out, 10)) bad("st0");
        printf("tick %lu\n", n);
    }
}

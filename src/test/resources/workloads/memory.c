/*
 * memory: many kinds of memory with contents that can be recomputed, so a
 * restore that loses or corrupts any page is detected by the process itself.
 *
 * Usage: memory MIB SEED        (SEED: decimal or 0x-hex, any 64-bit value)
 * Regions (all filled from SEED, so the same arguments give the same checksum):
 *   anon        MIB MiB of MAP_PRIVATE|MAP_ANONYMOUS memory, pattern per 8-byte word
 *   untouched   1 MiB anonymous mapping that is never written: must read as zeros
 *   malloc      4 MiB from malloc (glibc serves it with its own mmap)
 *   global      64 KiB array in .bss
 *   private     MAP_PRIVATE mapping of memory-private.dat (4 pages, created here);
 *               page 1 is overwritten in memory only, so memory differs from the file
 *   sharedanon  64 KiB MAP_SHARED|MAP_ANONYMOUS
 *   sharedfile  MAP_SHARED mapping of memory-shared.dat (2 pages, written through memory)
 * Output:
 *   layout anon=0x.. untouched=0x.. malloc=0x.. global=0x.. private=0x.. sharedanon=0x.. sharedfile=0x..
 *   ready pid=<pid> mib=<MIB> seed=0x<hex>
 *   verify ok checksum=<16 hex digits>          on SIGUSR1, all regions intact
 *   verify BAD <region> at 0x<byte offset>      on SIGUSR1, first mismatch found
 *   term last_verify=ok|BAD|none                on SIGTERM
 *   exit code=<N>                               N = 0 if the last verify was ok,
 *                                               1 if it was BAD, 2 if never verified
 * Signal handlers only set flags; the main loop (nanosleep 20 ms) does the work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MALLOC_BYTES (4UL << 20)
#define UNTOUCHED_BYTES (1UL << 20)
#define GLOBAL_WORDS (64 * 1024 / 8)
#define PRIVATE_PAGES 4
#define MODIFIED_PAGE 1
#define SHAREDANON_BYTES (64 * 1024UL)
#define SHAREDFILE_PAGES 2

/* Distinct salts so that equal offsets in different regions hold different data. */
enum { SALT_ANON = 1, SALT_MALLOC, SALT_GLOBAL, SALT_FILE, SALT_MODIFIED,
       SALT_SHAREDANON, SALT_SHAREDFILE };

static volatile sig_atomic_t verify_requested;
static volatile sig_atomic_t term_requested;

static uint64_t seed;
static uint64_t global_words[GLOBAL_WORDS]; /* .bss */
static uint64_t checksum;                    /* FNV-1a over every verified word */

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		verify_requested = 1;
	else
		term_requested = 1;
}

static void finish(int code)
{
	printf("exit code=%d\n", code);
	fflush(stdout);
	exit(code);
}

static void die(const char *what)
{
	printf("setup failed: %s: %s\n", what, strerror(errno));
	finish(3);
}

/* splitmix64 of (seed, salt, word index): cheap, deterministic, no state. */
static uint64_t pattern(int salt, uint64_t word)
{
	uint64_t z = seed + (uint64_t)salt * 0xD1B54A32D192ED03ULL
		     + (word + 1) * 0x9E3779B97F4A7C15ULL;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void fill(uint64_t *p, size_t bytes, int salt)
{
	for (size_t i = 0; i < bytes / 8; i++)
		p[i] = pattern(salt, i);
}

static void mix(uint64_t w)
{
	for (int i = 0; i < 8; i++) {
		checksum ^= (w >> (8 * i)) & 0xff;
		checksum *= 0x100000001B3ULL;
	}
}

/* Reports the first word that is not the expected pattern; adds all to the checksum. */
static int check(const char *region, const uint64_t *p, size_t bytes, int salt,
		 uint64_t first_word)
{
	for (size_t i = 0; i < bytes / 8; i++) {
		uint64_t expect = salt ? pattern(salt, first_word + i) : 0;

		if (p[i] != expect) {
			printf("verify BAD %s at 0x%zx\n", region, i * 8);
			return 0;
		}
		mix(p[i]);
	}
	return 1;
}

/* Compares memory with what pread() gets from the file: the page cache is the oracle. */
static int check_against_file(const char *region, int fd, const uint8_t *mem,
			      size_t off, size_t len)
{
	uint8_t buf[PAGE];

	if (len > sizeof(buf) || pread(fd, buf, len, (off_t)off) != (ssize_t)len) {
		printf("verify BAD %s-pread at 0x%zx\n", region, off);
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != mem[off + i]) {
			printf("verify BAD %s-vs-file at 0x%zx\n", region, off + i);
			return 0;
		}
	}
	return 1;
}

static int create_file(const char *name, size_t pages, int salt)
{
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	uint64_t page[PAGE / 8];

	if (fd < 0)
		die(name);
	for (size_t p = 0; p < pages; p++) {
		for (size_t i = 0; i < PAGE / 8; i++)
			page[i] = pattern(salt, p * (PAGE / 8) + i);
		if (write(fd, page, PAGE) != (ssize_t)PAGE)
			die(name);
	}
	return fd;
}

static void *map(size_t len, int prot, int flags, int fd, const char *what)
{
	void *p = mmap(NULL, len, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		die(what);
	return p;
}

int main(int argc, char **argv)
{
	size_t anon_bytes;
	uint64_t *anon, *untouched, *heap, *sharedanon;
	uint8_t *private, *sharedfile;
	int private_fd, shared_fd;
	int last_verify = -1; /* -1 never, 0 BAD, 1 ok */
	struct sigaction sa;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3) {
		printf("usage: memory MIB SEED\n");
		finish(2);
	}
	anon_bytes = strtoul(argv[1], NULL, 0) << 20;
	seed = strtoull(argv[2], NULL, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	anon = map(anon_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "anon");
	fill(anon, anon_bytes, SALT_ANON);

	untouched = map(UNTOUCHED_BYTES, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, "untouched");

	heap = malloc(MALLOC_BYTES);
	if (heap == NULL)
		die("malloc");
	fill(heap, MALLOC_BYTES, SALT_MALLOC);

	fill(global_words, sizeof(global_words), SALT_GLOBAL);

	/* Private file mapping: the file keeps the original, memory gets a COW copy. */
	private_fd = create_file("memory-private.dat", PRIVATE_PAGES, SALT_FILE);
	private = map(PRIVATE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		      private_fd, "private");
	fill((uint64_t *)(private + MODIFIED_PAGE * PAGE), PAGE, SALT_MODIFIED);

	sharedanon = map(SHAREDANON_BYTES, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, "sharedanon");
	fill(sharedanon, SHAREDANON_BYTES, SALT_SHAREDANON);

	/* Shared file mapping: created empty, written only through memory. */
	shared_fd = open("memory-shared.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (shared_fd < 0 || ftruncate(shared_fd, SHAREDFILE_PAGES * PAGE) != 0)
		die("memory-shared.dat");
	sharedfile = map(SHAREDFILE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 shared_fd, "sharedfile");
	fill((uint64_t *)sharedfile, SHAREDFILE_PAGES * PAGE, SALT_SHAREDFILE);

	printf("layout anon=%p untouched=%p malloc=%p global=%p private=%p"
	       " sharedanon=%p sharedfile=%p\n", (void *)anon, (void *)untouched,
	       (void *)heap, (void *)global_words, (void *)private,
	       (void *)sharedanon, (void *)sharedfile);
	printf("ready pid=%d mib=%zu seed=0x%llx\n", (int)getpid(), anon_bytes >> 20,
	       (unsigned long long)seed);
	fflush(stdout);

	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL); /* EINTR just means: look at the flags now */
		if (verify_requested) {
			int ok = 1;

			verify_requested = 0;
			checksum = 0xCBF29CE484222325ULL;
			ok = ok && check("anon", anon, anon_bytes, SALT_ANON, 0);
			ok = ok && check("untouched", untouched, UNTOUCHED_BYTES, 0, 0);
			ok = ok && check("malloc", heap, MALLOC_BYTES, SALT_MALLOC, 0);
			ok = ok && check("global", global_words, sizeof(global_words),
					 SALT_GLOBAL, 0);
			for (size_t p = 0; ok && p < PRIVATE_PAGES; p++) {
				const uint64_t *pg = (const uint64_t *)(private + p * PAGE);

				if (p == MODIFIED_PAGE) {
					/* the in-memory change must survive... */
					ok = check("private-modified", pg, PAGE, SALT_MODIFIED, 0);
				} else {
					/* ...and the other pages must still show the file */
					ok = check("private", pg, PAGE, SALT_FILE, p * (PAGE / 8))
					     && check_against_file("private", private_fd,
								   private, p * PAGE, PAGE);
				}
			}
			if (ok) {
				/* the file itself never saw the private modification */
				uint64_t filepage[PAGE / 8];

				if (pread(private_fd, filepage, PAGE, MODIFIED_PAGE * PAGE)
				    != (ssize_t)PAGE) {
					printf("verify BAD private-file at 0x%lx\n",
					       MODIFIED_PAGE * PAGE);
					ok = 0;
				} else {
					ok = check("private-file", filepage, PAGE, SALT_FILE,
						   MODIFIED_PAGE * (PAGE / 8));
				}
			}
			ok = ok && check("sharedanon", sharedanon, SHAREDANON_BYTES,
					 SALT_SHAREDANON, 0);
			ok = ok && check("sharedfile", (const uint64_t *)sharedfile,
					 SHAREDFILE_PAGES * PAGE, SALT_SHAREDFILE, 0);
			for (size_t p = 0; ok && p < SHAREDFILE_PAGES; p++)
				ok = check_against_file("sharedfile", shared_fd, sharedfile,
							p * PAGE, PAGE);
			if (ok)
				printf("verify ok checksum=%016llx\n",
				       (unsigned long long)checksum);
			fflush(stdout);
			last_verify = ok;
		}
		if (term_requested) {
			printf("term last_verify=%s\n", last_verify < 0 ? "none"
			       : last_verify ? "ok" : "BAD");
			finish(last_verify < 0 ? 2 : last_verify ? 0 : 1);
		}
	}
}

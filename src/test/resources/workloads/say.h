/*
 * say(): printf to stdout with one write(2), so that lines from several processes of a
 * workload never interleave and nothing waits in a stdio buffer across a checkpoint.
 * A short write ends the process with exit code 90: the test then sees the loss.
 */
#ifndef WORKLOAD_SAY_H
#define WORKLOAD_SAY_H
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(1, buf, (size_t)n) != n)
		_exit(90);
}
#endif

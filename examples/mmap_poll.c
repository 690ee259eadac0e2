/* SPDX-License-Identifier: MIT */
/*
 * mmap_poll - seed 000's mmap pair, both roles in one program.
 *
 * In the seed a reader prints what is in a shared mapping every 2 seconds
 * while a writer changes it, and the reader then prints the new content:
 * no copy, no message, the two processes look at the same memory.
 *
 * Run, in two terminals (either may start first; the first one creates the
 * region, 4096 bytes, raw so the data is at offset 0):
 *   build/examples/mmap_poll reader NAME [--interval MS] [--count N] [--remove]
 *   build/examples/mmap_poll writer NAME TEXT
 * The reader prints "[n] content" every MS milliseconds (default 2000, as
 * in the seed), N times (default: until SIGINT or SIGTERM, then exit 0);
 * --remove removes NAME when the reader ends.  NAME is any shmkit name:
 * a POSIX name, sysv:KEY, file:PATH.
 *
 * There is no lock here: a poll can catch a write half-done, as in the seed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmkit.h"

#define POLL_SIZE 4096
static const char prog[] = "mmap_poll";
static volatile sig_atomic_t stop;

static void usage(FILE *to)
{
	fprintf(to, "usage: %s reader NAME [--interval MS] [--count N] [--remove]\n"
		"       %s writer NAME TEXT\n", prog, prog);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Opens NAME as it is, or creates it (POLL_SIZE bytes) when it is missing. */
static int open_or_create(const char *name, shmkit_region **r)
{
	int err = shmkit_region_open(name, SHMKIT_RAW, 0, 0, r);

	if (err == -ENOENT)
		err = shmkit_region_open(name, SHMKIT_CREATE | SHMKIT_RAW,
					 POLL_SIZE, 0, r);
	if (err)
		fprintf(stderr, "%s: open %s: %s\n", prog, name, shmkit_strerror(err));
	return err;
}

static int parse_num(const char *s, unsigned long min, unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < min)
		return -1;
	*out = v;
	return 0;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	/* a signal cuts the sleep short (no SA_RESTART): we stop at once */
	nanosleep(&ts, NULL);
}

static int reader(const char *name, unsigned long interval, unsigned long count,
		  int do_remove)
{
	struct sigaction sa;
	shmkit_region *r;
	int rc = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (open_or_create(name, &r))
		return 1;
	const char *base = shmkit_region_base(r);
	size_t size = shmkit_region_size(r);
	char *buf = malloc(size + 1);
	if (!buf) {
		fprintf(stderr, "%s: %s\n", prog, shmkit_strerror(-ENOMEM));
		shmkit_region_close(r);
		return 1;
	}
	for (unsigned long n = 1; !stop && (count == 0 || n <= count); n++) {
		if (n > 1)
			sleep_ms(interval);
		if (stop)
			break;
		/* one snapshot, so a concurrent writer cannot make us overrun */
		memcpy(buf, base, size);
		buf[size] = '\0';
		printf("[%lu] %s\n", n, buf);
		if (fflush(stdout) != 0) {
			perror(prog);
			rc = 1;
			break;
		}
	}
	free(buf);
	int err = shmkit_region_close(r);
	if (err) {
		fprintf(stderr, "%s: close %s: %s\n", prog, name, shmkit_strerror(err));
		rc = 1;
	}
	if (do_remove) {
		err = shmkit_remove(name);
		if (err && err != -ENOENT) {
			fprintf(stderr, "%s: remove %s: %s\n", prog, name,
				shmkit_strerror(err));
			rc = 1;
		}
	}
	return rc;
}

static int writer(const char *name, const char *text)
{
	shmkit_region *r;
	size_t len = strlen(text);

	if (open_or_create(name, &r))
		return 1;
	size_t size = shmkit_region_size(r);
	if (len >= size) {
		fprintf(stderr, "%s: write %s: %zu bytes of text do not fit in %zu "
			"(the text and its NUL): %s\n", prog, name, len, size,
			shmkit_strerror(-EMSGSIZE));
		shmkit_region_close(r);
		return 1;
	}
	memcpy(shmkit_region_base(r), text, len + 1);
	int err = shmkit_region_close(r);
	if (err) {
		fprintf(stderr, "%s: close %s: %s\n", prog, name, shmkit_strerror(err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 3 || argv[2][0] == '-') {
		usage(stderr);
		return 2;
	}
	const char *role = argv[1], *name = argv[2];

	if (!strcmp(role, "writer")) {
		if (argc != 4) {
			usage(stderr);
			return 2;
		}
		return writer(name, argv[3]);
	}
	if (strcmp(role, "reader") != 0) {
		usage(stderr);
		return 2;
	}
	unsigned long interval = 2000, count = 0;
	int do_remove = 0;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--remove")) {
			do_remove = 1;
		} else if (!strcmp(argv[i], "--interval")) {
			if (parse_num(argv[++i], 1, &interval)) {
				fprintf(stderr, "%s: --interval wants milliseconds >= 1\n", prog);
				return 2;
			}
		} else if (!strcmp(argv[i], "--count")) {
			if (parse_num(argv[++i], 1, &count)) {
				fprintf(stderr, "%s: --count wants a number >= 1\n", prog);
				return 2;
			}
		} else {
			usage(stderr);
			return 2;
		}
	}
	return reader(name, interval, count, do_remove);
}

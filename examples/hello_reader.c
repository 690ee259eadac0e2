/* SPDX-License-Identifier: MIT */
/*
 * hello_reader - seed 002's "process B", on shmkit.
 *
 * The seed gets the segment hello_writer made (same ftok key), attaches it
 * and prints the string in it.  This opens the region without
 * SHMKIT_CREATE (so a missing one is "No such file or directory", the
 * seed's ENOENT), read-only, prints what is there up to the first NUL (at
 * most 128 bytes), and with --remove marks it for destruction afterwards
 * (shmctl(IPC_RMID) for System V, unlink for the others).
 *
 * Run:   build/examples/hello_writer [NAME]
 *        build/examples/hello_reader [--remove] [NAME]
 * NAME defaults to sysv:/tmp/shmkit-hello:0x66, as in hello_writer.
 */
#include <stdio.h>
#include <string.h>

#include "shmkit.h"

#define DEFAULT_NAME "sysv:/tmp/shmkit-hello:0x66"
#define HELLO_SIZE 128
static const char prog[] = "hello_reader";

static void usage(FILE *to)
{
	fprintf(to, "usage: %s [--remove] [NAME]\n"
		"  prints the string in NAME (default %s);\n"
		"  --remove  remove NAME afterwards\n", prog, DEFAULT_NAME);
}

int main(int argc, char **argv)
{
	const char *name = NULL;
	int do_remove = 0;
	shmkit_region *r;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--remove")) {
			do_remove = 1;
		} else if (argv[i][0] == '-' || name) {
			usage(stderr);
			return 2;
		} else {
			name = argv[i];
		}
	}
	if (!name)
		name = DEFAULT_NAME;

	/* shmget(key, 0, 0) + shmat(SHM_RDONLY): size 0 takes what is there */
	err = shmkit_region_open(name, SHMKIT_RAW | SHMKIT_RDONLY, 0, 0, &r);
	if (err) {
		fprintf(stderr, "%s: open %s: %s\n", prog, name, shmkit_strerror(err));
		return 1;
	}
	const char *base = shmkit_region_base(r);
	size_t max = shmkit_region_size(r);
	if (max > HELLO_SIZE)
		max = HELLO_SIZE;
	size_t len = strnlen(base, max);
	fwrite(base, 1, len, stdout);
	if (len > 0 && base[len - 1] != '\n')
		putchar('\n');
	if (fflush(stdout) != 0) {
		perror(prog);
		shmkit_region_close(r);
		return 1;
	}
	err = shmkit_region_close(r);
	if (err) {
		fprintf(stderr, "%s: close %s: %s\n", prog, name, shmkit_strerror(err));
		return 1;
	}
	if (do_remove) {
		err = shmkit_remove(name);
		if (err) {
			fprintf(stderr, "%s: remove %s: %s\n", prog, name,
				shmkit_strerror(err));
			return 1;
		}
	}
	return 0;
}

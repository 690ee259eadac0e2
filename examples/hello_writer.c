/* SPDX-License-Identifier: MIT */
/*
 * hello_writer - seed 002's "process A", on shmkit.
 *
 * The seed creates a System V segment with ftok(SHM_PATH, 0x6666) and
 * shmget(IPC_CREAT|IPC_EXCL|0666), writes "Hello World\n" into it and exits;
 * the segment outlives the process.  This does the same through
 * shmkit_region_open(SHMKIT_CREATE|SHMKIT_EXCL|SHMKIT_RAW): a raw region
 * has no shmkit header, so plain shmget/shmat code sees the text at offset 0.
 *
 * Run:   build/examples/hello_writer [NAME]
 *        build/examples/hello_reader [--remove] [NAME]
 * NAME defaults to sysv:/tmp/shmkit-hello:0x66 (key from ftok; the writer
 * creates /tmp/shmkit-hello when it is missing, as ftok needs the path to
 * exist).  Any shmkit name works: sysv:0x5a123456, a POSIX name, file:PATH.
 * Running the writer twice fails with "File exists": that is IPC_EXCL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmkit.h"

#define DEFAULT_NAME "sysv:/tmp/shmkit-hello:0x66"
#define HELLO_SIZE 128
static const char prog[] = "hello_writer";

static void usage(FILE *to)
{
	fprintf(to, "usage: %s [NAME]\n"
		"  creates NAME (default %s), %d bytes, mode 0666,\n"
		"  and writes \"Hello World\" into it\n",
		prog, DEFAULT_NAME, HELLO_SIZE);
}

/* For "sysv:PATH:PROJ", makes sure PATH exists: ftok() needs a real file. */
static int ensure_ftok_path(const char *name)
{
	if (strncmp(name, "sysv:", 5) != 0)
		return 0;
	const char *s = name + 5, *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return 0;  /* sysv:KEY, or a bad name shmkit will refuse */
	size_t len = (size_t)(colon - s);
	char *path = malloc(len + 1);
	if (!path) {
		fprintf(stderr, "%s: %s\n", prog, strerror(ENOMEM));
		return -1;
	}
	memcpy(path, s, len);
	path[len] = '\0';
	int ret = 0;
	if (access(path, F_OK) != 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "%s: create %s: %s\n", prog, path,
				strerror(errno));
			ret = -1;
		} else {
			close(fd);
		}
	}
	free(path);
	return ret;
}

int main(int argc, char **argv)
{
	const char *name = DEFAULT_NAME;
	shmkit_region *r;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		usage(stderr);
		return 2;
	}
	if (argc == 2)
		name = argv[1];
	if (ensure_ftok_path(name) != 0)
		return 1;

	/* shmget(key, 128, IPC_CREAT|IPC_EXCL|0666) */
	err = shmkit_region_open(name, SHMKIT_CREATE | SHMKIT_EXCL | SHMKIT_RAW,
				 HELLO_SIZE, 0666, &r);
	if (err == -EEXIST) {
		fprintf(stderr, "%s: create %s: %s (read it, and remove it, with "
			"hello_reader --remove)\n", prog, name, shmkit_strerror(err));
		return 1;
	}
	if (err) {
		fprintf(stderr, "%s: create %s: %s\n", prog, name, shmkit_strerror(err));
		return 1;
	}

	/* sprintf(addr, "%s", "Hello World\n") */
	snprintf(shmkit_region_base(r), shmkit_region_size(r), "%s", "Hello World\n");

	/* shmdt(); the segment stays until someone removes it */
	err = shmkit_region_close(r);
	if (err) {
		fprintf(stderr, "%s: close %s: %s\n", prog, name, shmkit_strerror(err));
		return 1;
	}
	printf("wrote \"Hello World\" to %s\n", name);
	return 0;
}

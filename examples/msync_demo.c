/* SPDX-License-Identifier: MIT */
/*
 * msync_demo - seeds 001, 003 and 004: a file mapped with mmap, msync, and
 * MAP_PRIVATE.
 *
 * A "file:" region is a regular file mapped MAP_SHARED.  Stores into it go
 * to the page cache, which read() shares at once; msync(MS_SYNC), through
 * shmkit_region_sync(SHMKIT_SYNC), returns once they are on the disk too.
 * A SHMKIT_PRIVATE open is MAP_PRIVATE: copy-on-write, the process gets its
 * own copy of any page it writes, and the file never sees the change, not
 * even after msync.
 *
 * Run:   build/examples/msync_demo FILE
 * FILE is created (4096 bytes) when missing, else opened as it is (it must
 * hold at least 64 bytes); the message overwrites its start.  FILE is left
 * in place: look at it with `od -c FILE | head`, remove it with rm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmkit.h"

#define FILE_SIZE 4096
#define MIN_SIZE 64
static const char prog[] = "msync_demo";
static const char message[] = "hello from msync_demo";

/* Reads the file's first bytes with plain open/read, as any program would. */
static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: open %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	ssize_t n = pread(fd, buf, cap - 1, 0);
	int saved = errno;
	close(fd);
	if (n < 0) {
		fprintf(stderr, "%s: read %s: %s\n", prog, path, strerror(saved));
		return -1;
	}
	buf[n] = '\0';  /* the message ends with its NUL */
	return 0;
}

static int fail(const char *what, const char *name, int err)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, what, name, shmkit_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	shmkit_region *r, *priv;
	char buf[MIN_SIZE + 1];
	int err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: %s FILE\n", prog);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '\0' || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s FILE\n", prog);
		return 2;
	}
	const char *path = argv[1];
	size_t nlen = strlen(path) + sizeof("file:");
	char *name = malloc(nlen);
	if (!name)
		return fail("name", path, -ENOMEM);
	snprintf(name, nlen, "file:%s", path);

	/* open(O_RDWR) + mmap(MAP_SHARED); open(O_CREAT) + ftruncate if missing */
	err = shmkit_region_open(name, SHMKIT_RAW, 0, 0, &r);
	if (err == -ENOENT)
		err = shmkit_region_open(name, SHMKIT_CREATE | SHMKIT_RAW, FILE_SIZE,
					 0644, &r);
	if (err)
		return fail("open", name, err);
	if (shmkit_region_size(r) < MIN_SIZE) {
		fprintf(stderr, "%s: %s holds %zu bytes; it needs at least %d\n",
			prog, path, shmkit_region_size(r), MIN_SIZE);
		shmkit_region_close(r);
		return 1;
	}
	char *data = shmkit_region_base(r);
	memcpy(data, message, sizeof(message));
	printf("mapped %s MAP_SHARED (%zu bytes) and wrote: %s\n", name,
	       shmkit_region_size(r), message);

	/* msync(addr, len, MS_SYNC) */
	err = shmkit_region_sync(r, 0, 0, SHMKIT_SYNC);
	if (err)
		return fail("sync", name, err);
	printf("msync(MS_SYNC) done\n");
	if (read_file(path, buf, sizeof(buf)))
		return 1;
	printf("file contains: %s\n", buf);
	if (strcmp(buf, message) != 0) {
		fprintf(stderr, "%s: the file does not hold the message\n", prog);
		return 1;
	}

	/* mmap(MAP_PRIVATE): copy-on-write */
	err = shmkit_region_open(name, SHMKIT_RAW | SHMKIT_PRIVATE, 0, 0, &priv);
	if (err)
		return fail("open (private)", name, err);
	char *pdata = shmkit_region_base(priv);
	pdata[0] = 'H';
	err = shmkit_region_sync(priv, 0, 0, SHMKIT_SYNC);
	if (err)
		return fail("sync (private)", name, err);
	printf("private copy sees: %.*s\n", (int)sizeof(message) - 1, pdata);
	if (read_file(path, buf, sizeof(buf)))
		return 1;
	printf("private write not in file: %s\n", strcmp(buf, message) ? "no" : "yes");
	printf("private write not in shared mapping: %s\n",
	       data[0] == message[0] ? "yes" : "no");
	int ok = !strcmp(buf, message) && data[0] == message[0];

	int e1 = shmkit_region_close(priv), e2 = shmkit_region_close(r);
	if (e1 || e2)
		return fail("close", name, e1 ? e1 : e2);
	free(name);
	return ok ? 0 : 1;
}

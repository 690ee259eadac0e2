/* SPDX-License-Identifier: MIT */
/*
 * region.c - the commands on a region's bytes: create (create --channel
 * is channel.c's), write (stdin into the data), read (the data to
 * stdout), rm.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shmkit.h"

int cmd_create(const struct args *a)
{
	const struct command *c = a->cmd;
	const char *name = a->name;
	shmkit_region *r;
	int ret;

	if (a->channel)
		return create_channel(a);
	ret = shmkit_region_open(name, a->flags, (size_t)a->size, a->mode, &r);
	if (ret == -EINVAL && !(a->flags & SHMKIT_EXCL)) {
		struct shmkit_stat st;
		if (shmkit_stat(name, &st) == 0 && st.size < a->size) {
			err_msg(c->name, name, "exists with %" PRIu64
				" bytes, less than the %" PRIu64 " asked for",
				st.size, a->size);
			return EXIT_RUNTIME;
		}
	}
	if (ret) {
		lib_err(c->name, name, ret);
		return EXIT_RUNTIME;
	}
	ret = shmkit_region_close(r);
	if (ret) {
		lib_err(c->name, name, ret);
		return EXIT_RUNTIME;
	}
	return 0;
}

/*
 * Reads all of stdin.  Keeps at most @cap bytes in *buf; *total counts
 * everything read.  0 or an errno.
 */
static int slurp_stdin(uint64_t cap, char **buf, uint64_t *total)
{
	size_t have = 0, alloc = 0;
	char *b = NULL, scratch[65536];

	*total = 0;
	for (;;) {
		char *dst = scratch;
		size_t want = sizeof(scratch);
		if (have < cap) {
			if (have == alloc) {
				size_t grow = alloc ? alloc * 2 : 65536;
				if (grow > cap)
					grow = (size_t)cap;
				char *nb = realloc(b, grow);
				if (!nb) {
					free(b);
					return ENOMEM;
				}
				b = nb;
				alloc = grow;
			}
			dst = b + have;
			want = alloc - have;
		}
		ssize_t got = read(STDIN_FILENO, dst, want);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(b);
			return e;
		}
		if (got == 0)
			break;
		if (dst != scratch)
			have += (size_t)got;
		*total += (uint64_t)got;
	}
	*buf = b;
	return 0;
}

/* Opens a->name for write or read and checks a->offset against its size;
 * returns 0 with *r open and *size its size, or EXIT_RUNTIME after
 * reporting. */
static int open_at(const struct args *a, shmkit_region **r, uint64_t *size)
{
	int ret = shmkit_region_open(a->name, a->flags, 0, 0, r);

	if (ret) {
		lib_err(a->cmd->name, a->name, ret);
		return EXIT_RUNTIME;
	}
	*size = shmkit_region_size(*r);
	if (a->offset > *size) {
		err_msg(a->cmd->name, a->name, "offset %" PRIu64 " is beyond the end of a %"
			PRIu64 "-byte region", a->offset, *size);
		shmkit_region_close(*r);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Closes @r; a close error counts only when nothing failed before. */
static int close_with(const struct command *c, const char *name, shmkit_region *r,
		      int status)
{
	int ret = shmkit_region_close(r);

	if (ret && !status) {
		lib_err(c->name, name, ret);
		status = EXIT_RUNTIME;
	}
	return status;
}

int cmd_write(const struct args *a)
{
	const struct command *c = a->cmd;
	const char *name = a->name;
	uint64_t offset = a->offset, total, size;
	char *buf = NULL;
	shmkit_region *r;
	int ret = open_at(a, &r, &size), status = 0;

	if (ret)
		return ret;
	ret = slurp_stdin(size - offset, &buf, &total);
	if (ret) {
		err_msg(c->name, name, "reading stdin: %s", strerror(ret));
		status = EXIT_RUNTIME;
		goto out;
	}
	if (total > size - offset) {
		err_msg(c->name, name, "input (%" PRIu64 " bytes) does not fit at offset %"
			PRIu64 " of a %" PRIu64 "-byte region", total, offset, size);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (total) {
		memcpy((char *)shmkit_region_base(r) + offset, buf, (size_t)total);
		if (shmkit_name_check(name) == SHMKIT_BACKEND_FILE) {
			ret = shmkit_region_sync(r, (size_t)offset, (size_t)total, SHMKIT_SYNC);
			if (ret) {
				lib_err(c->name, name, ret);
				status = EXIT_RUNTIME;
			}
		}
	}
out:
	free(buf);
	return close_with(c, name, r, status);
}

/* ---------------------------------------------------------------------- */
/* read                                                                   */

int cmd_read(const struct args *a)
{
	const struct command *c = a->cmd;
	const char *name = a->name;
	uint64_t offset = a->offset, length = a->length, size;
	shmkit_region *r;
	int ret = open_at(a, &r, &size), status = 0;

	if (ret)
		return ret;
	if (a->has_length && length > size - offset) {
		err_msg(c->name, name, "%" PRIu64 " bytes at offset %" PRIu64
			" go beyond the end of a %" PRIu64 "-byte region",
			length, offset, size);
		status = EXIT_RUNTIME;
	} else {
		if (!a->has_length)
			length = size - offset;
		ret = write_all(STDOUT_FILENO, (const char *)shmkit_region_base(r) + offset,
				(size_t)length);
		if (ret) {
			if (ret != EPIPE)
				err_msg(c->name, name, "writing stdout: %s", strerror(ret));
			status = EXIT_RUNTIME;
		}
	}
	return close_with(c, name, r, status);
}

int cmd_rm(const struct args *a)
{
	const struct command *c = a->cmd;
	int ret, status = 0;

	for (int i = 0; i < a->npos; i++) {
		ret = shmkit_remove(a->pos[i]);
		if (ret) {
			lib_err(c->name, a->pos[i], ret);
			status = EXIT_RUNTIME;
		}
	}
	return status;
}

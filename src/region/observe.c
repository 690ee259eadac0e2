/* SPDX-License-Identifier: MIT */
/*
 * observe.c - reading a managed segment without attaching to it: what
 * stat-like calls (shmkit_prims, shmkit_chan_stat ...) are built on.  The
 * observer takes no peer slot and changes nothing; every byte it reads is
 * a copy, which the caller validates.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "internal.h"

int shmkit__read_mapped(void *ctx, uint64_t off, void *buf, size_t len)
{
	memcpy(buf, (const char *)ctx + off, len);
	return 0;
}

struct fd_ctx { int fd; uint64_t base; };

static int read_fd(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct fd_ctx *c = ctx;
	ssize_t got = pread(c->fd, buf, len, (off_t)(c->base + off));

	if (got < 0)
		return shmkit__err();
	return (size_t)got == len ? 0 : -EBADMSG;
}

/* Calls @fn on the segment @name, read without registering: a pread per
 * read on posix and file, a brief read-only attach on System V. */
int shmkit__observe(const char *name, shmkit__observe_fn fn, void *arg)
{
	struct shmkit__name n;
	struct shmkit_region tmp;
	struct shmkit_hdr copy;
	int err = shmkit__name_parse(name, &n);

	if (err)
		return err;
	memset(&tmp, 0, sizeof(tmp));
	tmp.fd = tmp.lock_fd = tmp.shmid = tmp.slot = -1;
	tmp.backend = n.backend;
	if (n.backend == SHMKIT_BACKEND_SYSV) {
		int id = shmkit__sysv_find(n.key);
		if (id < 0)
			return id;
		/* an observer's brief read-only attach, as stat's */
		err = shmkit__sysv_attach(id, SHMKIT_RDONLY, 0, &tmp);
		if (err)
			return err;
		memcpy((void *)&copy, tmp.hdr, sizeof(copy));
		struct shmkit__peer_src src = { .hdr = &copy, .fd = -1, .self_slot = -1,
						.liveness = SHMKIT_LIVE_PID };
		err = fn(&src, tmp.size, shmkit__read_mapped, tmp.data, copy.kind, arg);
		shmkit__unmap(&tmp);
		return err;
	}
	struct shmkit_stat st;
	/* never through a final symlink, never blocking on a FIFO */
	int fd = shmkit__open_last(AT_FDCWD, n.path, O_RDONLY);
	if (fd < 0)
		return fd;
	memset(&st, 0, sizeof(st));
	err = shmkit__fd_stat(fd, &st, &copy);
	if (!err && !st.managed)
		err = -EPROTO;
	if (!err) {
		struct shmkit__peer_src src = { .hdr = &copy, .fd = fd, .self_slot = -1,
						.liveness = SHMKIT_LIVE_OFD };
		struct fd_ctx c = { .fd = fd, .base = copy.header_size };
		err = fn(&src, copy.data_size, read_fd, &c, copy.kind, arg);
	}
	close(fd);
	return err;
}


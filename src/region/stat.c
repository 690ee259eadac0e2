/* SPDX-License-Identifier: MIT */
/*
 * stat.c - shmid_ds for every backend, and the peer list.  Stat by name is
 * an observer: it reads without registering (System V is the exception the
 * kernel imposes: reading its header needs a brief read-only shmat, taken
 * after IPC_STAT so the figures reported are the ones before it).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"

/* Reads the header of segment shmid through a brief read-only attach. */
static int sysv_header(int shmid, struct shmkit_hdr *copy)
{
	struct shmkit_region tmp = { .fd = -1, .lock_fd = -1, .shmid = -1, .slot = -1 };
	int err = shmkit__sysv_attach(shmid, SHMKIT_RDONLY, 0, &tmp);

	if (err)
		return err;
	memcpy((void *)copy, tmp.map, sizeof(*copy));
	shmkit__unmap(&tmp);
	return 0;
}

static int sysv_stat_full(int shmid, struct shmkit_stat *st)
{
	struct shmkit_hdr copy;
	int err = shmkit__sysv_stat(shmid, st);

	if (err)
		return err;
	err = sysv_header(shmid, &copy);
	if (err == -EPROTO || err == -EIDRM)
		return 0;
	if (err)
		return err;
	int32_t nattch = st->nattch;
	int64_t at = st->atime_ns, dt = st->dtime_ns, ct = st->ctime_ns;
	int32_t lpid = st->lpid;
	shmkit__stat_from_hdr(&copy, st);
	/* the kernel's figures are exact for System V: keep them */
	st->total_size = copy.total_size;
	st->nattch = nattch;
	st->lpid = lpid;
	st->atime_ns = at;
	st->dtime_ns = dt;
	st->ctime_ns = ct;
	return 0;
}

static int fd_stat_full(int fd, int self_slot, struct shmkit_stat *st)
{
	struct shmkit_hdr copy;
	int err = shmkit__fd_stat(fd, st, &copy);

	if (err || !st->managed)
		return err;
	struct shmkit__peer_src src = { .hdr = &copy, .fd = fd, .self_slot = self_slot,
					.liveness = SHMKIT_LIVE_OFD };
	int n = shmkit__peers_read(&src, NULL, 0, &st->nattch);
	return n < 0 ? n : 0;
}

/* An observer's fd: never through a final symlink, never blocking on a FIFO. */
static int open_by_name(const struct shmkit__name *n)
{
	return shmkit__open_last(AT_FDCWD, n->path, O_RDONLY);
}

int shmkit_stat(const char *name, struct shmkit_stat *st)
{
	struct shmkit__name n;
	int err;

	if (!st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	err = shmkit__name_parse(name, &n);
	if (err)
		return err;
	st->backend = n.backend;
	if (n.backend == SHMKIT_BACKEND_SYSV) {
		int id = shmkit__sysv_find(n.key);
		return id < 0 ? id : sysv_stat_full(id, st);
	}
	int fd = open_by_name(&n);
	if (fd < 0)
		return fd;
	err = fd_stat_full(fd, -1, st);
	st->backend = n.backend;
	close(fd);
	return err;
}

int shmkit_region_stat(const shmkit_region *r, struct shmkit_stat *st)
{
	if (!r || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->backend = r->backend;
	st->shmid = -1;
	if (r->backend == SHMKIT_BACKEND_SYSV) {
		int err = shmkit__sysv_stat(r->shmid, st);
		if (err || !r->hdr)
			return err;
		int32_t nattch = st->nattch;
		struct shmkit_stat k = *st;
		shmkit__stat_from_hdr(r->hdr, st);
		st->total_size = k.total_size;
		st->nattch = nattch;
		st->lpid = k.lpid;
		st->atime_ns = k.atime_ns;
		st->dtime_ns = k.dtime_ns;
		st->ctime_ns = k.ctime_ns;
		return 0;
	}
	if (r->fd >= 0) {
		int err = fd_stat_full(r->fd, r->slot, st);
		st->backend = r->backend;
		return err;
	}
	/* anonymous: only the header and the handle know anything */
	st->mode = 0600;
	st->uid = (uint32_t)getuid();
	st->gid = (uint32_t)getgid();
	st->size = st->total_size = r->size;
	st->nattch = -1;
	if (r->hdr) {
		shmkit__stat_from_hdr(r->hdr, st);
		struct shmkit__peer_src src = { .hdr = r->hdr, .fd = -1, .self_slot = r->slot,
						.liveness = SHMKIT_LIVE_PID };
		int n = shmkit__peers_read(&src, NULL, 0, &st->nattch);
		if (n < 0)
			return n;
	}
	return 0;
}

int shmkit_region_peers(const shmkit_region *r, struct shmkit_peer *out, size_t cap)
{
	if (!r || (!out && cap))
		return -EINVAL;
	if (!r->hdr)
		return -EPROTO;
	struct shmkit__peer_src src;
	shmkit__region_peer_src(r, &src);
	return shmkit__peers_read(&src, out, cap, NULL);
}

struct peers_arg { struct shmkit_peer *out; size_t cap; };

static int peers_cb(const struct shmkit__peer_src *src, uint64_t data_size, shmkit__read_fn rd,
		    void *ctx, uint32_t kind, void *arg)
{
	struct peers_arg *a = arg;

	(void)data_size, (void)rd, (void)ctx, (void)kind;
	return shmkit__peers_read(src, a->out, a->cap, NULL);
}

int shmkit_peers(const char *name, struct shmkit_peer *out, size_t cap)
{
	struct peers_arg a = { .out = out, .cap = cap };

	if (!out && cap)
		return -EINVAL;
	return shmkit__observe(name, peers_cb, &a);
}

/* SPDX-License-Identifier: MIT */
/*
 * prims.c - what stat shows of the primitives listed in a segment's
 * directory.  Everything is read into private copies and validated: the
 * directory, the offsets and the primitives' words are untrusted.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"
#include "chan/layout_bcast.h"
#include "chan/layout_chan.h"
#include "chan/layout_mpsc.h"
#include "sync/layout_sync.h"

/* Copies @len bytes at data offset @off; 0 or a negative errno. */
typedef int (*read_fn)(void *ctx, uint64_t off, void *buf, size_t len);

static size_t prim_size(unsigned type)
{
	switch (type) {
	case SHMKIT_PRIM_MUTEX: return sizeof(struct shmkit_mutex_shm);
	case SHMKIT_PRIM_SEM: return sizeof(struct shmkit_sem_shm);
	case SHMKIT_PRIM_RWLOCK: return sizeof(struct shmkit_rwlock_shm);
	case SHMKIT_PRIM_EVENT: return sizeof(struct shmkit_event_shm);
	default: return 0;
	}
}

static bool tag_ok(uint32_t tag, unsigned type)
{
	return tag == 0 || tag == SHMKIT_TAG(type);
}

/* The owner fields of a lock word. */
static void owner_info(const struct shmkit__peer_src *src, uint32_t word,
		       struct shmkit_prim_info *pi)
{
	uint32_t tok = word & SHMKIT_TOK_MASK;

	if (tok == 0)
		return;
	pi->locked = 1;
	pi->owner_pid = shmkit__token_pid(src->hdr, tok);
	pi->owner_alive = shmkit__token_alive(src, tok);
}

/* The mutex, or an rwlock's writer part; false if it is corrupt. */
static bool describe_lockword(const struct shmkit__peer_src *src, unsigned type,
			      const void *buf, struct shmkit_prim_info *pi)
{
	struct shmkit_mutex_shm *m = (struct shmkit_mutex_shm *)buf;
	uint32_t w = load_relaxed(&m->word);

	pi->corrupt = !tag_ok(load_relaxed(&m->tag), type) ||
		(w && !shmkit__token_valid(w)) ||
		load_relaxed(&m->state) > SHMKIT_ST_NOTRECOVERABLE;
	if (pi->corrupt)
		return false;
	owner_info(src, w, pi);
	pi->state = (int)load_relaxed(&m->state);
	pi->waiters = load_relaxed(&m->sleepers);
	pi->recoveries = load_relaxed(&m->recoveries);
	return true;
}

static void describe(const struct shmkit__peer_src *src, unsigned type,
		     const void *buf, struct shmkit_prim_info *pi)
{
	switch (type) {
	case SHMKIT_PRIM_MUTEX:
		describe_lockword(src, type, buf, pi);
		return;
	case SHMKIT_PRIM_RWLOCK: {
		struct shmkit_rwlock_shm *l = (struct shmkit_rwlock_shm *)buf;
		if (!describe_lockword(src, type, &l->w, pi))
			return;
		pi->waiters += load_relaxed(&l->rsleepers) + load_relaxed(&l->dsleepers);
		for (unsigned i = 0; i < SHMKIT_PEER_SLOTS; i++) {
			uint64_t v = load_relaxed(&l->readers[i]);
			uint32_t tok = shmkit__tok_make(i, v >> 32);
			if ((uint32_t)v && shmkit__token_alive(src, tok) != 0)
				pi->value += (uint32_t)v;  /* a dead peer's holds do not count */
		}
		return;
	}
	case SHMKIT_PRIM_SEM: {
		struct shmkit_sem_shm *s = (struct shmkit_sem_shm *)buf;
		pi->value = load_relaxed(&s->value);
		pi->corrupt = !tag_ok(load_relaxed(&s->tag), type) || pi->value > SHMKIT_SEM_VALUE_MAX;
		pi->waiters = load_relaxed(&s->sleepers);
		return;
	}
	case SHMKIT_PRIM_EVENT: {
		struct shmkit_event_shm *e = (struct shmkit_event_shm *)buf;
		pi->corrupt = !tag_ok(load_relaxed(&e->tag), type);
		pi->value = load_relaxed(&e->seq);
		pi->waiters = load_relaxed(&e->sleepers);
		return;
	}
	}
}

static int prims_fill(const struct shmkit__peer_src *src, uint64_t data_size,
		      read_fn rd, void *ctx, struct shmkit_prim_info *out, size_t cap)
{
	struct shmkit_hdr *h = (struct shmkit_hdr *)src->hdr;
	_Alignas(64) unsigned char buf[sizeof(struct shmkit_rwlock_shm)];
	int n = 0;

	for (unsigned i = 0; i < SHMKIT_SYNC_DIR; i++) {
		uint64_t e = load_relaxed(&h->sync_dir[i]);
		if (e == 0)
			continue;
		unsigned type = (unsigned)(e >> 56);
		uint64_t off = e & 0x00ffffffffffffffULL;
		size_t len = prim_size(type);
		if ((size_t)n < cap) {
			struct shmkit_prim_info *pi = &out[n];
			memset(pi, 0, sizeof(*pi));
			pi->type = (int)type;
			pi->offset = off;
			if (!len || (off & 7u) || off > data_size || data_size - off < len) {
				pi->corrupt = 1;  /* a directory entry that cannot be */
			} else {
				int err = rd(ctx, off, buf, len);
				if (err)
					return err;
				describe(src, type, buf, pi);
			}
		}
		n++;
	}
	return n;
}

static int read_mapped(void *ctx, uint64_t off, void *buf, size_t len)
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

int shmkit_region_prims(shmkit_region *r, struct shmkit_prim_info *out, size_t cap)
{
	if (!r || (!out && cap))
		return -EINVAL;
	if (!r->hdr)
		return -EPROTO;
	struct shmkit__peer_src src;
	shmkit__region_peer_src(r, &src);
	return prims_fill(&src, r->size, read_mapped, r->data, out, cap);
}

/* What an observer callback gets: the peer source, the data size, and a
 * reader of data bytes. */
typedef int (*observe_fn)(const struct shmkit__peer_src *src, uint64_t data_size,
			  read_fn rd, void *ctx, uint32_t kind, void *arg);

/* Calls @fn on the segment @name, read without registering: a pread per
 * read on posix and file, a brief read-only attach on System V. */
static int observe(const char *name, observe_fn fn, void *arg)
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
		err = fn(&src, tmp.size, read_mapped, tmp.data, copy.kind, arg);
		shmkit__unmap(&tmp);
		return err;
	}
	struct shmkit_stat st;
	int fd = open(n.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return shmkit__err();
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

struct prims_arg { struct shmkit_prim_info *out; size_t cap; };

static int prims_cb(const struct shmkit__peer_src *src, uint64_t data_size,
		    read_fn rd, void *ctx, uint32_t kind, void *arg)
{
	struct prims_arg *a = arg;

	(void)kind;
	return prims_fill(src, data_size, rd, ctx, a->out, a->cap);
}

int shmkit_prims(const char *name, struct shmkit_prim_info *out, size_t cap)
{
	struct prims_arg a = { .out = out, .cap = cap };

	if (!out && cap)
		return -EINVAL;
	return observe(name, prims_cb, &a);
}

/* Checks a broadcast channel's control block (read into @block) and reads
 * its subscribers' window into @win. */
static int bcast_window(uint64_t data_size, read_fn rd, void *ctx, const unsigned char *block,
			unsigned char *win)
{
	const struct shmkit_bcast_shm *bs = (const void *)block;

	if (bs->magic != SHMKIT_CHAN_MAGIC || bs->version != SHMKIT_CHAN_VERSION ||
	    shmkit__bcast_check(block) || data_size < bs->ring_offset + bs->capacity)
		return -EBADMSG;
	return rd(ctx, bs->win_offset, win, SHMKIT_BCAST_WIN_SIZE);
}

/* A channel's control block (the first SHMKIT_CHAN_RING_OFF bytes) into
 * @block: -EPROTONOSUPPORT if the segment is not a channel, -EBADMSG if it
 * is too small for one. */
static int chan_block(uint64_t data_size, read_fn rd, void *ctx, uint32_t kind, void *block)
{
	if (kind != SHMKIT_KIND_CHANNEL)
		return -EPROTONOSUPPORT;
	if (data_size < SHMKIT_CHAN_RING_OFF)
		return -EBADMSG;
	return rd(ctx, 0, block, SHMKIT_CHAN_RING_OFF);
}

static int chan_cb(const struct shmkit__peer_src *src, uint64_t data_size,
		   read_fn rd, void *ctx, uint32_t kind, void *arg)
{
	/* the control block, and an MPSC channel's writer table after it */
	_Alignas(64) unsigned char block[SHMKIT_MPSC_RING_OFF];
	const struct shmkit_chan_shm *cs = (const void *)block;

	int err = chan_block(data_size, rd, ctx, kind, block);
	if (!err && cs->type == SHMKIT_CHAN_BROADCAST) {
		_Alignas(64) unsigned char win[SHMKIT_BCAST_WIN_SIZE];
		err = bcast_window(data_size, rd, ctx, block, win);
		if (!err)
			err = shmkit__bcast_describe(src, block, win, arg);
		return err;
	}
	if (!err && cs->type == SHMKIT_CHAN_MPSC) {
		if (data_size < SHMKIT_MPSC_RING_OFF)
			return -EBADMSG;
		err = rd(ctx, SHMKIT_CHAN_RING_OFF, block + SHMKIT_CHAN_RING_OFF,
			 SHMKIT_MPSC_RING_OFF - SHMKIT_CHAN_RING_OFF);
	}
	return err ? err : shmkit__chan_describe(src, block, data_size, arg);
}

int shmkit_chan_stat(const char *name, struct shmkit_chan_info *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	return observe(name, chan_cb, out);
}

struct writers_arg { struct shmkit_chan_writer *out; size_t cap; };

static int writers_cb(const struct shmkit__peer_src *src, uint64_t data_size,
		      read_fn rd, void *ctx, uint32_t kind, void *arg)
{
	_Alignas(64) unsigned char block[SHMKIT_MPSC_RING_OFF];
	const struct shmkit_chan_shm *cs = (const void *)block;
	struct writers_arg *a = arg;
	struct shmkit_chan_info ci;

	int err = chan_block(data_size, rd, ctx, kind, block);
	if (err)
		return err;
	if (cs->type != SHMKIT_CHAN_MPSC) {
		/* an SPSC channel (checked), or a corrupt one */
		err = shmkit__chan_describe(src, block, data_size, &ci);
		return err ? err : -EPROTOTYPE;
	}
	if (data_size < SHMKIT_MPSC_RING_OFF)
		return -EBADMSG;
	err = rd(ctx, SHMKIT_CHAN_RING_OFF, block + SHMKIT_CHAN_RING_OFF,
		 SHMKIT_MPSC_RING_OFF - SHMKIT_CHAN_RING_OFF);
	/* the whole control block is checked before the table is read */
	if (!err)
		err = shmkit__chan_describe(src, block, data_size, &ci);
	if (err)
		return err;
	int n = shmkit__mpsc_writers(src, block, data_size, a->out, a->cap);
	/* a claim the reader has not passed counts with its record, whose
	 * size its header word tells (nothing if no claim stands there) */
	const struct shmkit_mpsc_shm *ms = (const void *)block;
	uint64_t head = ms->head, capacity = ms->capacity;
	for (int i = 0; i < n && (size_t)i < a->cap; i++) {
		struct shmkit_chan_writer *w = &a->out[i];
		uint64_t h, size = 0;
		if (w->pos < head)
			continue;
		err = rd(ctx, SHMKIT_MPSC_RING_OFF + (w->pos & (capacity - 1)), &h, sizeof(h));
		if (err)
			return err;
		unsigned st = SHMKIT_MPSC_STATE(h);
		if ((st == SHMKIT_MPSC_CLAIMED || st == SHMKIT_MPSC_COMMITTED) &&
		    SHMKIT_MPSC_TAG(h) == ((w->pos / capacity) & SHMKIT_MPSC_TAG_MASK) &&
		    SHMKIT_MPSC_LEN(h) <= ms->max_msg)
			size = 8 + ((SHMKIT_MPSC_LEN(h) + 7ull) & ~7ull);
		w->lag = w->pos - head + size;
		if (w->lag > capacity)
			w->lag = capacity;  /* a racy copy: clamped */
	}
	return n;
}

int shmkit_chan_writers(const char *name, struct shmkit_chan_writer *out, size_t cap)
{
	struct writers_arg a = { .out = out, .cap = cap };

	if (!out && cap)
		return -EINVAL;
	return observe(name, writers_cb, &a);
}

struct subs_arg { struct shmkit_sub_info *out; size_t cap; };

static int subs_cb(const struct shmkit__peer_src *src, uint64_t data_size,
		   read_fn rd, void *ctx, uint32_t kind, void *arg)
{
	_Alignas(64) unsigned char block[SHMKIT_CHAN_RING_OFF];
	_Alignas(64) unsigned char win[SHMKIT_BCAST_WIN_SIZE];
	const struct shmkit_chan_shm *cs = (const void *)block;
	struct subs_arg *a = arg;

	int err = chan_block(data_size, rd, ctx, kind, block);
	if (err)
		return err;
	if (cs->magic != SHMKIT_CHAN_MAGIC)
		return -EBADMSG;
	if (cs->type != SHMKIT_CHAN_BROADCAST)
		return -EPROTOTYPE;
	err = bcast_window(data_size, rd, ctx, block, win);
	return err ? err : shmkit__bcast_subs(src, block, win, a->out, a->cap);
}

int shmkit_chan_subs(const char *name, struct shmkit_sub_info *out, size_t cap)
{
	struct subs_arg a = { .out = out, .cap = cap };

	if (!out && cap)
		return -EINVAL;
	return observe(name, subs_cb, &a);
}

/* SPDX-License-Identifier: MIT */
/*
 * prims.c - what stat shows of the primitives listed in a segment's
 * directory.  Everything is read into private copies and validated: the
 * directory, the offsets and the primitives' words are untrusted.
 */
#include <string.h>

#include "atomic.h"
#include "internal.h"
#include "sync/layout_sync.h"


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
		      shmkit__read_fn rd, void *ctx, struct shmkit_prim_info *out, size_t cap)
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

int shmkit_region_prims(shmkit_region *r, struct shmkit_prim_info *out, size_t cap)
{
	if (!r || (!out && cap))
		return -EINVAL;
	if (!r->hdr)
		return -EPROTO;
	struct shmkit__peer_src src;
	shmkit__region_peer_src(r, &src);
	return prims_fill(&src, r->size, shmkit__read_mapped, r->data, out, cap);
}

struct prims_arg { struct shmkit_prim_info *out; size_t cap; };

static int prims_cb(const struct shmkit__peer_src *src, uint64_t data_size,
		    shmkit__read_fn rd, void *ctx, uint32_t kind, void *arg)
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
	return shmkit__observe(name, prims_cb, &a);
}


/* SPDX-License-Identifier: MIT */
/*
 * chan.c - the channel front: options, create, open and close, the check
 * of line 0, and the public calls.  A handle's kind (spsc.c, mpsc.c,
 * bcast.c) is chosen once, at open, from the channel's validated line 0;
 * every call after that is one dispatch through its ops table.
 */
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "chan/chan.h"
#include "chan/fdw.h"

static const struct shmkit__chan_ops *const kinds[] = {
	[SHMKIT_CHAN_SPSC] = &shmkit__spsc_ops,
	[SHMKIT_CHAN_MPSC] = &shmkit__mpsc_ops,
	[SHMKIT_CHAN_BROADCAST] = &shmkit__bcast_ops,
};

const struct shmkit__chan_ops *shmkit__chan_kind(uint32_t kind)
{
	return kind < sizeof(kinds) / sizeof(kinds[0]) ? kinds[kind] : NULL;
}

int shmkit__chan_check(const struct shmkit_chan_line0 *l0, uint64_t data_size)
{
	uint64_t cap = l0->capacity, ring_off;

	if (l0->magic != SHMKIT_CHAN_MAGIC)
		return -EBADMSG;
	const struct shmkit__chan_ops *k = shmkit__chan_kind(l0->kind);
	if (l0->version != SHMKIT_CHAN_VERSION || !k)
		return -EPROTONOSUPPORT;
	if (k->check(l0, &ring_off) || cap < k->min_cap || cap > SHMKIT_CHAN_MAX_CAP ||
	    (cap & (cap - 1)) || l0->ring_offset != ring_off || l0->max_msg != cap / 4 ||
	    data_size < ring_off || data_size - ring_off < cap || l0->policy > SHMKIT_WAIT_SLEEP)
		return -EBADMSG;
	return 0;
}

/* Checks @opts (may be NULL) into *o, and the kind a create makes. */
static int chan_opts(const struct shmkit_chan_opts *opts, unsigned flags,
		     struct shmkit_chan_opts *o, const struct shmkit__chan_ops **k)
{
	memset(o, 0, sizeof(*o));
	if (opts)
		*o = *opts;
	if (o->capacity == 0)
		o->capacity = 1u << 20;
	if ((flags & ~(SHMKIT_CREATE | SHMKIT_EXCL | SHMKIT_RDONLY | SHMKIT_FOLLOW)) ||
	    o->policy > SHMKIT_WAIT_SLEEP || o->kind > SHMKIT_CHAN_BROADCAST ||
	    o->overflow > SHMKIT_BCAST_OVERWRITE || o->start > SHMKIT_SUB_OLDEST)
		return -EINVAL;
	*k = shmkit__chan_kind(o->kind ? o->kind : SHMKIT_CHAN_SPSC);
	if ((flags & SHMKIT_RDONLY) && o->kind && o->kind != SHMKIT_CHAN_BROADCAST)
		return -EOPNOTSUPP;  /* only a broadcast subscriber reads alone */
	if ((flags & SHMKIT_CREATE) &&
	    ((o->mode & ~0777u) || o->capacity < (*k)->min_cap ||
	     o->capacity > SHMKIT_CHAN_MAX_CAP || (o->capacity & (o->capacity - 1))))
		return -EINVAL;  /* what a create would make: an open ignores it */
	return 0;
}

/* Opens the channel segment @name (creating it as asked) and checks that
 * it is one; its validated line 0 goes to *l0. */
static int chan_region(const char *name, unsigned flags, const struct shmkit_chan_opts *o,
		       const struct shmkit__chan_ops *k, struct shmkit_chan_line0 *l0,
		       shmkit_region **r)
{
	_Alignas(64) unsigned char block[SHMKIT_CHAN_RING_OFF];
	uint32_t policy = o->policy ? o->policy : SHMKIT_WAIT_SPIN_SLEEP;
	uint32_t spin_ns = o->spin_ns ? o->spin_ns : SHMKIT_SPIN_NS_DEFAULT;

	k->image(block, o, policy, spin_ns);
	uint64_t ring_off = ((const struct shmkit_chan_line0 *)(void *)block)->ring_offset;
	struct shmkit__image image = {
		.kind = SHMKIT_KIND_CHANNEL, .bytes = block, .len = sizeof(block),
		.fill_from = k->fill_word ? ring_off : 0, .fill_word = k->fill_word,
	};
	int err = shmkit__open_or_create(name, flags & ~(SHMKIT_RDONLY | SHMKIT_FOLLOW),
					 ring_off + o->capacity,
					 o->mode ? o->mode : SHMKIT_DEFAULT_MODE, &image, r);

	if (err)
		return err;
	err = (*r)->sync_err;
	if (!err && *(volatile uint32_t *)&(*r)->hdr->kind != SHMKIT_KIND_CHANNEL)
		err = -EPROTONOSUPPORT;
	if (!err && (*r)->size < sizeof(*l0))
		err = -EBADMSG;
	if (!err) {
		/* validate a private copy of line 0; use only the copy */
		memcpy(l0, (*r)->data, sizeof(*l0));
		err = shmkit__chan_check(l0, (*r)->size);
		/* a kind asked for must be the channel's */
		if (!err && o->kind && l0->kind != o->kind)
			err = -EPROTOTYPE;
		if (!err && (flags & SHMKIT_RDONLY) && l0->kind != SHMKIT_CHAN_BROADCAST)
			err = -EOPNOTSUPP;
	}
	if (err) {
		shmkit_region_close(*r);
		*r = NULL;
	}
	return err;
}

int shmkit_chan_create(const char *name, unsigned flags, const struct shmkit_chan_opts *opts)
{
	struct shmkit_chan_opts o;
	struct shmkit_chan_line0 l0;
	const struct shmkit__chan_ops *k;
	shmkit_region *r;
	int err = chan_opts(opts, flags | SHMKIT_CREATE, &o, &k);

	if (err)
		return err;
	if (flags & (SHMKIT_RDONLY | SHMKIT_FOLLOW))
		return -EINVAL;
	err = chan_region(name, flags | SHMKIT_CREATE, &o, k, &l0, &r);
	return err ? err : shmkit_region_close(r);
}

int shmkit_chan_open(const char *name, unsigned flags, int role,
		     const struct shmkit_chan_opts *opts, shmkit_chan **out)
{
	struct shmkit_chan_opts o;
	struct shmkit_chan_line0 l0;
	const struct shmkit__chan_ops *k;
	shmkit_region *r;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (role != SHMKIT_CHAN_WRITER && role != SHMKIT_CHAN_READER)
		return -EINVAL;
	if ((flags & (SHMKIT_RDONLY | SHMKIT_FOLLOW)) && role != SHMKIT_CHAN_READER)
		return -EINVAL;  /* a writer writes, and ends its own stream */
	err = chan_opts(opts, flags, &o, &k);
	if (err)
		return err;
	err = chan_region(name, flags, &o, k, &l0, &r);
	if (err)
		return err;
	k = shmkit__chan_kind(l0.kind);  /* the channel's, which may not be the one asked */
	shmkit_chan *c = calloc(1, k->handle_size);
	if (!c) {
		shmkit_region_close(r);
		return -ENOMEM;
	}
	c->ops = k;
	c->r = r;
	c->role = role;
	c->follow = (flags & SHMKIT_FOLLOW) != 0;
	shmkit__region_peer_src(r, &c->src);
	shmkit__ring_init(&c->ring, (unsigned char *)r->data + l0.ring_offset, l0.capacity);
	c->chan_policy = l0.policy;
	c->chan_spin_ns = l0.spin_ns;
	c->w.policy = o.policy ? o.policy : l0.policy;
	c->w.spin_ns = o.spin_ns ? o.spin_ns : l0.spin_ns;
	c->w.tx = -1;
	struct shmkit__chan_open op = { .l0 = &l0, .flags = flags, .start = o.start };
	err = k->open(c, &op);
	if (err) {
		shmkit_region_close(r);
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

int shmkit_chan_close(shmkit_chan *c)
{
	if (!c)
		return -EINVAL;
	c->ops->close(c);
	shmkit__fdw_close(c->w.fdw);
	if (c->w.tx >= 0)
		close(c->w.tx);
	/* a reader's peeked but unreleased messages stay for the next reader */
	int err = shmkit_region_close(c->r);
	free(c);
	return err;
}

static unsigned chan_watch(void *ctx, uint32_t *toks)
{
	shmkit_chan *c = ctx;

	return c->ops->watch(c, toks);
}

int shmkit_chan_fd(shmkit_chan *c)
{
	if (!c)
		return -EINVAL;
	if (!c->w.fdw) {
		int err = shmkit__fdw_open(&c->w.fdw, &c->src, chan_watch, c);
		if (err)
			return err;
	}
	return shmkit__fdw_fd(c->w.fdw);
}

int shmkit_chan_set_wait(shmkit_chan *c, unsigned policy, uint32_t spin_ns)
{
	if (!c || policy > SHMKIT_WAIT_SLEEP)
		return -EINVAL;
	c->w.policy = policy ? policy : c->chan_policy;
	c->w.spin_ns = spin_ns ? spin_ns : c->chan_spin_ns;
	c->ops->set_wait(c);
	return 0;
}

/* ---- the public calls: the handle and the role, then the kind ---- */

static int writer_of(const shmkit_chan *c)
{
	return !c ? -EINVAL : c->role != SHMKIT_CHAN_WRITER ? -EPERM : 0;
}

static int reader_of(const shmkit_chan *c)
{
	return !c ? -EINVAL : c->role != SHMKIT_CHAN_READER ? -EPERM : 0;
}

int shmkit_chan_reserve(shmkit_chan *c, size_t len, void **p, int64_t timeout_ns)
{
	int err = p ? writer_of(c) : -EINVAL;

	if (err)
		return err;
	if (len == 0 || len > c->ring.max_msg)
		return -EMSGSIZE;
	return c->ops->reserve(c, len, p, timeout_ns);
}

int shmkit_chan_commit(shmkit_chan *c)
{
	int err = writer_of(c);

	return err ? err : c->ops->commit(c);
}

int shmkit_chan_send(shmkit_chan *c, const void *buf, size_t len, int64_t timeout_ns)
{
	void *p;

	if (!buf && len)
		return -EINVAL;
	int err = shmkit_chan_reserve(c, len, &p, timeout_ns);
	if (err)
		return err;
	memcpy(p, buf, len);
	return c->ops->commit(c);
}

long shmkit_chan_peek(shmkit_chan *c, const void **p, int64_t timeout_ns)
{
	int err = p ? reader_of(c) : -EINVAL;

	return err ? err : c->ops->peek(c, p, timeout_ns);
}

int shmkit_chan_release(shmkit_chan *c)
{
	int err = reader_of(c);

	return err ? err : c->ops->release(c);
}

long shmkit_chan_recv(shmkit_chan *c, void *buf, size_t cap, int64_t timeout_ns)
{
	int err = !buf && cap ? -EINVAL : reader_of(c);

	return err ? err : c->ops->recv(c, buf, cap, timeout_ns);
}

size_t shmkit_chan_max_msg(const shmkit_chan *c)
{
	return c ? c->ring.max_msg : 0;
}

int32_t shmkit_chan_peer_pid(shmkit_chan *c, int *alive)
{
	if (alive)
		*alive = 0;
	return c ? c->ops->peer_pid(c, alive) : -EINVAL;
}

shmkit_region *shmkit_chan_region(shmkit_chan *c)
{
	return c ? c->r : NULL;
}

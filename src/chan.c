/* SPDX-License-Identifier: MIT */
/*
 * chan.c - the single-producer single-consumer channel.
 *
 * The writer appends records at its local position and publishes them by
 * storing tail with release (C1); the reader loads tail with acquire (C2),
 * so a record is never seen before its bytes.  The reader hands records
 * back by storing head with release (C3); the writer loads head with
 * acquire (C4) before it reuses the space.  A side that sleeps sets its
 * wait flag, then a full fence, then re-reads the other's position (C5);
 * the other side stores its position, then a full fence, then reads the
 * flag (C6): one of the two sees the other, so no wake-up is lost, and a
 * side that does not sleep is never woken (no system call while streaming).
 * closed is stored with release after the last tail (C7) and loaded with
 * acquire before tail is read again (C8).
 *
 * Everything read from the segment is checked before use: positions must
 * stay within one capacity of each other and 8-aligned, records within
 * the ring and the published range; anything else is -EBADMSG.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "futex.h"
#include "internal.h"
#include "layout_chan.h"
#include "layout_sync.h"


struct shmkit_chan {
	shmkit_region *r;
	struct shmkit_chan_shm *shm;
	unsigned char *ring;
	uint64_t cap, mask;
	uint32_t max_msg;
	int role;
	unsigned policy;
	uint64_t spin_ns;
	unsigned chan_policy;  /* the channel's own, from its control block */
	uint32_t chan_spin_ns;
	uint64_t pos;          /* writer: end of reservations; reader: of peeks */
	uint64_t pub;          /* the position last published */
	uint64_t other;        /* the other side's position, last seen */
	uint64_t pending;      /* messages reserved or peeked, not published */
	int64_t next_check;    /* when to ask again whether the peer lives */
	uint32_t dead_peer;    /* the role token found dead, 0 none */
	struct shmkit__peer_src src;
};

static uint64_t align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* ---- waiting ---- */

/* -EPIPE if the other side's role names an attach that died.  Asked at
 * most once per poll period unless @force; a death once seen stays seen
 * until a new process takes the role. */
static int peer_check(shmkit_chan *c, bool force)
{
	_Atomic uint32_t *role = c->role == SHMKIT_CHAN_WRITER ? &c->shm->reader
							       : &c->shm->writer;
	uint32_t tok = load_relaxed(role);

	if (tok == 0)
		return 0;  /* never had one: wait for it */
	if (tok == c->dead_peer)
		return -EPIPE;
	int64_t now = shmkit__mono_ns();
	if (!force && now < c->next_check)
		return 0;
	c->next_check = now + SHMKIT_POLL_NS;
	if (!shmkit__lockword_valid(tok))
		return -EBADMSG;
	if (shmkit__token_alive(&c->src, tok) != 0)
		return 0;
	c->dead_peer = tok;
	return -EPIPE;
}

/*
 * One wait step for a side whose position @mine lags nothing new: spin or
 * sleep on the other side's position word until it moves from @seen, per
 * policy.  Returns 0 to look again, or -ETIMEDOUT / -EINTR.
 */
static int wait_step(shmkit_chan *c, _Atomic uint64_t *word, uint64_t seen,
		     _Atomic uint32_t *flag, int64_t deadline, int64_t *spin_until)
{
	int64_t now = shmkit__mono_ns();

	if (deadline >= 0 && now >= deadline)
		return -ETIMEDOUT;
	if (c->policy == SHMKIT_WAIT_SPIN ||
	    (c->policy == SHMKIT_WAIT_SPIN_SLEEP && now < *spin_until)) {
		for (int i = 0; i < 64 && load_relaxed(word) == seen; i++)
			shmkit__cpu_relax();
		return 0;
	}
	store_relaxed(flag, 1);
	/* C5: the flag before the re-read; pairs with C6 */
	atomic_thread_fence(memory_order_seq_cst);
	int err = 0;
	if (load_relaxed(word) == seen &&
	    !(c->role == SHMKIT_CHAN_READER && load_relaxed(&c->shm->closed)))
		err = shmkit__futex_wait((_Atomic uint32_t *)(void *)word, (uint32_t)seen,
					 shmkit__deadline_min(deadline, now + SHMKIT_POLL_NS));
	store_relaxed(flag, 0);
	*spin_until = 0;  /* slept once: sleep at once from now on */
	return err == -EINTR ? err : 0;
}

/* Publishes @pos in @word and wakes the other side if it sleeps. */
static void publish(_Atomic uint64_t *word, uint64_t pos, _Atomic uint32_t *flag)
{
	/* C1 (tail) / C3 (head) */
	store_release(word, pos);
	/* C6: the position before the flag; pairs with C5 */
	atomic_thread_fence(memory_order_seq_cst);
	if (load_relaxed(flag))
		shmkit__futex_wake((_Atomic uint32_t *)(void *)word, 1);
}

/* ---- writer ---- */

/* Loads and checks head; 0 or -EBADMSG. */
static int load_head(shmkit_chan *c)
{
	/* C4: pairs with C3 */
	uint64_t h = load_acquire(&c->shm->head);

	if (h > c->pub || c->pub - h > c->cap || (h & 7))
		return -EBADMSG;
	c->other = h;
	return 0;
}

/* Publishes what this side reserved or peeked since it last did. */
static int publish_side(shmkit_chan *c, int role)
{
	bool writer = role == SHMKIT_CHAN_WRITER;

	if (!c || c->role != role)
		return -EPERM;
	if (c->pos == c->pub)
		return 0;
	c->pub = c->pos;
	publish(writer ? &c->shm->tail : &c->shm->head, c->pos,
		writer ? &c->shm->rwait : &c->shm->wwait);
	/* statistics, after the fact (a kill in between leaves them short);
	 * each side alone writes its counter: a plain store, no locked
	 * instruction on a line the other side keeps reading */
	_Atomic uint64_t *count = writer ? &c->shm->sent : &c->shm->received;
	store_relaxed(count, load_relaxed(count) + c->pending);
	c->pending = 0;
	return 0;
}

int shmkit_chan_commit(shmkit_chan *c)
{
	return publish_side(c, SHMKIT_CHAN_WRITER);
}

int shmkit_chan_reserve(shmkit_chan *c, size_t len, void **p, int64_t timeout_ns)
{
	if (!c || !p)
		return -EINVAL;
	if (c->role != SHMKIT_CHAN_WRITER)
		return -EPERM;
	if (len == 0 || len > c->max_msg)
		return -EMSGSIZE;
	uint64_t need = SHMKIT_REC_HDR + align8(len);
	uint64_t off = c->pos & c->mask;
	uint64_t pad = c->cap - off < need ? c->cap - off : 0;
	int64_t deadline = shmkit__deadline(timeout_ns);
	int64_t spin_until = -1;

	while (c->pos + pad + need - c->other > c->cap) {
		int err = load_head(c);
		if (err)
			return err;
		if (c->pos + pad + need - c->other <= c->cap)
			break;
		/* the reader may be waiting for what we reserved: show it */
		shmkit_chan_commit(c);
		err = peer_check(c, timeout_ns == 0);
		if (err)
			return err;
		if (timeout_ns == 0)
			return -EAGAIN;
		if (spin_until < 0)
			spin_until = shmkit__mono_ns() + (int64_t)c->spin_ns;
		err = wait_step(c, &c->shm->head, c->other, &c->shm->wwait, deadline,
				&spin_until);
		if (err)
			return err;
	}
	if (pad) {
		struct shmkit_chan_rec rec = { .len = (uint32_t)(pad - SHMKIT_REC_HDR),
					       .kind = SHMKIT_REC_PAD };
		memcpy(c->ring + off, &rec, sizeof(rec));
		c->pos += pad;
		off = 0;
	}
	struct shmkit_chan_rec rec = { .len = (uint32_t)len, .kind = SHMKIT_REC_DATA };
	memcpy(c->ring + off, &rec, sizeof(rec));
	*p = c->ring + off + SHMKIT_REC_HDR;
	c->pos += need;
	c->pending++;
	return 0;
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
	return shmkit_chan_commit(c);
}

/* ---- reader ---- */

/* Loads and checks tail; 0 or -EBADMSG. */
static int load_tail(shmkit_chan *c)
{
	/* C2: pairs with C1 */
	uint64_t t = load_acquire(&c->shm->tail);

	if (t < c->pos || t - c->pub > c->cap || (t & 7))
		return -EBADMSG;
	c->other = t;
	return 0;
}

/*
 * The next message at c->pos, skipping padding: its length (> 0) with *p
 * and *need set, 0 if none is published, or -EBADMSG.
 */
static long next_record(shmkit_chan *c, const void **p, uint64_t *need)
{
	while (c->pos < c->other) {
		uint64_t off = c->pos & c->mask, avail = c->other - c->pos;
		struct shmkit_chan_rec rec;
		if (avail < SHMKIT_REC_HDR)
			return -EBADMSG;
		memcpy(&rec, c->ring + off, sizeof(rec));  /* one read, then checked */
		uint64_t size = SHMKIT_REC_HDR + align8(rec.len);
		if (size > avail || off + size > c->cap)
			return -EBADMSG;
		if (rec.kind == SHMKIT_REC_PAD) {
			if (off + size != c->cap)
				return -EBADMSG;  /* padding only ever fills the end */
			c->pos += size;
			continue;
		}
		if (rec.kind != SHMKIT_REC_DATA || rec.len == 0 || rec.len > c->max_msg)
			return -EBADMSG;
		*p = c->ring + off + SHMKIT_REC_HDR;
		*need = size;
		return rec.len;
	}
	return 0;
}

/* Waits for the next message; its length, 0 at the end, or an error. */
static long reader_next(shmkit_chan *c, const void **p, uint64_t *need,
			int64_t timeout_ns)
{
	int64_t deadline = shmkit__deadline(timeout_ns);
	int64_t spin_until = -1;

	if (!c || !p)
		return -EINVAL;
	if (c->role != SHMKIT_CHAN_READER)
		return -EPERM;
	for (;;) {
		long n = next_record(c, p, need);
		if (n)
			return n;
		int err = load_tail(c);
		if (err)
			return err;
		if ((n = next_record(c, p, need)) != 0)
			return n;
		/* C8: closed after the last tail; pairs with C7 */
		if (load_acquire(&c->shm->closed)) {
			if ((err = load_tail(c)) != 0)
				return err;
			if ((n = next_record(c, p, need)) != 0)
				return n;
			return 0;  /* the end of the stream */
		}
		err = peer_check(c, timeout_ns == 0);
		if (err == -EPIPE) {
			/* what the writer published before it died comes first */
			if ((err = load_tail(c)) != 0)
				return err;
			if ((n = next_record(c, p, need)) != 0)
				return n;
			return -EPIPE;
		}
		if (err)
			return err;
		if (timeout_ns == 0)
			return -EAGAIN;
		if (spin_until < 0)
			spin_until = shmkit__mono_ns() + (int64_t)c->spin_ns;
		err = wait_step(c, &c->shm->tail, c->other, &c->shm->rwait, deadline,
				&spin_until);
		if (err)
			return err;
	}
}

long shmkit_chan_peek(shmkit_chan *c, const void **p, int64_t timeout_ns)
{
	uint64_t need;
	long n = reader_next(c, p, &need, timeout_ns);

	if (n > 0) {
		c->pos += need;
		c->pending++;
	}
	return n;
}

int shmkit_chan_release(shmkit_chan *c)
{
	return publish_side(c, SHMKIT_CHAN_READER);
}

long shmkit_chan_recv(shmkit_chan *c, void *buf, size_t cap, int64_t timeout_ns)
{
	const void *p;
	uint64_t need;

	if (!buf && cap)
		return -EINVAL;
	long n = reader_next(c, &p, &need, timeout_ns);
	if (n <= 0)
		return n;
	if ((size_t)n > cap)
		return -EMSGSIZE;  /* it stays: c->pos is not moved past it */
	memcpy(buf, p, (size_t)n);
	c->pos += need;
	c->pending++;
	int err = shmkit_chan_release(c);
	return err ? err : n;
}

/* ---- opening ---- */

/* Checks the immutable line of a control block against the data size. */
static int chan_check(const struct shmkit_chan_shm *s, uint64_t data_size)
{
	uint64_t cap = s->capacity;

	if (s->magic != SHMKIT_CHAN_MAGIC)
		return -EBADMSG;
	if (s->version != SHMKIT_CHAN_VERSION || s->type != SHMKIT_CHAN_SPSC)
		return -EPROTONOSUPPORT;
	if (cap < SHMKIT_CHAN_MIN_CAP || cap > SHMKIT_CHAN_MAX_CAP || (cap & (cap - 1)) ||
	    s->ring_offset != SHMKIT_CHAN_RING_OFF || s->max_msg != cap / 4 ||
	    data_size < SHMKIT_CHAN_RING_OFF + cap || s->policy > SHMKIT_WAIT_SLEEP)
		return -EBADMSG;
	return 0;
}

int shmkit__chan_describe(const struct shmkit__peer_src *src, const void *data,
			  uint64_t data_size, struct shmkit_chan_info *out)
{
	const struct shmkit_chan_shm *cs = data;
	struct shmkit_chan_shm *s = (struct shmkit_chan_shm *)data;

	memset(out, 0, sizeof(*out));
	if (data_size < sizeof(*s))
		return -EBADMSG;
	int err = chan_check(cs, data_size);
	if (err)
		return err;
	uint64_t tail = load_relaxed(&s->tail), head = load_relaxed(&s->head);
	if (head > tail || tail - head > s->capacity)
		return -EBADMSG;
	out->type = (int)s->type;
	out->capacity = s->capacity;
	out->max_msg = s->max_msg;
	out->used = tail - head;
	out->sent = load_relaxed(&s->sent);
	out->received = load_relaxed(&s->received);
	out->in_flight = out->sent >= out->received ? out->sent - out->received : 0;
	out->closed = load_relaxed(&s->closed) != 0;
	uint32_t w = load_relaxed(&s->writer), r = load_relaxed(&s->reader);
	if (w && shmkit__lockword_valid(w)) {
		out->writer_pid = load_relaxed(&s->writer_pid);
		out->writer_alive = shmkit__token_alive(src, w);
	}
	if (r && shmkit__lockword_valid(r)) {
		out->reader_pid = load_relaxed(&s->reader_pid);
		out->reader_alive = shmkit__token_alive(src, r);
	}
	return 0;
}

/* Takes @role for this attach: from nobody, or from a dead attach. */
static int claim_role(shmkit_chan *c, _Atomic uint32_t *word)
{
	uint32_t tok = c->r->token;

	/* A dead holder's slot may be in the hands of a new attach that has
	 * its lock but not yet its claim: for that moment the dead token
	 * looks alive.  So "alive" is asked a few times, 1 ms apart. */
	for (int tries = 0, busy = 0; tries < 32; tries++) {
		uint32_t cur = load_relaxed(word);
		if (cur != 0 && cur != tok) {
			if (!shmkit__lockword_valid(cur))
				return -EBADMSG;
			if (shmkit__token_alive(&c->src, cur) != 0) {
				if (++busy >= 10)
					return -EBUSY;
				struct timespec ms = { 0, 1000000 };
				nanosleep(&ms, NULL);
				continue;
			}
		}
		/* acq_rel: the winner sees what the dead holder published */
		if (cas_acq_rel(word, &cur, tok))
			return 0;
	}
	return -EBUSY;
}

/* Checks @opts (may be NULL) into *o and the control block a create writes. */
static int chan_opts(const struct shmkit_chan_opts *opts, unsigned flags,
		     struct shmkit_chan_opts *o, struct shmkit_chan_shm *img)
{
	memset(o, 0, sizeof(*o));
	if (opts)
		*o = *opts;
	if (o->capacity == 0)
		o->capacity = 1u << 20;
	if ((flags & ~(SHMKIT_CREATE | SHMKIT_EXCL)) || o->policy > SHMKIT_WAIT_SLEEP)
		return -EINVAL;
	if ((flags & SHMKIT_CREATE) &&
	    ((o->mode & ~0777u) || o->capacity < SHMKIT_CHAN_MIN_CAP ||
	     o->capacity > SHMKIT_CHAN_MAX_CAP || (o->capacity & (o->capacity - 1))))
		return -EINVAL;  /* what a create would make: an open ignores it */
	memset(img, 0, sizeof(*img));
	img->magic = SHMKIT_CHAN_MAGIC;
	img->version = SHMKIT_CHAN_VERSION;
	img->type = SHMKIT_CHAN_SPSC;
	img->capacity = o->capacity;
	img->max_msg = (uint32_t)(o->capacity / 4);
	img->ring_offset = SHMKIT_CHAN_RING_OFF;
	img->policy = o->policy ? o->policy : SHMKIT_WAIT_SPIN_SLEEP;
	img->spin_ns = o->spin_ns ? o->spin_ns : SHMKIT_SPIN_NS_DEFAULT;
	return 0;
}

/* Opens the channel segment @name (creating it as asked) and checks that it
 * is one; its validated immutable line goes to *img. */
static int chan_region(const char *name, unsigned flags, const struct shmkit_chan_opts *o,
		       struct shmkit_chan_shm *img, shmkit_region **r)
{
	struct shmkit__image image = { .kind = SHMKIT_KIND_CHANNEL, .bytes = img,
				       .len = sizeof(*img) };
	int err = shmkit__open_or_create(name, flags, SHMKIT_CHAN_RING_OFF + o->capacity,
					 o->mode ? o->mode : SHMKIT_DEFAULT_MODE, &image, r);

	if (err)
		return err;
	err = (*r)->sync_err;
	if (!err && *(volatile uint32_t *)&(*r)->hdr->kind != SHMKIT_KIND_CHANNEL)
		err = -EPROTONOSUPPORT;
	if (!err) {
		/* validate a private copy of the immutable line; use only the copy */
		memcpy(img, (*r)->data, 64);
		err = chan_check(img, (*r)->size);
	}
	if (err) {
		shmkit_region_close(*r);
		*r = NULL;
	}
	return err;
}

int shmkit_chan_create(const char *name, unsigned flags,
		       const struct shmkit_chan_opts *opts)
{
	struct shmkit_chan_opts o;
	struct shmkit_chan_shm img;
	shmkit_region *r;
	int err = chan_opts(opts, flags | SHMKIT_CREATE, &o, &img);

	if (err)
		return err;
	err = chan_region(name, flags | SHMKIT_CREATE, &o, &img, &r);
	return err ? err : shmkit_region_close(r);
}

int shmkit_chan_open(const char *name, unsigned flags, int role,
		     const struct shmkit_chan_opts *opts, shmkit_chan **out)
{
	struct shmkit_chan_opts o;
	struct shmkit_chan_shm img;
	shmkit_chan *c;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (role != SHMKIT_CHAN_WRITER && role != SHMKIT_CHAN_READER)
		return -EINVAL;
	err = chan_opts(opts, flags, &o, &img);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = chan_region(name, flags, &o, &img, &c->r);
	if (err) {
		free(c);
		return err;
	}
	c->shm = c->r->data;
	c->ring = (unsigned char *)c->r->data + SHMKIT_CHAN_RING_OFF;
	c->cap = img.capacity;
	c->mask = img.capacity - 1;
	c->max_msg = img.max_msg;
	c->role = role;
	shmkit__region_peer_src(c->r, &c->src);
	c->chan_policy = img.policy;
	c->chan_spin_ns = img.spin_ns;
	shmkit_chan_set_wait(c, o.policy, o.spin_ns);
	err = claim_role(c, role == SHMKIT_CHAN_WRITER ? &c->shm->writer : &c->shm->reader);
	if (err)
		goto fail;
	/* for stat, after this attach is gone; relaxed: informational */
	store_relaxed(role == SHMKIT_CHAN_WRITER ? &c->shm->writer_pid : &c->shm->reader_pid,
		      (int32_t)c->r->owner);
	/* carry on from what the last holder of the role published */
	uint64_t tail = load_acquire(&c->shm->tail), head = load_acquire(&c->shm->head);
	if (head > tail || tail - head > c->cap || ((tail | head) & 7)) {
		err = -EBADMSG;
		goto fail;
	}
	if (role == SHMKIT_CHAN_WRITER) {
		c->pos = c->pub = tail;
		c->other = head;
		store_relaxed(&c->shm->wwait, 0);
		/* a new stream; C7's twin, before anything we publish */
		store_release(&c->shm->closed, 0);
	} else {
		c->pos = c->pub = head;
		c->other = head;
		store_relaxed(&c->shm->rwait, 0);
	}
	*out = c;
	return 0;
fail:
	shmkit_region_close(c->r);
	free(c);
	return err;
}

int shmkit_chan_close(shmkit_chan *c)
{
	if (!c)
		return 0;
	if (c->role == SHMKIT_CHAN_WRITER) {
		shmkit_chan_commit(c);
		/* C7: the end after the last tail; pairs with C8 */
		store_release(&c->shm->closed, 1);
		atomic_thread_fence(memory_order_seq_cst);  /* C6 for closed */
		if (load_relaxed(&c->shm->rwait))
			shmkit__futex_wake((_Atomic uint32_t *)(void *)&c->shm->tail, 1);
	}
	/* a reader's peeked but unreleased messages stay for the next reader */
	int err = shmkit_region_close(c->r);
	free(c);
	return err;
}

int shmkit_chan_set_wait(shmkit_chan *c, unsigned policy, uint32_t spin_ns)
{
	if (!c || policy > SHMKIT_WAIT_SLEEP)
		return -EINVAL;
	c->policy = policy ? policy : c->chan_policy;
	c->spin_ns = spin_ns ? spin_ns : c->chan_spin_ns;
	return 0;
}

size_t shmkit_chan_max_msg(const shmkit_chan *c)
{
	return c ? c->max_msg : 0;
}

int32_t shmkit_chan_peer_pid(shmkit_chan *c, int *alive)
{
	if (alive)
		*alive = 0;
	if (!c)
		return 0;
	uint32_t tok = load_relaxed(c->role == SHMKIT_CHAN_WRITER ? &c->shm->reader
								   : &c->shm->writer);
	if (!tok || !shmkit__lockword_valid(tok))
		return 0;
	if (alive)
		*alive = shmkit__token_alive(&c->src, tok);
	return shmkit__token_pid(c->r->hdr, tok);
}

shmkit_region *shmkit_chan_region(shmkit_chan *c)
{
	return c ? c->r : NULL;
}

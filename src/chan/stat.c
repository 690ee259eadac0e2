/* SPDX-License-Identifier: MIT */
/*
 * stat.c - what shmkit_chan_stat, shmkit_chan_writers and shmkit_chan_subs
 * tell of a channel, read without attaching (region/observe.c).  Each
 * reads a copy of the control block (and the MPSC writer table or the
 * broadcast window beside it), checks line 0 as an open does, and
 * describes the copy: its words are untrusted, may disagree with each
 * other (they were read while the channel ran), and are clamped where a
 * racy copy can make a figure impossible.
 */
#include <string.h>

#include "atomic.h"
#include "chan/chan.h"
#include "chan/layout_bcast.h"
#include "chan/layout_mpsc.h"

/* A channel's control block and what its kind keeps beside it, copied. */
struct chan_copy {
	struct shmkit_chan_line0 l0;                          /* checked */
	_Alignas(64) unsigned char block[SHMKIT_MPSC_RING_OFF];  /* + MPSC writer table */
	_Alignas(64) unsigned char win[SHMKIT_BCAST_WIN_SIZE];   /* broadcast window */
};

/* Copies the channel in a segment of @kind: -EPROTONOSUPPORT if it is not
 * a channel, -EBADMSG if line 0 is corrupt or the segment too small. */
static int chan_copy(uint64_t data_size, shmkit__read_fn rd, void *ctx, uint32_t kind,
		     struct chan_copy *cc)
{
	if (kind != SHMKIT_KIND_CHANNEL)
		return -EPROTONOSUPPORT;
	if (data_size < SHMKIT_CHAN_RING_OFF)
		return -EBADMSG;
	int err = rd(ctx, 0, cc->block, SHMKIT_CHAN_RING_OFF);
	if (err)
		return err;
	memcpy(&cc->l0, cc->block, sizeof(cc->l0));
	err = shmkit__chan_check(&cc->l0, data_size);
	if (err)
		return err;
	if (cc->l0.kind == SHMKIT_CHAN_MPSC)
		return rd(ctx, SHMKIT_CHAN_RING_OFF, cc->block + SHMKIT_CHAN_RING_OFF,
			  SHMKIT_MPSC_RING_OFF - SHMKIT_CHAN_RING_OFF);
	if (cc->l0.kind == SHMKIT_CHAN_BROADCAST)
		return rd(ctx, cc->l0.table_offset, cc->win, SHMKIT_BCAST_WIN_SIZE);
	return 0;
}

/* A role word's holder: its PID (the last one recorded) and liveness;
 * false if nobody (or garbage) holds it. */
static bool role_info(const struct shmkit__peer_src *src, uint32_t tok, int32_t pid,
		      int32_t *pid_out, int *alive)
{
	if (!tok || !shmkit__token_valid(tok))
		return false;
	*pid_out = pid;
	*alive = shmkit__token_alive(src, tok);
	return true;
}

/* An SPSC channel's state from a copy of its control block. */
static int spsc_describe(const struct shmkit__peer_src *src, const void *data,
			 struct shmkit_chan_info *out)
{
	struct shmkit_chan_shm *s = (struct shmkit_chan_shm *)data;
	uint64_t tail = load_relaxed(&s->tail), head = load_relaxed(&s->head);
	uint64_t t = tail & ~(uint64_t)1;  /* the end-of-stream mark */

	struct shmkit__ring g = { .cap = s->l0.capacity };
	if (!shmkit__ring_near(&g, t, head))
		return -EBADMSG;
	out->kind = SHMKIT_CHAN_SPSC;
	out->capacity = s->l0.capacity;
	out->max_msg = s->l0.max_msg;
	/* the reader may be ahead of tail: it sees a record at its header,
	 * before the writer stores tail */
	out->used = t > head ? t - head : 0;
	out->sent = load_relaxed(&s->sent);
	out->received = load_relaxed(&s->received);
	out->in_flight = out->sent >= out->received ? out->sent - out->received : 0;
	out->closed = load_relaxed(&s->closed) != 0;
	out->sessions = load_relaxed(&s->sessions);
	role_info(src, load_relaxed(&s->writer), load_relaxed(&s->writer_pid), &out->writer_pid,
		  &out->writer_alive);
	role_info(src, load_relaxed(&s->reader), load_relaxed(&s->reader_pid), &out->reader_pid,
		  &out->reader_alive);
	return 0;
}

/* An MPSC channel's state from a copy of its control block and writer
 * table. */
static int mpsc_describe(const struct shmkit__peer_src *src, const void *data,
			 struct shmkit_chan_info *out)
{
	struct shmkit_mpsc_shm *s = (struct shmkit_mpsc_shm *)data;
	struct shmkit_mpsc_writer *tab =
		(struct shmkit_mpsc_writer *)(void *)((unsigned char *)data + SHMKIT_MPSC_TABLE_OFF);

	/* a copy, read while the channel runs (tail before head): relaxed
	 * loads are plain reads here, and the two need not agree */
	uint64_t tail = load_relaxed(&s->tail), head = load_relaxed(&s->head);
	if ((tail | head) & 7)
		return -EBADMSG;
	out->kind = SHMKIT_CHAN_MPSC;
	out->capacity = s->l0.capacity;
	out->max_msg = s->l0.max_msg;
	out->used = tail <= head ? 0 : tail - head > s->l0.capacity ? s->l0.capacity : tail - head;
	out->sent = load_relaxed(&s->sent_gone);
	out->received = load_relaxed(&s->received);
	out->lost = load_relaxed(&s->lost);
	for (unsigned i = 0; i < SHMKIT_CHAN_MPSC_WRITERS; i++) {
		uint32_t tok = load_relaxed(&tab[i].token);
		out->sent += load_relaxed(&tab[i].sent);
		if (!tok)
			continue;
		int alive = shmkit__token_valid(tok) ? shmkit__token_alive(src, tok) : 0;
		if (alive == 0) {
			out->writers_dead++;
			continue;
		}
		if (!out->writers++) {
			out->writer_pid = load_relaxed(&tab[i].pid);
			out->writer_alive = alive;
		}
	}
	out->in_flight = out->sent >= out->received ? out->sent - out->received : 0;
	out->closed = load_relaxed(&s->joins) && !out->writers && !out->writers_dead;
	out->sessions = load_relaxed(&s->joins);
	role_info(src, load_relaxed(&s->reader), load_relaxed(&s->reader_pid), &out->reader_pid,
		  &out->reader_alive);
	return 0;
}

/* The held writer entries, from the same copy; see shmkit_chan_writers(). */
static int mpsc_writers(const struct shmkit__peer_src *src, const void *data,
			struct shmkit_chan_writer *out, size_t cap)
{
	struct shmkit_mpsc_shm *s = (struct shmkit_mpsc_shm *)data;
	struct shmkit_mpsc_writer *tab =
		(struct shmkit_mpsc_writer *)(void *)((unsigned char *)data + SHMKIT_MPSC_TABLE_OFF);
	int n = 0;

	uint64_t head = load_relaxed(&s->head), capacity = s->l0.capacity;
	if (head & 7)
		return -EBADMSG;
	for (unsigned i = 0; i < SHMKIT_CHAN_MPSC_WRITERS; i++) {
		uint32_t tok = load_relaxed(&tab[i].token);
		if (!tok)
			continue;
		if (!shmkit__token_valid(tok))
			return -EBADMSG;
		uint64_t join = load_relaxed(&tab[i].join), pos = load_relaxed(&tab[i].pos);
		if ((join | pos) & 7)
			return -EBADMSG;
		if ((size_t)n < cap) {
			struct shmkit_chan_writer *w = &out[n];
			memset(w, 0, sizeof(*w));
			w->entry = i;
			w->pid = load_relaxed(&tab[i].pid);
			w->alive = shmkit__token_alive(src, tok);
			w->sent = load_relaxed(&tab[i].sent);
			w->join = join;
			/* a joiner stores join before pos: the copy may hold the
			 * previous occupant's pos, which lies below */
			w->pos = pos < join ? join : pos;
			w->lag = w->pos > head ? w->pos - head : 0;
			if (w->lag > capacity)
				w->lag = capacity;  /* a racy copy: clamped */
		}
		n++;
	}
	return n;
}

/* ---- broadcast, from copies of the control block and the window ---- */

static void sub_info(const struct shmkit__peer_src *src, const struct shmkit_bcast_shm *s,
		     struct shmkit_bcast_sub *e, unsigned i, struct shmkit_sub_info *o)
{
	uint64_t tail = load_relaxed(&((struct shmkit_bcast_shm *)s)->tail) & ~(uint64_t)1;
	uint64_t sent = load_relaxed(&((struct shmkit_bcast_shm *)s)->sent);
	uint32_t tok = load_relaxed(&e->token);
	uint64_t cur = load_relaxed(&e->cursor), next = load_relaxed(&e->next_seq);

	memset(o, 0, sizeof(*o));
	o->slot = i;
	o->pid = load_relaxed(&e->pid);
	o->alive = shmkit__token_valid(tok) ? shmkit__token_alive(src, tok) : 0;
	o->rdonly = (load_relaxed(&e->flags) & SHMKIT_BCAST_SUB_RDONLY) != 0;
	o->pos = cur == SHMKIT_BCAST_NONE ? tail : cur;
	o->lag = o->pos <= tail ? tail - o->pos : 0;
	if (o->lag > s->l0.capacity)
		o->lag = s->l0.capacity;  /* lapped (overwrite) */
	o->lag_msgs = next <= sent ? sent - next : 0;
	o->received = load_relaxed(&e->received);
	o->lost = load_relaxed(&e->lost);
	o->gaps = load_relaxed(&e->gaps);
}

static int bcast_describe(const struct shmkit__peer_src *src, const void *block,
			  void *window, struct shmkit_chan_info *out)
{
	struct shmkit_bcast_shm *s = (struct shmkit_bcast_shm *)block;
	struct shmkit_bcast_sub *tab =
		(struct shmkit_bcast_sub *)(void *)((unsigned char *)window + SHMKIT_BCAST_WIN_HDR);

	/* a copy, read while the channel runs: the words need not agree */
	uint64_t tail = load_relaxed(&s->tail) & ~(uint64_t)1, head = load_relaxed(&s->head);
	if ((tail | head) & 7)
		return -EBADMSG;
	out->kind = SHMKIT_CHAN_BROADCAST;
	out->capacity = s->l0.capacity;
	out->max_msg = s->l0.max_msg;
	out->used = head >= tail ? 0 : tail - head > s->l0.capacity ? s->l0.capacity : tail - head;
	out->sent = load_relaxed(&s->sent);
	out->closed = load_relaxed(&s->closed) != 0;
	out->sessions = load_relaxed(&s->sessions);
	out->overflow = s->l0.overflow;
	out->dropped = (uint32_t)load_relaxed(&s->dropped);
	if (role_info(src, load_relaxed(&s->writer), load_relaxed(&s->writer_pid),
		      &out->writer_pid, &out->writer_alive))
		out->writers = out->writer_alive != 0;
	for (unsigned i = 0; i < SHMKIT_CHAN_SUBSCRIBERS; i++) {
		struct shmkit_sub_info si;
		if (!load_relaxed(&tab[i].token))
			continue;
		sub_info(src, s, &tab[i], i, &si);
		out->received += si.received;
		out->lost += si.lost;
		if (si.alive == 0) {
			out->subscribers_dead++;
			continue;
		}
		if (!out->subscribers++) {
			out->reader_pid = si.pid;
			out->reader_alive = si.alive;
		}
		if (si.lag_msgs > out->in_flight)
			out->in_flight = si.lag_msgs;  /* the slowest one's */
	}
	return 0;
}

static int bcast_subs(const struct shmkit__peer_src *src, const void *block, void *window,
		      struct shmkit_sub_info *out, size_t cap)
{
	struct shmkit_bcast_sub *tab =
		(struct shmkit_bcast_sub *)(void *)((unsigned char *)window + SHMKIT_BCAST_WIN_HDR);
	size_t n = 0;

	for (unsigned i = 0; i < SHMKIT_CHAN_SUBSCRIBERS; i++) {
		if (!load_relaxed(&tab[i].token))
			continue;
		if (n < cap)
			sub_info(src, block, &tab[i], i, &out[n]);
		n++;
	}
	return (int)n;
}

static int chan_cb(const struct shmkit__peer_src *src, uint64_t data_size,
		   shmkit__read_fn rd, void *ctx, uint32_t kind, void *arg)
{
	struct chan_copy cc;
	int err = chan_copy(data_size, rd, ctx, kind, &cc);

	if (err)
		return err;
	switch (cc.l0.kind) {
	case SHMKIT_CHAN_MPSC:
		return mpsc_describe(src, cc.block, arg);
	case SHMKIT_CHAN_BROADCAST:
		return bcast_describe(src, cc.block, cc.win, arg);
	default:
		return spsc_describe(src, cc.block, arg);
	}
}

int shmkit_chan_stat(const char *name, struct shmkit_chan_info *out)
{
	if (!name || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	return shmkit__observe(name, chan_cb, out);
}

struct list_arg { void *out; size_t cap; };

static int writers_cb(const struct shmkit__peer_src *src, uint64_t data_size,
		      shmkit__read_fn rd, void *ctx, uint32_t kind, void *arg)
{
	struct chan_copy cc;
	struct list_arg *a = arg;
	struct shmkit_chan_writer *out = a->out;
	int err = chan_copy(data_size, rd, ctx, kind, &cc);

	if (err)
		return err;
	if (cc.l0.kind != SHMKIT_CHAN_MPSC)
		return -EPROTOTYPE;
	int n = mpsc_writers(src, cc.block, out, a->cap);
	/* a claim the reader has not passed counts with its record, whose
	 * size its header word tells (nothing if no claim stands there) */
	const struct shmkit_mpsc_shm *ms = (const void *)cc.block;
	uint64_t head = ms->head, capacity = cc.l0.capacity;
	for (int i = 0; i < n && (size_t)i < a->cap; i++) {
		struct shmkit_chan_writer *w = &out[i];
		uint64_t h, size = 0;
		if (w->pos < head)
			continue;
		err = rd(ctx, SHMKIT_MPSC_RING_OFF + (w->pos & (capacity - 1)), &h, sizeof(h));
		if (err)
			return err;
		unsigned st = SHMKIT_MPSC_STATE(h);
		if ((st == SHMKIT_MPSC_CLAIMED || st == SHMKIT_MPSC_COMMITTED) &&
		    SHMKIT_MPSC_TAG(h) == ((w->pos / capacity) & SHMKIT_MPSC_TAG_MASK) &&
		    SHMKIT_MPSC_LEN(h) <= cc.l0.max_msg)
			size = 8 + shmkit__align8(SHMKIT_MPSC_LEN(h));
		w->lag = w->pos - head + size;
		if (w->lag > capacity)
			w->lag = capacity;  /* a racy copy: clamped */
	}
	return n;
}

int shmkit_chan_writers(const char *name, struct shmkit_chan_writer *out, size_t cap)
{
	struct list_arg a = { .out = out, .cap = cap };

	if (!name || (!out && cap))
		return -EINVAL;
	return shmkit__observe(name, writers_cb, &a);
}

static int subs_cb(const struct shmkit__peer_src *src, uint64_t data_size,
		   shmkit__read_fn rd, void *ctx, uint32_t kind, void *arg)
{
	struct chan_copy cc;
	struct list_arg *a = arg;
	int err = chan_copy(data_size, rd, ctx, kind, &cc);

	if (err)
		return err;
	if (cc.l0.kind != SHMKIT_CHAN_BROADCAST)
		return -EPROTOTYPE;
	return bcast_subs(src, cc.block, cc.win, a->out, a->cap);
}

int shmkit_chan_subs(const char *name, struct shmkit_sub_info *out, size_t cap)
{
	struct list_arg a = { .out = out, .cap = cap };

	if (!name || (!out && cap))
		return -EINVAL;
	return shmkit__observe(name, subs_cb, &a);
}

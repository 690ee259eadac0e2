/* SPDX-License-Identifier: MIT */
/*
 * bcast.c - the broadcast channel (SHMKIT_CHAN_BROADCAST): one writer, up
 * to 64 subscribers, each reading every message from a cursor of its own,
 * behind the same shmkit_chan_* calls; chan.c hands a handle here when the
 * control block says type 3.  Layout: layout_bcast.h; the protocol in
 * prose: docs/architecture.md, "Broadcast channel".
 *
 * Overview.  The writer alone writes the ring and the control block.
 * tail is the end of the published records, head the oldest record held:
 * records in [head, tail) are intact.  To make room the writer walks head
 * forward over whole records and stores it (BC3) before it writes a byte
 * over them; then it writes a record (header words, payload) and publishes
 * it by storing tail with release (BC1).  A subscriber load-acquires tail
 * (BC2); below it every record is complete.
 *
 * Backpressure: before it moves head past a position, the writer scans the
 * subscriber table and waits while a live subscriber's cursor (BC4, stored
 * by the subscriber with release after its reads, BC7) is below it; a
 * subscriber found dead (kernel-kept liveness) is dropped.  A subscriber
 * joins by storing its cursor, a full fence (BC10), and re-reading head;
 * the writer stores head, a full fence (BC3), and scans again before it
 * writes: one of the two sees the other, so a joiner is never written over.
 *
 * Overwrite: the writer never looks at cursors.  A subscriber reads a
 * header (or copies a payload), then an acquire fence (BC8) and head: the
 * writer's BC3 is a full fence between its head store and its first byte
 * over the record, so a copy that read any newer byte sees a head past the
 * record, and is thrown away (a seqlock whose sequence is head).  The
 * record's stamp (its own position) and seq (its message number) tell the
 * header is this lap's and this record's; the seq of the oldest record held
 * tells a lapped subscriber how many messages it missed.
 *
 * Sleeping: a subscriber sets bit 0 of rwait, fences (BC5), re-checks tail
 * and sleeps on rwait; the writer fences after each publication (BC6) and,
 * if the bit is set, adds 1 (clearing it and moving the word) and wakes
 * them all.  A backpressured writer sets wwait, fences (BC11), rescans and
 * sleeps on wseq; a subscriber fences after each release or join (BC9)
 * and, if wwait is set, clears it, bumps wseq and wakes the writer.  Every
 * sleep ends within SHMKIT_OWNER_POLL_MS.
 *
 * Everything read from shared memory is checked before use: positions
 * 8-aligned and within a capacity of each other, headers stamped with
 * their own position, lengths within max_msg and the ring, padding only at
 * a lap's end, seqs consecutive; anything else is -EBADMSG.  A cursor that
 * makes no sense is ignored by the writer (it only hurts its subscriber).
 */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"  /* fences order atomics only: see wait.c */
#endif
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "atomic.h"
#include "chan/chan.h"
#include "chan/layout_bcast.h"

#define LAPPED 1  /* internal: the subscriber was lapped, resync */

struct bcast {
	struct shmkit_chan c;
	struct shmkit_bcast_shm *shm;
	struct shmkit_bcast_win *win;
	struct shmkit_bcast_sub *tab;
	bool overwrite;
	struct shmkit__pair spair;  /* the subscribers' sleeps */
	struct shmkit__pair wpair;  /* the writer's */
	/* writer */
	uint64_t tail;             /* published */
	uint64_t head;             /* as last stored */
	uint64_t seq;              /* writer: the next message's; subscriber:
				    * the next expected */
	bool reserved, hold;
	uint64_t res_at, res_end;
	int64_t next_ask;          /* when to ask subscribers' liveness again */
	/* subscriber */
	struct shmkit_bcast_sub *me;
	unsigned slot;
	uint64_t pos, pub;         /* end of the peeked records; of the released */
	uint64_t pub_seq;          /* the seq after the last released message */
	uint64_t pending;          /* peeked, not released */
	uint64_t first_peek;       /* where the first of them lies */
	bool have_seq, gap;        /* gap: lapped, count due at the next record */
	uint64_t gap_from;         /* the first seq missed */
	uint64_t received, lost, gaps, last_missed;
	bool rdonly;
};

static struct bcast *bcast_of(shmkit_chan *c)
{
	return (struct bcast *)c;
}

static _Atomic uint64_t *word_at(const struct bcast *b, uint64_t pos)
{
	return shmkit__ring_word(&b->c.ring, pos);
}

/* A record never starts in the last 24 bytes of a lap: past them. */
static uint64_t skip(const struct bcast *b, uint64_t pos)
{
	return b->c.ring.cap - (pos & b->c.ring.mask) < SHMKIT_BCAST_HDR ? (pos | b->c.ring.mask) + 1 : pos;
}

static uint64_t lenword(uint32_t len)
{
	return (uint64_t)len | (uint64_t)(uint32_t)~len << 32;
}

/*
 * Checks the header words of the record at @pos against the published end
 * @end: its stamp, length and place.  Returns its size (*pad for padding)
 * or -EBADMSG.
 */
static int64_t rec_check(const struct bcast *b, uint64_t w0, uint64_t w2, uint64_t pos,
			 uint64_t end, bool *pad)
{
	uint32_t len = (uint32_t)w2;

	if ((uint32_t)(w2 >> 32) != (uint32_t)~len || (w0 & ~(uint64_t)7) != pos)
		return -EBADMSG;
	*pad = (w0 & 7) == SHMKIT_BCAST_PAD;
	if (!*pad && (w0 & 7) != SHMKIT_BCAST_DATA)
		return -EBADMSG;
	return shmkit__ring_span(&b->c.ring, pos, SHMKIT_BCAST_HDR, len, *pad, end);
}

/* ---- waiting ---- */

/* After a publication or close: wakes sleeping subscribers.  rwait is
 * their futex word: bit 0 is the flag a subscriber about to sleep sets,
 * and the writer clears it by adding 1, which also moves the word, so a
 * subscriber whose flag was taken by the wake of a publication it had
 * already seen finds the word moved and looks again instead of sleeping
 * through the next one (a flag cleared with a plain 0 lost that wake-up
 * for a poll period; found by models/bcast.pml). */
static void wake_subs(struct bcast *b)
{
	/* BC6: tail (and closed) before the flag (W2); pairs with BC5 */
	shmkit__wake(&b->c.w, &b->spair);
}

/* After a subscriber's release or leave: wakes a backpressured writer. */
static void wake_writer(struct bcast *b)
{
	if (b->overwrite)
		return;  /* the writer never waits */
	/* BC9: the cursor (a release's, a joiner's, or the freed slot) before
	 * the flag (W2); pairs with BC11; the waker lowers the flag and bumps
	 * wseq */
	shmkit__wake(&b->c.w, &b->wpair);
}

/* ---- writer ---- */

/*
 * The lowest cursor below @target of a live subscriber, or UINT64_MAX.
 * With @ask, the liveness of each such subscriber is asked, and a dead one
 * is dropped (its slot freed).  Cursors that make no sense are ignored.
 */
static uint64_t scan(struct bcast *b, uint64_t target, bool ask, _Atomic uint64_t **at)
{
	uint64_t floor = UINT64_MAX;

	for (unsigned i = 0; i < SHMKIT_CHAN_SUBSCRIBERS; i++) {
		struct shmkit_bcast_sub *s = &b->tab[i];
		/* acquire: pairs with the joiner's token CAS */
		uint32_t tok = load_acquire(&s->token);
		if (!tok)
			continue;
		/* BC4: pairs with BC7 (and with the joiner's store before BC10) */
		uint64_t cur = load_acquire(&s->cursor);
		if (cur == SHMKIT_BCAST_NONE || cur >= target)
			continue;
		if ((cur & 7) || cur > b->tail || b->tail - cur > b->c.ring.cap ||
		    !shmkit__token_valid(tok))
			continue;  /* nonsense: it only hurts its own subscriber */
		if (ask && shmkit__token_alive(&b->c.src, tok) == 0) {
			/* dropped: acq_rel, the slot is free for a joiner */
			if (cas_acq_rel(&s->token, &tok, 0))
				fetch_add_relaxed(&b->shm->dropped, 1);
			continue;
		}
		if (cur < floor) {
			floor = cur;
			if (at)
				*at = &s->cursor;
		}
	}
	return floor;
}

/* The writer's re-check after W1: still held below @target. */
struct held { struct bcast *b; uint64_t target; };

static bool still_held(void *ctx)
{
	struct held *h = ctx;

	return scan(h->b, h->target, false, NULL) < h->target;
}

/* The writer waits for a cursor below @target to move: 0 to look again,
 * or -ETIMEDOUT / -EINTR.  It watches the lowest one while it spins, and
 * sleeps on wseq with wwait its flag (BC11), rescanning after W1. */
static int writer_wait(struct bcast *b, uint64_t target, struct shmkit__wait *ws)
{
	_Atomic uint64_t *at = NULL;
	uint64_t floor = scan(b, target, false, &at);

	if (floor >= target)
		return 0;
	struct held h = { b, target };
	struct shmkit__sleep sl = { .watch = at, .seen = floor, .fval_from = SHMKIT_FVAL_FUTEX,
				    .idle = still_held, .ctx = &h };
	return shmkit__wait_step(&b->c.w, ws, &b->wpair, &sl);
}

/* Moves head forward over whole records to @target or past it. */
static int advance_head(struct bcast *b, uint64_t target)
{
	uint64_t h = b->head;

	while (h < target) {
		if (h >= b->tail)
			return -EBADMSG;  /* cannot be: capacity >= 256 */
		_Atomic uint64_t *w = word_at(b, h);
		bool pad;
		/* relaxed: the writer wrote these words itself */
		int64_t size = rec_check(b, load_relaxed(&w[0]), load_relaxed(&w[2]), h, b->tail,
					 &pad);
		if (size < 0)
			return (int)size;
		h = skip(b, h + (uint64_t)size);
	}
	store_relaxed(&b->shm->head, h);
	/* BC3: head before any byte written over the records it passed, and
	 * before the rescan of cursors; pairs with BC8 and BC10 */
	atomic_thread_fence(memory_order_seq_cst);
	b->head = h;
	return 0;
}

/* Makes room up to @end (end - head <= capacity), waiting under backpressure. */
static int make_room(struct bcast *b, uint64_t end, int64_t timeout_ns)
{
	struct shmkit__wait ws;

	shmkit__wait_start(&ws, timeout_ns);

	for (;;) {
		if (end - b->head <= b->c.ring.cap && !b->hold)
			return 0;
		uint64_t target = end > b->c.ring.cap ? end - b->c.ring.cap : 0;
		if (!b->overwrite) {
			uint64_t floor = scan(b, target, false, NULL);
			if (floor < target) {
				int64_t now = shmkit__mono_ns();
				if (now >= b->next_ask) {
					/* the first wait, then once per poll period */
					b->next_ask = now + SHMKIT_POLL_NS;
					floor = scan(b, target, true, NULL);
				}
			}
			if (floor < target) {
				if (ws.try_only)
					return -EAGAIN;
				int err = writer_wait(b, target, &ws);
				if (err)
					return err;
				continue;
			}
			b->hold = false;
		}
		if (b->head < target) {
			int err = advance_head(b, target);
			if (err)
				return err;
			/* a subscriber that joined below it meanwhile holds us */
			if (!b->overwrite && scan(b, target, false, NULL) < target) {
				b->hold = true;
				continue;
			}
		}
		return 0;
	}
}

static int bcast_commit(shmkit_chan *c)
{
	struct bcast *b = bcast_of(c);

	if (!b->reserved)
		return 0;
	b->reserved = false;
	/* relaxed: published by BC1 with the record */
	store_relaxed(&b->shm->last, b->res_at);
	store_relaxed(&b->shm->sent, b->seq);
	/* BC1: the record's header and payload before tail; pairs with BC2 */
	store_release(&b->shm->tail, b->res_end);
	b->tail = b->res_end;
	wake_subs(b);  /* BC6 */
	return 0;
}

static int bcast_reserve(shmkit_chan *c, size_t len, void **p, int64_t timeout_ns)
{
	struct bcast *b = bcast_of(c);

	bcast_commit(c);  /* one reservation at a time */

	uint64_t need = SHMKIT_BCAST_HDR + shmkit__align8(len);
	uint64_t at = b->tail, off = at & b->c.ring.mask;
	uint64_t pad = b->c.ring.cap - off < need ? b->c.ring.cap - off : 0;
	uint64_t end = skip(b, at + pad + need);
	int err = make_room(b, end, timeout_ns);

	if (err)
		return err;
	if (pad) {
		_Atomic uint64_t *w = word_at(b, at);
		/* relaxed: published by BC1 */
		store_relaxed(&w[0], at | SHMKIT_BCAST_PAD);
		store_relaxed(&w[1], b->seq);
		store_relaxed(&w[2], lenword((uint32_t)(pad - SHMKIT_BCAST_HDR)));
		at += pad;
	}
	_Atomic uint64_t *w = word_at(b, at);
	store_relaxed(&w[0], at | SHMKIT_BCAST_DATA);  /* published by BC1 */
	store_relaxed(&w[1], b->seq++);
	store_relaxed(&w[2], lenword((uint32_t)len));
	b->res_at = at;
	b->res_end = end;
	b->reserved = true;
	*p = b->c.ring.base + (at & b->c.ring.mask) + SHMKIT_BCAST_HDR;
	return 0;
}

/* ---- subscriber ---- */

/* -EPIPE if the writer's role names a dead attach (asked once per poll
 * period unless @force), -EBADMSG for a malformed token, else 0. */
static int writer_check(struct bcast *b, bool force)
{
	return shmkit__peer_check(&b->c, load_relaxed(&b->shm->writer), force);
}

/* Publishes the subscriber's statistics; its occupant alone writes them. */
static void sub_stats(struct bcast *b)
{
	store_relaxed(&b->me->received, b->received);
	store_relaxed(&b->me->lost, b->lost);
	store_relaxed(&b->me->gaps, b->gaps);
	store_relaxed(&b->me->next_seq, b->pub_seq);
}

/* A lapped subscriber goes to the oldest record held; the count of what it
 * missed is taken from that record's seq (read_record). */
static int resync(struct bcast *b)
{
	uint64_t h;

	for (int tries = 0;; tries++) {
		/* BC2: pairs with BC1; head's acquire: with BC3 */
		uint64_t t = load_acquire(&b->shm->tail) & ~(uint64_t)1;
		h = load_acquire(&b->shm->head);
		if (!((h & 7) || h > t || t - h > b->c.ring.cap))
			break;
		/* the writer moved between the loads: a head past the tail
		 * loaded first is no corruption (it was -EBADMSG at once; found
		 * by models/bcast.pml) */
		if (tries >= 64)
			return -EBADMSG;
	}
	if (!b->gap) {
		b->gap = true;
		b->gap_from = b->pub_seq;  /* what it peeked and held counts as missed */
	}
	b->pos = b->pub = h;
	b->pending = 0;
	/* BC7: pairs with BC4 (the writer ignores cursors under overwrite) */
	store_release(&b->me->cursor, h);
	return 0;
}

/*
 * The record at b->pos, below the published end @end: a message's length
 * (> 0) with *p, *size, *seq; 0 after passing a padding; LAPPED; or
 * -EOVERFLOW (the count of a gap is known: the record stays), -EBADMSG.
 */
static long read_record(struct bcast *b, uint64_t end, const void **p, uint64_t *size,
			uint64_t *seq)
{
	uint64_t pos = b->pos;

	if (pos > end || ((pos | end) & 7))
		return -EBADMSG;
	if (end - pos > b->c.ring.cap)
		return b->overwrite ? LAPPED : -EBADMSG;
	if (b->c.ring.cap - (pos & b->c.ring.mask) < SHMKIT_BCAST_HDR)
		return -EBADMSG;
	_Atomic uint64_t *w = word_at(b, pos);
	/* relaxed: BC2 ordered them after the record's publication */
	uint64_t w0 = load_relaxed(&w[0]), w1 = load_relaxed(&w[1]), w2 = load_relaxed(&w[2]);
	if (b->overwrite) {
		/* BC8: the header words before head; pairs with BC3 */
		fence_acquire();
		if (load_relaxed(&b->shm->head) > pos)
			return LAPPED;
	}
	bool pad;
	int64_t sz = rec_check(b, w0, w2, pos, end, &pad);
	if (sz < 0)
		return (long)sz;
	if (b->gap) {
		uint64_t from = b->have_seq ? b->gap_from : b->seq;
		b->gap = false;
		b->have_seq = true;
		b->seq = b->pub_seq = w1;
		if (w1 > from) {
			b->last_missed = w1 - from;
			b->lost += b->last_missed;
			b->gaps++;
			sub_stats(b);
			return -EOVERFLOW;
		}
		/* only padding was written over: nothing missed */
	}
	if (!b->have_seq) {
		b->have_seq = true;
		b->seq = b->pub_seq = w1;
	} else if (w1 != b->seq) {
		return -EBADMSG;  /* a gap nobody reported, or a repeat */
	}
	if (pad) {
		b->pos = skip(b, pos + (uint64_t)sz);
		return 0;
	}
	*p = b->c.ring.base + (pos & b->c.ring.mask) + SHMKIT_BCAST_HDR;
	*size = (uint64_t)sz;
	*seq = w1;
	return (long)(uint32_t)w2;
}

/* A subscriber waits for tail to move from @seen: 0 to look again, or
 * -ETIMEDOUT / -EINTR.  It sleeps on rwait, bit 0 its flag (BC5, W1),
 * and fetches the line its next record will be written on. */
static int sub_wait(struct bcast *b, uint64_t seen, struct shmkit__wait *ws)
{
	struct shmkit__sleep sl = { .watch = &b->shm->tail, .seen = seen,
				    .prefetch = shmkit__ring_at(&b->c.ring, b->pos) };

	return shmkit__wait_step(&b->c.w, ws, &b->spair, &sl);
}

/* Waits for the next message; its length, 0 at the end, or an error. */
static long sub_next(struct bcast *b, const void **p, uint64_t *size, uint64_t *seq,
		     struct shmkit__wait *ws)
{
	bool try_only = ws->try_only;

	for (bool looked = false;; looked = true) {
		/* BC2: pairs with BC1 */
		uint64_t t = load_acquire(&b->shm->tail);
		uint64_t end = t & ~(uint64_t)1;
		int err;
		long n = 0;
		while (b->pos != end && n == 0)
			n = read_record(b, end, p, size, seq);
		if (n == LAPPED) {
			err = resync(b);
			if (err)
				return err;
			continue;  /* again, with a fresh tail */
		}
		if (n)
			return n;
		if (t & 1)
			return 0;  /* closed, and everything read */
		if (!looked && shmkit__wait_poll(&b->c.w, ws, &b->shm->tail, t))
			continue;
		if (looked || try_only || b->c.w.policy == SHMKIT_WAIT_SLEEP) {
			err = writer_check(b, try_only);
			if (err == -EPIPE) {
				/* what it published before it died first, and its
				 * close (bit 0) if it closed and exited after our
				 * load of tail: that is the end, not a death */
				if (load_acquire(&b->shm->tail) != t)  /* BC2 */
					continue;
				return -EPIPE;
			}
			if (err)
				return err;
			if (try_only)
				return -EAGAIN;
		}
		err = sub_wait(b, t, ws);
		if (err)
			return err;
	}
}

/* Publishes the cursor: everything before b->pos is read. */
static void publish(struct bcast *b)
{
	/* BC7: the cursor after the reads of the records; pairs with BC4 */
	store_release(&b->me->cursor, b->pos);
	b->received += b->pending;
	b->pending = 0;
	b->pub = b->pos;
	b->pub_seq = b->seq;
	sub_stats(b);
	wake_writer(b);  /* BC9 */
}

static int bcast_release(shmkit_chan *c)
{
	struct bcast *b = bcast_of(c);

	if (b->pos == b->pub)
		return 0;
	if (b->overwrite && b->pending) {
		/* BC8: the caller's reads of the peeked payloads before head;
		 * pairs with BC3 */
		fence_acquire();
		if (load_relaxed(&b->shm->head) > b->first_peek) {
			int err = resync(b);
			if (err)
				return err;
			/* the count, if the oldest record is there already */
			const void *p;
			uint64_t size, seq;
			struct shmkit__wait ws;
			shmkit__wait_start(&ws, 0);
			sub_next(b, &p, &size, &seq, &ws);
			return -EOVERFLOW;
		}
	}
	publish(b);
	return 0;
}

static long bcast_peek(shmkit_chan *c, const void **p, int64_t timeout_ns)
{
	struct bcast *b = bcast_of(c);
	uint64_t size, seq;
	struct shmkit__wait ws;

	shmkit__wait_start(&ws, timeout_ns);
	long n = sub_next(b, p, &size, &seq, &ws);

	if (n > 0) {
		if (!b->pending++)
			b->first_peek = b->pos;
		b->pos = skip(b, b->pos + size);
		b->seq = seq + 1;
	}
	return n;
}

static long bcast_recv(shmkit_chan *c, void *buf, size_t cap, int64_t timeout_ns)
{
	struct bcast *b = bcast_of(c);
	struct shmkit__wait ws;

	if (b->pending) {
		int err = bcast_release(c);  /* what was peeked before */
		if (err)
			return err;
	}
	shmkit__wait_start(&ws, timeout_ns);
	for (;;) {
		const void *p;
		uint64_t size, seq;
		long n = sub_next(b, &p, &size, &seq, &ws);
		if (n <= 0)
			return n;
		if ((size_t)n > cap)
			return -EMSGSIZE;  /* it stays: b->pos is not moved past it */
		memcpy(buf, p, (size_t)n);
		if (b->overwrite) {
			/* BC8: the copy before head; pairs with BC3 */
			fence_acquire();
			if (load_relaxed(&b->shm->head) > b->pos) {
				int err = resync(b);  /* torn: never handed out */
				if (err)
					return err;
				continue;
			}
		}
		b->pos = skip(b, b->pos + size);
		b->seq = seq + 1;
		b->pending = 1;
		publish(b);  /* the copy was checked above */
		return n;
	}
}

int shmkit_chan_missed(const shmkit_chan *c, uint64_t *last, uint64_t *total)
{
	if (!c)
		return -EINVAL;
	if (c->ops != &shmkit__bcast_ops || c->role != SHMKIT_CHAN_READER)
		return -EPERM;
	const struct bcast *b = (const struct bcast *)c;
	if (last)
		*last = b->last_missed;
	if (total)
		*total = b->lost;
	return 0;
}

/* ---- opening and closing ---- */

/* The page size a broadcast channel made here is laid out for. */
static uint64_t page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page < (long)SHMKIT_BCAST_PAGE_MIN)
		return SHMKIT_BCAST_PAGE_MIN;
	return page > (long)SHMKIT_BCAST_PAGE_MAX ? SHMKIT_BCAST_PAGE_MAX : (uint64_t)page;
}

static void bcast_image(void *block, const struct shmkit_chan_opts *o, uint32_t policy,
			uint32_t spin_ns)
{
	struct shmkit_bcast_shm *s = block;
	uint64_t page = page_size();

	memset(s, 0, sizeof(*s));
	shmkit__chan_line0(&s->l0, SHMKIT_CHAN_BROADCAST, o->capacity,
			   SHMKIT_BCAST_RING_OFF(page), policy, spin_ns);
	s->l0.slots = SHMKIT_CHAN_SUBSCRIBERS;
	s->l0.table_offset = (uint32_t)page;
	s->l0.overflow = o->overflow;
}

static int bcast_check(const struct shmkit_chan_line0 *l0, uint64_t *ring_off)
{
	uint32_t p = l0->table_offset;

	if (p < SHMKIT_BCAST_PAGE_MIN || p > SHMKIT_BCAST_PAGE_MAX || (p & (p - 1)) ||
	    l0->slots != SHMKIT_CHAN_SUBSCRIBERS || l0->overflow > SHMKIT_BCAST_OVERWRITE)
		return -EBADMSG;
	*ring_off = SHMKIT_BCAST_RING_OFF(p);
	return 0;
}

/* Takes the writer's role: from nobody, or from a dead attach. */
static int claim_writer(struct bcast *b)
{
	int err = shmkit__role_claim(&b->c, &b->shm->writer);

	if (err)
		return err;
	store_relaxed(&b->shm->writer_pid, (int32_t)b->c.r->owner);  /* informational */
	/* BC2: carry on from what the last writer published; pairs with BC1 */
	uint64_t t = load_acquire(&b->shm->tail) & ~(uint64_t)1;
	/* acquire: pairs with the dead writer's BC3 (the role CAS ordered it too) */
	uint64_t h = load_acquire(&b->shm->head);
	if ((h | t) & 7 || h > t || t - h > b->c.ring.cap)
		return -EBADMSG;
	b->tail = t;
	b->head = h;
	/* the next seq: after the last record held (a writer killed between
	 * its sent and tail stores left sent a message ahead) */
	uint64_t seq = load_relaxed(&b->shm->sent), last = load_relaxed(&b->shm->last);
	for (uint64_t pos = h; pos < t;) {
		_Atomic uint64_t *w = word_at(b, pos);
		bool pad;
		int64_t size = rec_check(b, load_relaxed(&w[0]), load_relaxed(&w[2]), pos, t, &pad);
		if (size < 0)
			return (int)size;
		seq = load_relaxed(&w[1]) + !pad;
		if (!pad)
			last = pos;
		pos = skip(b, pos + (uint64_t)size);
	}
	b->seq = seq;
	/* a joiner may have been seen by the dead writer only: scan first */
	b->hold = true;
	store_relaxed(&b->shm->sent, seq);
	store_relaxed(&b->shm->last, last);
	/* a new stream; release: after what the last writer published */
	store_release(&b->shm->closed, 0);
	store_release(&b->shm->tail, t);  /* BC1: bit 0 cleared */
	return 0;
}

/* Takes a subscriber slot (a free one, or a dead subscriber's) and its
 * start position. */
static int join(struct bcast *b, unsigned start, unsigned flags)
{
	uint32_t was;
	/* the join CAS (acq_rel) pairs with the writer's scan and drop, and a
	 * leaver's release */
	int i = shmkit__slot_join(&b->c, b->tab, sizeof(*b->tab), SHMKIT_CHAN_SUBSCRIBERS,
				  SHMKIT_BAD_SLOT_SKIPPED, &was);

	if (i < 0)
		return i;
	struct shmkit_bcast_sub *s = &b->tab[i];
	b->slot = (unsigned)i;
	b->me = s;
	/* the writer ignores the slot until the cursor is set (BC10) */
	store_relaxed(&s->cursor, SHMKIT_BCAST_NONE);
	store_relaxed(&s->pid, (int32_t)b->c.r->owner);  /* informational */
	store_relaxed(&s->flags, (flags & SHMKIT_RDONLY) ? SHMKIT_BCAST_SUB_RDONLY : 0);
	store_relaxed(&s->received, 0);
	store_relaxed(&s->lost, 0);
	store_relaxed(&s->gaps, 0);
	for (int tries = 0;; tries++) {
		/* BC2: pairs with BC1 */
		uint64_t t = load_acquire(&b->shm->tail) & ~(uint64_t)1;
		/* acquire: pairs with BC3's fence after the writer's head store */
		uint64_t h = load_acquire(&b->shm->head);
		uint64_t l = load_relaxed(&b->shm->last);  /* checked against h and t */
		uint64_t sent = load_relaxed(&b->shm->sent);
		if ((h | t) & 7 || h > t || t - h > b->c.ring.cap) {
			if (tries < 64)
				continue;  /* the writer moved between the loads */
			/* release: pairs with the next joiner's acquire */
			store_release(&s->token, 0);
			return -EBADMSG;
		}
		uint64_t c = t;
		if (start == SHMKIT_SUB_OLDEST)
			c = h;
		else if (start == SHMKIT_SUB_NEWEST && l >= h && l < t && !(l & 7))
			c = l;
		/*
		 * The seq of the first message at or past c (what a gap before
		 * its first read is counted from): from the header of the
		 * record at v, c itself or, when c is tail, the newest message
		 * (last); the re-read of head below tells whether those words
		 * were intact.  (It was sent, loaded after tail, which counts a
		 * commit made meanwhile, or 0 at the oldest: a joiner lapped
		 * before its first read was told a wrong count, or none; found
		 * by models/bcast.pml.)
		 */
		uint64_t v = c, seq = 0;
		bool stamped = true;
		if (c == t && sent == 0) {
			v = UINT64_MAX;  /* nothing sent yet: 0 */
		} else if (c == t) {
			v = l;
			if (l < h || l >= t || (l & 7)) {
				if (tries < 64)
					continue;  /* a commit in flight: last is stored first */
				/* a writer that died there (or stalls): sent, which
				 * may count its unpublished message */
				v = UINT64_MAX;
				seq = sent;
			}
		}
		if (v != UINT64_MAX) {
			_Atomic uint64_t *w = word_at(b, v);
			uint64_t kind = load_relaxed(&w[0]) ^ v;
			seq = load_relaxed(&w[1]) + (v != c);
			stamped = kind == SHMKIT_BCAST_DATA || (kind == SHMKIT_BCAST_PAD && v == c);
		}
		store_relaxed(&s->cursor, c);
		/* BC10: the cursor and the header words before the re-read of
		 * head; pairs with BC3 */
		atomic_thread_fence(memory_order_seq_cst);
		uint64_t nh = load_relaxed(&b->shm->head);
		if ((nh <= c && (v == UINT64_MAX || (nh <= v && stamped))) || tries >= 1000) {
			b->pos = b->pub = c;
			b->have_seq = false;
			b->seq = b->pub_seq = seq;
			break;
		}
	}
	store_relaxed(&s->next_seq, b->seq);
	fetch_add_relaxed(&b->win->joins, 1);  /* statistics */
	/* BC9: a writer held by the slot's earlier cursor may sleep; the join
	 * moved it (it woke no one, and the writer slept a poll period;
	 * found by models/bcast.pml) */
	wake_writer(b);
	return 0;
}

/* Maps the control block and the ring read-only in this process. */
static int protect(struct bcast *b, uint64_t page, uint64_t ring_off)
{
	unsigned char *data = b->c.r->data;
	uint64_t ring_len = (b->c.ring.cap + page - 1) & ~(page - 1);

	if ((uintptr_t)data & (page - 1))
		return -EOPNOTSUPP;
	if (mprotect(data, page, PROT_READ) != 0 ||
	    mprotect(data + ring_off, ring_len, PROT_READ) != 0)
		return shmkit__err();
	return 0;
}

static void bcast_set_wait(shmkit_chan *c)
{
	struct bcast *b = bcast_of(c);

	if (c->role == SHMKIT_CHAN_WRITER)
		shmkit__waiter_set(&c->w, c->w.policy, c->w.spin_ns, &b->shm->wfence, 1);
	else
		shmkit__waiter_set(&c->w, c->w.policy, c->w.spin_ns, &b->win->sfence,
				   (uint64_t)1 << b->slot);
}

static int bcast_open(shmkit_chan *c, const struct shmkit__chan_open *o)
{
	struct bcast *b = bcast_of(c);
	const struct shmkit_chan_line0 *l0 = o->l0;  /* the validated private copy */
	int err;

	b->shm = c->r->data;
	b->win = (struct shmkit_bcast_win *)(void *)((unsigned char *)c->r->data +
						     l0->table_offset);
	b->tab = (struct shmkit_bcast_sub *)(void *)((unsigned char *)b->win +
						     SHMKIT_BCAST_WIN_HDR);
	b->overwrite = l0->overflow == SHMKIT_BCAST_OVERWRITE;
	/* subscribers sleep on rwait, bit 0 their flag; the writer wakes all */
	b->spair = (struct shmkit__pair){ .flag = &b->win->rwait, .futex = &b->win->rwait,
					  .kind = SHMKIT_FLAG_BIT, .nwake = INT_MAX,
					  .fencers = &b->win->sfence };
	/* the writer sleeps on wseq with wwait its flag, which a waker lowers */
	b->wpair = (struct shmkit__pair){ .flag = &b->win->wwait, .futex = &b->win->wseq,
					  .kind = SHMKIT_FLAG_TAKEN, .bump = true, .nwake = 1,
					  .fencers = &b->shm->wfence };
	if (c->role == SHMKIT_CHAN_WRITER) {
		err = claim_writer(b);
	} else if (!c->r->token) {
		err = c->r->slot < 0 ? -EACCES : -EOPNOTSUPP;  /* no identity to be judged by */
	} else {
		err = join(b, o->start, o->flags);
		if (!err && (o->flags & SHMKIT_RDONLY)) {
			b->rdonly = true;
			err = protect(b, l0->table_offset, l0->ring_offset);
			if (err) {
				store_relaxed(&b->me->cursor, SHMKIT_BCAST_NONE);
				/* release: pairs with the next joiner's acquire */
				store_release(&b->me->token, 0);
			}
		}
	}
	if (!err)
		bcast_set_wait(c);
	return err;
}

static void bcast_close(shmkit_chan *c)
{
	struct bcast *b = bcast_of(c);

	if (c->role == SHMKIT_CHAN_WRITER) {
		bcast_commit(c);
		/* release: the end after the last commit */
		store_release(&b->shm->closed, 1);
		/* BC1: bit 0 marks the end */
		store_release(&b->shm->tail, b->tail | 1);
		wake_subs(b);  /* BC6 */
		return;
	}
	/* what it peeked and did not release is simply left */
	shmkit__waiter_leave(&c->w);
	store_relaxed(&b->me->cursor, SHMKIT_BCAST_NONE);
	/* release: pairs with a joiner's and the writer's acquire */
	store_release(&b->me->token, 0);
	atomic_fetch_add_explicit(&b->win->leaves, 1, memory_order_relaxed);
	wake_writer(b);  /* BC9 */
}

static int32_t bcast_peer_pid(shmkit_chan *c, int *alive)
{
	struct bcast *b = bcast_of(c);

	if (c->role == SHMKIT_CHAN_READER)
		return shmkit__role_pid(c, load_relaxed(&b->shm->writer), alive);
	return shmkit__slot_first(c, b->tab, sizeof(*b->tab), SHMKIT_CHAN_SUBSCRIBERS, alive);
}

const struct shmkit__chan_ops shmkit__bcast_ops = {
	.kind = SHMKIT_CHAN_BROADCAST,
	.handle_size = sizeof(struct bcast),
	.min_cap = SHMKIT_BCAST_MIN_CAP,
	.image = bcast_image,
	.check = bcast_check,
	.open = bcast_open,
	.close = bcast_close,
	.reserve = bcast_reserve,
	.commit = bcast_commit,
	.peek = bcast_peek,
	.release = bcast_release,
	.recv = bcast_recv,
	.peer_pid = bcast_peer_pid,
	.set_wait = bcast_set_wait,
};

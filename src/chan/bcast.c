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
 * forward over whole records and stores it (B3) before it writes a byte
 * over them; then it writes a record (header words, payload) and publishes
 * it by storing tail with release (B1).  A subscriber load-acquires tail
 * (B2); below it every record is complete.
 *
 * Backpressure: before it moves head past a position, the writer scans the
 * subscriber table and waits while a live subscriber's cursor (B4, stored
 * by the subscriber with release after its reads, B7) is below it; a
 * subscriber found dead (kernel-kept liveness) is dropped.  A subscriber
 * joins by storing its cursor, a full fence (B10), and re-reading head;
 * the writer stores head, a full fence (B3), and scans again before it
 * writes: one of the two sees the other, so a joiner is never written over.
 *
 * Overwrite: the writer never looks at cursors.  A subscriber reads a
 * header (or copies a payload), then an acquire fence (B8) and head: the
 * writer's B3 is a full fence between its head store and its first byte
 * over the record, so a copy that read any newer byte sees a head past the
 * record, and is thrown away (a seqlock whose sequence is head).  The
 * record's stamp (its own position) and seq (its message number) tell the
 * header is this lap's and this record's; the seq of the oldest record held
 * tells a lapped subscriber how many messages it missed.
 *
 * Sleeping: a subscriber sets bit 0 of rwait, fences (B5), re-checks tail
 * and sleeps on rwait; the writer fences after each publication (B6) and,
 * if the bit is set, adds 1 (clearing it and moving the word) and wakes
 * them all.  A backpressured writer sets wwait, fences (B11), rescans and
 * sleeps on wseq; a subscriber fences after each release or join (B9)
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
#pragma GCC diagnostic ignored "-Wtsan"  /* fences order atomics only: see chan.c */
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "futex.h"
#include "internal.h"
#include "chan/layout_bcast.h"
#include "sync/layout_sync.h"

#define LAPPED 1  /* internal: the subscriber was lapped, resync */

struct shmkit__bcast {
	shmkit_region *r;
	struct shmkit_bcast_shm *shm;
	struct shmkit_bcast_win *win;
	struct shmkit_bcast_sub *tab;
	unsigned char *ring;
	uint64_t cap, mask;
	uint32_t max_msg;
	bool overwrite;
	int role;
	unsigned policy;
	uint64_t spin_ns;
	struct shmkit__peer_src src;
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
	uint64_t pos, pub;         /* end of the peeked records; of the released */
	uint64_t pub_seq;          /* the seq after the last released message */
	uint64_t pending;          /* peeked, not released */
	uint64_t first_peek;       /* where the first of them lies */
	bool have_seq, gap;        /* gap: lapped, count due at the next record */
	uint64_t gap_from;         /* the first seq missed */
	uint64_t received, lost, gaps, last_missed;
	bool rdonly;
	int64_t next_check;        /* when to ask again whether the writer lives */
	uint32_t dead_peer;
};

static uint64_t align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

static _Atomic uint64_t *word_at(const struct shmkit__bcast *b, uint64_t pos)
{
	return (_Atomic uint64_t *)(void *)(b->ring + (pos & b->mask));
}

/* A record never starts in the last 24 bytes of a lap: past them. */
static uint64_t skip(const struct shmkit__bcast *b, uint64_t pos)
{
	return b->cap - (pos & b->mask) < SHMKIT_BCAST_HDR ? (pos | b->mask) + 1 : pos;
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
static int64_t rec_check(const struct shmkit__bcast *b, uint64_t w0, uint64_t w2, uint64_t pos,
			 uint64_t end, bool *pad)
{
	uint32_t len = (uint32_t)w2;
	uint64_t off = pos & b->mask, size = SHMKIT_BCAST_HDR + align8(len);

	if ((uint32_t)(w2 >> 32) != (uint32_t)~len || (w0 & ~(uint64_t)7) != pos)
		return -EBADMSG;
	*pad = (w0 & 7) == SHMKIT_BCAST_PAD;
	if (*pad) {
		if ((len & 7) || off + SHMKIT_BCAST_HDR + len != b->cap)
			return -EBADMSG;
	} else if ((w0 & 7) != SHMKIT_BCAST_DATA || len == 0 || len > b->max_msg ||
		   off + size > b->cap) {
		return -EBADMSG;
	}
	if (pos + size > end)
		return -EBADMSG;
	return (int64_t)size;
}

/* ---- waiting ---- */

static bool spinning(const struct shmkit__bcast *b, int64_t now, int64_t *spin_until)
{
	if (b->policy == SHMKIT_WAIT_SPIN)
		return true;
	if (b->policy == SHMKIT_WAIT_SLEEP)
		return false;
	if (*spin_until < 0)
		*spin_until = now + (int64_t)b->spin_ns;
	return now < *spin_until;
}

/* After a publication or close: wakes sleeping subscribers.  rwait is
 * their futex word: bit 0 is the flag a subscriber about to sleep sets,
 * and the writer clears it by adding 1, which also moves the word, so a
 * subscriber whose flag was taken by the wake of a publication it had
 * already seen finds the word moved and looks again instead of sleeping
 * through the next one (a flag cleared with a plain 0 lost that wake-up
 * for a poll period; found by models/bcast.pml). */
static void wake_subs(struct shmkit__bcast *b)
{
	/* B6: tail (and closed) before the flag; pairs with B5 */
	atomic_thread_fence(memory_order_seq_cst);
	if (load_relaxed(&b->win->rwait) & 1) {
		fetch_add_relaxed(&b->win->rwait, 1);  /* only the writer clears */
		shmkit__futex_wake(&b->win->rwait, INT_MAX);
	}
}

/* After a subscriber's release or leave: wakes a backpressured writer. */
static void wake_writer(struct shmkit__bcast *b)
{
	if (b->overwrite)
		return;  /* the writer never waits */
	/* B9: the cursor (a release's, a joiner's, or the freed slot) before the
	 * flag; pairs with B11 */
	atomic_thread_fence(memory_order_seq_cst);
	if (load_relaxed(&b->win->wwait)) {
		store_relaxed(&b->win->wwait, 0);
		fetch_add_relaxed(&b->win->wseq, 1);
		shmkit__futex_wake(&b->win->wseq, 1);
	}
}

/* ---- writer ---- */

/*
 * The lowest cursor below @target of a live subscriber, or UINT64_MAX.
 * With @ask, the liveness of each such subscriber is asked, and a dead one
 * is dropped (its slot freed).  Cursors that make no sense are ignored.
 */
static uint64_t scan(struct shmkit__bcast *b, uint64_t target, bool ask)
{
	uint64_t floor = UINT64_MAX;

	for (unsigned i = 0; i < SHMKIT_BCAST_SUBS; i++) {
		struct shmkit_bcast_sub *s = &b->tab[i];
		/* acquire: pairs with the joiner's token CAS */
		uint32_t tok = load_acquire(&s->token);
		if (!tok)
			continue;
		/* B4: pairs with B7 (and with the joiner's store before B10) */
		uint64_t cur = load_acquire(&s->cursor);
		if (cur == SHMKIT_BCAST_NONE || cur >= target)
			continue;
		if ((cur & 7) || cur > b->tail || b->tail - cur > b->cap ||
		    !shmkit__token_valid(tok))
			continue;  /* nonsense: it only hurts its own subscriber */
		if (ask && shmkit__token_alive(&b->src, tok) == 0) {
			/* dropped: acq_rel, the slot is free for a joiner */
			if (cas_acq_rel(&s->token, &tok, 0))
				fetch_add_relaxed(&b->shm->dropped, 1);
			continue;
		}
		if (cur < floor)
			floor = cur;
	}
	return floor;
}

/* The writer waits for a cursor below @target to move: 0 to look again,
 * or -ETIMEDOUT / -EINTR. */
static int writer_wait(struct shmkit__bcast *b, uint64_t target, int64_t deadline,
		       int64_t *spin_until)
{
	int64_t now = shmkit__mono_ns();
	int err = 0;

	if (deadline >= 0 && now >= deadline)
		return -ETIMEDOUT;
	if (spinning(b, now, spin_until)) {
		for (int i = 0; i < 64; i++)
			shmkit__cpu_relax();
		return 0;
	}
	uint32_t fval = load_relaxed(&b->win->wseq);
	store_relaxed(&b->win->wwait, 1);
	/* B11: the flag before the rescan; pairs with B9 */
	atomic_thread_fence(memory_order_seq_cst);
	if (scan(b, target, false) < target)
		err = shmkit__futex_wait(&b->win->wseq, fval,
					 shmkit__deadline_min(deadline, now + SHMKIT_POLL_NS));
	*spin_until = 0;
	return err == -EINTR ? err : 0;
}

/* Moves head forward over whole records to @target or past it. */
static int advance_head(struct shmkit__bcast *b, uint64_t target)
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
	/* B3: head before any byte written over the records it passed, and
	 * before the rescan of cursors; pairs with B8 and B10 */
	atomic_thread_fence(memory_order_seq_cst);
	b->head = h;
	return 0;
}

/* Makes room up to @end (end - head <= capacity), waiting under backpressure. */
static int make_room(struct shmkit__bcast *b, uint64_t end, int64_t timeout_ns)
{
	int64_t deadline = shmkit__deadline(timeout_ns);
	int64_t spin_until = -1;

	for (;;) {
		if (end - b->head <= b->cap && !b->hold)
			return 0;
		uint64_t target = end > b->cap ? end - b->cap : 0;
		if (!b->overwrite) {
			uint64_t floor = scan(b, target, false);
			if (floor < target) {
				int64_t now = shmkit__mono_ns();
				if (now >= b->next_ask) {
					/* the first wait, then once per poll period */
					b->next_ask = now + SHMKIT_POLL_NS;
					floor = scan(b, target, true);
				}
			}
			if (floor < target) {
				if (timeout_ns == 0)
					return -EAGAIN;
				int err = writer_wait(b, target, deadline, &spin_until);
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
			if (!b->overwrite && scan(b, target, false) < target) {
				b->hold = true;
				continue;
			}
		}
		return 0;
	}
}

int shmkit__bcast_commit(struct shmkit__bcast *b)
{
	if (b->role != SHMKIT_CHAN_WRITER)
		return -EPERM;
	if (!b->reserved)
		return 0;
	b->reserved = false;
	/* relaxed: published by B1 with the record */
	store_relaxed(&b->shm->last, b->res_at);
	store_relaxed(&b->shm->sent, b->seq);
	/* B1: the record's header and payload before tail; pairs with B2 */
	store_release(&b->shm->tail, b->res_end);
	b->tail = b->res_end;
	wake_subs(b);  /* B6 */
	return 0;
}

int shmkit__bcast_reserve(struct shmkit__bcast *b, size_t len, void **p, int64_t timeout_ns)
{
	if (!p)
		return -EINVAL;
	if (b->role != SHMKIT_CHAN_WRITER)
		return -EPERM;
	if (len == 0 || len > b->max_msg)
		return -EMSGSIZE;
	shmkit__bcast_commit(b);  /* one reservation at a time */

	uint64_t need = SHMKIT_BCAST_HDR + align8(len);
	uint64_t at = b->tail, off = at & b->mask;
	uint64_t pad = b->cap - off < need ? b->cap - off : 0;
	uint64_t end = skip(b, at + pad + need);
	int err = make_room(b, end, timeout_ns);

	if (err)
		return err;
	if (pad) {
		_Atomic uint64_t *w = word_at(b, at);
		/* relaxed: published by B1 */
		store_relaxed(&w[0], at | SHMKIT_BCAST_PAD);
		store_relaxed(&w[1], b->seq);
		store_relaxed(&w[2], lenword((uint32_t)(pad - SHMKIT_BCAST_HDR)));
		at += pad;
	}
	_Atomic uint64_t *w = word_at(b, at);
	store_relaxed(&w[0], at | SHMKIT_BCAST_DATA);  /* published by B1 */
	store_relaxed(&w[1], b->seq++);
	store_relaxed(&w[2], lenword((uint32_t)len));
	b->res_at = at;
	b->res_end = end;
	b->reserved = true;
	*p = b->ring + (at & b->mask) + SHMKIT_BCAST_HDR;
	return 0;
}

int shmkit__bcast_send(struct shmkit__bcast *b, const void *buf, size_t len, int64_t timeout_ns)
{
	void *p;
	int err = shmkit__bcast_reserve(b, len, &p, timeout_ns);

	if (err)
		return err;
	memcpy(p, buf, len);
	return shmkit__bcast_commit(b);
}

/* ---- subscriber ---- */

/* -EPIPE if the writer's role names a dead attach (asked once per poll
 * period unless @force), -EBADMSG for a malformed token, else 0. */
static int writer_check(struct shmkit__bcast *b, bool force)
{
	return shmkit__peer_gone(&b->src, load_relaxed(&b->shm->writer), force, &b->dead_peer,
				 &b->next_check);
}

/* Publishes the subscriber's statistics; its occupant alone writes them. */
static void sub_stats(struct shmkit__bcast *b)
{
	store_relaxed(&b->me->received, b->received);
	store_relaxed(&b->me->lost, b->lost);
	store_relaxed(&b->me->gaps, b->gaps);
	store_relaxed(&b->me->next_seq, b->pub_seq);
}

/* A lapped subscriber goes to the oldest record held; the count of what it
 * missed is taken from that record's seq (read_record). */
static int resync(struct shmkit__bcast *b)
{
	uint64_t h;

	for (int tries = 0;; tries++) {
		/* B2: pairs with B1; head's acquire: with B3 */
		uint64_t t = load_acquire(&b->shm->tail) & ~(uint64_t)1;
		h = load_acquire(&b->shm->head);
		if (!((h & 7) || h > t || t - h > b->cap))
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
	/* B7: pairs with B4 (the writer ignores cursors under overwrite) */
	store_release(&b->me->cursor, h);
	return 0;
}

/*
 * The record at b->pos, below the published end @end: a message's length
 * (> 0) with *p, *size, *seq; 0 after passing a padding; LAPPED; or
 * -EOVERFLOW (the count of a gap is known: the record stays), -EBADMSG.
 */
static long read_record(struct shmkit__bcast *b, uint64_t end, const void **p, uint64_t *size,
			uint64_t *seq)
{
	uint64_t pos = b->pos;

	if (pos > end || ((pos | end) & 7))
		return -EBADMSG;
	if (end - pos > b->cap)
		return b->overwrite ? LAPPED : -EBADMSG;
	if (b->cap - (pos & b->mask) < SHMKIT_BCAST_HDR)
		return -EBADMSG;
	_Atomic uint64_t *w = word_at(b, pos);
	/* relaxed: B2 ordered them after the record's publication */
	uint64_t w0 = load_relaxed(&w[0]), w1 = load_relaxed(&w[1]), w2 = load_relaxed(&w[2]);
	if (b->overwrite) {
		/* B8: the header words before head; pairs with B3 */
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
	*p = b->ring + (pos & b->mask) + SHMKIT_BCAST_HDR;
	*size = (uint64_t)sz;
	*seq = w1;
	return (long)(uint32_t)w2;
}

/* A subscriber waits for tail to move from @seen: 0 to look again, or
 * -ETIMEDOUT / -EINTR. */
static int sub_wait(struct shmkit__bcast *b, uint64_t seen, int64_t deadline, int64_t *spin_until)
{
	int64_t now = shmkit__mono_ns();
	int err = 0;

	if (deadline >= 0 && now >= deadline)
		return -ETIMEDOUT;
	if (spinning(b, now, spin_until)) {
		/* relaxed: the caller looks again with acquire */
		for (int i = 0; i < 64 && load_relaxed(&b->shm->tail) == seen; i++)
			shmkit__cpu_relax();
		return 0;
	}
	/* the flag, and the value to sleep on: any wake from here moves it */
	uint32_t fval = atomic_fetch_or_explicit(&b->win->rwait, 1, memory_order_relaxed) | 1;
	/* B5: the flag before the re-check; pairs with B6 */
	atomic_thread_fence(memory_order_seq_cst);
	if (load_relaxed(&b->shm->tail) == seen)
		err = shmkit__futex_wait(&b->win->rwait, fval,
					 shmkit__deadline_min(deadline, now + SHMKIT_POLL_NS));
	*spin_until = 0;
	return err == -EINTR ? err : 0;
}

/* Waits for the next message; its length, 0 at the end, or an error. */
static long sub_next(struct shmkit__bcast *b, const void **p, uint64_t *size, uint64_t *seq,
		     int64_t deadline, bool try_only)
{
	int64_t spin_until = -1;

	if (!p)
		return -EINVAL;
	if (b->role != SHMKIT_CHAN_READER)
		return -EPERM;
	for (bool looked = false;; looked = true) {
		/* B2: pairs with B1 */
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
		if (looked || try_only || b->policy == SHMKIT_WAIT_SLEEP) {
			err = writer_check(b, try_only);
			if (err == -EPIPE) {
				/* what it published before it died first, and its
				 * close (bit 0) if it closed and exited after our
				 * load of tail: that is the end, not a death */
				if (load_acquire(&b->shm->tail) != t)  /* B2 */
					continue;
				return -EPIPE;
			}
			if (err)
				return err;
			if (try_only)
				return -EAGAIN;
		}
		err = sub_wait(b, t, deadline, &spin_until);
		if (err)
			return err;
	}
}

/* Publishes the cursor: everything before b->pos is read. */
static void publish(struct shmkit__bcast *b)
{
	/* B7: the cursor after the reads of the records; pairs with B4 */
	store_release(&b->me->cursor, b->pos);
	b->received += b->pending;
	b->pending = 0;
	b->pub = b->pos;
	b->pub_seq = b->seq;
	sub_stats(b);
	wake_writer(b);  /* B9 */
}

int shmkit__bcast_release(struct shmkit__bcast *b)
{
	if (b->role != SHMKIT_CHAN_READER)
		return -EPERM;
	if (b->pos == b->pub)
		return 0;
	if (b->overwrite && b->pending) {
		/* B8: the caller's reads of the peeked payloads before head;
		 * pairs with B3 */
		fence_acquire();
		if (load_relaxed(&b->shm->head) > b->first_peek) {
			int err = resync(b);
			if (err)
				return err;
			/* the count, if the oldest record is there already */
			const void *p;
			uint64_t size, seq;
			sub_next(b, &p, &size, &seq, 0, true);
			return -EOVERFLOW;
		}
	}
	publish(b);
	return 0;
}

long shmkit__bcast_peek(struct shmkit__bcast *b, const void **p, int64_t timeout_ns)
{
	uint64_t size, seq;
	long n = sub_next(b, p, &size, &seq, shmkit__deadline(timeout_ns), timeout_ns == 0);

	if (n > 0) {
		if (!b->pending++)
			b->first_peek = b->pos;
		b->pos = skip(b, b->pos + size);
		b->seq = seq + 1;
	}
	return n;
}

long shmkit__bcast_recv(struct shmkit__bcast *b, void *buf, size_t cap, int64_t timeout_ns)
{
	int64_t deadline = shmkit__deadline(timeout_ns);

	if (b->role == SHMKIT_CHAN_READER && b->pending) {
		int err = shmkit__bcast_release(b);  /* what was peeked before */
		if (err)
			return err;
	}
	for (;;) {
		const void *p;
		uint64_t size, seq;
		long n = sub_next(b, &p, &size, &seq, deadline, timeout_ns == 0);
		if (n <= 0)
			return n;
		if ((size_t)n > cap)
			return -EMSGSIZE;  /* it stays: b->pos is not moved past it */
		memcpy(buf, p, (size_t)n);
		if (b->overwrite) {
			/* B8: the copy before head; pairs with B3 */
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

int shmkit__bcast_missed(const struct shmkit__bcast *b, uint64_t *last, uint64_t *total)
{
	if (b->role != SHMKIT_CHAN_READER)
		return -EPERM;
	if (last)
		*last = b->last_missed;
	if (total)
		*total = b->lost;
	return 0;
}

/* ---- opening and closing ---- */

uint64_t shmkit__bcast_page(void)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page < (long)SHMKIT_BCAST_PAGE_MIN)
		return SHMKIT_BCAST_PAGE_MIN;
	return page > (long)SHMKIT_BCAST_PAGE_MAX ? SHMKIT_BCAST_PAGE_MAX : (uint64_t)page;
}

void shmkit__bcast_image(void *block, uint64_t capacity, uint32_t policy, uint32_t spin_ns,
			 uint32_t overflow)
{
	struct shmkit_bcast_shm *s = block;
	uint64_t page = shmkit__bcast_page();

	memset(s, 0, sizeof(*s));
	s->magic = SHMKIT_CHAN_MAGIC;
	s->version = SHMKIT_CHAN_VERSION;
	s->type = SHMKIT_CHAN_TYPE_BCAST;
	s->capacity = capacity;
	s->max_msg = (uint32_t)(capacity / 4);
	s->ring_offset = SHMKIT_BCAST_RING_OFF(page);
	s->policy = policy;
	s->spin_ns = spin_ns;
	s->subs_max = SHMKIT_BCAST_SUBS;
	s->win_offset = (uint32_t)page;
	s->overflow = overflow;
}

int shmkit__bcast_check(const void *block)
{
	const struct shmkit_bcast_shm *s = block;
	uint32_t p = s->win_offset;

	if (p < SHMKIT_BCAST_PAGE_MIN || p > SHMKIT_BCAST_PAGE_MAX || (p & (p - 1)) ||
	    s->ring_offset != SHMKIT_BCAST_RING_OFF(p) || s->subs_max != SHMKIT_BCAST_SUBS ||
	    s->overflow > SHMKIT_BCAST_POL_OVERWRITE)
		return -EBADMSG;
	return 0;
}

/* Takes the writer's role: from nobody, or from a dead attach. */
static int claim_writer(struct shmkit__bcast *b)
{
	int err = shmkit__claim_role(b->r, &b->src, &b->shm->writer);

	if (err)
		return err;
	store_relaxed(&b->shm->writer_pid, (int32_t)b->r->owner);  /* informational */
	/* B2: carry on from what the last writer published; pairs with B1 */
	uint64_t t = load_acquire(&b->shm->tail) & ~(uint64_t)1;
	/* acquire: pairs with the dead writer's B3 (the role CAS ordered it too) */
	uint64_t h = load_acquire(&b->shm->head);
	if ((h | t) & 7 || h > t || t - h > b->cap)
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
	store_release(&b->shm->tail, t);  /* B1: bit 0 cleared */
	return 0;
}

/* Takes a subscriber slot (a free one, or a dead subscriber's) and its
 * start position. */
static int join(struct shmkit__bcast *b, unsigned start, unsigned flags)
{
	uint32_t tok = b->r->token;
	struct shmkit_bcast_sub *s = NULL;

	for (unsigned i = 0; i < SHMKIT_BCAST_SUBS && !s; i++) {
		struct shmkit_bcast_sub *e = &b->tab[i];
		/* acquire: pairs with a leaver's release and the writer's drop */
		uint32_t cur = load_acquire(&e->token);
		if (cur != 0) {
			if (!shmkit__token_valid(cur))
				continue;  /* a scribbled slot: not ours to judge */
			if (shmkit__token_alive(&b->src, cur) != 0)
				continue;
		}
		/* acq_rel: pairs with the writer's scan (and a leaver's release) */
		if (cas_acq_rel(&e->token, &cur, tok))
			s = e;
	}
	if (!s)
		return -EUSERS;
	b->me = s;
	/* the writer ignores the slot until the cursor is set (B10) */
	store_relaxed(&s->cursor, SHMKIT_BCAST_NONE);
	store_relaxed(&s->pid, (int32_t)b->r->owner);  /* informational */
	store_relaxed(&s->flags, (flags & SHMKIT_RDONLY) ? SHMKIT_BCAST_SUB_RDONLY : 0);
	store_relaxed(&s->received, 0);
	store_relaxed(&s->lost, 0);
	store_relaxed(&s->gaps, 0);
	for (int tries = 0;; tries++) {
		/* B2: pairs with B1 */
		uint64_t t = load_acquire(&b->shm->tail) & ~(uint64_t)1;
		/* acquire: pairs with B3's fence after the writer's head store */
		uint64_t h = load_acquire(&b->shm->head);
		uint64_t l = load_relaxed(&b->shm->last);  /* checked against h and t */
		uint64_t sent = load_relaxed(&b->shm->sent);
		if ((h | t) & 7 || h > t || t - h > b->cap) {
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
		/* B10: the cursor and the header words before the re-read of
		 * head; pairs with B3 */
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
	/* B9: a writer held by the slot's earlier cursor may sleep; the join
	 * moved it (it woke no one, and the writer slept a poll period;
	 * found by models/bcast.pml) */
	wake_writer(b);
	return 0;
}

/* Maps the control block and the ring read-only in this process. */
static int protect(struct shmkit__bcast *b, uint64_t page, uint64_t ring_off)
{
	unsigned char *data = b->r->data;
	uint64_t ring_len = (b->cap + page - 1) & ~(page - 1);

	if ((uintptr_t)data & (page - 1))
		return -EOPNOTSUPP;
	if (mprotect(data, page, PROT_READ) != 0 ||
	    mprotect(data + ring_off, ring_len, PROT_READ) != 0)
		return shmkit__err();
	return 0;
}

int shmkit__bcast_open(shmkit_region *r, const void *img, int role, unsigned flags,
		       unsigned start, const struct shmkit__peer_src *src, unsigned policy,
		       uint64_t spin_ns, struct shmkit__bcast **out)
{
	const struct shmkit_bcast_shm *im = img;  /* validated private copy */
	struct shmkit__bcast *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		return -ENOMEM;
	b->r = r;
	b->shm = r->data;
	b->win = (struct shmkit_bcast_win *)(void *)((unsigned char *)r->data + im->win_offset);
	b->tab = (struct shmkit_bcast_sub *)(void *)((unsigned char *)b->win +
						     SHMKIT_BCAST_WIN_HDR);
	b->ring = (unsigned char *)r->data + im->ring_offset;
	b->cap = im->capacity;
	b->mask = b->cap - 1;
	b->max_msg = im->max_msg;
	b->overwrite = im->overflow == SHMKIT_BCAST_POL_OVERWRITE;
	b->role = role;
	b->src = *src;
	b->policy = policy;
	b->spin_ns = spin_ns;
	if (role == SHMKIT_CHAN_WRITER) {
		err = claim_writer(b);
	} else if (!r->token) {
		err = r->slot < 0 ? -EACCES : -EOPNOTSUPP;  /* no identity to be judged by */
	} else {
		err = join(b, start, flags);
		if (!err && (flags & SHMKIT_RDONLY)) {
			b->rdonly = true;
			err = protect(b, im->win_offset, im->ring_offset);
			if (err) {
				store_relaxed(&b->me->cursor, SHMKIT_BCAST_NONE);
				/* release: pairs with the next joiner's acquire */
				store_release(&b->me->token, 0);
			}
		}
	}
	if (err) {
		free(b);
		return err;
	}
	*out = b;
	return 0;
}

void shmkit__bcast_set_wait(struct shmkit__bcast *b, unsigned policy, uint64_t spin_ns)
{
	b->policy = policy;
	b->spin_ns = spin_ns;
}

void shmkit__bcast_close(struct shmkit__bcast *b)
{
	if (b->role == SHMKIT_CHAN_WRITER) {
		shmkit__bcast_commit(b);
		/* release: the end after the last commit */
		store_release(&b->shm->closed, 1);
		/* B1: bit 0 marks the end */
		store_release(&b->shm->tail, b->tail | 1);
		wake_subs(b);  /* B6 */
	} else {
		/* what it peeked and did not release is simply left */
		store_relaxed(&b->me->cursor, SHMKIT_BCAST_NONE);
		/* release: pairs with a joiner's and the writer's acquire */
		store_release(&b->me->token, 0);
		atomic_fetch_add_explicit(&b->win->leaves, 1, memory_order_relaxed);
		wake_writer(b);  /* B9 */
	}
	free(b);
}

int32_t shmkit__bcast_peer_pid(struct shmkit__bcast *b, int *alive)
{
	if (b->role == SHMKIT_CHAN_READER) {
		uint32_t tok = load_relaxed(&b->shm->writer);
		if (!tok || !shmkit__token_valid(tok))
			return 0;
		if (alive)
			*alive = shmkit__token_alive(&b->src, tok);
		return shmkit__token_pid(b->r->hdr, tok);
	}
	for (unsigned i = 0; i < SHMKIT_BCAST_SUBS; i++) {
		uint32_t tok = load_relaxed(&b->tab[i].token);
		if (!tok || !shmkit__token_valid(tok))
			continue;
		if (alive)
			*alive = shmkit__token_alive(&b->src, tok);
		return load_relaxed(&b->tab[i].pid);
	}
	return 0;
}

/* ---- stat, from copies of the control block and the window ---- */

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
	if (o->lag > s->capacity)
		o->lag = s->capacity;  /* lapped (overwrite) */
	o->lag_msgs = next <= sent ? sent - next : 0;
	o->received = load_relaxed(&e->received);
	o->lost = load_relaxed(&e->lost);
	o->gaps = load_relaxed(&e->gaps);
}

int shmkit__bcast_describe(const struct shmkit__peer_src *src, const void *block,
			   void *window, struct shmkit_chan_info *out)
{
	struct shmkit_bcast_shm *s = (struct shmkit_bcast_shm *)block;
	struct shmkit_bcast_sub *tab =
		(struct shmkit_bcast_sub *)(void *)((unsigned char *)window + SHMKIT_BCAST_WIN_HDR);

	if (shmkit__bcast_check(block))
		return -EBADMSG;
	/* a copy, read while the channel runs: the words need not agree */
	uint64_t tail = load_relaxed(&s->tail) & ~(uint64_t)1, head = load_relaxed(&s->head);
	if ((tail | head) & 7)
		return -EBADMSG;
	out->kind = SHMKIT_CHAN_BROADCAST;
	out->capacity = s->capacity;
	out->max_msg = s->max_msg;
	out->used = head >= tail ? 0 : tail - head > s->capacity ? s->capacity : tail - head;
	out->sent = load_relaxed(&s->sent);
	out->closed = load_relaxed(&s->closed) != 0;
	out->overflow = s->overflow;
	out->dropped = (uint32_t)load_relaxed(&s->dropped);
	uint32_t wt = load_relaxed(&s->writer);
	if (wt && shmkit__token_valid(wt)) {
		out->writer_pid = load_relaxed(&s->writer_pid);
		out->writer_alive = shmkit__token_alive(src, wt);
		out->writers = out->writer_alive != 0;
	}
	for (unsigned i = 0; i < SHMKIT_BCAST_SUBS; i++) {
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

int shmkit__bcast_subs(const struct shmkit__peer_src *src, const void *block, void *window,
		       struct shmkit_sub_info *out, size_t cap)
{
	struct shmkit_bcast_sub *tab =
		(struct shmkit_bcast_sub *)(void *)((unsigned char *)window + SHMKIT_BCAST_WIN_HDR);
	size_t n = 0;

	if (shmkit__bcast_check(block))
		return -EBADMSG;
	for (unsigned i = 0; i < SHMKIT_BCAST_SUBS; i++) {
		if (!load_relaxed(&tab[i].token))
			continue;
		if (n < cap)
			sub_info(src, block, &tab[i], i, &out[n]);
		n++;
	}
	return (int)n;
}

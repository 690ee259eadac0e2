/* SPDX-License-Identifier: MIT */
/*
 * bcast_sub.c - the broadcast channel's subscribers: joining, reading from
 * a cursor of their own (and resyncing when lapped under overwrite),
 * releasing, leaving.  The protocol and its labels: bcast.c.
 */
#include <string.h>
#include <sys/mman.h>

#include "chan/bcast.h"

/* internal: the subscriber was lapped, resync; below every -errno, so
 * that no message length (a 1-byte one was taken for it) nor error is it */
#define LAPPED (-(1L << 40))

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
		if (shmkit__ring_span_ok(&b->c.ring, h, t))
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
	for (bool looked = false;; looked = true) {
		bool try_only = ws->try_only;  /* a wait may turn into a try */
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
		/* closed, and everything read: the end (SHMKIT_FOLLOW: once per
		 * stream, then wait for the next writer, whose claim clears bit 0) */
		bool told = (t & 1) && b->c.follow && t == b->end_told;
		if ((t & 1) && !told) {
			b->end_told = t;
			return 0;
		}
		if (!looked && shmkit__wait_poll(&b->c.w, ws, &b->shm->tail, t))
			continue;
		if (!told && (looked || try_only || b->c.w.policy == SHMKIT_WAIT_SLEEP)) {
			err = writer_check(b, try_only);
			if (err == -EPIPE) {
				/* what it published before it died first, and its
				 * close (bit 0) if it closed and exited after our
				 * load of tail: that is the end, not a death */
				if (load_acquire(&b->shm->tail) != t)  /* BC2 */
					continue;
				/* SHMKIT_FOLLOW: each death once */
				/* the token judged dead, not one that came since */
				uint32_t tok = b->c.dead_peer;
				if (!b->c.follow || tok != b->death_told) {
					b->death_told = tok;
					return -EPIPE;
				}
				err = 0;
			}
			if (err)
				return err;
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

int shmkit__bcast_release(shmkit_chan *c)
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
			shmkit__wait_start(&b->c.w, &ws, 0);
			sub_next(b, &p, &size, &seq, &ws);
			return -EOVERFLOW;
		}
	}
	publish(b);
	return 0;
}

long shmkit__bcast_peek(shmkit_chan *c, const void **p, int64_t timeout_ns)
{
	struct bcast *b = bcast_of(c);
	uint64_t size, seq;
	struct shmkit__wait ws;

	shmkit__wait_start(&b->c.w, &ws, timeout_ns);
	long n = sub_next(b, p, &size, &seq, &ws);

	if (n > 0) {
		if (!b->pending++)
			b->first_peek = b->pos;
		b->pos = skip(b, b->pos + size);
		b->seq = seq + 1;
	}
	return n;
}

long shmkit__bcast_recv(shmkit_chan *c, void *buf, size_t cap, int64_t timeout_ns)
{
	struct bcast *b = bcast_of(c);
	struct shmkit__wait ws;

	if (b->pending) {
		int err = shmkit__bcast_release(c);  /* what was peeked before */
		if (err)
			return err;
	}
	shmkit__wait_start(&b->c.w, &ws, timeout_ns);
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


/* ---- joining and leaving ---- */

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
		if (!shmkit__ring_span_ok(&b->c.ring, h, t)) {
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

/* Gives the slot back: the writer ignores it from the cursor's NONE on. */
static void free_slot(struct bcast *b)
{
	store_relaxed(&b->me->cursor, SHMKIT_BCAST_NONE);
	/* release: pairs with a joiner's and the writer's acquire */
	store_release(&b->me->token, 0);
}

int shmkit__bcast_join(struct bcast *b, const struct shmkit__chan_open *o)
{
	int err = join(b, o->start, o->flags);

	if (err || !(o->flags & SHMKIT_RDONLY))
		return err;
	err = protect(b, o->l0->table_offset, o->l0->ring_offset);
	if (err)
		free_slot(b);
	return err;
}

void shmkit__bcast_leave(struct bcast *b)
{
	/* what it peeked and did not release is simply left */
	shmkit__waiter_leave(&b->c.w);
	free_slot(b);
	atomic_fetch_add_explicit(&b->win->leaves, 1, memory_order_relaxed);
	wake_writer(b);  /* BC9 */
}

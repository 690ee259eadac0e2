/* SPDX-License-Identifier: MIT */
/*
 * mpsc.c - the many-writer, one-reader channel (SHMKIT_CHAN_MPSC): its
 * protocol behind the channel front (chan.c), which opens a handle here
 * when line 0 says kind 2.  Layout: layout_mpsc.h; the
 * protocol, in prose, with the bound on stalls: docs/architecture.md, "MPSC
 * channel".
 *
 * Overview.  tail is the next position to claim, head the end of what the
 * reader released.  Free ring words hold the EMPTY mark of the position
 * they take next (the creator marks lap 0; the reader marks lap + 1 over
 * everything it releases, MP7, before it stores head, MP8).  A writer at tail
 * t with room (t + size <= head + capacity, head loaded with acquire, MP6)
 * claims t by CAS of the word at t from EMPTY(t) to CLAIMED {writer, lap,
 * len} (MP1), then moves tail from t to t + size by CAS (MP2); a failed tail
 * CAS means another writer helped.  A writer that finds a record already
 * claimed at tail helps: it moves tail past it (MP2) and retries, so a writer
 * killed between its two CASes never stops the others.  The claimer writes
 * its payload, then stores COMMITTED with release (MP5); the reader
 * load-acquires the header at its position (MP4).
 *
 * A record that stays CLAIMED: the reader looks up the writer entry the
 * header names (MP11).  Free, or taken by a writer that joined after the
 * record's position, or naming a dead attach (kernel-kept liveness, asked
 * once the reader has waited a brief poll there, then once per
 * SHMKIT_OWNER_POLL_MS): the record is abandoned.  The reader makes sure
 * tail is past it (CAS), skips it and counts it lost.
 *
 * Sleeping, through the channels' waiter (wait.h): the reader sleeps on
 * rseq with rwait its flag (MP12, W1); a committing or closing writer
 * passes W2 (MP13), and bumps rseq and wakes only when rwait is set.
 * Writers short of room set bit 0 of wwait and sleep on wwait (MP14); the
 * reader passes W2 after each release (MP15) and, when the bit is set,
 * adds 1 (clearing it and moving the word) and wakes them all.
 * Every sleep ends within SHMKIT_OWNER_POLL_MS for the liveness checks.
 *
 * Everything read from the segment is checked before use: positions
 * 8-aligned and within a capacity of each other, headers tagged with their
 * position's lap, lengths within max_msg and the ring, padding only at a
 * lap's end; anything else is -EBADMSG.  Every loop advances a position
 * bounded by head + capacity, or waits against the caller's deadline.
 */
#include <string.h>

#include "atomic.h"
#include "chan/chan.h"
#include "chan/layout_mpsc.h"

struct mpsc {
	struct shmkit_chan c;
	struct shmkit_mpsc_shm *shm;
	struct shmkit_mpsc_writer *tab;
	struct shmkit__pair rpair;  /* the reader's sleeps */
	struct shmkit__pair wpair;  /* the writers' sleeps */
	/* writer */
	struct shmkit_mpsc_writer *me;
	unsigned idx;
	uint64_t head;             /* head, last seen */
	uint64_t claim_pos;        /* the reservation not yet committed */
	uint64_t claim_hdr;        /* the COMMITTED word commit stores there */
	bool claimed;
	uint64_t sent;
	/* reader */
	uint64_t pos;              /* end of the peeked (and skipped) records */
	uint64_t pub;              /* what was released: head */
	uint64_t pending, pending_lost;
	uint64_t judge_pos;        /* the CLAIMED record being waited on */
	int64_t next_judge;
	bool ask_now;          /* this call asks claimers' liveness at once */
	uint64_t end_told;         /* SHMKIT_FOLLOW: joins + 1 when it told the end */
	int64_t next_scan;         /* when to look at the writer table again */
	uint32_t scan_leaves;      /* leaves at the last look */
	uint32_t dead_tok[SHMKIT_CHAN_MPSC_WRITERS];  /* tokens found dead */
};

static struct mpsc *mpsc_of(shmkit_chan *c)
{
	return (struct mpsc *)c;
}

static _Atomic uint64_t *word_at(const struct mpsc *m, uint64_t pos)
{
	return shmkit__ring_word(&m->c.ring, pos);
}

static uint64_t lap(const struct mpsc *m, uint64_t pos)
{
	return pos >> m->c.ring.shift;
}

static uint64_t empty_of(const struct mpsc *m, uint64_t pos)
{
	return SHMKIT_MPSC_EMPTY(lap(m, pos));
}

/*
 * The size of the record whose header @h lies at @pos: tagged with pos's
 * lap, within the ring and within a capacity of @base (<= pos: head), a
 * message of 1..max_msg bytes or padding that ends the lap.  -EBADMSG else.
 */
static int64_t rec_size(const struct mpsc *m, uint64_t h, uint64_t pos, uint64_t base)
{
	unsigned st = SHMKIT_MPSC_STATE(h);

	if (st == 0 || SHMKIT_MPSC_TAG(h) != (lap(m, pos) & SHMKIT_MPSC_TAG_MASK))
		return -EBADMSG;
	return shmkit__ring_span(&m->c.ring, pos, 8, SHMKIT_MPSC_LEN(h), st == SHMKIT_MPSC_PAD,
				 base + m->c.ring.cap);
}

/* -EPIPE if the reader's role names a dead attach (asked once per poll
 * period unless @force), -EBADMSG for a malformed token, else 0. */
static int reader_check(struct mpsc *m, bool force)
{
	return shmkit__peer_check(&m->c, load_relaxed(&m->shm->reader), force);
}

/*
 * Loads head, then tail, and checks them: 8-aligned, head <= tail (the
 * reader passes a record only once tail is past it, and we load tail
 * second), tail <= head + capacity.  The last can fail for a moment when
 * the reader moves between the two loads: looked at again, a few times.
 */
static int load_positions(struct mpsc *m, uint64_t *tail)
{
	for (int tries = 0; tries < 64; tries++) {
		/* MP6: pairs with the reader's MP8: the space below head +
		 * capacity was read, marked EMPTY and handed back */
		uint64_t h = load_acquire(&m->shm->head);
		/* MP3: pairs with MP2 */
		uint64_t t = load_acquire(&m->shm->tail);
		if ((h | t) & 7 || t < h)
			return -EBADMSG;
		if (t - h <= m->c.ring.cap) {
			m->head = h;
			*tail = t;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Moves tail from @t to @t + @size unless someone did; MP2: acq_rel CAS,
 * pairs with MP3 (and with itself, between writers). */
static void help_tail(struct mpsc *m, uint64_t t, uint64_t size)
{
	cas_acq_rel(&m->shm->tail, &t, t + size);
}

static int mpsc_commit(shmkit_chan *c)
{
	struct mpsc *m = mpsc_of(c);

	if (!m->claimed)
		return 0;
	/* MP5: the record's header after its payload; pairs with MP4 */
	store_release(word_at(m, m->claim_pos), m->claim_hdr);
	m->claimed = false;
	/* statistics; this entry's occupant alone writes it */
	store_relaxed(&m->me->sent, ++m->sent);
	/* MP13: the commit's header before the reader's flag (W2) */
	shmkit__wake(&c->w, &m->rpair);
	return 0;
}

static int mpsc_reserve(shmkit_chan *c, size_t len, void **p, int64_t timeout_ns)
{
	struct mpsc *m = mpsc_of(c);

	mpsc_commit(c);  /* one reservation at a time */

	uint64_t need = 8 + shmkit__align8(len);
	struct shmkit__wait ws;
	uint64_t suspect = UINT64_MAX;  /* a tail whose word made no sense */
	int err;

	shmkit__wait_start(&c->w, &ws, timeout_ns);
	for (;;) {
		uint64_t t;
		/* MP3: pairs with MP2 */
		t = load_acquire(&m->shm->tail);
		if ((t & 7) || t < m->head || t - m->head > m->c.ring.cap) {
			err = load_positions(m, &t);
			if (err)
				return err;
		}
		uint64_t off = t & m->c.ring.mask;
		bool pad = off + need > m->c.ring.cap;
		uint64_t size = pad ? m->c.ring.cap - off : need;

		if (t + size - m->head > m->c.ring.cap) {
			/* short of room: a fresh head, then wait for the reader */
			err = load_positions(m, &t);
			if (err)
				return err;
			off = t & m->c.ring.mask;
			pad = off + need > m->c.ring.cap;
			size = pad ? m->c.ring.cap - off : need;
			if (t + size - m->head > m->c.ring.cap) {
				uint64_t seen = m->head;
				if (shmkit__wait_poll(&c->w, &ws, &m->shm->head, seen))
					continue;
				err = reader_check(m, ws.try_only);
				if (err)
					return err;
				/* MP14: writers sleep on wwait, whose bit 0 is their
				 * flag; the bit stays set: the reader lowers it when
				 * it wakes them all */
				struct shmkit__sleep sl = { .watch = &m->shm->head, .seen = seen };
				err = shmkit__wait_step(&c->w, &ws, &m->wpair, &sl);
				if (err)
					return err;
				continue;
			}
		}
		/* MP4w: acquire; a mark seen here comes with the reader's view of
		 * tail (pairs with MP7) */
		uint64_t w = load_acquire(word_at(m, t));
		if (w == empty_of(m, t)) {
			uint64_t hw = pad ? SHMKIT_MPSC_HDR(SHMKIT_MPSC_PAD, m->idx, lap(m, t), size - 8)
					  : SHMKIT_MPSC_HDR(SHMKIT_MPSC_CLAIMED, m->idx, lap(m, t), len);
			/* MP1: the claim; acq_rel: the reader that acquires it (MP4)
			 * sees this entry's token and join; only the frontier t
			 * holds EMPTY(t), so a stale t cannot win */
			if (!cas_acq_rel(word_at(m, t), &w, hw))
				continue;
			help_tail(m, t, size);  /* MP2 */
			if (pad)
				continue;
			store_relaxed(&m->me->pos, t);  /* informational */
			m->claim_pos = t;
			m->claim_hdr = SHMKIT_MPSC_HDR(SHMKIT_MPSC_COMMITTED, m->idx, lap(m, t), len);
			m->claimed = true;
			*p = m->c.ring.base + off + 8;
			return 0;
		}
		if (SHMKIT_MPSC_STATE(w) != 0 &&
		    SHMKIT_MPSC_TAG(w) == (lap(m, t) & SHMKIT_MPSC_TAG_MASK)) {
			/* claimed already: help its claimer's tail CAS along */
			int64_t sz = rec_size(m, w, t, m->head);
			if (sz > 0) {
				help_tail(m, t, (uint64_t)sz);
				continue;
			}
		}
		/* neither (or a claim beyond our view of head): tail moved on
		 * since we read it, our head is old, or the ring is corrupt;
		 * corrupt only if fresh positions show the same */
		if (t != suspect) {
			suspect = t;
			err = load_positions(m, &t);
			if (err)
				return err;
			continue;
		}
		if (load_acquire(&m->shm->tail) == t)  /* MP3 */
			return -EBADMSG;
	}
}

/* Marks [from, to) as free space of the next lap. */
static void mark_free(struct mpsc *m, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t lap_end = (from | m->c.ring.mask) + 1;
		uint64_t end = to < lap_end ? to : lap_end;
		uint64_t v = SHMKIT_MPSC_EMPTY(lap(m, from) + 1);
		_Atomic uint64_t *w = word_at(m, from);
		for (uint64_t n = (end - from) / 8; n; n--)
			store_relaxed(w++, v);  /* published by MP7 (to writers) and MP8 */
		from = end;
	}
}

static int mpsc_release(shmkit_chan *c)
{
	struct mpsc *m = mpsc_of(c);

	if (m->pos == m->pub)
		return 0;
	/* where this release ends, for a reader that takes over if we die
	 * while marking */
	store_relaxed(&m->shm->rel, m->pos);
	/* MP7: our reads of the records and rel before the marks; pairs with a
	 * writer's acquire of a mark (MP4w) and a new reader's of rel (MP10) */
	fence_release();
	mark_free(m, m->pub, m->pos);
	/* MP8: head after the marks; pairs with MP6 */
	store_release(&m->shm->head, m->pos);
	m->pub = m->pos;
	/* MP15: head before the writers' flag (W2, pairs with MP14); the +1
	 * lowers bit 0 and moves their futex word, and wakes them all */
	shmkit__wake(&c->w, &m->wpair);
	/* statistics; the reader alone writes them */
	if (m->pending)
		store_relaxed(&m->shm->received, load_relaxed(&m->shm->received) + m->pending);
	if (m->pending_lost)
		store_relaxed(&m->shm->lost, load_relaxed(&m->shm->lost) + m->pending_lost);
	m->pending = m->pending_lost = 0;
	return 0;
}

/* Makes sure tail is past the record [pos, pos + size) before the reader
 * passes it (writers find tail's word by it): a claimer killed before its
 * tail CAS left tail at pos. */
static int pass_tail(struct mpsc *m, uint64_t pos, uint64_t size)
{
	uint64_t t = load_acquire(&m->shm->tail);  /* MP3 */

	/* MP2; on failure t is the tail a writer moved meanwhile */
	if (t == pos && cas_acq_rel(&m->shm->tail, &t, pos + size))
		return 0;
	/* a claim at pos was made with tail at pos, and tail then went past
	 * the record; it is never more than a capacity past what we released */
	if (t < pos + size || t - m->pub > m->c.ring.cap)
		return -EBADMSG;
	return 0;
}

/*
 * Whether the CLAIMED record @h at @pos is abandoned: 1 yes, 0 not (or not
 * known yet), -EBADMSG.  Liveness is asked only when @ask.
 */
static int judge(struct mpsc *m, uint64_t pos, uint64_t h, bool ask)
{
	struct shmkit_mpsc_writer *e = &m->tab[SHMKIT_MPSC_WRITER(h)];
	/* MP11: pairs with the join CAS and MP9 (join), and with close's MP16 */
	uint32_t tok = load_acquire(&e->token);
	uint64_t join = load_acquire(&e->join);

	if (tok != 0 && join <= pos) {
		/* the entry's occupant may be the claimer */
		if (!shmkit__token_valid(tok))
			return -EBADMSG;
		if (!ask || shmkit__token_alive(&m->c.src, tok) != 0)
			return 0;
	}
	/* abandoned, unless it was committed meanwhile (a closing writer
	 * commits before it frees its entry) */
	return load_acquire(word_at(m, pos)) == h ? 1 : 0;  /* MP4 */
}

/*
 * The next message at m->pos, passing padding and abandoned records: its
 * length (> 0) with *p and *size set, 0 if none is there (*seen: the word
 * found), or -EBADMSG.  @now (0: never) is when a claimer's liveness may be
 * asked: at once for a record newly waited on, then once per poll period.
 */
static long next_record(struct mpsc *m, const void **p, uint64_t *size,
			uint64_t *seen, int64_t now)
{
	for (;;) {
		if (m->pos - m->pub >= m->c.ring.cap) {
			/* a whole ring passed and not released (peeked messages):
			 * the word here is one of ours, nothing new can come */
			*seen = load_relaxed(word_at(m, m->pos));
			return 0;
		}
		/* MP4: pairs with MP5 (and MP1, for a claim); one load, then checked */
		uint64_t h = load_acquire(word_at(m, m->pos));
		*seen = h;
		if (h == empty_of(m, m->pos))
			return 0;
		int64_t sz = rec_size(m, h, m->pos, m->pub);
		if (sz < 0)
			return (long)sz;
		unsigned st = SHMKIT_MPSC_STATE(h);
		if (st == SHMKIT_MPSC_COMMITTED) {
			*p = m->c.ring.base + (m->pos & m->c.ring.mask) + 8;
			*size = (uint64_t)sz;
			return (long)SHMKIT_MPSC_LEN(h);
		}
		if (st == SHMKIT_MPSC_CLAIMED) {
			if (m->judge_pos != m->pos) {
				m->judge_pos = m->pos;
				m->next_judge = 0;  /* new here: ask at the first wait */
			}
			/* an event loop's call asks every time: between its
			 * calls no poll period runs out (chan/fdw.h) */
			bool ask = now && (now >= m->next_judge || m->ask_now);
			if (ask)
				m->next_judge = now + SHMKIT_POLL_NS;
			int j = judge(m, m->pos, h, ask);
			if (j <= 0)
				return j;
			m->pending_lost++;
		}
		int err = pass_tail(m, m->pos, (uint64_t)sz);
		if (err)
			return err;
		m->pos += (uint64_t)sz;  /* bounded: rec_size limits pos - pub */
	}
}

/*
 * The writers as the end of the stream sees them: 0 some live (or none
 * ever joined), 1 all closed, 2 none live and one at least dead.
 */
static int writers_state(struct mpsc *m)
{
	/* acquire: pairs with the joins increment (acq_rel) */
	if (load_acquire(&m->shm->joins) == 0)
		return 0;
	int dead = 0;
	for (unsigned i = 0; i < SHMKIT_CHAN_MPSC_WRITERS; i++) {
		/* MP11 */
		uint32_t tok = load_acquire(&m->tab[i].token);
		if (tok == 0)
			continue;
		if (tok == m->dead_tok[i]) {
			dead++;
			continue;
		}
		if (!shmkit__token_valid(tok))
			return -EBADMSG;
		if (shmkit__token_alive(&m->c.src, tok) != 0)
			return 0;
		m->dead_tok[i] = tok;
		dead++;
	}
	return dead ? 2 : 1;
}

/* The reader's re-check after W1: nothing to do while no writer left. */
struct idle_ctx { struct mpsc *m; uint32_t leaves; };

static bool no_leaves(void *ctx)
{
	struct idle_ctx *x = ctx;

	return load_relaxed(&x->m->shm->leaves) == x->leaves;
}

/* Waits for the next message; its length, 0 at the end, or an error. */
static long reader_next(struct mpsc *m, const void **p, uint64_t *size, int64_t timeout_ns)
{
	struct shmkit__wait ws;

	shmkit__wait_start(&m->c.w, &ws, timeout_ns);
	for (;;) {
		/* the futex value and the leave count, before the state they
		 * guard is looked at (W1, MP12, keeps them before it) */
		uint32_t rs = load_relaxed(&m->shm->rseq);
		uint32_t leaves = load_acquire(&m->shm->leaves);  /* pairs with close's RMW */
		/* a full step reads the clock and may ask about liveness; a
		 * spinning call first polls briefly without */
		bool full = ws.polled || ws.try_only || m->c.w.policy == SHMKIT_WAIT_SLEEP;
		m->ask_now = ws.try_only && m->c.w.fdw;
		int64_t now = full ? shmkit__mono_ns() : 0;
		uint64_t seen;
		long n = next_record(m, p, size, &seen, now);
		if (n)
			return n;
		/* padding and abandoned records passed, and no message held by
		 * a peek: their space goes back now, or a writer waiting for it
		 * and this reader waiting for that writer would wait for ever */
		if (m->pending == 0 && m->pos != m->pub)
			mpsc_release(&m->c);
		if (!full) {
			shmkit__wait_poll(&m->c.w, &ws, word_at(m, m->pos), seen);
			continue;
		}
		if (seen == empty_of(m, m->pos) &&
		    (ws.try_only || leaves != m->scan_leaves || now >= m->next_scan)) {
			int st = writers_state(m);
			m->scan_leaves = leaves;
			m->next_scan = now + SHMKIT_POLL_NS;
			if (st < 0)
				return st;
			if (st) {
				/* what the last writers committed before they left */
				n = next_record(m, p, size, &seen, 0);
				if (n)
					return n;
				/* SHMKIT_FOLLOW: the end (or the death) of the
				 * writers that joined so far once, then wait for a
				 * new one: a join moves joins and wakes us */
				uint64_t j = load_acquire(&m->shm->joins) + 1;  /* pairs with the join's RMW */
				if (seen == empty_of(m, m->pos) && (!m->c.follow || j != m->end_told)) {
					m->end_told = j;
					return st == 1 ? 0 : -EPIPE;
				}
			}
		}
		/* MP12: the reader sleeps on rseq with rwait its flag, the leave
		 * count re-checked too */
		struct idle_ctx x = { m, leaves };
		struct shmkit__sleep sl = {
			.watch = word_at(m, m->pos), .seen = seen,
			.prefetch = shmkit__ring_next_line(&m->c.ring, m->pos),
			.fval_from = SHMKIT_FVAL_GIVEN, .fval = rs, .idle = no_leaves, .ctx = &x,
		};
		int err = shmkit__wait_step(&m->c.w, &ws, &m->rpair, &sl);
		if (err)
			return err;
	}
}

static long mpsc_peek(shmkit_chan *c, const void **p, int64_t timeout_ns)
{
	struct mpsc *m = mpsc_of(c);
	uint64_t size;
	long n = reader_next(m, p, &size, timeout_ns);

	if (n > 0) {
		m->pos += size;
		m->pending++;
	}
	return n;
}

static long mpsc_recv(shmkit_chan *c, void *buf, size_t cap, int64_t timeout_ns)
{
	struct mpsc *m = mpsc_of(c);
	const void *p;
	uint64_t size;
	long n = reader_next(m, &p, &size, timeout_ns);

	if (n <= 0)
		return n;
	if ((size_t)n > cap)
		return -EMSGSIZE;  /* it stays: m->pos is not moved past it */
	memcpy(buf, p, (size_t)n);
	m->pos += size;
	m->pending++;
	mpsc_release(c);
	return n;
}

/* ---- opening and closing ---- */

/* The reader's start: head, after finishing a release its dead
 * predecessor began (rel > head: it died while marking). */
static int reader_start(struct mpsc *m)
{
	/* MP10: pairs with MP7 and MP8 (and the role CAS ordered them) */
	uint64_t rel = load_acquire(&m->shm->rel);
	uint64_t head = load_acquire(&m->shm->head);
	uint64_t tail = load_acquire(&m->shm->tail);

	if ((rel & 7) || !shmkit__ring_span_ok(&m->c.ring, head, tail))
		return -EBADMSG;
	if (rel != head) {
		if (rel < head || rel > tail)
			return -EBADMSG;
		mark_free(m, head, rel);
		/* MP8 */
		store_release(&m->shm->head, rel);
		head = rel;
	}
	m->pos = m->pub = head;
	return 0;
}

/*
 * A joining writer's floor: tail once no claim stands at it, so every
 * claim of an earlier occupant of our entry lies below (a claimer killed
 * before its tail CAS left tail at its record).
 */
static int join_floor(struct mpsc *m, uint64_t *out)
{
	uint64_t suspect = UINT64_MAX;  /* a tail whose word made no sense */

	for (;;) {
		uint64_t t;
		int err = load_positions(m, &t);
		if (err)
			return err;
		uint64_t w = load_acquire(word_at(m, t));  /* MP4w */
		if (w == empty_of(m, t) || t + 8 - m->head > m->c.ring.cap) {
			*out = t;  /* nothing claimed at t (or not yet released) */
			return 0;
		}
		int64_t sz = rec_size(m, w, t, m->head);
		if (sz < 0) {
			if (load_acquire(&m->shm->tail) != t)  /* MP3 */
				continue;
			/* a claim made against a newer head than ours (the
			 * reader released meanwhile): the head loaded after
			 * the claim was seen (MP4w) is at least its claimer's,
			 * so one fresh look tells that from corruption, as
			 * in reserve (found by the MPSC model) */
			if (t != suspect) {
				suspect = t;
				continue;
			}
			return -EBADMSG;
		}
		help_tail(m, t, (uint64_t)sz);  /* MP2 */
	}
}

/* Takes a writer entry: a free one, or a dead writer's. */
static int join(struct mpsc *m)
{
	uint32_t was;
	int i = shmkit__slot_join(&m->c, m->tab, sizeof(*m->tab), SHMKIT_CHAN_MPSC_WRITERS,
				  SHMKIT_BAD_SLOT_FAILS, &was);

	if (i < 0)
		return i;
	/* the join CAS (acq_rel) pairs with a closing writer's MP16 and the
	 * reader's MP11; the dead occupant's claims precede its death */
	struct shmkit_mpsc_writer *e = &m->tab[i];
	if (was != 0) {
		/* a dead occupant's count goes to the channel's */
		uint64_t sent = load_relaxed(&e->sent);
		store_relaxed(&e->sent, 0);
		atomic_fetch_add_explicit(&m->shm->sent_gone, sent, memory_order_relaxed);
	}
	m->me = e;
	m->idx = (unsigned)i;
	store_relaxed(&e->pid, (int32_t)m->c.r->owner);  /* informational */
	uint64_t floor;
	int err = join_floor(m, &floor);
	if (err) {
		store_release(&e->token, 0);
		return err;
	}
	/* MP9: the floor before any claim of ours; pairs with MP11 */
	store_release(&e->join, floor);
	store_relaxed(&e->pos, floor);
	/* acq_rel: pairs with the reader's acquire in writers_state */
	atomic_fetch_add_explicit(&m->shm->joins, 1, memory_order_acq_rel);
	return 0;
}

static void mpsc_set_wait(shmkit_chan *c)
{
	struct mpsc *m = mpsc_of(c);

	if (c->role == SHMKIT_CHAN_WRITER)
		shmkit__waiter_set(&c->w, c->w.policy, c->w.spin_ns, &m->shm->wfence,
				   (uint64_t)1 << m->idx);
	else
		shmkit__waiter_set(&c->w, c->w.policy, c->w.spin_ns, &m->shm->rfence, 1);
}

static int mpsc_open(shmkit_chan *c, const struct shmkit__chan_open *o)
{
	struct mpsc *m = mpsc_of(c);
	struct shmkit_mpsc_shm *s = c->r->data;
	int err;

	(void)o;
	m->shm = s;
	m->tab = (struct shmkit_mpsc_writer *)(void *)((unsigned char *)s + SHMKIT_MPSC_TABLE_OFF);
	/* the reader sleeps on rseq, which writers bump to wake it */
	m->rpair = (struct shmkit__pair){ .flag = &s->rwait, .futex = &s->rseq,
					  .kind = SHMKIT_FLAG_OWN, .bump = true, .nwake = 1,
					  .fencers = &s->rfence, .wake_id = &s->rwake };
	/* writers sleep on wwait, bit 0 their flag; the reader wakes them all */
	m->wpair = (struct shmkit__pair){ .flag = &s->wwait, .futex = &s->wwait,
					  .kind = SHMKIT_FLAG_BIT, .nwake = INT_MAX,
					  .fencers = &s->wfence, .wake_id = &m->tab[0].wake,
					  .id_stride = sizeof(*m->tab), .fdset = &s->wfds };
	if (c->role == SHMKIT_CHAN_WRITER) {
		err = join(m);
	} else {
		err = shmkit__role_claim(c, &s->reader);
		if (!err) {
			store_relaxed(&s->reader_pid, (int32_t)c->r->owner);  /* informational */
			err = reader_start(m);
		}
	}
	if (err)
		return err;
	mpsc_set_wait(c);
	/* the other side, waiting in an event loop, learns of the newcomer
	 * (and watches its death from then on) */
	shmkit__wake(&c->w, c->role == SHMKIT_CHAN_WRITER ? &m->rpair : &m->wpair);
	return 0;
}

static void mpsc_close(shmkit_chan *c)
{
	struct mpsc *m = mpsc_of(c);

	if (c->role != SHMKIT_CHAN_WRITER)
		return;  /* a reader's peeked messages stay for the next reader */
	mpsc_commit(c);
	shmkit__waiter_leave(&c->w);
	atomic_fetch_add_explicit(&m->shm->sent_gone, m->sent, memory_order_relaxed);
	store_relaxed(&m->me->sent, 0);
	/* MP16: the entry is free after our last commit; pairs with MP11 */
	store_release(&m->me->token, 0);
	/* seq_cst: the reader's next look at the table sees it (MP12/MP13) */
	atomic_fetch_add(&m->shm->leaves, 1);
	shmkit__wake(&c->w, &m->rpair);
}

static unsigned mpsc_watch(shmkit_chan *c, uint32_t *toks)
{
	struct mpsc *m = mpsc_of(c);

	if (c->role == SHMKIT_CHAN_WRITER) {
		toks[0] = load_relaxed(&m->shm->reader);
		return 1;
	}
	for (unsigned i = 0; i < SHMKIT_CHAN_MPSC_WRITERS; i++)
		toks[i] = load_relaxed(&m->tab[i].token);
	return SHMKIT_CHAN_MPSC_WRITERS;
}

static int32_t mpsc_peer_pid(shmkit_chan *c, int *alive)
{
	struct mpsc *m = mpsc_of(c);

	if (c->role == SHMKIT_CHAN_WRITER)
		return shmkit__role_pid(c, load_relaxed(&m->shm->reader), alive);
	return shmkit__slot_first(c, m->tab, sizeof(*m->tab), SHMKIT_CHAN_MPSC_WRITERS, alive);
}

static void mpsc_image(void *block, const struct shmkit_chan_opts *o, uint32_t policy,
		       uint32_t spin_ns)
{
	struct shmkit_mpsc_shm *s = block;

	memset(s, 0, sizeof(*s));
	shmkit__chan_line0(&s->l0, SHMKIT_CHAN_MPSC, o->capacity, SHMKIT_MPSC_RING_OFF,
			   policy, spin_ns);
	s->l0.slots = SHMKIT_CHAN_MPSC_WRITERS;
	s->l0.table_offset = SHMKIT_MPSC_TABLE_OFF;
}

static int mpsc_check(const struct shmkit_chan_line0 *l0, uint64_t *ring_off)
{
	*ring_off = SHMKIT_MPSC_RING_OFF;
	return l0->slots == SHMKIT_CHAN_MPSC_WRITERS && l0->table_offset == SHMKIT_MPSC_TABLE_OFF
		       ? 0 : -EBADMSG;
}

const struct shmkit__chan_ops shmkit__mpsc_ops = {
	.kind = SHMKIT_CHAN_MPSC,
	.handle_size = sizeof(struct mpsc),
	.min_cap = SHMKIT_CHAN_MIN_CAP,
	.image = mpsc_image,
	.check = mpsc_check,
	/* an MPSC ring starts as lap 0's EMPTY marks (layout_mpsc.h) */
	.fill_word = SHMKIT_MPSC_EMPTY(0),
	.open = mpsc_open,
	.close = mpsc_close,
	.reserve = mpsc_reserve,
	.commit = mpsc_commit,
	.peek = mpsc_peek,
	.release = mpsc_release,
	.recv = mpsc_recv,
	.peer_pid = mpsc_peer_pid,
	.set_wait = mpsc_set_wait,
	.watch = mpsc_watch,
};

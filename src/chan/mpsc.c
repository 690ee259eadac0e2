/* SPDX-License-Identifier: MIT */
/*
 * mpsc.c - the many-writer, one-reader channel (SHMKIT_CHAN_MPSC), behind
 * the same shmkit_chan_* calls as the SPSC channel; chan.c hands a handle
 * here when the control block says type 2.  Layout: layout_mpsc.h; the
 * protocol, in prose, with the bound on stalls: docs/architecture.md, "MPSC
 * channel".
 *
 * Overview.  tail is the next position to claim, head the end of what the
 * reader released.  Free ring words hold the EMPTY mark of the position
 * they take next (the creator marks lap 0; the reader marks lap + 1 over
 * everything it releases, M7, before it stores head, M8).  A writer at tail
 * t with room (t + size <= head + capacity, head loaded with acquire, M6)
 * claims t by CAS of the word at t from EMPTY(t) to CLAIMED {writer, lap,
 * len} (M1), then moves tail from t to t + size by CAS (M2); a failed tail
 * CAS means another writer helped.  A writer that finds a record already
 * claimed at tail helps: it moves tail past it (M2) and retries, so a writer
 * killed between its two CASes never stops the others.  The claimer writes
 * its payload, then stores COMMITTED with release (M5); the reader
 * load-acquires the header at its position (M4).
 *
 * A record that stays CLAIMED: the reader looks up the writer entry the
 * header names (M11).  Free, or taken by a writer that joined after the
 * record's position, or naming a dead attach (kernel-kept liveness, asked
 * once the reader has waited a brief poll there, then once per
 * SHMKIT_OWNER_POLL_MS): the record is abandoned.  The reader makes sure
 * tail is past it (CAS), skips it and counts it lost.
 *
 * Sleeping: the reader sleeps on rseq after storing rwait, a seq_cst fence
 * between (M12); a committing or closing writer fences (M13) and bumps rseq
 * and wakes only when rwait is set.  Writers short of room set bit 0 of
 * wwait, fence (M14), re-check head and sleep on wwait; the reader fences
 * after each release (M15) and, when the bit is set, adds 1 (clearing it
 * and moving the word) and wakes them all.
 * Every sleep ends within SHMKIT_OWNER_POLL_MS for the liveness checks.
 *
 * Everything read from the segment is checked before use: positions
 * 8-aligned and within a capacity of each other, headers tagged with their
 * position's lap, lengths within max_msg and the ring, padding only at a
 * lap's end; anything else is -EBADMSG.  Every loop advances a position
 * bounded by head + capacity, or waits against the caller's deadline.
 */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"  /* fences order atomics only: see chan.c */
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "futex.h"
#include "internal.h"
#include "chan/layout_mpsc.h"
#include "sync/layout_sync.h"

struct shmkit__mpsc {
	shmkit_region *r;
	struct shmkit_mpsc_shm *shm;
	struct shmkit_mpsc_writer *tab;
	unsigned char *ring;
	uint64_t cap, mask;
	unsigned shift;            /* log2(cap) */
	uint32_t max_msg;
	int role;
	unsigned policy;
	uint64_t spin_ns;
	struct shmkit__peer_src src;
	/* writer */
	struct shmkit_mpsc_writer *me;
	unsigned idx;
	uint64_t head;             /* head, last seen */
	uint64_t claim_pos;        /* the reservation not yet committed */
	uint64_t claim_hdr;        /* the COMMITTED word commit stores there */
	bool claimed;
	uint64_t sent;
	int64_t next_check;        /* when to ask again whether the reader lives */
	uint32_t dead_peer;
	/* reader */
	uint64_t pos;              /* end of the peeked (and skipped) records */
	uint64_t pub;              /* what was released: head */
	uint64_t pending, pending_lost;
	uint64_t judge_pos;        /* the CLAIMED record being waited on */
	int64_t next_judge;
	int64_t next_scan;         /* when to look at the writer table again */
	uint32_t scan_leaves;      /* leaves at the last look */
	uint32_t dead_tok[SHMKIT_MPSC_WRITERS];  /* tokens found dead */
};

static uint64_t align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

static _Atomic uint64_t *word_at(const struct shmkit__mpsc *m, uint64_t pos)
{
	return (_Atomic uint64_t *)(void *)(m->ring + (pos & m->mask));
}

static uint64_t lap(const struct shmkit__mpsc *m, uint64_t pos)
{
	return pos >> m->shift;
}

static uint64_t empty_of(const struct shmkit__mpsc *m, uint64_t pos)
{
	return SHMKIT_MPSC_EMPTY(lap(m, pos));
}

/*
 * The size of the record whose header @h lies at @pos: tagged with pos's
 * lap, within the ring and within a capacity of @base (<= pos: head), a
 * message of 1..max_msg bytes or padding that ends the lap.  -EBADMSG else.
 */
static int64_t rec_size(const struct shmkit__mpsc *m, uint64_t h, uint64_t pos, uint64_t base)
{
	unsigned st = SHMKIT_MPSC_STATE(h);
	uint32_t len = SHMKIT_MPSC_LEN(h);
	uint64_t off = pos & m->mask, size = 8 + align8(len);

	if (st == 0 || SHMKIT_MPSC_TAG(h) != (lap(m, pos) & SHMKIT_MPSC_TAG_MASK))
		return -EBADMSG;
	if (off + size > m->cap || pos + size - base > m->cap)
		return -EBADMSG;
	if (st == SHMKIT_MPSC_PAD)
		return off + size == m->cap ? (int64_t)size : -EBADMSG;
	if (len == 0 || len > m->max_msg)
		return -EBADMSG;
	return (int64_t)size;
}

/*
 * Loads head, then tail, and checks them: 8-aligned, head <= tail (the
 * reader passes a record only once tail is past it, and we load tail
 * second), tail <= head + capacity.  The last can fail for a moment when
 * the reader moves between the two loads: looked at again, a few times.
 */
static int load_positions(struct shmkit__mpsc *m, uint64_t *tail)
{
	for (int tries = 0; tries < 64; tries++) {
		/* M6: pairs with the reader's M8: the space below head +
		 * capacity was read, marked EMPTY and handed back */
		uint64_t h = load_acquire(&m->shm->head);
		/* M3: pairs with M2 */
		uint64_t t = load_acquire(&m->shm->tail);
		if ((h | t) & 7 || t < h)
			return -EBADMSG;
		if (t - h <= m->cap) {
			m->head = h;
			*tail = t;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Moves tail from @t to @t + @size unless someone did; M2: acq_rel CAS,
 * pairs with M3 (and with itself, between writers). */
static void help_tail(struct shmkit__mpsc *m, uint64_t t, uint64_t size)
{
	cas_acq_rel(&m->shm->tail, &t, t + size);
}

/* ---- waiting ---- */

/* Whether this wait step spins (0: it sleeps). */
static bool spinning(const struct shmkit__mpsc *m, int64_t now, int64_t *spin_until)
{
	if (m->policy == SHMKIT_WAIT_SPIN)
		return true;
	if (m->policy == SHMKIT_WAIT_SLEEP)
		return false;
	if (*spin_until < 0)
		*spin_until = now + (int64_t)m->spin_ns;
	return now < *spin_until;
}

/* -EPIPE if the reader's role names a dead attach (asked once per poll
 * period unless @force), -EBADMSG for a malformed token, else 0. */
static int reader_check(struct shmkit__mpsc *m, bool force)
{
	return shmkit__peer_gone(&m->src, load_relaxed(&m->shm->reader), force, &m->dead_peer,
				 &m->next_check);
}

/* A writer waits for head to move from @seen: 0 to look again, or
 * -ETIMEDOUT / -EINTR. */
static int writer_wait(struct shmkit__mpsc *m, uint64_t seen, int64_t deadline,
		       int64_t *spin_until)
{
	int64_t now = shmkit__mono_ns();
	int err = 0;

	if (deadline >= 0 && now >= deadline)
		return -ETIMEDOUT;
	if (spinning(m, now, spin_until)) {
		/* relaxed: the caller looks again with acquire */
		for (int i = 0; i < 64 && load_relaxed(&m->shm->head) == seen; i++)
			shmkit__cpu_relax();
		return 0;
	}
	/* the flag (bit 0), and the value to sleep on: any wake from here
	 * moves it, so a flag taken by the wake of a release this writer had
	 * already seen cannot leave it asleep through the next one */
	uint32_t fval = atomic_fetch_or_explicit(&m->shm->wwait, 1, memory_order_relaxed) | 1;
	/* M14: the flag before the re-check of head; pairs with M15 */
	atomic_thread_fence(memory_order_seq_cst);
	if (load_relaxed(&m->shm->head) == seen)
		err = shmkit__futex_wait(&m->shm->wwait, fval,
					 shmkit__deadline_min(deadline, now + SHMKIT_POLL_NS));
	/* the bit stays set: the reader clears it when it wakes us all */
	*spin_until = 0;
	return err == -EINTR ? err : 0;
}

/* After a commit or a close: wakes the reader if it may sleep. */
static void wake_reader(struct shmkit__mpsc *m)
{
	/* M13: the commit's header (or close's token and leaves) before the
	 * flag; pairs with M12 */
	atomic_thread_fence(memory_order_seq_cst);
	if (load_relaxed(&m->shm->rwait)) {
		fetch_add_relaxed(&m->shm->rseq, 1);
		shmkit__futex_wake(&m->shm->rseq, 1);
	}
}

/*
 * The reader waits for the word @watch to move from @seen (or leaves from
 * @leaves), sleeping on rseq while it holds @fval, read before the state
 * the caller looked at.  0 to look again, or -ETIMEDOUT / -EINTR.
 */
static int reader_wait(struct shmkit__mpsc *m, _Atomic uint64_t *watch, uint64_t seen,
		       uint32_t fval, uint32_t leaves, int64_t deadline, int64_t *spin_until)
{
	int64_t now = shmkit__mono_ns();
	int err = 0;

	if (deadline >= 0 && now >= deadline)
		return -ETIMEDOUT;
	if (spinning(m, now, spin_until)) {
		const void *next = m->ring + (((m->pos & m->mask) + 64) & m->mask & ~(uint64_t)63);
		/* relaxed: the caller looks again with acquire */
		for (int i = 0; i < 64 && load_relaxed(watch) == seen; i++) {
			__builtin_prefetch(next, 0, 3);
			shmkit__cpu_relax();
		}
		return 0;
	}
	store_relaxed(&m->shm->rwait, 1);
	/* M12: the flag before the re-check; pairs with M13 */
	atomic_thread_fence(memory_order_seq_cst);
	if (load_relaxed(watch) == seen && load_relaxed(&m->shm->leaves) == leaves)
		err = shmkit__futex_wait(&m->shm->rseq, fval,
					 shmkit__deadline_min(deadline, now + SHMKIT_POLL_NS));
	store_relaxed(&m->shm->rwait, 0);
	*spin_until = 0;
	return err == -EINTR ? err : 0;
}

/* ---- writer ---- */

int shmkit__mpsc_commit(struct shmkit__mpsc *m)
{
	if (m->role != SHMKIT_CHAN_WRITER)
		return -EPERM;
	if (!m->claimed)
		return 0;
	/* M5: the record's header after its payload; pairs with M4 */
	store_release(word_at(m, m->claim_pos), m->claim_hdr);
	m->claimed = false;
	/* statistics; this entry's occupant alone writes it */
	store_relaxed(&m->me->sent, ++m->sent);
	wake_reader(m);
	return 0;
}

int shmkit__mpsc_reserve(struct shmkit__mpsc *m, size_t len, void **p, int64_t timeout_ns)
{
	if (!p)
		return -EINVAL;
	if (m->role != SHMKIT_CHAN_WRITER)
		return -EPERM;
	if (len == 0 || len > m->max_msg)
		return -EMSGSIZE;
	shmkit__mpsc_commit(m);  /* one reservation at a time */

	uint64_t need = 8 + align8(len);
	int64_t deadline = shmkit__deadline(timeout_ns);
	int64_t spin_until = -1;
	bool polled = false;
	uint64_t suspect = UINT64_MAX;  /* a tail whose word made no sense */
	int err;

	for (;;) {
		uint64_t t;
		/* M3: pairs with M2 */
		t = load_acquire(&m->shm->tail);
		if ((t & 7) || t < m->head || t - m->head > m->cap) {
			err = load_positions(m, &t);
			if (err)
				return err;
		}
		uint64_t off = t & m->mask;
		bool pad = off + need > m->cap;
		uint64_t size = pad ? m->cap - off : need;

		if (t + size - m->head > m->cap) {
			/* short of room: a fresh head, then wait for the reader */
			err = load_positions(m, &t);
			if (err)
				return err;
			off = t & m->mask;
			pad = off + need > m->cap;
			size = pad ? m->cap - off : need;
			if (t + size - m->head > m->cap) {
				uint64_t seen = m->head;
				if (!polled && timeout_ns != 0 && m->policy != SHMKIT_WAIT_SLEEP) {
					polled = true;
					if (shmkit__poll_brief(&m->shm->head, seen))
						continue;
				}
				err = reader_check(m, timeout_ns == 0);
				if (err)
					return err;
				if (timeout_ns == 0)
					return -EAGAIN;
				err = writer_wait(m, seen, deadline, &spin_until);
				if (err)
					return err;
				continue;
			}
		}
		/* M4w: acquire; a mark seen here comes with the reader's view of
		 * tail (pairs with M7) */
		uint64_t w = load_acquire(word_at(m, t));
		if (w == empty_of(m, t)) {
			uint64_t hw = pad ? SHMKIT_MPSC_HDR(SHMKIT_MPSC_PAD, m->idx, lap(m, t), size - 8)
					  : SHMKIT_MPSC_HDR(SHMKIT_MPSC_CLAIMED, m->idx, lap(m, t), len);
			/* M1: the claim; acq_rel: the reader that acquires it (M4)
			 * sees this entry's token and join; only the frontier t
			 * holds EMPTY(t), so a stale t cannot win */
			if (!cas_acq_rel(word_at(m, t), &w, hw))
				continue;
			help_tail(m, t, size);  /* M2 */
			if (pad)
				continue;
			store_relaxed(&m->me->pos, t);  /* informational */
			m->claim_pos = t;
			m->claim_hdr = SHMKIT_MPSC_HDR(SHMKIT_MPSC_COMMITTED, m->idx, lap(m, t), len);
			m->claimed = true;
			*p = m->ring + off + 8;
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
		if (load_acquire(&m->shm->tail) == t)  /* M3 */
			return -EBADMSG;
	}
}

int shmkit__mpsc_send(struct shmkit__mpsc *m, const void *buf, size_t len, int64_t timeout_ns)
{
	void *p;

	if (!buf && len)
		return -EINVAL;
	int err = shmkit__mpsc_reserve(m, len, &p, timeout_ns);
	if (err)
		return err;
	memcpy(p, buf, len);
	return shmkit__mpsc_commit(m);
}

/* ---- reader ---- */

/* Marks [from, to) as free space of the next lap. */
static void mark_free(struct shmkit__mpsc *m, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t lap_end = (from | m->mask) + 1;
		uint64_t end = to < lap_end ? to : lap_end;
		uint64_t v = SHMKIT_MPSC_EMPTY(lap(m, from) + 1);
		_Atomic uint64_t *w = word_at(m, from);
		for (uint64_t n = (end - from) / 8; n; n--)
			store_relaxed(w++, v);  /* published by M7 (to writers) and M8 */
		from = end;
	}
}

int shmkit__mpsc_release(struct shmkit__mpsc *m)
{
	if (m->role != SHMKIT_CHAN_READER)
		return -EPERM;
	if (m->pos == m->pub)
		return 0;
	/* where this release ends, for a reader that takes over if we die
	 * while marking */
	store_relaxed(&m->shm->rel, m->pos);
	/* M7: our reads of the records and rel before the marks; pairs with a
	 * writer's acquire of a mark (M4w) and a new reader's of rel (M10) */
	fence_release();
	mark_free(m, m->pub, m->pos);
	/* M8: head after the marks; pairs with M6 */
	store_release(&m->shm->head, m->pos);
	m->pub = m->pos;
	/* M15: head before the flag; pairs with M14 */
	atomic_thread_fence(memory_order_seq_cst);
	if (load_relaxed(&m->shm->wwait) & 1) {
		/* +1 clears bit 0 and moves the writers' futex word; only the
		 * reader clears it */
		fetch_add_relaxed(&m->shm->wwait, 1);
		shmkit__futex_wake(&m->shm->wwait, INT_MAX);
	}
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
static int pass_tail(struct shmkit__mpsc *m, uint64_t pos, uint64_t size)
{
	uint64_t t = load_acquire(&m->shm->tail);  /* M3 */

	/* M2; on failure t is the tail a writer moved meanwhile */
	if (t == pos && cas_acq_rel(&m->shm->tail, &t, pos + size))
		return 0;
	/* a claim at pos was made with tail at pos, and tail then went past
	 * the record; it is never more than a capacity past what we released */
	if (t < pos + size || t - m->pub > m->cap)
		return -EBADMSG;
	return 0;
}

/*
 * Whether the CLAIMED record @h at @pos is abandoned: 1 yes, 0 not (or not
 * known yet), -EBADMSG.  Liveness is asked only when @ask.
 */
static int judge(struct shmkit__mpsc *m, uint64_t pos, uint64_t h, bool ask)
{
	struct shmkit_mpsc_writer *e = &m->tab[SHMKIT_MPSC_WRITER(h)];
	/* M11: pairs with the join CAS and M9 (join), and with close's M16 */
	uint32_t tok = load_acquire(&e->token);
	uint64_t join = load_acquire(&e->join);

	if (tok != 0 && join <= pos) {
		/* the entry's occupant may be the claimer */
		if (!shmkit__token_valid(tok))
			return -EBADMSG;
		if (!ask || shmkit__token_alive(&m->src, tok) != 0)
			return 0;
	}
	/* abandoned, unless it was committed meanwhile (a closing writer
	 * commits before it frees its entry) */
	return load_acquire(word_at(m, pos)) == h ? 1 : 0;  /* M4 */
}

/*
 * The next message at m->pos, passing padding and abandoned records: its
 * length (> 0) with *p and *size set, 0 if none is there (*seen: the word
 * found), or -EBADMSG.  @now (0: never) is when a claimer's liveness may be
 * asked: at once for a record newly waited on, then once per poll period.
 */
static long next_record(struct shmkit__mpsc *m, const void **p, uint64_t *size,
			uint64_t *seen, int64_t now)
{
	for (;;) {
		if (m->pos - m->pub >= m->cap) {
			/* a whole ring passed and not released (peeked messages):
			 * the word here is one of ours, nothing new can come */
			*seen = load_relaxed(word_at(m, m->pos));
			return 0;
		}
		/* M4: pairs with M5 (and M1, for a claim); one load, then checked */
		uint64_t h = load_acquire(word_at(m, m->pos));
		*seen = h;
		if (h == empty_of(m, m->pos))
			return 0;
		int64_t sz = rec_size(m, h, m->pos, m->pub);
		if (sz < 0)
			return (long)sz;
		unsigned st = SHMKIT_MPSC_STATE(h);
		if (st == SHMKIT_MPSC_COMMITTED) {
			*p = m->ring + (m->pos & m->mask) + 8;
			*size = (uint64_t)sz;
			return (long)SHMKIT_MPSC_LEN(h);
		}
		if (st == SHMKIT_MPSC_CLAIMED) {
			if (m->judge_pos != m->pos) {
				m->judge_pos = m->pos;
				m->next_judge = 0;  /* new here: ask at the first wait */
			}
			bool ask = now && now >= m->next_judge;
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
static int writers_state(struct shmkit__mpsc *m)
{
	/* acquire: pairs with the joins increment (acq_rel) */
	if (load_acquire(&m->shm->joins) == 0)
		return 0;
	int dead = 0;
	for (unsigned i = 0; i < SHMKIT_MPSC_WRITERS; i++) {
		/* M11 */
		uint32_t tok = load_acquire(&m->tab[i].token);
		if (tok == 0)
			continue;
		if (tok == m->dead_tok[i]) {
			dead++;
			continue;
		}
		if (!shmkit__token_valid(tok))
			return -EBADMSG;
		if (shmkit__token_alive(&m->src, tok) != 0)
			return 0;
		m->dead_tok[i] = tok;
		dead++;
	}
	return dead ? 2 : 1;
}

/* Waits for the next message; its length, 0 at the end, or an error. */
static long reader_next(struct shmkit__mpsc *m, const void **p, uint64_t *size,
			int64_t timeout_ns)
{
	int64_t deadline = shmkit__deadline(timeout_ns);
	int64_t spin_until = -1;
	bool first = true;

	if (!p)
		return -EINVAL;
	if (m->role != SHMKIT_CHAN_READER)
		return -EPERM;
	for (;;) {
		/* the futex value and the leave count, before the state they
		 * guard is looked at (the fence M12 keeps them before it) */
		uint32_t rs = load_relaxed(&m->shm->rseq);
		uint32_t leaves = load_acquire(&m->shm->leaves);  /* pairs with close's RMW */
		/* a full step reads the clock and may ask about liveness; a
		 * spinning call first polls briefly without */
		bool full = !first || timeout_ns == 0 || m->policy == SHMKIT_WAIT_SLEEP;
		int64_t now = full ? shmkit__mono_ns() : 0;
		uint64_t seen;
		long n = next_record(m, p, size, &seen, now);
		if (n)
			return n;
		/* padding and abandoned records passed, and no message held by
		 * a peek: their space goes back now, or a writer waiting for it
		 * and this reader waiting for that writer would wait for ever */
		if (m->pending == 0 && m->pos != m->pub) {
			int err = shmkit__mpsc_release(m);
			if (err)
				return err;
		}
		if (!full) {
			first = false;
			shmkit__poll_brief(word_at(m, m->pos), seen);
			continue;
		}
		if (seen == empty_of(m, m->pos) &&
		    (timeout_ns == 0 || leaves != m->scan_leaves || now >= m->next_scan)) {
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
				if (seen == empty_of(m, m->pos))
					return st == 1 ? 0 : -EPIPE;
			}
		}
		if (timeout_ns == 0)
			return -EAGAIN;
		int err = reader_wait(m, word_at(m, m->pos), seen, rs, leaves, deadline,
				      &spin_until);
		if (err)
			return err;
	}
}

long shmkit__mpsc_peek(struct shmkit__mpsc *m, const void **p, int64_t timeout_ns)
{
	uint64_t size;
	long n = reader_next(m, p, &size, timeout_ns);

	if (n > 0) {
		m->pos += size;
		m->pending++;
	}
	return n;
}

long shmkit__mpsc_recv(struct shmkit__mpsc *m, void *buf, size_t cap, int64_t timeout_ns)
{
	const void *p;
	uint64_t size;

	if (!buf && cap)
		return -EINVAL;
	long n = reader_next(m, &p, &size, timeout_ns);
	if (n <= 0)
		return n;
	if ((size_t)n > cap)
		return -EMSGSIZE;  /* it stays: m->pos is not moved past it */
	memcpy(buf, p, (size_t)n);
	m->pos += size;
	m->pending++;
	int err = shmkit__mpsc_release(m);
	return err ? err : n;
}

/* ---- opening and closing ---- */

void shmkit__mpsc_image(void *block, uint64_t capacity, uint32_t policy, uint32_t spin_ns)
{
	struct shmkit_mpsc_shm *s = block;

	memset(s, 0, sizeof(*s));
	s->magic = SHMKIT_CHAN_MAGIC;
	s->version = SHMKIT_CHAN_VERSION;
	s->type = SHMKIT_CHAN_TYPE_MPSC;
	s->capacity = capacity;
	s->max_msg = (uint32_t)(capacity / 4);
	s->ring_offset = SHMKIT_MPSC_RING_OFF;
	s->policy = policy;
	s->spin_ns = spin_ns;
	s->writers_max = SHMKIT_MPSC_WRITERS;
	s->table_offset = SHMKIT_MPSC_TABLE_OFF;
}

int shmkit__mpsc_check(const void *block)
{
	const struct shmkit_mpsc_shm *s = block;

	return s->ring_offset == SHMKIT_MPSC_RING_OFF && s->writers_max == SHMKIT_MPSC_WRITERS &&
	       s->table_offset == SHMKIT_MPSC_TABLE_OFF ? 0 : -EBADMSG;
}

/* Takes the reader's role: from nobody, or from a dead attach. */
static int claim_reader(struct shmkit__mpsc *m)
{
	uint32_t tok = m->r->token;

	/* a dead holder's slot can look alive for a moment while a new attach
	 * takes it (see chan.c claim_role): asked a few times, 1 ms apart */
	for (int tries = 0, busy = 0; tries < 32; tries++) {
		uint32_t cur = load_relaxed(&m->shm->reader);
		if (cur != 0 && cur != tok) {
			if (!shmkit__token_valid(cur))
				return -EBADMSG;
			if (shmkit__token_alive(&m->src, cur) != 0) {
				if (++busy >= 10)
					return -EBUSY;
				struct timespec ms = { 0, 1000000 };
				nanosleep(&ms, NULL);
				continue;
			}
		}
		/* acq_rel: the winner sees what the dead holder published */
		if (cas_acq_rel(&m->shm->reader, &cur, tok))
			return 0;
	}
	return -EBUSY;
}

/* The reader's start: head, after finishing a release its dead
 * predecessor began (rel > head: it died while marking). */
static int reader_start(struct shmkit__mpsc *m)
{
	/* M10: pairs with M7 and M8 (and the role CAS ordered them) */
	uint64_t rel = load_acquire(&m->shm->rel);
	uint64_t head = load_acquire(&m->shm->head);
	uint64_t tail = load_acquire(&m->shm->tail);

	if ((head | rel | tail) & 7 || tail < head || tail - head > m->cap)
		return -EBADMSG;
	if (rel != head) {
		if (rel < head || rel > tail)
			return -EBADMSG;
		mark_free(m, head, rel);
		/* M8 */
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
static int join_floor(struct shmkit__mpsc *m, uint64_t *out)
{
	uint64_t suspect = UINT64_MAX;  /* a tail whose word made no sense */

	for (;;) {
		uint64_t t;
		int err = load_positions(m, &t);
		if (err)
			return err;
		uint64_t w = load_acquire(word_at(m, t));  /* M4w */
		if (w == empty_of(m, t) || t + 8 - m->head > m->cap) {
			*out = t;  /* nothing claimed at t (or not yet released) */
			return 0;
		}
		int64_t sz = rec_size(m, w, t, m->head);
		if (sz < 0) {
			if (load_acquire(&m->shm->tail) != t)  /* M3 */
				continue;
			/* a claim made against a newer head than ours (the
			 * reader released meanwhile): the head loaded after
			 * the claim was seen (M4w) is at least its claimer's,
			 * so one fresh look tells that from corruption, as
			 * in reserve (found by the MPSC model) */
			if (t != suspect) {
				suspect = t;
				continue;
			}
			return -EBADMSG;
		}
		help_tail(m, t, (uint64_t)sz);  /* M2 */
	}
}

/* Takes a writer entry: a free one, or a dead writer's. */
static int join(struct shmkit__mpsc *m)
{
	uint32_t tok = m->r->token;

	for (unsigned i = 0; i < SHMKIT_MPSC_WRITERS; i++) {
		struct shmkit_mpsc_writer *e = &m->tab[i];
		uint32_t cur = load_acquire(&e->token);
		if (cur != 0) {
			if (!shmkit__token_valid(cur))
				return -EBADMSG;
			if (shmkit__token_alive(&m->src, cur) != 0)
				continue;
		}
		/* acq_rel: pairs with a closing writer's M16 and the reader's
		 * M11; the dead occupant's claims precede its death, which
		 * the liveness check (a system call) observed */
		if (!cas_acq_rel(&e->token, &cur, tok))
			continue;
		if (cur != 0) {
			/* a dead occupant's count goes to the channel's */
			uint64_t s = load_relaxed(&e->sent);
			store_relaxed(&e->sent, 0);
			atomic_fetch_add_explicit(&m->shm->sent_gone, s, memory_order_relaxed);
		}
		m->me = e;
		m->idx = i;
		store_relaxed(&e->pid, (int32_t)m->r->owner);  /* informational */
		uint64_t floor;
		int err = join_floor(m, &floor);
		if (err) {
			store_release(&e->token, 0);
			return err;
		}
		/* M9: the floor before any claim of ours; pairs with M11 */
		store_release(&e->join, floor);
		store_relaxed(&e->pos, floor);
		/* acq_rel: pairs with the reader's acquire in writers_state */
		atomic_fetch_add_explicit(&m->shm->joins, 1, memory_order_acq_rel);
		return 0;
	}
	return -EUSERS;
}

int shmkit__mpsc_open(shmkit_region *r, uint64_t cap, int role,
		      const struct shmkit__peer_src *src, unsigned policy, uint64_t spin_ns,
		      struct shmkit__mpsc **out)
{
	struct shmkit_mpsc_shm *s = r->data;
	struct shmkit__mpsc *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	m->r = r;
	m->shm = s;
	m->tab = (struct shmkit_mpsc_writer *)(void *)((unsigned char *)r->data +
						       SHMKIT_MPSC_TABLE_OFF);
	m->ring = (unsigned char *)r->data + SHMKIT_MPSC_RING_OFF;
	m->cap = cap;  /* from the caller's validated private copy */
	m->mask = m->cap - 1;
	m->shift = (unsigned)__builtin_ctzll(m->cap);
	m->max_msg = (uint32_t)(m->cap / 4);
	m->role = role;
	m->src = *src;
	m->policy = policy;
	m->spin_ns = spin_ns;
	if (role == SHMKIT_CHAN_WRITER) {
		err = join(m);
	} else {
		err = claim_reader(m);
		if (!err) {
			store_relaxed(&s->reader_pid, (int32_t)r->owner);  /* informational */
			err = reader_start(m);
		}
	}
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

void shmkit__mpsc_set_wait(struct shmkit__mpsc *m, unsigned policy, uint64_t spin_ns)
{
	m->policy = policy;
	m->spin_ns = spin_ns;
}

void shmkit__mpsc_close(struct shmkit__mpsc *m)
{
	if (m->role == SHMKIT_CHAN_WRITER) {
		shmkit__mpsc_commit(m);
		atomic_fetch_add_explicit(&m->shm->sent_gone, m->sent, memory_order_relaxed);
		store_relaxed(&m->me->sent, 0);
		/* M16: the entry is free after our last commit; pairs with M11 */
		store_release(&m->me->token, 0);
		/* seq_cst: the reader's next look at the table sees it (M12/M13) */
		atomic_fetch_add(&m->shm->leaves, 1);
		wake_reader(m);
	}
	/* a reader's peeked but unreleased messages stay for the next reader */
	free(m);
}

int32_t shmkit__mpsc_peer_pid(struct shmkit__mpsc *m, int *alive)
{
	if (m->role == SHMKIT_CHAN_WRITER) {
		uint32_t tok = load_relaxed(&m->shm->reader);
		if (!tok || !shmkit__token_valid(tok))
			return 0;
		if (alive)
			*alive = shmkit__token_alive(&m->src, tok);
		return shmkit__token_pid(m->r->hdr, tok);
	}
	for (unsigned i = 0; i < SHMKIT_MPSC_WRITERS; i++) {
		uint32_t tok = load_relaxed(&m->tab[i].token);
		if (!tok || !shmkit__token_valid(tok))
			continue;
		if (alive)
			*alive = shmkit__token_alive(&m->src, tok);
		return load_relaxed(&m->tab[i].pid);
	}
	return 0;
}

/* ---- stat, from a copy of the control block and the writer table ---- */

int shmkit__mpsc_describe(const struct shmkit__peer_src *src, const void *data,
			  uint64_t data_size, struct shmkit_chan_info *out)
{
	struct shmkit_mpsc_shm *s = (struct shmkit_mpsc_shm *)data;
	struct shmkit_mpsc_writer *tab =
		(struct shmkit_mpsc_writer *)(void *)((unsigned char *)data + SHMKIT_MPSC_TABLE_OFF);

	if (data_size < SHMKIT_MPSC_RING_OFF || shmkit__mpsc_check(data))
		return -EBADMSG;
	/* a copy, read while the channel runs (tail before head): relaxed
	 * loads are plain reads here, and the two need not agree */
	uint64_t tail = load_relaxed(&s->tail), head = load_relaxed(&s->head);
	if ((tail | head) & 7)
		return -EBADMSG;
	out->kind = SHMKIT_CHAN_MPSC;
	out->capacity = s->capacity;
	out->max_msg = s->max_msg;
	out->used = tail <= head ? 0 : tail - head > s->capacity ? s->capacity : tail - head;
	out->sent = load_relaxed(&s->sent_gone);
	out->received = load_relaxed(&s->received);
	out->lost = load_relaxed(&s->lost);
	for (unsigned i = 0; i < SHMKIT_MPSC_WRITERS; i++) {
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
	uint32_t rt = load_relaxed(&s->reader);
	if (rt && shmkit__token_valid(rt)) {
		out->reader_pid = load_relaxed(&s->reader_pid);
		out->reader_alive = shmkit__token_alive(src, rt);
	}
	return 0;
}

/* The held writer entries, from the same copy (validated by
 * shmkit__chan_describe first); see shmkit_chan_writers(). */
int shmkit__mpsc_writers(const struct shmkit__peer_src *src, const void *data,
			 uint64_t data_size, struct shmkit_chan_writer *out, size_t cap)
{
	struct shmkit_mpsc_shm *s = (struct shmkit_mpsc_shm *)data;
	struct shmkit_mpsc_writer *tab =
		(struct shmkit_mpsc_writer *)(void *)((unsigned char *)data + SHMKIT_MPSC_TABLE_OFF);
	int n = 0;

	if (data_size < SHMKIT_MPSC_RING_OFF || shmkit__mpsc_check(data))
		return -EBADMSG;
	uint64_t head = load_relaxed(&s->head), capacity = s->capacity;
	if (head & 7)
		return -EBADMSG;
	for (unsigned i = 0; i < SHMKIT_MPSC_WRITERS; i++) {
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

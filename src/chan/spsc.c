/* SPDX-License-Identifier: MIT */
/*
 * spsc.c - the single-producer single-consumer channel (SHMKIT_CHAN_SPSC).
 * Layout: layout_chan.h; the protocol in prose: docs/architecture.md.
 *
 * Invariants.  Each record's 8-byte header, read and written as one 64-bit
 * word, is its commit mark: 0 means "nothing here yet".  The writer keeps
 * the 8 bytes at its frontier (the first position it has not published)
 * zero (I1): it zeroes the word just past every record it reserves, before
 * that record is published.
 *
 * Publication.  A batch (every reservation since the last commit) is
 * written with plain stores except its first header, which commit stores
 * last, with release (SP1); the reader load-acquires the header at its
 * position (SP2), so it sees a whole batch or nothing, and it never reads
 * tail while streaming.  commit then stores tail with release (SP9): a
 * sleeping reader's futex word, stat's figure, and where a new writer
 * starts looking for the frontier.  The reader hands records back by
 * storing head with release (SP3); the writer loads head with acquire
 * (SP4) before it reuses the space.
 *
 * Sleeping.  Through the channels' waiter (wait.h): the reader sleeps on
 * tail's low half with rwait as its flag, the writer on head's with wwait;
 * W1/W2 order each flag against the other side's publication.  The value
 * a sleeper compares is read before its flag (SP10).
 *
 * End of stream.  close publishes an END record at the frontier as a
 * commit publishes a batch (SP1), when there is room, so a reader meets
 * each session's end in order however soon the next writer reopens;
 * without room the next writer owes it (owed_at) and writes it first.  closed
 * is stored with release after that (SP7) and loaded with acquire before
 * the header is looked at again (SP8); then tail (SP12), whose bit 0 marks
 * the end too, so a sleeping reader's futex word moves, and whose position
 * is the end's.  The reader tells an end once, by that position
 * (end_told, kept in the segment for the next reader too), whether it met
 * the record or the flag first.  A new writer finds the frontier from
 * tail (SP11).
 *
 * Everything read from the segment is checked before use: a header must
 * name a known kind and length and lie within the ring and within one
 * capacity (less the frontier's 8 bytes) of what the reader released;
 * positions must stay within one capacity of each other and be 8-aligned;
 * anything else is -EBADMSG.
 */
#include <string.h>

#include "atomic.h"
#include "chan/chan.h"

struct spsc {
	struct shmkit_chan c;
	struct shmkit_chan_shm *shm;
	uint64_t pos;          /* writer: end of reservations; reader: of peeks */
	uint64_t pub;          /* the position last published */
	uint64_t other;        /* writer: the reader's head, last seen */
	uint64_t first;        /* writer: the header commit stores at pub */
	uint64_t pending;      /* messages reserved or peeked, not published */
	uint64_t end_told;     /* reader: position | 1 of the last end it returned */
	uint64_t end_kept;     /* reader: the end_told last stored in the segment */
	bool owe_end;          /* writer: the last session's END goes first */
	uint32_t death_told;   /* and the dead writer's token when it returned -EPIPE */
	struct shmkit__pair sleeps, wakes;  /* this side's sleeps; the other's */
};

static struct spsc *spsc_of(shmkit_chan *c)
{
	return (struct spsc *)c;
}

/*
 * Checks the header @h of the record at @pos against @base, the reader's
 * released end: the frontier's zero word needs 8 bytes of the window.
 * Returns the record's size, or -EBADMSG; *pad tells a padding.
 */
static int64_t rec_check(const struct spsc *s, uint64_t h, uint64_t pos, uint64_t base, bool *pad)
{
	uint32_t kind = (uint32_t)(h >> 32);

	*pad = kind == SHMKIT_REC_PAD;
	if (kind == SHMKIT_REC_END)  /* a lone header; the frontier's word after it */
		return (uint32_t)h == 0 && pos + 2 * SHMKIT_REC_HDR <= base + s->c.ring.cap
			       ? (int64_t)SHMKIT_REC_HDR : -EBADMSG;
	if (!*pad && kind != SHMKIT_REC_DATA)
		return -EBADMSG;
	return shmkit__ring_span(&s->c.ring, pos, SHMKIT_REC_HDR, (uint32_t)h, *pad,
				 base + s->c.ring.cap - SHMKIT_REC_HDR);
}

/* What next_record returns at an END record not told yet. */
#define SPSC_END (-4097L)  /* below every -errno */

/* The other side's role token: -EPIPE once it died (see role.c). */
static int peer_check(struct spsc *s, bool force)
{
	_Atomic uint32_t *role = s->c.role == SHMKIT_CHAN_WRITER ? &s->shm->reader
								 : &s->shm->writer;

	return shmkit__peer_check(&s->c, load_relaxed(role), force);
}

/* Adds this side's published messages to its counter: statistics, after
 * the fact (a kill in between leaves them short); each side alone writes
 * its counter: a plain store, no locked instruction. */
static void count_published(struct spsc *s, _Atomic uint64_t *count)
{
	store_relaxed(count, load_relaxed(count) + s->pending);
	s->pending = 0;
}

/* ---- writer ---- */

/* Loads and checks head; 0 or -EBADMSG. */
static int load_head(struct spsc *s)
{
	/* SP4: pairs with SP3 */
	uint64_t h = load_acquire(&s->shm->head);

	if (h > s->pub || s->pub - h > s->c.ring.cap - SHMKIT_REC_HDR || (h & 7))
		return -EBADMSG;
	s->other = h;
	return 0;
}

static int spsc_commit(shmkit_chan *c)
{
	struct spsc *s = spsc_of(c);

	if (s->pos == s->pub)
		return 0;
	/* SP1: the batch's first header, after every other byte of the batch
	 * (payloads, later headers, the zero word at its end); pairs with SP2 */
	store_release(shmkit__ring_word(&c->ring, s->pub), s->first);
	s->pub = s->pos;
	/* SP9: tail after that header; pairs with SP10 and a new writer's SP11 */
	store_release(&s->shm->tail, s->pos);
	shmkit__wake(&c->w, &s->wakes);
	count_published(s, &s->shm->sent);
	return 0;
}

/* Writes the header @h of the record at @pos: the batch's first is kept for
 * commit (its word stays 0, I1), the others are stored now. */
static void put_hdr(struct spsc *s, uint64_t pos, uint64_t h)
{
	if (pos == s->pub)
		s->first = h;
	else
		store_relaxed(shmkit__ring_word(&s->c.ring, pos), h);  /* published by SP1 */
}

static int spsc_reserve(shmkit_chan *c, size_t len, void **p, int64_t timeout_ns)
{
	struct spsc *s = spsc_of(c);
	const struct shmkit__ring *g = &c->ring;
	uint64_t need = SHMKIT_REC_HDR + shmkit__align8(len);
	/* the END the last session owes, first */
	uint64_t lead = s->owe_end ? SHMKIT_REC_HDR : 0;
	uint64_t off = (s->pos + lead) & g->mask;
	uint64_t pad = g->cap - off < need ? g->cap - off : 0;
	/* the record, its padding and the zero word after it (I1) */
	uint64_t room = lead + pad + need + SHMKIT_REC_HDR;
	struct shmkit__wait ws;

	shmkit__wait_start(&c->w, &ws, timeout_ns);
	while (s->pos + room - s->other > g->cap) {
		int err = load_head(s);
		if (err)
			return err;
		if (s->pos + room - s->other <= g->cap)
			break;
		/* the reader may be waiting for what we reserved: show it */
		spsc_commit(c);
		if (shmkit__wait_poll(&c->w, &ws, &s->shm->head, s->other))
			continue;
		err = peer_check(s, ws.try_only);
		if (err)
			return err;
		/* SP10: the writer sleeps on head itself, the value it saw */
		struct shmkit__sleep sl = { .watch = &s->shm->head, .seen = s->other,
					    .fval_from = SHMKIT_FVAL_GIVEN,
					    .fval = (uint32_t)s->other };
		err = shmkit__wait_step(&c->w, &ws, &s->sleeps, &sl);
		if (err)
			return err;
	}
	uint64_t at = s->pos;
	if (lead) {
		put_hdr(s, at, SHMKIT_REC_WORD(0, SHMKIT_REC_END));
		at += lead;
		s->owe_end = false;
	}
	if (pad) {
		put_hdr(s, at, SHMKIT_REC_WORD(pad - SHMKIT_REC_HDR, SHMKIT_REC_PAD));
		at += pad;
	}
	put_hdr(s, at, SHMKIT_REC_WORD(len, SHMKIT_REC_DATA));
	/* I1: the new frontier's word is 0 before this record is published
	 * (the space was released: SP4 saw it) */
	store_relaxed(shmkit__ring_word(g, at + need), 0);
	*p = shmkit__ring_at(g, at) + SHMKIT_REC_HDR;
	s->pos = at + need;
	s->pending++;
	return 0;
}

/* ---- reader ---- */

/* Keeps this reader's last told end in the segment for a reader after
 * it, once everything before it is released (a reader that takes over
 * re-reads what this one peeked and did not release, and must meet that
 * end again).  Relaxed: a stale value there tells that reader an old end
 * once more, at a position it never meets again. */
static void keep_end(struct spsc *s)
{
	if (s->end_kept != s->end_told && s->pos == s->pub) {
		s->end_kept = s->end_told;
		store_relaxed(&s->shm->end_told, s->end_told);
	}
}

/* Notes the end at @end_odd (a position | 1) as told. */
static void told_end(struct spsc *s, uint64_t end_odd)
{
	s->end_told = end_odd;
	keep_end(s);
}

/*
 * The next message at s->pos, skipping padding: its length (> 0) with *p
 * and *need set, 0 if none is published, or -EBADMSG.
 */
static long next_record(struct spsc *s, const void **p, uint64_t *need)
{
	for (;;) {
		/* SP2: pairs with SP1; one load, then checked */
		uint64_t h = load_acquire(shmkit__ring_word(&s->c.ring, s->pos));
		bool pad;
		if (h == 0)
			return 0;
		int64_t size = rec_check(s, h, s->pos, s->pub, &pad);
		if (size < 0)
			return (long)size;
		if ((uint32_t)(h >> 32) == SHMKIT_REC_END) {
			uint64_t at = s->pos;
			s->pos += SHMKIT_REC_HDR;
			if ((at | 1) == s->end_told)
				continue;  /* told from the flag before it was written */
			told_end(s, at | 1);
			return SPSC_END;
		}
		if (pad) {
			s->pos += (uint64_t)size;  /* bounded: rec_check limits pos - pub */
			continue;
		}
		*p = shmkit__ring_at(&s->c.ring, s->pos) + SHMKIT_REC_HDR;
		*need = (uint64_t)size;
		return (long)(uint32_t)h;
	}
}

/* The reader's re-check after W1: nothing to do while the stream is open,
 * or (SHMKIT_FOLLOW) while the end it told is still the end. */
static bool still_open(void *ctx)
{
	struct spsc *s = ctx;

	if (!load_relaxed(&s->shm->closed))
		return true;
	uint64_t t = load_relaxed(&s->shm->tail);
	/* an even tail: a close half done (its tail store moves the futex
	 * word), or a writer killed in it (the poll period ends the sleep) */
	return !(t & 1) || (s->c.follow && t == s->end_told);
}

/* What end_of_stream finds. */
enum { END_TELL, END_TOLD, END_NOT };

/* After closed was seen set and nothing at the reader's position:
 * END_NOT not an end here (tail even: a close half done, a writer killed
 * in it, or a new writer; or odd, the end of a newer session whose
 * records SP12 made visible at our position), END_TELL an end to tell
 * now (without SHMKIT_FOLLOW every time), END_TOLD told already: wait for
 * the next writer; -EBADMSG an end elsewhere with nothing here. */
static int end_of_stream(struct spsc *s)
{
	/* SP12: tail after closed; pairs with SP9 (close's odd tail) */
	uint64_t t = load_acquire(&s->shm->tail);

	if (!(t & 1))
		return END_NOT;
	if (t != s->end_told && (t & ~(uint64_t)1) != s->pos) {
		/* a later writer opened, wrote and closed since our look at
		 * closed: its records, published before that tail, are here */
		return load_relaxed(shmkit__ring_word(&s->c.ring, s->pos)) ? END_NOT : -EBADMSG;
	}
	if (!s->c.follow || t != s->end_told) {
		told_end(s, t);
		return END_TELL;
	}
	return END_TOLD;
}

/* Waits for the next message; its length, 0 at the end, SPSC_END at an
 * END record, or an error. */
static long reader_look(struct spsc *s, const void **p, uint64_t *need, int64_t timeout_ns)
{
	struct shmkit__wait ws;

	shmkit__wait_start(&s->c.w, &ws, timeout_ns);
	for (bool looked = false;; looked = true) {
		long n = next_record(s, p, need);
		int err;
		if (n)
			return n;
		_Atomic uint64_t *at = shmkit__ring_word(&s->c.ring, s->pos);
		if (!looked && shmkit__wait_poll(&s->c.w, &ws, at, 0))
			continue;
		/* a call that will spin first spins once before it looks at
		 * closed and the writer's token: they lie on the writer's line,
		 * which the writer stores at every commit */
		if (looked || ws.try_only || s->c.w.policy == SHMKIT_WAIT_SLEEP) {
			/* SP8: closed after the last commit; pairs with SP7 */
			bool told = false;
			if (load_acquire(&s->shm->closed)) {
				n = next_record(s, p, need);
				int e = n ? END_TELL : end_of_stream(s);
				if (n || e == END_TELL)
					return n;  /* a message, or 0: the end */
				if (e < 0)
					return e;
				told = e == END_TOLD;
			}
			/* a writer that closed is not a dead one */
			err = told ? 0 : peer_check(s, ws.try_only);
			if (err == -EPIPE) {
				/* what the writer committed before it died first */
				n = next_record(s, p, need);
				if (n)
					return n;
				/* SP8 again: a writer that closed and exited after
				 * our load of closed above ended its stream */
				if (load_acquire(&s->shm->closed)) {
					n = next_record(s, p, need);
					int e = n ? END_TELL : end_of_stream(s);
					if (n || e == END_TELL)
						return n;
					if (e < 0)
						return e;
					if (e == END_TOLD)
						continue;  /* told: wait for the next writer */
					/* killed in its close: a death */
				}
				/* SHMKIT_FOLLOW: each death once, then the next writer */
				/* the token judged dead, not one that came since */
				uint32_t tok = s->c.dead_peer;
				if (!s->c.follow || tok != s->death_told) {
					s->death_told = tok;
					return -EPIPE;
				}
				err = 0;
			}
			if (err)
				return err;
		}
		/* SP10: the reader sleeps on tail's low half, loaded before its
		 * flag; pairs with SP9 */
		struct shmkit__sleep sl = {
			.watch = at, .seen = 0, .prefetch = shmkit__ring_next_line(&s->c.ring, s->pos),
			.fval_from = SHMKIT_FVAL_POS, .pos = &s->shm->tail,
			.idle = still_open, .ctx = s,
		};
		err = shmkit__wait_step(&s->c.w, &ws, &s->sleeps, &sl);
		if (err)
			return err;
	}
}

static int spsc_release(shmkit_chan *c);

/* Waits for the next message; its length, 0 at the end, or an error. */
static long reader_next(struct spsc *s, const void **p, uint64_t *need, int64_t timeout_ns)
{
	long n = reader_look(s, p, need, timeout_ns);

	if (n != SPSC_END)
		return n;
	/* the END's 8 bytes go back with what was peeked before it */
	if (s->pending == 0)
		spsc_release(&s->c);
	return 0;
}

static long spsc_peek(shmkit_chan *c, const void **p, int64_t timeout_ns)
{
	struct spsc *s = spsc_of(c);
	uint64_t need;
	long n = reader_next(s, p, &need, timeout_ns);

	if (n > 0) {
		s->pos += need;
		s->pending++;
	}
	return n;
}

static int spsc_release(shmkit_chan *c)
{
	struct spsc *s = spsc_of(c);

	if (s->pos == s->pub)
		return 0;
	s->pub = s->pos;
	/* SP3: head after the last read of the records; pairs with SP4 */
	store_release(&s->shm->head, s->pos);
	keep_end(s);  /* an end told among what was released */
	shmkit__wake(&c->w, &s->wakes);
	count_published(s, &s->shm->received);
	return 0;
}

static long spsc_recv(shmkit_chan *c, void *buf, size_t cap, int64_t timeout_ns)
{
	struct spsc *s = spsc_of(c);
	const void *p;
	uint64_t need;
	long n = reader_next(s, &p, &need, timeout_ns);

	if (n <= 0)
		return n;
	if ((size_t)n > cap)
		return -EMSGSIZE;  /* it stays: s->pos is not moved past it */
	memcpy(buf, p, (size_t)n);
	s->pos += need;
	s->pending++;
	spsc_release(c);
	return n;
}

/* ---- opening and closing ---- */

/*
 * A new writer's frontier: from tail, over the committed records, to the
 * first zero header (I1).  A writer killed between a commit's header and
 * its tail leaves records past tail that the reader may already have read;
 * one killed before a commit leaves a zero word where its batch begins, and
 * what it wrote past it is written over.  Every header is checked as the
 * reader checks it, with tail as the base (a batch never ends more than
 * capacity - 8 past the tail of the commit before it); head must be at a
 * record's start, at or before the frontier, and within capacity - 8 of it.
 */
static int writer_frontier(struct spsc *s, uint64_t tail, uint64_t head, uint64_t *out)
{
	uint64_t pos = tail;

	for (;;) {
		/* SP11: pairs with the dead writer's SP1 (and SP9, for tail) */
		uint64_t h = load_acquire(shmkit__ring_word(&s->c.ring, pos));
		bool pad;
		if (h == 0)
			break;
		int64_t size = rec_check(s, h, pos, tail, &pad);
		if (size < 0)
			return (int)size;
		if (pos < head && pos + (uint64_t)size > head)
			return -EBADMSG;  /* head inside a record */
		pos += (uint64_t)size;  /* bounded by rec_check */
	}
	if (pos < head || pos - head > s->c.ring.cap - SHMKIT_REC_HDR)
		return -EBADMSG;
	*out = pos;
	return 0;
}

static void spsc_image(void *block, const struct shmkit_chan_opts *o, uint32_t policy,
		       uint32_t spin_ns)
{
	memset(block, 0, sizeof(struct shmkit_chan_shm));
	shmkit__chan_line0(block, SHMKIT_CHAN_SPSC, o->capacity, SHMKIT_CHAN_RING_OFF,
			   policy, spin_ns);
}

static int spsc_check(const struct shmkit_chan_line0 *l0, uint64_t *ring_off)
{
	(void)l0;
	*ring_off = SHMKIT_CHAN_RING_OFF;
	return 0;
}

static void spsc_set_wait(shmkit_chan *c)
{
	struct spsc *s = spsc_of(c);

	shmkit__waiter_set(&c->w, c->w.policy, c->w.spin_ns, s->sleeps.fencers, 1);
}

static int spsc_open(shmkit_chan *c, const struct shmkit__chan_open *o)
{
	struct spsc *s = spsc_of(c);
	struct shmkit_chan_shm *shm = c->r->data;
	bool writer = c->role == SHMKIT_CHAN_WRITER;
	/* the reader sleeps on tail's low half, the writer on head's */
	struct shmkit__pair rpair = {
		.flag = &shm->rwait, .futex = (_Atomic uint32_t *)(void *)&shm->tail,
		.kind = SHMKIT_FLAG_OWN, .nwake = 1, .fencers = &shm->rfence,
		.wake_id = &shm->rwake,
	};
	struct shmkit__pair wpair = {
		.flag = &shm->wwait, .futex = (_Atomic uint32_t *)(void *)&shm->head,
		.kind = SHMKIT_FLAG_OWN, .nwake = 1, .fencers = &shm->wfence,
		.wake_id = &shm->wwake,
	};

	(void)o;
	s->shm = shm;
	s->sleeps = writer ? wpair : rpair;
	s->wakes = writer ? rpair : wpair;
	int err = shmkit__role_claim(c, writer ? &shm->writer : &shm->reader);
	if (err)
		return err;
	/* for stat, after this attach is gone; relaxed: informational */
	store_relaxed(writer ? &shm->writer_pid : &shm->reader_pid, (int32_t)c->r->owner);
	/* carry on from what the last holder of the role published; SP11:
	 * pairs with SP9 and SP3 (the role CAS already ordered them) */
	uint64_t tail = load_acquire(&shm->tail), head = load_acquire(&shm->head);
	if (!shmkit__ring_near(&c->ring, tail & ~(uint64_t)1, head))  /* bit 0: closed */
		return -EBADMSG;
	if (writer) {
		uint64_t front = 0;
		err = writer_frontier(s, tail & ~(uint64_t)1, head, &front);
		if (err)
			return err;
		s->pos = s->pub = front;
		s->other = head;
		/* owed where we start: nothing was published there since
		 * (a writer that paid it moved the frontier past it for good);
		 * acquire: pairs with close's release */
		s->owe_end = load_acquire(&shm->owed_at) == (front | 1);
		store_relaxed(&shm->sessions, load_relaxed(&shm->sessions) + 1);  /* statistics */
		store_relaxed(&shm->wwait, 0);
		/* a new stream; SP7's twin, before anything we publish */
		store_release(&shm->closed, 0);
		/* SP9: the frontier found, for stat and the next writer */
		store_release(&shm->tail, front);
	} else {
		s->pos = s->pub = head;
		/* the ends the last reader told are told (relaxed: see
		 * keep_end), and so is an end behind head: some reader passed
		 * it (killed, maybe, between its head and end_told stores) */
		s->end_told = s->end_kept = load_relaxed(&shm->end_told);
		if ((tail & 1) && (tail & ~(uint64_t)1) < head)
			s->end_told = tail;
		store_relaxed(&shm->rwait, 0);
	}
	spsc_set_wait(c);
	/* an other side waiting in an event loop learns of the new peer
	 * (and watches its death from then on) */
	shmkit__wake(&c->w, &s->wakes);
	return 0;
}

static void spsc_close(shmkit_chan *c)
{
	struct spsc *s = spsc_of(c);

	if (c->role != SHMKIT_CHAN_WRITER)
		return;
	spsc_commit(c);
	/* the END records: the one owed first, then this session's, and the
	 * frontier's zero word after them (I1); without room, the next
	 * writer owes one (both, when two were due, become one) */
	uint64_t marks = s->owe_end ? 2 : 1, end = s->pub;
	bool written = false;
	if (load_head(s) == 0 &&
	    s->pub + (marks + 1) * SHMKIT_REC_HDR - s->other <= c->ring.cap) {
		uint64_t word = SHMKIT_REC_WORD(0, SHMKIT_REC_END);
		store_relaxed(shmkit__ring_word(&c->ring, s->pub + marks * SHMKIT_REC_HDR), 0);
		if (marks == 2)
			store_relaxed(shmkit__ring_word(&c->ring, s->pub + SHMKIT_REC_HDR), word);
		/* SP1: the first END after the rest; pairs with SP2 */
		store_release(shmkit__ring_word(&c->ring, s->pub), word);
		end = s->pub + (marks - 1) * SHMKIT_REC_HDR;  /* the last one */
		s->pos = s->pub = s->pub + marks * SHMKIT_REC_HDR;
		s->owe_end = false;
		written = true;
	}
	/* the END owed, at the frontier (release: pairs with the acquire
	 * at a writer's open) */
	if (!written)
		store_release(&s->shm->owed_at, s->pub | 1);
	/* SP7: the end after the last commit; pairs with SP8 */
	store_release(&s->shm->closed, 1);
	/* SP9: tail's bit 0 marks the end, so the word a sleeping reader's
	 * futex compares moves: it wakes at once, not a poll period later;
	 * the rest is where the end lies, for the reader to tell it once */
	store_release(&s->shm->tail, end | 1);
	shmkit__wake(&c->w, &s->wakes);
}

static unsigned spsc_watch(shmkit_chan *c, uint32_t *toks)
{
	struct spsc *s = spsc_of(c);

	toks[0] = load_relaxed(c->role == SHMKIT_CHAN_WRITER ? &s->shm->reader : &s->shm->writer);
	return 1;
}

static int32_t spsc_peer_pid(shmkit_chan *c, int *alive)
{
	struct spsc *s = spsc_of(c);

	return shmkit__role_pid(c, load_relaxed(c->role == SHMKIT_CHAN_WRITER ? &s->shm->reader
									     : &s->shm->writer),
				alive);
}

const struct shmkit__chan_ops shmkit__spsc_ops = {
	.kind = SHMKIT_CHAN_SPSC,
	.handle_size = sizeof(struct spsc),
	.min_cap = SHMKIT_CHAN_MIN_CAP,
	.image = spsc_image,
	.check = spsc_check,
	.open = spsc_open,
	.close = spsc_close,
	.reserve = spsc_reserve,
	.commit = spsc_commit,
	.peek = spsc_peek,
	.release = spsc_release,
	.recv = spsc_recv,
	.peer_pid = spsc_peer_pid,
	.set_wait = spsc_set_wait,
	.watch = spsc_watch,
};

/* SPDX-License-Identifier: MIT */
/*
 * bcast.c - the broadcast channel (SHMKIT_CHAN_BROADCAST): one writer, up
 * to 64 subscribers, each reading every message from a cursor of its own,
 * behind the channel front (chan.c), which opens a handle here when line 0
 * says kind 3.  This file is the writer's half and the protocol; the
 * subscribers' half is bcast_sub.c.  Layout: layout_bcast.h; the protocol in
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
 * Sleeping, through the channels' waiter (wait.h): a subscriber sets bit
 * 0 of rwait, passes W1 (BC5), re-checks tail and sleeps on rwait; the
 * writer passes W2 after each publication (BC6) and, if the bit is set,
 * adds 1 (clearing it and moving the word) and wakes them all.  A
 * backpressured writer watches the lowest cursor that holds it, then sets
 * wwait, passes W1 (BC11), rescans and sleeps on wseq; a subscriber passes
 * W2 after each release or join (BC9) and, if wwait is set, clears it,
 * bumps wseq and wakes the writer.  W1 and W2 are a membarrier and a
 * compiler barrier, or two full fences (wait.h).  Every sleep ends within
 * SHMKIT_OWNER_POLL_MS.
 *
 * Everything read from shared memory is checked before use: positions
 * 8-aligned and within a capacity of each other, headers stamped with
 * their own position, lengths within max_msg and the ring, padding only at
 * a lap's end, seqs consecutive; anything else is -EBADMSG.  A cursor that
 * makes no sense is ignored by the writer (it only hurts its subscriber).
 */
#include <string.h>
#include <unistd.h>

#include "chan/bcast.h"


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

	/* no brief poll here: the subscribers that hold a backpressured
	 * writer mostly share its CPUs, and polling takes their time (a
	 * measured loss of 10-20 % with 4 and 8 subscribers on 2 CPUs,
	 * docs/architecture.md) */
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

/*
 * How far a backpressured writer that must move head to @target moves it:
 * up to SHMKIT_BCAST_AHEAD of the ring further, as far as no cursor holds
 * it (and never past tail), so that the scan of the 64 slots and BC3's
 * fence are paid once per that much of the ring, not once per record.  A
 * late joiner that starts at the oldest record finds that much less kept.
 * Under overwrite, head moves to the target only: a subscriber is lapped
 * no earlier than it must be.
 */
static uint64_t ahead(struct bcast *b, uint64_t target)
{
	if (b->overwrite)
		return target;
	uint64_t to = target + b->c.ring.cap / SHMKIT_BCAST_AHEAD;
	if (to > b->tail)
		to = b->tail;
	uint64_t floor = scan(b, to, false, NULL);
	if (floor < to)
		to = floor;
	return to > target ? to : target;
}

/* Makes room up to @end (end - head <= capacity), waiting under backpressure. */
static int make_room(struct bcast *b, uint64_t end, int64_t timeout_ns)
{
	struct shmkit__wait ws;

	shmkit__wait_start(&b->c.w, &ws, timeout_ns);

	for (;;) {
		if (end - b->head <= b->c.ring.cap && !b->hold)
			return 0;
		uint64_t target = end > b->c.ring.cap ? end - b->c.ring.cap : 0;
		/* held: no cursor may stay below the head already stored */
		if (b->hold && b->head > target)
			target = b->head;
		if (!b->overwrite) {
			uint64_t floor = scan(b, target, false, NULL);
			if (floor < target) {
				int64_t now = shmkit__mono_ns();
				/* an event loop's call asks every time: between
				 * its calls no poll period runs out */
				if (now >= b->next_ask || (ws.try_only && b->c.w.fdw)) {
					/* the first wait, then once per poll period */
					b->next_ask = now + SHMKIT_POLL_NS;
					floor = scan(b, target, true, NULL);
				}
			}
			if (floor < target) {
				int err = writer_wait(b, target, &ws);
				if (err)
					return err;
				continue;
			}
			b->hold = false;
		}
		if (b->head < target) {
			int err = advance_head(b, ahead(b, target));
			if (err)
				return err;
			/* a subscriber that joined below it meanwhile holds us */
			if (!b->overwrite && scan(b, b->head, false, NULL) < b->head) {
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
	store_relaxed(&b->shm->sessions, load_relaxed(&b->shm->sessions) + 1);  /* statistics */
	/* BC2: carry on from what the last writer published; pairs with BC1 */
	uint64_t t = load_acquire(&b->shm->tail) & ~(uint64_t)1;
	/* acquire: pairs with the dead writer's BC3 (the role CAS ordered it too) */
	uint64_t h = load_acquire(&b->shm->head);
	if (!shmkit__ring_span_ok(&b->c.ring, h, t))
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
					  .fencers = &b->win->sfence, .wake_id = &b->tab[0].wake,
					  .id_stride = sizeof(*b->tab), .fdset = &b->win->sfds };
	/* the writer sleeps on wseq with wwait its flag, which a waker lowers */
	b->wpair = (struct shmkit__pair){ .flag = &b->win->wwait, .futex = &b->win->wseq,
					  .kind = SHMKIT_FLAG_TAKEN, .bump = true, .nwake = 1,
					  .fencers = &b->shm->wfence, .wake_id = &b->shm->wwake };
	if (c->role == SHMKIT_CHAN_WRITER) {
		err = claim_writer(b);
	} else if (!c->r->token) {
		err = c->r->slot < 0 ? -EACCES : -EOPNOTSUPP;  /* no identity to be judged by */
	} else {
		err = shmkit__bcast_join(b, o);
	}
	if (err)
		return err;
	bcast_set_wait(c);
	/* subscribers waiting in event loops learn of the new writer (and
	 * watch its death from then on); a joiner wakes the writer (BC9) */
	if (c->role == SHMKIT_CHAN_WRITER)
		wake_subs(b);
	return 0;
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
	shmkit__bcast_leave(b);
}

static unsigned bcast_watch(shmkit_chan *c, uint32_t *toks)
{
	struct bcast *b = bcast_of(c);

	if (c->role == SHMKIT_CHAN_READER) {
		toks[0] = load_relaxed(&b->shm->writer);
		return 1;
	}
	if (b->overwrite)
		return 0;  /* the writer never waits for anyone */
	for (unsigned i = 0; i < SHMKIT_CHAN_SUBSCRIBERS; i++)
		toks[i] = load_relaxed(&b->tab[i].token);
	return SHMKIT_CHAN_SUBSCRIBERS;
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
	.peek = shmkit__bcast_peek,
	.release = shmkit__bcast_release,
	.recv = shmkit__bcast_recv,
	.peer_pid = bcast_peer_pid,
	.set_wait = bcast_set_wait,
	.watch = bcast_watch,
};

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

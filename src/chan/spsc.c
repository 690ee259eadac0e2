/* SPDX-License-Identifier: MIT */
/*
 * chan.c - the single-producer single-consumer channel.
 *
 * Each record's 8-byte header, read and written as one 64-bit word, is its
 * commit mark: 0 means "nothing here yet".  The writer keeps the 8 bytes at
 * its frontier (the first position it has not published) zero (I1): it
 * zeroes the word just past every record it reserves, before that record is
 * published.  A batch (every reservation since the last commit) is written
 * with plain stores except its first header, which commit stores last, with
 * release (C1); the reader load-acquires the header at its position (C2), so
 * it sees a whole batch or nothing, and it never reads tail while streaming.
 * commit then stores tail with release (C9): a sleeping reader's futex word,
 * stat's figure, and where a new writer starts looking for the frontier.
 * The reader hands records back by storing head with release (C3); the
 * writer loads head with acquire (C4) before it reuses the space.
 *
 * A side that sleeps reads the futex word it will sleep on (C10), sets its
 * wait flag, then orders the flag before its re-check (C5); the side that
 * publishes orders its store before reading the flag (C6).  C5 is a
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) when the sleeper advertises
 * one in the control block: C6 is then only a compiler barrier (the kernel
 * puts a full barrier on the publisher's CPU when the sleeper needs one).
 * Otherwise both are full fences.  Either way one side sees the other, so
 * no wake-up is lost, and a side that does not sleep is never woken.
 * closed is stored with release after the last commit (C7) and loaded with
 * acquire before the header is looked at again (C8).
 *
 * Everything read from the segment is checked before use: a header must
 * name a known kind and length and lie within the ring and within one
 * capacity (less the frontier's 8 bytes) of what the reader released;
 * positions must stay within one capacity of each other and be 8-aligned;
 * anything else is -EBADMSG.
 */
/* TSan models no standalone fence, and GCC 12 says so (-Wtsan) where a
 * fence is inlined.  Here fences order atomics only (the sleep/wake pairs
 * C5/C6), which TSan never reports as races, so it checks nothing less. */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif
#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "atomic.h"
#include "futex.h"
#include "internal.h"
#include "chan/layout_bcast.h"
#include "chan/layout_chan.h"
#include "chan/layout_mpsc.h"
#include "sync/layout_sync.h"


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
	uint64_t other;        /* writer: the reader's head, last seen */
	uint64_t first;        /* writer: the header commit stores at pub */
	uint64_t pending;      /* messages reserved or peeked, not published */
	int64_t next_check;    /* when to ask again whether the peer lives */
	uint32_t dead_peer;    /* the role token found dead, 0 none */
	bool mb_self;          /* this process is registered for membarrier */
	bool mb_sleep;         /* this side sleeps after a membarrier (advertised) */
	_Atomic uint32_t *mb_mine;  /* where this side advertises it */
	_Atomic uint32_t *mb_peer;  /* where the other side does */
	struct shmkit__peer_src src;
	struct shmkit__mpsc *mp;  /* an MPSC channel's state (mpsc.c), else NULL */
	struct shmkit__bcast *bc; /* a broadcast channel's (bcast.c), else NULL */
};

static uint64_t align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* The header word of the record at position @pos (8-aligned in the ring). */
static _Atomic uint64_t *hdr_at(const shmkit_chan *c, uint64_t pos)
{
	return (_Atomic uint64_t *)(void *)(c->ring + (pos & c->mask));
}

/*
 * Checks the header @h of the record at @pos: a message of 1..max_msg
 * bytes or a padding that ends exactly at the ring's end, within the ring,
 * and ending at most capacity - 8 bytes past @base (the frontier's zero
 * word needs the rest).  Returns the record's size, or -EBADMSG; *pad tells
 * a padding.
 */
static int64_t rec_check(const shmkit_chan *c, uint64_t h, uint64_t pos, uint64_t base,
			 bool *pad)
{
	uint32_t len = (uint32_t)h, kind = (uint32_t)(h >> 32);
	uint64_t off = pos & c->mask, size = SHMKIT_REC_HDR + align8(len);

	if (off + size > c->cap || pos + size - base > c->cap - SHMKIT_REC_HDR)
		return -EBADMSG;
	*pad = kind == SHMKIT_REC_PAD;
	if (*pad)
		return off + size == c->cap ? (int64_t)size : -EBADMSG;  /* only at the end */
	if (kind != SHMKIT_REC_DATA || len == 0 || len > c->max_msg)
		return -EBADMSG;
	return (int64_t)size;
}

/* ---- membarrier ---- */

/* This process: 0 not asked yet, 1 registered for
 * MEMBARRIER_CMD_GLOBAL_EXPEDITED, 2 not (fences only).  Asked once, at the
 * first open; relaxed: racing threads get the same answer, and registering
 * twice is harmless.  fork() keeps the registration (the child's mm is a
 * copy of the parent's), and execve drops it along with this variable. */
static _Atomic int mb_state;

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0u, 0);
}

static bool mb_registered(void)
{
	int s = load_relaxed(&mb_state);

	if (s == 0) {
		long q = membarrier(MEMBARRIER_CMD_QUERY);
		const char *off = getenv("SHMKIT_NO_MEMBARRIER");
		s = 2;
		if ((!off || !*off || *off == '0') && q > 0 &&
		    (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
		    (q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) &&
		    membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0)
			s = 1;
		store_relaxed(&mb_state, s);
	}
	return s == 1;
}

/*
 * Tells the other side how this one sleeps.  A membarrier costs IPIs to
 * the CPUs that run registered processes (microseconds on a virtual
 * machine), so only a side that spins first uses one: its sleeps are rare,
 * and the other side then publishes without a fence.  A side that sleeps
 * at once (SHMKIT_WAIT_SLEEP) fences, and so does the other side for it.
 * Going from 1 to 0, one membarrier makes sure the other side no longer
 * acts on the 1 (C12).
 */
static void mb_advertise(shmkit_chan *c)
{
	bool want = c->mb_self && c->policy != SHMKIT_WAIT_SLEEP;
	uint32_t was = load_relaxed(c->mb_mine);

	c->mb_sleep = want;
	if (was == (uint32_t)want)
		return;
	/* C12: relaxed; a publisher that saw 1 fences nothing, so a 1 -> 0
	 * change waits, by a membarrier, until every such publisher has passed
	 * a full barrier; pairs with C6's load */
	store_relaxed(c->mb_mine, (uint32_t)want);
	if (!want)
		membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);  /* unregistered: may fail, see docs */
}

/* C6: the publisher's store (position, header, closed) before its load of
 * the other side's wait flag; pairs with C5.  Only a compiler barrier when
 * the other side sleeps after a membarrier and this process receives them. */
static inline void publish_barrier(const shmkit_chan *c)
{
	atomic_signal_fence(memory_order_seq_cst);
	if (!c->mb_self || !load_relaxed(c->mb_peer))
		atomic_thread_fence(memory_order_seq_cst);
}

/* C5: the sleeper's flag before its re-check; pairs with C6. */
static void sleep_barrier(shmkit_chan *c)
{
	if (c->mb_sleep && membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0)
		return;
	atomic_thread_fence(memory_order_seq_cst);
}

/* ---- waiting ---- */


/* -EPIPE if the other side's role names an attach that died.  Asked at
 * most once per poll period unless @force; a death once seen stays seen
 * until a new process takes the role. */
static int peer_check(shmkit_chan *c, bool force)
{
	_Atomic uint32_t *role = c->role == SHMKIT_CHAN_WRITER ? &c->shm->reader
							       : &c->shm->writer;

	return shmkit__peer_gone(&c->src, load_relaxed(role), force, &c->dead_peer,
				 &c->next_check);
}

/*
 * One wait step while the word @watch still holds @seen (the writer: head;
 * the reader: the header at its position, 0): spin on it, or sleep on the
 * futex word @fword (head; tail), per policy.  Returns 0 to look again, or
 * -ETIMEDOUT / -EINTR.
 */
static int wait_step(shmkit_chan *c, _Atomic uint64_t *watch, uint64_t seen,
		     _Atomic uint64_t *fword, int64_t deadline, int64_t *spin_until)
{
	bool reader = c->role == SHMKIT_CHAN_READER;
	int64_t now = shmkit__mono_ns();

	if (deadline >= 0 && now >= deadline)
		return -ETIMEDOUT;
	if (c->policy == SHMKIT_WAIT_SPIN ||
	    (c->policy == SHMKIT_WAIT_SPIN_SLEEP && now < *spin_until)) {
		/* the reader also asks for the line after the header's: a record
		 * of more than 56 bytes lies on two lines, and the second then
		 * comes with the first instead of after it */
		const void *next = reader ? c->ring + (((c->pos & c->mask) + 64) & c->mask & ~(uint64_t)63)
					  : NULL;
		/* relaxed: the caller looks again with acquire */
		for (int i = 0; i < 64 && load_relaxed(watch) == seen; i++) {
			if (next)
				__builtin_prefetch(next, 0, 3);
			shmkit__cpu_relax();
		}
		return 0;
	}
	/* C10: the value the futex compares, read before the flag: every
	 * publication after this load moves it (the writer's head was read
	 * in load_head); pairs with C9 (tail) and C3 (head) */
	uint64_t fval = fword == watch ? seen : load_acquire(fword);
	_Atomic uint32_t *flag = reader ? &c->shm->rwait : &c->shm->wwait;
	store_relaxed(flag, 1);
	sleep_barrier(c);  /* C5 */
	int err = 0;
	if (load_relaxed(watch) == seen &&
	    !(reader && load_relaxed(&c->shm->closed)))
		err = shmkit__futex_wait((_Atomic uint32_t *)(void *)fword, (uint32_t)fval,
					 shmkit__deadline_min(deadline, now + SHMKIT_POLL_NS));
	store_relaxed(flag, 0);
	*spin_until = 0;  /* slept once: sleep at once from now on */
	return err == -EINTR ? err : 0;
}

/* After a store the other side may sleep on: wakes it if its @flag is set. */
static void wake_other(const shmkit_chan *c, _Atomic uint64_t *fword, _Atomic uint32_t *flag)
{
	publish_barrier(c);  /* C6 */
	if (load_relaxed(flag))
		shmkit__futex_wake((_Atomic uint32_t *)(void *)fword, 1);
}

/* Adds this side's published messages to its counter: statistics, after
 * the fact (a kill in between leaves them short); each side alone writes
 * its counter: a plain store, no locked instruction. */
static void count_published(shmkit_chan *c, _Atomic uint64_t *count)
{
	store_relaxed(count, load_relaxed(count) + c->pending);
	c->pending = 0;
}

/* ---- writer ---- */

/* Loads and checks head; 0 or -EBADMSG. */
static int load_head(shmkit_chan *c)
{
	/* C4: pairs with C3 */
	uint64_t h = load_acquire(&c->shm->head);

	if (h > c->pub || c->pub - h > c->cap - SHMKIT_REC_HDR || (h & 7))
		return -EBADMSG;
	c->other = h;
	return 0;
}

int shmkit_chan_commit(shmkit_chan *c)
{
	if (c && c->mp)
		return shmkit__mpsc_commit(c->mp);
	if (c && c->bc)
		return shmkit__bcast_commit(c->bc);
	if (!c || c->role != SHMKIT_CHAN_WRITER)
		return -EPERM;
	if (c->pos == c->pub)
		return 0;
	/* C1: the batch's first header, after every other byte of the batch
	 * (payloads, later headers, the zero word at its end); pairs with C2 */
	store_release(hdr_at(c, c->pub), c->first);
	c->pub = c->pos;
	/* C9: tail after that header; pairs with C10 and a new writer's C11 */
	store_release(&c->shm->tail, c->pos);
	wake_other(c, &c->shm->tail, &c->shm->rwait);
	count_published(c, &c->shm->sent);
	return 0;
}

/* Writes the header @h of the record at @pos: the batch's first is kept for
 * commit (its word stays 0, I1), the others are stored now. */
static void put_hdr(shmkit_chan *c, uint64_t pos, uint64_t h)
{
	if (pos == c->pub)
		c->first = h;
	else
		store_relaxed(hdr_at(c, pos), h);  /* published by C1 */
}

int shmkit_chan_reserve(shmkit_chan *c, size_t len, void **p, int64_t timeout_ns)
{
	if (!c || !p)
		return -EINVAL;
	if (c->mp)
		return shmkit__mpsc_reserve(c->mp, len, p, timeout_ns);
	if (c->bc)
		return shmkit__bcast_reserve(c->bc, len, p, timeout_ns);
	if (c->role != SHMKIT_CHAN_WRITER)
		return -EPERM;
	if (len == 0 || len > c->max_msg)
		return -EMSGSIZE;
	uint64_t need = SHMKIT_REC_HDR + align8(len);
	uint64_t off = c->pos & c->mask;
	uint64_t pad = c->cap - off < need ? c->cap - off : 0;
	/* the record, its padding and the zero word after it (I1) */
	uint64_t room = pad + need + SHMKIT_REC_HDR;
	int64_t deadline = shmkit__deadline(timeout_ns);
	int64_t spin_until = -1;

	while (c->pos + room - c->other > c->cap) {
		int err = load_head(c);
		if (err)
			return err;
		if (c->pos + room - c->other <= c->cap)
			break;
		/* the reader may be waiting for what we reserved: show it */
		shmkit_chan_commit(c);
		if (spin_until < 0 && timeout_ns != 0 && c->policy != SHMKIT_WAIT_SLEEP &&
		    shmkit__poll_brief(&c->shm->head, c->other)) {
			spin_until = -2;  /* polled once; the next round waits in full */
			continue;
		}
		err = peer_check(c, timeout_ns == 0);
		if (err)
			return err;
		if (timeout_ns == 0)
			return -EAGAIN;
		if (spin_until < 0)  /* not -2 then: the brief poll counts as spin */
			spin_until = shmkit__mono_ns() + (int64_t)c->spin_ns;
		err = wait_step(c, &c->shm->head, c->other, &c->shm->head, deadline,
				&spin_until);
		if (err)
			return err;
	}
	uint64_t at = c->pos;
	if (pad) {
		put_hdr(c, at, SHMKIT_REC_WORD(pad - SHMKIT_REC_HDR, SHMKIT_REC_PAD));
		at += pad;
	}
	put_hdr(c, at, SHMKIT_REC_WORD(len, SHMKIT_REC_DATA));
	/* I1: the new frontier's word is 0 before this record is published
	 * (the space was released: C4 saw it) */
	store_relaxed(hdr_at(c, at + need), 0);
	*p = c->ring + (at & c->mask) + SHMKIT_REC_HDR;
	c->pos = at + need;
	c->pending++;
	return 0;
}

int shmkit_chan_send(shmkit_chan *c, const void *buf, size_t len, int64_t timeout_ns)
{
	void *p;

	if (!buf && len)
		return -EINVAL;
	if (c && c->mp)
		return shmkit__mpsc_send(c->mp, buf, len, timeout_ns);
	if (c && c->bc)
		return shmkit__bcast_send(c->bc, buf, len, timeout_ns);
	int err = shmkit_chan_reserve(c, len, &p, timeout_ns);
	if (err)
		return err;
	memcpy(p, buf, len);
	return shmkit_chan_commit(c);
}

/* ---- reader ---- */

/*
 * The next message at c->pos, skipping padding: its length (> 0) with *p
 * and *need set, 0 if none is published, or -EBADMSG.
 */
static long next_record(shmkit_chan *c, const void **p, uint64_t *need)
{
	for (;;) {
		/* C2: pairs with C1; one load, then checked */
		uint64_t h = load_acquire(hdr_at(c, c->pos));
		bool pad;
		if (h == 0)
			return 0;
		int64_t size = rec_check(c, h, c->pos, c->pub, &pad);
		if (size < 0)
			return (long)size;
		if (pad) {
			c->pos += (uint64_t)size;  /* bounded: rec_check limits pos - pub */
			continue;
		}
		*p = c->ring + (c->pos & c->mask) + SHMKIT_REC_HDR;
		*need = (uint64_t)size;
		return (long)(uint32_t)h;
	}
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
	for (bool looked = false;; looked = true) {
		long n = next_record(c, p, need);
		int err;
		if (n)
			return n;
		if (!looked && timeout_ns != 0 && c->policy != SHMKIT_WAIT_SLEEP &&
		    shmkit__poll_brief(hdr_at(c, c->pos), 0))
			continue;
		/* a call that will spin first spins once before it looks at
		 * closed and the writer's token: they lie on the writer's line,
		 * which the writer stores at every commit */
		if (looked || timeout_ns == 0 || c->policy == SHMKIT_WAIT_SLEEP) {
			/* C8: closed after the last commit; pairs with C7 */
			if (load_acquire(&c->shm->closed))
				return next_record(c, p, need);  /* 0: the end */
			err = peer_check(c, timeout_ns == 0);
			if (err == -EPIPE) {
				/* what the writer committed before it died first */
				n = next_record(c, p, need);
				if (n)
					return n;
				/* C8 again: a writer that closed and exited after
				 * our load of closed above ended its stream */
				if (load_acquire(&c->shm->closed))
					return next_record(c, p, need);  /* 0: the end */
				return -EPIPE;
			}
			if (err)
				return err;
			if (timeout_ns == 0)
				return -EAGAIN;
		}
		if (spin_until < 0)
			spin_until = shmkit__mono_ns() + (int64_t)c->spin_ns;
		err = wait_step(c, hdr_at(c, c->pos), 0, &c->shm->tail, deadline, &spin_until);
		if (err)
			return err;
	}
}

long shmkit_chan_peek(shmkit_chan *c, const void **p, int64_t timeout_ns)
{
	uint64_t need;

	if (c && c->mp)
		return shmkit__mpsc_peek(c->mp, p, timeout_ns);
	if (c && c->bc)
		return shmkit__bcast_peek(c->bc, p, timeout_ns);
	long n = reader_next(c, p, &need, timeout_ns);

	if (n > 0) {
		c->pos += need;
		c->pending++;
	}
	return n;
}

int shmkit_chan_release(shmkit_chan *c)
{
	if (c && c->mp)
		return shmkit__mpsc_release(c->mp);
	if (c && c->bc)
		return shmkit__bcast_release(c->bc);
	if (!c || c->role != SHMKIT_CHAN_READER)
		return -EPERM;
	if (c->pos == c->pub)
		return 0;
	c->pub = c->pos;
	/* C3: head after the last read of the records; pairs with C4 */
	store_release(&c->shm->head, c->pos);
	wake_other(c, &c->shm->head, &c->shm->wwait);
	count_published(c, &c->shm->received);
	return 0;
}

long shmkit_chan_recv(shmkit_chan *c, void *buf, size_t cap, int64_t timeout_ns)
{
	const void *p;
	uint64_t need;

	if (!buf && cap)
		return -EINVAL;
	if (c && c->mp)
		return shmkit__mpsc_recv(c->mp, buf, cap, timeout_ns);
	if (c && c->bc)
		return shmkit__bcast_recv(c->bc, buf, cap, timeout_ns);
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

/* -EBADMSG unless tail (bit 0 aside) and head are 8-aligned and within a
 * capacity of each other, in either order: the reader may have read past
 * tail (a writer stores tail after the header that publishes a record). */
static int positions_check(uint64_t tail, uint64_t head, uint64_t cap)
{
	uint64_t t = tail & ~(uint64_t)1;

	if ((t & 7) || (head & 7) || (t >= head ? t - head : head - t) > cap)
		return -EBADMSG;
	return 0;
}

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
static int writer_frontier(shmkit_chan *c, uint64_t tail, uint64_t head, uint64_t *out)
{
	uint64_t pos = tail;

	for (;;) {
		/* C11: pairs with the dead writer's C1 (and C9, for tail) */
		uint64_t h = load_acquire(hdr_at(c, pos));
		bool pad;
		if (h == 0)
			break;
		int64_t size = rec_check(c, h, pos, tail, &pad);
		if (size < 0)
			return (int)size;
		if (pos < head && pos + (uint64_t)size > head)
			return -EBADMSG;  /* head inside a record */
		pos += (uint64_t)size;  /* bounded by rec_check */
	}
	if (pos < head || pos - head > c->cap - SHMKIT_REC_HDR)
		return -EBADMSG;
	*out = pos;
	return 0;
}

/* Checks the immutable line of a control block against the data size. */
static int chan_check(const struct shmkit_chan_shm *s, uint64_t data_size)
{
	uint64_t cap = s->capacity;

	if (s->magic != SHMKIT_CHAN_MAGIC)
		return -EBADMSG;
	if (s->version != SHMKIT_CHAN_VERSION ||
	    (s->type != SHMKIT_CHAN_TYPE_SPSC && s->type != SHMKIT_CHAN_TYPE_MPSC &&
	     s->type != SHMKIT_CHAN_TYPE_BCAST))
		return -EPROTONOSUPPORT;
	uint64_t ring_off = s->type == SHMKIT_CHAN_TYPE_MPSC ? SHMKIT_MPSC_RING_OFF
							     : SHMKIT_CHAN_RING_OFF;
	if (s->type == SHMKIT_CHAN_TYPE_BCAST) {
		if (shmkit__bcast_check(s) || cap < SHMKIT_BCAST_MIN_CAP)
			return -EBADMSG;
		ring_off = s->ring_offset;  /* checked: a function of the page size */
	}
	if (cap < SHMKIT_CHAN_MIN_CAP || cap > SHMKIT_CHAN_MAX_CAP || (cap & (cap - 1)) ||
	    s->ring_offset != ring_off || s->max_msg != cap / 4 ||
	    data_size < ring_off + cap || s->policy > SHMKIT_WAIT_SLEEP)
		return -EBADMSG;
	if (s->type == SHMKIT_CHAN_TYPE_MPSC)
		return shmkit__mpsc_check(s);
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
	if (cs->type == SHMKIT_CHAN_TYPE_MPSC)
		return shmkit__mpsc_describe(src, data, data_size, out);
	if (cs->type == SHMKIT_CHAN_TYPE_BCAST)
		return -EINVAL;  /* the caller reads the window: shmkit__bcast_describe */
	uint64_t tail = load_relaxed(&s->tail), head = load_relaxed(&s->head);
	if (positions_check(tail, head, s->capacity))
		return -EBADMSG;
	tail &= ~(uint64_t)1;  /* the end-of-stream mark */
	out->kind = (int)s->type;
	out->capacity = s->capacity;
	out->max_msg = s->max_msg;
	/* the reader may be ahead of tail: it sees a record at its header,
	 * before the writer stores tail */
	out->used = tail > head ? tail - head : 0;
	out->sent = load_relaxed(&s->sent);
	out->received = load_relaxed(&s->received);
	out->in_flight = out->sent >= out->received ? out->sent - out->received : 0;
	out->closed = load_relaxed(&s->closed) != 0;
	uint32_t w = load_relaxed(&s->writer), r = load_relaxed(&s->reader);
	if (w && shmkit__token_valid(w)) {
		out->writer_pid = load_relaxed(&s->writer_pid);
		out->writer_alive = shmkit__token_alive(src, w);
	}
	if (r && shmkit__token_valid(r)) {
		out->reader_pid = load_relaxed(&s->reader_pid);
		out->reader_alive = shmkit__token_alive(src, r);
	}
	return 0;
}

/* Takes @role for this attach: from nobody, or from a dead attach. */
int shmkit__claim_role(shmkit_region *r, const struct shmkit__peer_src *src,
		       _Atomic uint32_t *word)
{
	uint32_t tok = r->token;

	/* A dead holder's slot may be in the hands of a new attach that has
	 * its lock but not yet its claim: for that moment the dead token
	 * looks alive.  So "alive" is asked a few times, 1 ms apart. */
	for (int tries = 0, busy = 0; tries < 32; tries++) {
		uint32_t cur = load_relaxed(word);
		if (cur != 0 && cur != tok) {
			if (!shmkit__token_valid(cur))
				return -EBADMSG;
			if (shmkit__token_alive(src, cur) != 0) {
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
	if ((flags & ~(SHMKIT_CREATE | SHMKIT_EXCL | SHMKIT_RDONLY)) ||
	    o->policy > SHMKIT_WAIT_SLEEP || o->kind > SHMKIT_CHAN_BROADCAST ||
	    o->overflow > SHMKIT_BCAST_OVERWRITE || o->start > SHMKIT_SUB_OLDEST)
		return -EINVAL;
	if ((flags & SHMKIT_RDONLY) && o->kind && o->kind != SHMKIT_CHAN_BROADCAST)
		return -EOPNOTSUPP;  /* only a broadcast subscriber reads alone */
	if ((flags & SHMKIT_CREATE) && o->kind == SHMKIT_CHAN_BROADCAST &&
	    o->capacity < SHMKIT_BCAST_MIN_CAP)
		return -EINVAL;
	if ((flags & SHMKIT_CREATE) &&
	    ((o->mode & ~0777u) || o->capacity < SHMKIT_CHAN_MIN_CAP ||
	     o->capacity > SHMKIT_CHAN_MAX_CAP || (o->capacity & (o->capacity - 1))))
		return -EINVAL;  /* what a create would make: an open ignores it */
	uint32_t policy = o->policy ? o->policy : SHMKIT_WAIT_SPIN_SLEEP;
	uint32_t spin_ns = o->spin_ns ? o->spin_ns : SHMKIT_SPIN_NS_DEFAULT;
	if (o->kind == SHMKIT_CHAN_MPSC) {
		shmkit__mpsc_image(img, o->capacity, policy, spin_ns);
		return 0;
	}
	if (o->kind == SHMKIT_CHAN_BROADCAST) {
		shmkit__bcast_image(img, o->capacity, policy, spin_ns, o->overflow);
		return 0;
	}
	memset(img, 0, sizeof(*img));
	img->magic = SHMKIT_CHAN_MAGIC;
	img->version = SHMKIT_CHAN_VERSION;
	img->type = SHMKIT_CHAN_TYPE_SPSC;
	img->capacity = o->capacity;
	img->max_msg = (uint32_t)(o->capacity / 4);
	img->ring_offset = SHMKIT_CHAN_RING_OFF;
	img->policy = policy;
	img->spin_ns = spin_ns;
	return 0;
}

/* Opens the channel segment @name (creating it as asked) and checks that it
 * is one; its validated immutable line goes to *img. */
static int chan_region(const char *name, unsigned flags, const struct shmkit_chan_opts *o,
		       struct shmkit_chan_shm *img, shmkit_region **r)
{
	bool mpsc = o->kind == SHMKIT_CHAN_MPSC;
	/* an MPSC ring starts as lap 0's EMPTY marks (layout_mpsc.h) */
	struct shmkit__image image = {
		.kind = SHMKIT_KIND_CHANNEL, .bytes = img, .len = sizeof(*img),
		.fill_from = mpsc ? SHMKIT_MPSC_RING_OFF : 0,
		.fill_word = SHMKIT_MPSC_EMPTY(0),
	};
	uint64_t ring_off = mpsc ? SHMKIT_MPSC_RING_OFF : SHMKIT_CHAN_RING_OFF;
	if (o->kind == SHMKIT_CHAN_BROADCAST)
		ring_off = SHMKIT_BCAST_RING_OFF(shmkit__bcast_page());
	int err = shmkit__open_or_create(name, flags & ~SHMKIT_RDONLY, ring_off + o->capacity,
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
		/* a kind asked for must be the channel's */
		if (!err && o->kind && img->type != o->kind)
			err = -EPROTOTYPE;
		if (!err && (flags & SHMKIT_RDONLY) && img->type != SHMKIT_CHAN_TYPE_BCAST)
			err = -EOPNOTSUPP;
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
	if (flags & SHMKIT_RDONLY)
		return -EINVAL;
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
	if ((flags & SHMKIT_RDONLY) && role != SHMKIT_CHAN_READER)
		return -EINVAL;  /* a writer writes */
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
	if (img.type == SHMKIT_CHAN_TYPE_BCAST) {
		err = shmkit__bcast_open(c->r, &img, role, flags, o.start, &c->src, c->policy,
					 c->spin_ns, &c->bc);
		if (err)
			goto fail;
		*out = c;
		return 0;
	}
	if (img.type == SHMKIT_CHAN_TYPE_MPSC) {
		err = shmkit__mpsc_open(c->r, c->cap, role, &c->src, c->policy, c->spin_ns,
					&c->mp);
		if (err)
			goto fail;
		*out = c;
		return 0;
	}
	err = shmkit__claim_role(c->r, &c->src,
				 role == SHMKIT_CHAN_WRITER ? &c->shm->writer : &c->shm->reader);
	if (err)
		goto fail;
	/* for stat, after this attach is gone; relaxed: informational */
	store_relaxed(role == SHMKIT_CHAN_WRITER ? &c->shm->writer_pid : &c->shm->reader_pid,
		      (int32_t)c->r->owner);
	/* carry on from what the last holder of the role published; C11:
	 * pairs with C9 and C3 (the role CAS already ordered them) */
	uint64_t tail = load_acquire(&c->shm->tail), head = load_acquire(&c->shm->head);
	if (positions_check(tail, head, c->cap)) {
		err = -EBADMSG;
		goto fail;
	}
	c->mb_self = mb_registered();
	if (role == SHMKIT_CHAN_WRITER) {
		uint64_t front;
		err = writer_frontier(c, tail & ~(uint64_t)1, head, &front);
		if (err)
			goto fail;
		c->pos = c->pub = front;
		c->other = head;
		c->mb_mine = &c->shm->wmembarrier;
		c->mb_peer = &c->shm->rmembarrier;
		store_relaxed(&c->shm->wwait, 0);
		/* a new stream; C7's twin, before anything we publish */
		store_release(&c->shm->closed, 0);
		/* C9: the frontier found, for stat and the next writer */
		store_release(&c->shm->tail, front);
	} else {
		c->pos = c->pub = head;
		c->mb_mine = &c->shm->rmembarrier;
		c->mb_peer = &c->shm->wmembarrier;
		store_relaxed(&c->shm->rwait, 0);
	}
	mb_advertise(c);
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
	if (c->mp) {
		shmkit__mpsc_close(c->mp);
	} else if (c->bc) {
		shmkit__bcast_close(c->bc);
	} else if (c->role == SHMKIT_CHAN_WRITER) {
		shmkit_chan_commit(c);
		/* C7: the end after the last commit; pairs with C8 */
		store_release(&c->shm->closed, 1);
		/* C9: tail's bit 0 marks the end, so the word a sleeping reader's
		 * futex compares moves: it wakes at once, not a poll period later */
		store_release(&c->shm->tail, c->pub | 1);
		wake_other(c, &c->shm->tail, &c->shm->rwait);  /* C6 */
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
	if (c->mp)
		shmkit__mpsc_set_wait(c->mp, c->policy, c->spin_ns);
	if (c->bc)
		shmkit__bcast_set_wait(c->bc, c->policy, c->spin_ns);
	if (c->mb_mine)
		mb_advertise(c);  /* not yet during open */
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
	if (c->mp)
		return shmkit__mpsc_peer_pid(c->mp, alive);
	if (c->bc)
		return shmkit__bcast_peer_pid(c->bc, alive);
	uint32_t tok = load_relaxed(c->role == SHMKIT_CHAN_WRITER ? &c->shm->reader
								   : &c->shm->writer);
	if (!tok || !shmkit__token_valid(tok))
		return 0;
	if (alive)
		*alive = shmkit__token_alive(&c->src, tok);
	return shmkit__token_pid(c->r->hdr, tok);
}

shmkit_region *shmkit_chan_region(shmkit_chan *c)
{
	return c ? c->r : NULL;
}

int shmkit_chan_missed(const shmkit_chan *c, uint64_t *last, uint64_t *total)
{
	if (!c || !c->bc)
		return -EPERM;
	return shmkit__bcast_missed(c->bc, last, total);
}

/* SPDX-License-Identifier: MIT */
/*
 * rwlock.c - the robust reader-writer lock that prefers writers.
 *
 * Writers first take w, a robust mutex word (mutex.c), then wait until no
 * live peer holds a read lock.  Readers enter only while w is 0: they count
 * themselves in their own slot's entry of readers[], then look at w again,
 * and back out if a writer came.  So once a writer holds w, no new reader
 * gets in: writers cannot starve.
 *
 * A reader's entry carries its attach's generation, so the holds of a dead
 * peer are told from those of the next process in its slot and are dropped
 * by the writer that finds them (after a poll period, as for the mutex).
 *
 * Memory orderings.  The reader's increment of its entry then its second
 * look at w (RW1, both seq_cst) against the writer's taking w, a seq_cst
 * fence, then its reads of the entries (RW2): one of the two sees the other.
 * The reader's decrement (seq_cst, RW3) releases its reads to the writer's
 * seq_cst reads of the entries (RW2).  A writer's unlock releases w (MX2 in
 * mutex.c), then a seq_cst fence and the bump of rgate then the read of
 * rsleepers (RW4), against a reader's count in rsleepers then its read of w
 * (RW5); likewise readers leaving bump rdone then read dsleepers (RW6)
 * against the writer's count in dsleepers then its futex read of rdone
 * (RW7).  Readers acquire w's release through their first look (RW8).
 */
#include <unistd.h>

#include "atomic.h"
#include "futex.h"
#include "internal.h"
#include "sync/layout_sync.h"

#define SEQ memory_order_seq_cst

static struct shmkit_rwlock_shm *shm(shmkit_rwlock *l)
{
	return (struct shmkit_rwlock_shm *)(void *)l;
}

static int rw_check(shmkit_region *r, shmkit_rwlock *l)
{
	int err = shmkit__prim_check(r, l, sizeof(*l));

	return err ? err : shmkit__prim_tag(r, &shm(l)->w.tag, SHMKIT_PRIM_RWLOCK, l);
}

static uint32_t my_gen(const shmkit_region *r)
{
	return shmkit__tok_gen(r->token);
}

int shmkit_rwlock_init(shmkit_region *r, shmkit_rwlock *l)
{
	int err = shmkit__prim_check(r, l, sizeof(*l));

	if (err)
		return err;
	struct shmkit_rwlock_shm *s = shm(l);
	store_relaxed(&s->rsleepers, 0);
	store_relaxed(&s->dsleepers, 0);
	for (unsigned i = 0; i < SHMKIT_PEER_SLOTS; i++)
		store_relaxed(&s->readers[i], 0);
	shmkit__lockword_reset(&s->w, SHMKIT_PRIM_RWLOCK);
	shmkit__syncdir_add(r->hdr, (uint64_t)((char *)l - (char *)r->data),
			    SHMKIT_PRIM_RWLOCK);
	return 0;
}

/* ---- readers ---- */

static void wake_readers(struct shmkit_rwlock_shm *s);

static int reader_add(struct shmkit_rwlock_shm *s, int slot, uint32_t gen, int delta)
{
	_Atomic uint64_t *e = &s->readers[slot];
	uint64_t v = load_relaxed(e), nv;

	do {
		uint32_t cnt = (uint32_t)v;
		bool mine = (uint32_t)(v >> 32) == gen;
		if (delta > 0) {
			if (mine && cnt == UINT32_MAX)
				return -EAGAIN;
			/* a dead predecessor's holds in our slot: ours replace them */
			nv = mine ? v + 1 : ((uint64_t)gen << 32 | 1);
		} else {
			if (!mine || cnt == 0)
				return -EPERM;
			nv = v - 1;
		}
		/* RW1 (increment) / RW3 (decrement) */
	} while (!atomic_compare_exchange_weak_explicit(e, &v, nv, SEQ,
							memory_order_relaxed));
	return 0;
}

/* A reader left (or backed out) while a writer may wait for it. */
static void reader_left(struct shmkit_rwlock_shm *s)
{
	if ((atomic_load_explicit(&s->w.word, SEQ) & ~SHMKIT_TOK_WAITERS) == 0)
		return;
	/* RW6: bump, then read dsleepers; pairs with RW7 */
	atomic_fetch_add_explicit(&s->rdone, 1, SEQ);
	if (atomic_load_explicit(&s->dsleepers, SEQ) > 0)
		shmkit__futex_wake(&s->rdone, INT_MAX);
}

/* Frees w from a dead writer; the next locker finds the data suspect.  The
 * word is taken first, so the state is marked only by the one who freed it,
 * never over a live writer that has taken over and repaired meanwhile. */
static void writer_dead(shmkit_region *r, struct shmkit_rwlock_shm *s, uint32_t w)
{
	/* MX1's twin: ours for a moment, so no one else acts on this death */
	if (!atomic_compare_exchange_strong_explicit(&s->w.word, &w,
			r->token | (w & SHMKIT_TOK_WAITERS), memory_order_acquire,
			memory_order_relaxed))
		return;
	if (load_relaxed(&s->w.state) == SHMKIT_ST_CONSISTENT)
		store_relaxed(&s->w.state, SHMKIT_ST_INCONSISTENT);  /* else keep it */
	fetch_add_relaxed(&s->w.recoveries, 1);
	shmkit__lockword_release(&s->w, true);  /* MX2: the state travels with it */
	wake_readers(s);
}

static int rd_timed(shmkit_region *r, shmkit_rwlock *l, int64_t deadline, bool try_only)
{
	int err = rw_check(r, l);

	if (err)
		return err;
	struct shmkit_rwlock_shm *s = shm(l);
	struct shmkit__peer_src src;
	uint32_t gen = my_gen(r);
	unsigned spins = 0;
	bool check_owner = try_only;
	int64_t due = 0;   /* the next owner check, once we sleep */

	shmkit__region_peer_src(r, &src);
	for (;;) {
		/* RW8: pairs with the writer's release of w (MX2) */
		uint32_t w = load_acquire(&s->w.word);
		/* WAITERS alone: writers asleep, none holding; they queue anew */
		if ((w & ~SHMKIT_TOK_WAITERS) == 0) {
			err = reader_add(s, r->slot, gen, +1);
			if (err)
				return err;
			/* RW1: the second look; pairs with RW2 */
			if ((atomic_load_explicit(&s->w.word, SEQ) & ~SHMKIT_TOK_WAITERS) == 0) {
				uint32_t st = load_relaxed(&s->w.state);
				if (st == SHMKIT_ST_CONSISTENT)
					return 0;
				if (st == SHMKIT_ST_INCONSISTENT)
					return -EOWNERDEAD;
				reader_add(s, r->slot, gen, -1);
				reader_left(s);
				return st == SHMKIT_ST_NOTRECOVERABLE ? -ENOTRECOVERABLE
								      : -EBADMSG;
			}
			reader_add(s, r->slot, gen, -1);
			reader_left(s);
			continue;
		}
		if (!shmkit__token_valid(w))
			return -EBADMSG;
		uint32_t owner = w & SHMKIT_TOK_MASK;
		if (owner == r->token &&
		    load_relaxed(&s->w.owner_tid) == (int32_t)shmkit__tid())
			return try_only ? -EBUSY : -EDEADLK;
		if (!check_owner && spins < SHMKIT_SPIN_ROUNDS) {
			spins++;
			shmkit__cpu_relax();
			continue;
		}
		if (check_owner && owner != r->token) {
			check_owner = false;
			if (shmkit__token_alive(&src, owner) == 0) {
				writer_dead(r, s, w);
				continue;
			}
		}
		if (try_only)
			return -EBUSY;
		int64_t now = shmkit__mono_ns();
		if (deadline >= 0 && now >= deadline)
			return -ETIMEDOUT;
		uint32_t g = atomic_load_explicit(&s->rgate, SEQ);
		/* RW5: counted, then w read again; pairs with RW4 */
		atomic_fetch_add_explicit(&s->rsleepers, 1, SEQ);
		if (atomic_load_explicit(&s->w.word, SEQ) == w)
			shmkit__futex_wait(&s->rgate, g,  /* -EINTR: keep waiting */
				shmkit__deadline_min(deadline, shmkit__poll_until(&due, now)));
		atomic_fetch_sub_explicit(&s->rsleepers, 1, memory_order_relaxed);
		if (shmkit__poll_due(&due, shmkit__mono_ns()))
			check_owner = true;
	}
}

int shmkit_rwlock_rdlock(shmkit_region *r, shmkit_rwlock *l)
{
	return rd_timed(r, l, SHMKIT_NO_DEADLINE, false);
}

int shmkit_rwlock_tryrdlock(shmkit_region *r, shmkit_rwlock *l)
{
	return rd_timed(r, l, SHMKIT_NO_DEADLINE, true);
}

int shmkit_rwlock_timedrdlock(shmkit_region *r, shmkit_rwlock *l, int64_t timeout_ns)
{
	int err = rd_timed(r, l, shmkit__deadline(timeout_ns), timeout_ns == 0);

	return (err == -EBUSY && timeout_ns == 0) ? -ETIMEDOUT : err;
}

int shmkit_rwlock_rdunlock(shmkit_region *r, shmkit_rwlock *l)
{
	int err = rw_check(r, l);

	if (err)
		return err;
	struct shmkit_rwlock_shm *s = shm(l);
	err = reader_add(s, r->slot, my_gen(r), -1);
	if (!err)
		reader_left(s);
	return err;
}

/* ---- writers ---- */

/* Wakes readers parked behind a writer that has just let w go. */
static void wake_readers(struct shmkit_rwlock_shm *s)
{
	/* RW4: after w's release, a full fence, then bump and read rsleepers;
	 * pairs with RW5 */
	atomic_thread_fence(SEQ);
	atomic_fetch_add_explicit(&s->rgate, 1, SEQ);
	if (atomic_load_explicit(&s->rsleepers, SEQ) > 0)
		shmkit__futex_wake(&s->rgate, INT_MAX);
}

/* Waits, holding w, until no live peer holds a read lock. */
static int drain_readers(shmkit_region *r, struct shmkit_rwlock_shm *s,
			 int64_t deadline, bool try_only)
{
	struct shmkit__peer_src src;
	bool check = try_only;
	int64_t due = 0;   /* the next check of the readers, once we sleep */

	shmkit__region_peer_src(r, &src);
	/* RW2: w is ours; the fence orders that before the entries' reads */
	atomic_thread_fence(SEQ);
	for (unsigned spins = 0;; spins++) {
		uint32_t d = atomic_load_explicit(&s->rdone, SEQ);
		bool busy = false;
		for (int i = 0; i < (int)SHMKIT_PEER_SLOTS; i++) {
			/* RW2: pairs with RW1 and RW3 */
			uint64_t v = atomic_load_explicit(&s->readers[i], SEQ);
			if ((uint32_t)v == 0)
				continue;
			if (i == r->slot && (uint32_t)(v >> 32) != my_gen(r)) {
				/* our slot, a dead predecessor's holds: drop them
				 * unless our own reader thread got there first */
				atomic_compare_exchange_strong_explicit(&s->readers[i],
					&v, 0, SEQ, memory_order_relaxed);
				continue;
			}
			if (check && i != r->slot) {
				uint32_t tok = shmkit__tok_make((unsigned)i, v >> 32);
				if (shmkit__token_alive(&src, tok) == 0) {
					/* a dead peer's holds: drop them unless its
					 * slot's new owner got there first */
					atomic_compare_exchange_strong_explicit(&s->readers[i],
						&v, 0, SEQ, memory_order_relaxed);
					continue;
				}
			}
			busy = true;
		}
		if (!busy)
			return 0;
		check = false;
		if (try_only)
			return -EBUSY;
		if (spins < SHMKIT_SPIN_ROUNDS) {
			shmkit__cpu_relax();
			continue;
		}
		int64_t now = shmkit__mono_ns();
		if (deadline >= 0 && now >= deadline)
			return -ETIMEDOUT;
		/* RW7: counted, then the kernel re-reads rdone; pairs with RW6 */
		atomic_fetch_add_explicit(&s->dsleepers, 1, SEQ);
		shmkit__futex_wait(&s->rdone, d,  /* -EINTR: keep waiting */
				shmkit__deadline_min(deadline, shmkit__poll_until(&due, now)));
		atomic_fetch_sub_explicit(&s->dsleepers, 1, memory_order_relaxed);
		if (shmkit__poll_due(&due, shmkit__mono_ns()))
			check = true;
	}
}

static int wr_timed(shmkit_region *r, shmkit_rwlock *l, int64_t deadline, bool try_only)
{
	int err = rw_check(r, l);

	if (err)
		return err;
	struct shmkit_rwlock_shm *s = shm(l);
	int got = shmkit__lockword_acquire(r, &s->w, deadline, try_only);
	if (got != 0 && got != -EOWNERDEAD) {
		wake_readers(s);  /* those that saw w taken for a moment */
		return got;
	}
	err = drain_readers(r, s, deadline, try_only);
	if (err) {
		/* give w back as it was: a pending repair stays pending */
		shmkit__lockword_release(&s->w, false);
		wake_readers(s);
		return err;
	}
	return got;
}

int shmkit_rwlock_wrlock(shmkit_region *r, shmkit_rwlock *l)
{
	return wr_timed(r, l, SHMKIT_NO_DEADLINE, false);
}

int shmkit_rwlock_trywrlock(shmkit_region *r, shmkit_rwlock *l)
{
	return wr_timed(r, l, SHMKIT_NO_DEADLINE, true);
}

int shmkit_rwlock_timedwrlock(shmkit_region *r, shmkit_rwlock *l, int64_t timeout_ns)
{
	int err = wr_timed(r, l, shmkit__deadline(timeout_ns), timeout_ns == 0);

	return (err == -EBUSY && timeout_ns == 0) ? -ETIMEDOUT : err;
}

int shmkit_rwlock_wrunlock(shmkit_region *r, shmkit_rwlock *l)
{
	int err = rw_check(r, l);

	if (err)
		return err;
	struct shmkit_rwlock_shm *s = shm(l);
	err = shmkit__lockword_held(r, &s->w);
	if (err)
		return err;
	shmkit__lockword_unlock(&s->w);
	wake_readers(s);
	return 0;
}

int shmkit_rwlock_consistent(shmkit_region *r, shmkit_rwlock *l)
{
	int err = rw_check(r, l);

	if (err)
		return err;
	struct shmkit_rwlock_shm *s = shm(l);
	err = shmkit__lockword_held(r, &s->w);
	return err ? err : shmkit__lockword_consistent(&s->w);
}

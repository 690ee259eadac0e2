/* SPDX-License-Identifier: MIT */
/*
 * mutex.c - the robust process-shared mutex.
 *
 * The futex word holds the owner's token (layout_sync.h) and a WAITERS bit.
 * Lock is one CAS 0 -> token; unlock one exchange to 0, and a FUTEX_WAKE
 * only when WAITERS was set.  A contender spins briefly, then sets WAITERS
 * and sleeps; every SHMKIT_OWNER_POLL_MS it wakes to ask the owner's peer
 * slot whether the owner still lives.  A dead owner's token is replaced by
 * CAS with the caller's, which then returns -EOWNERDEAD.
 *
 * Memory orderings: the acquiring CAS (MX1) pairs with the releasing
 * exchange in unlock (MX2); everything the data saw under the lock travels
 * with them.  state, owner_tid and owner_pid are written only by the holder
 * and read relaxed (stat reads them as hints).
 */
#include <unistd.h>

#include "atomic.h"
#include "futex.h"
#include "internal.h"
#include "sync/layout_sync.h"

static struct shmkit_mutex_shm *shm(shmkit_mutex *m)
{
	return (struct shmkit_mutex_shm *)(void *)m;
}

static int mutex_check(shmkit_region *r, shmkit_mutex *m)
{
	int err = shmkit__prim_check(r, m, sizeof(*m));

	return err ? err : shmkit__prim_tag(r, &shm(m)->tag, SHMKIT_PRIM_MUTEX, m);
}

/* Gives the word up; wakes one sleeper (all of them with @all). */
void shmkit__lockword_release(struct shmkit_mutex_shm *s, bool all)
{
	store_relaxed(&s->owner_tid, 0);
	store_relaxed(&s->owner_pid, 0);
	/* MX2: publishes the critical section; pairs with MX1. */
	uint32_t old = atomic_exchange_explicit(&s->word, 0, memory_order_release);
	if (old & SHMKIT_TOK_WAITERS)
		shmkit__futex_wake(&s->word, all ? INT_MAX : 1);
}

/* The word is ours: settle the state and tell the caller what it holds. */
static int mutex_enter(const shmkit_region *r, struct shmkit_mutex_shm *s,
		       bool recovered)
{
	uint32_t st = load_relaxed(&s->state);

	if (recovered && st != SHMKIT_ST_CONSISTENT && st != SHMKIT_ST_INCONSISTENT) {
		/* it died while giving back a lock beyond repair: still so */
		shmkit__lockword_release(s, true);
		return st == SHMKIT_ST_NOTRECOVERABLE ? -ENOTRECOVERABLE : -EBADMSG;
	}
	if (recovered) {
		store_relaxed(&s->state, SHMKIT_ST_INCONSISTENT);
		fetch_add_relaxed(&s->recoveries, 1);
		st = SHMKIT_ST_INCONSISTENT;
	} else if (st == SHMKIT_ST_NOTRECOVERABLE || st > SHMKIT_ST_NOTRECOVERABLE) {
		shmkit__lockword_release(s, true);
		return st == SHMKIT_ST_NOTRECOVERABLE ? -ENOTRECOVERABLE : -EBADMSG;
	}
	store_relaxed(&s->owner_tid, (int32_t)shmkit__tid());
	store_relaxed(&s->owner_pid, (int32_t)r->owner);  /* no getpid() call */
	/* INCONSISTENT on a free word: a repairer died after its repair
	 * started elsewhere; the data is as suspect as after an owner's death */
	return st == SHMKIT_ST_INCONSISTENT ? -EOWNERDEAD : 0;
}

int shmkit__lockword_acquire(shmkit_region *r, struct shmkit_mutex_shm *s,
			     int64_t deadline, bool try_only)
{
	const uint32_t tok = r->token;
	uint32_t v = 0;

	/* MX1: acquires the critical section; pairs with MX2. */
	if (atomic_compare_exchange_strong_explicit(&s->word, &v, tok,
			memory_order_acquire, memory_order_relaxed))
		return mutex_enter(r, s, false);

	struct shmkit__peer_src src;
	shmkit__region_peer_src(r, &src);
	uint32_t waiters = 0;    /* once we slept, others may sleep too */
	unsigned spins = 0;
	bool check_owner = try_only;
	int64_t due = 0;          /* the next owner check, once we sleep */

	for (;;) {
		v = load_relaxed(&s->word);
		if ((v & ~SHMKIT_TOK_WAITERS) == 0) {
			/* MX1 again */
			if (atomic_compare_exchange_strong_explicit(&s->word, &v,
					tok | waiters | (v & SHMKIT_TOK_WAITERS),
					memory_order_acquire, memory_order_relaxed))
				return mutex_enter(r, s, false);
			continue;
		}
		uint32_t owner = v & SHMKIT_TOK_MASK;
		if (!shmkit__token_valid(v))
			return -EBADMSG;
		if (owner == tok && load_relaxed(&s->owner_tid) == (int32_t)shmkit__tid())
			return try_only ? -EBUSY : -EDEADLK;
		if (!check_owner && spins < SHMKIT_SPIN_ROUNDS) {
			spins++;
			shmkit__cpu_relax();
			continue;
		}
		if (check_owner && owner != tok) {
			check_owner = false;
			if (shmkit__token_alive(&src, owner) == 0) {
				/* MX1 again: take over from the dead */
				if (atomic_compare_exchange_strong_explicit(&s->word, &v,
						tok | (v & SHMKIT_TOK_WAITERS),
						memory_order_acquire, memory_order_relaxed))
					return mutex_enter(r, s, true);
				continue;
			}
		}
		if (try_only)
			return -EBUSY;
		if (!(v & SHMKIT_TOK_WAITERS)) {
			if (!atomic_compare_exchange_strong_explicit(&s->word, &v,
					v | SHMKIT_TOK_WAITERS, memory_order_relaxed,
					memory_order_relaxed))
				continue;
			v |= SHMKIT_TOK_WAITERS;
		}
		int64_t now = shmkit__mono_ns();
		if (deadline >= 0 && now >= deadline)
			return -ETIMEDOUT;
		int64_t until = shmkit__deadline_min(deadline, shmkit__poll_until(&due, now));
		waiters = SHMKIT_TOK_WAITERS;
		fetch_add_relaxed(&s->sleepers, 1);
		shmkit__futex_wait(&s->word, v, until);  /* -EINTR: keep waiting */
		atomic_fetch_sub_explicit(&s->sleepers, 1, memory_order_relaxed);
		/* a poll period passed: does the owner still live? */
		if (shmkit__poll_due(&due, shmkit__mono_ns()))
			check_owner = true;
	}
}

int shmkit__mutex_timed(shmkit_region *r, shmkit_mutex *m, int64_t deadline,
			bool try_only)
{
	int err = mutex_check(r, m);

	return err ? err : shmkit__lockword_acquire(r, shm(m), deadline, try_only);
}

void shmkit__lockword_reset(struct shmkit_mutex_shm *s, unsigned type)
{
	store_relaxed(&s->state, SHMKIT_ST_CONSISTENT);
	store_relaxed(&s->owner_tid, 0);
	store_relaxed(&s->owner_pid, 0);
	store_relaxed(&s->sleepers, 0);
	store_relaxed(&s->recoveries, 0);
	/* release: a locker that sees the tag sees the words above (and, for
	 * an rwlock, the reader words its caller cleared first) */
	store_release(&s->tag, SHMKIT_TAG(type));
	store_release(&s->word, 0);
}

int shmkit_mutex_init(shmkit_region *r, shmkit_mutex *m)
{
	int err = shmkit__prim_check(r, m, sizeof(*m));

	if (err)
		return err;
	shmkit__lockword_reset(shm(m), SHMKIT_PRIM_MUTEX);
	shmkit__syncdir_add(r->hdr, (uint64_t)((char *)m - (char *)r->data),
			    SHMKIT_PRIM_MUTEX);
	return 0;
}

int shmkit_mutex_lock(shmkit_region *r, shmkit_mutex *m)
{
	return shmkit__mutex_timed(r, m, SHMKIT_NO_DEADLINE, false);
}

int shmkit_mutex_trylock(shmkit_region *r, shmkit_mutex *m)
{
	return shmkit__mutex_timed(r, m, SHMKIT_NO_DEADLINE, true);
}

int shmkit_mutex_timedlock(shmkit_region *r, shmkit_mutex *m, int64_t timeout_ns)
{
	int err = shmkit__mutex_timed(r, m, shmkit__deadline(timeout_ns), timeout_ns == 0);

	return (err == -EBUSY && timeout_ns == 0) ? -ETIMEDOUT : err;
}

/* 0 if the calling thread holds the word through @r. */
int shmkit__lockword_held(shmkit_region *r, struct shmkit_mutex_shm *s)
{
	uint32_t v = load_relaxed(&s->word);

	if ((v & SHMKIT_TOK_MASK) != r->token ||
	    load_relaxed(&s->owner_tid) != (int32_t)shmkit__tid())
		return -EPERM;
	return 0;
}

/* The mutex @m, checked, if the calling thread holds it; else NULL and
 * the error in *err. */
static struct shmkit_mutex_shm *held(shmkit_region *r, shmkit_mutex *m, int *err)
{
	*err = mutex_check(r, m);
	if (!*err)
		*err = shmkit__lockword_held(r, shm(m));
	return *err ? NULL : shm(m);
}

int shmkit_mutex_unlock(shmkit_region *r, shmkit_mutex *m)
{
	int err;
	struct shmkit_mutex_shm *s = held(r, m, &err);

	if (s)
		shmkit__lockword_unlock(s);
	return err;
}

void shmkit__lockword_unlock(struct shmkit_mutex_shm *s)
{
	bool give_up = load_relaxed(&s->state) != SHMKIT_ST_CONSISTENT;
	if (give_up)  /* never repaired: no one may trust the data again */
		store_relaxed(&s->state, SHMKIT_ST_NOTRECOVERABLE);
	shmkit__lockword_release(s, give_up);
}

int shmkit_mutex_consistent(shmkit_region *r, shmkit_mutex *m)
{
	int err;
	struct shmkit_mutex_shm *s = held(r, m, &err);

	return s ? shmkit__lockword_consistent(s) : err;
}

int shmkit__lockword_consistent(struct shmkit_mutex_shm *s)
{
	if (load_relaxed(&s->state) != SHMKIT_ST_INCONSISTENT)
		return -EINVAL;
	store_relaxed(&s->state, SHMKIT_ST_CONSISTENT);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * event.c - an event count: a sequence every wake bumps, and waits on it.
 *
 * A waiter counts itself in sleepers, then sleeps while seq still equals its
 * ticket; a waker bumps seq, then wakes only if sleepers > 0.  Dekker pair,
 * both sides sequentially consistent: the waiter's increment of sleepers
 * then its read of seq (E1) against the waker's increment of seq then its
 * read of sleepers (E2).  prepare's acquiring load (E3) pairs with E2, so a
 * waiter whose ticket is fresh sees what the waker wrote before waking.
 */
#include "atomic.h"
#include "futex.h"
#include "internal.h"
#include "sync/layout_sync.h"

static struct shmkit_event_shm *shm(shmkit_event *e)
{
	return (struct shmkit_event_shm *)(void *)e;
}

static int event_check(shmkit_region *r, shmkit_event *e)
{
	int err = shmkit__prim_check(r, e, sizeof(*e));

	return err ? err : shmkit__prim_tag(r, &shm(e)->tag, SHMKIT_PRIM_EVENT, e);
}

int shmkit_event_init(shmkit_region *r, shmkit_event *e)
{
	int err = shmkit__prim_check(r, e, sizeof(*e));

	if (err)
		return err;
	struct shmkit_event_shm *p = shm(e);
	store_relaxed(&p->sleepers, 0);
	p->reserved = 0;
	/* release: a user that sees the tag sees the words above */
	store_release(&p->tag, SHMKIT_TAG(SHMKIT_PRIM_EVENT));
	shmkit__syncdir_add(r->hdr, (uint64_t)((char *)e - (char *)r->data),
			    SHMKIT_PRIM_EVENT);
	return 0;
}

int shmkit_event_prepare(shmkit_region *r, shmkit_event *e, uint32_t *ticket)
{
	int err = event_check(r, e);

	if (err)
		return err;
	if (!ticket)
		return -EINVAL;
	/* E3: pairs with E2 */
	*ticket = load_acquire(&shm(e)->seq);
	return 0;
}

static int event_sleep(struct shmkit_event_shm *p, uint32_t ticket, int64_t deadline)
{
	/* E1: counted before seq is read again; pairs with E2 */
	atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
	int err = 0;
	/* a futex may wake with nothing changed: sleep again until seq moves */
	while (!err && atomic_load_explicit(&p->seq, memory_order_seq_cst) == ticket)
		err = shmkit__futex_wait(&p->seq, ticket, deadline);
	atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
	if (err == -ETIMEDOUT && load_acquire(&p->seq) != ticket)  /* E3 again */
		err = 0;  /* woken at the last moment: a wake, not a timeout */
	return err;
}

int shmkit_event_wait(shmkit_region *r, shmkit_event *e, uint32_t ticket,
		      int64_t timeout_ns)
{
	int err = event_check(r, e);

	if (err)
		return err;
	struct shmkit_event_shm *p = shm(e);
	int64_t deadline = shmkit__deadline(timeout_ns);

	for (unsigned spins = 0; spins < SHMKIT_SPIN_ROUNDS; spins++) {
		if (load_acquire(&p->seq) != ticket)  /* E3 again */
			return 0;
		if (timeout_ns == 0)
			return -ETIMEDOUT;
		shmkit__cpu_relax();
	}
	return event_sleep(p, ticket, deadline);
}

int shmkit_event_wait_mutex(shmkit_region *r, shmkit_event *e, shmkit_mutex *m,
			    int64_t timeout_ns)
{
	int err = event_check(r, e);

	if (err)
		return err;
	struct shmkit_event_shm *p = shm(e);
	int64_t deadline = shmkit__deadline(timeout_ns);
	/* E3: the ticket is taken under the mutex, so a waker that changes the
	 * condition under it and then wakes bumps past this ticket */
	uint32_t ticket = load_acquire(&p->seq);

	err = shmkit_mutex_unlock(r, m);
	if (err)
		return err;
	int werr = timeout_ns == 0 ? -ETIMEDOUT : event_sleep(p, ticket, deadline);
	if (werr == -EINTR)
		werr = 0;  /* a spurious wake-up, as documented */
	err = shmkit__mutex_timed(r, m, SHMKIT_NO_DEADLINE, false);
	return err ? err : werr;
}

static int event_wake(shmkit_region *r, shmkit_event *e, int n)
{
	int err = event_check(r, e);

	if (err)
		return err;
	struct shmkit_event_shm *p = shm(e);
	/* E2: bump, then read sleepers; pairs with E1 and E3 */
	atomic_fetch_add_explicit(&p->seq, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&p->sleepers, memory_order_seq_cst) > 0)
		shmkit__futex_wake(&p->seq, n);
	return 0;
}

int shmkit_event_wake_one(shmkit_region *r, shmkit_event *e)
{
	return event_wake(r, e, 1);
}

int shmkit_event_wake_all(shmkit_region *r, shmkit_event *e)
{
	return event_wake(r, e, INT_MAX);
}

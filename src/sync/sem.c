/* SPDX-License-Identifier: MIT */
/*
 * sem.c - the counting semaphore, in a region or as a named segment.
 *
 * value is the futex word.  A waiter counts itself in sleepers before it
 * sleeps; post wakes only when sleepers > 0.  The two sides form a Dekker
 * pair, so both are sequentially consistent: the waiter's increment of
 * sleepers then (in the kernel) its read of value (S1), against the
 * poster's increment of value then its read of sleepers (S2); one of them
 * sees the other.  A taken unit is an acquiring CAS (S3) that pairs with
 * the post (S2), so what the poster wrote before posting is visible.
 *
 * Crashes: a poster killed between its increment and its wake, or a waiter
 * killed after a post woke it but before it took the unit, leaves a unit
 * that no sleeper was told of.  So a waiter sleeps at most SHMKIT_POLL_NS
 * at a time and looks again: such a unit waits one poll period at most.
 * A waiter killed asleep stays counted in sleepers, which only costs the
 * posters a needless wake.
 */
#include <string.h>

#include "atomic.h"
#include "futex.h"
#include "internal.h"
#include "sync/layout_sync.h"

static struct shmkit_sem_shm *shm(shmkit_sem *s)
{
	return (struct shmkit_sem_shm *)(void *)s;
}

static int sem_check(shmkit_region *r, shmkit_sem *s)
{
	int err = shmkit__prim_check(r, s, sizeof(*s));

	return err ? err : shmkit__prim_tag(r, &shm(s)->tag, SHMKIT_PRIM_SEM, s);
}

int shmkit_sem_init(shmkit_region *r, shmkit_sem *s, unsigned value)
{
	int err = shmkit__prim_check(r, s, sizeof(*s));

	if (err)
		return err;
	if (value > SHMKIT_SEM_VALUE_MAX)
		return -EINVAL;
	struct shmkit_sem_shm *p = shm(s);
	store_relaxed(&p->sleepers, 0);
	p->reserved = 0;
	/* release: a waiter that sees the tag sees the words above */
	store_release(&p->tag, SHMKIT_TAG(SHMKIT_PRIM_SEM));
	store_release(&p->value, value);
	shmkit__syncdir_add(r->hdr, (uint64_t)((char *)s - (char *)r->data),
			    SHMKIT_PRIM_SEM);
	return 0;
}

static int sem_take(shmkit_region *r, shmkit_sem *s, int64_t deadline, bool try_only)
{
	int err = sem_check(r, s);

	if (err)
		return err;
	struct shmkit_sem_shm *p = shm(s);
	unsigned spins = 0;

	for (;;) {
		uint32_t v = load_relaxed(&p->value);
		if (v > SHMKIT_SEM_VALUE_MAX)
			return -EBADMSG;
		if (v > 0) {
			/* S3: takes a unit; pairs with S2 in post */
			if (atomic_compare_exchange_weak_explicit(&p->value, &v, v - 1,
					memory_order_acquire, memory_order_relaxed))
				return 0;
			continue;
		}
		if (try_only)
			return -EAGAIN;
		if (spins < SHMKIT_SPIN_ROUNDS) {
			spins++;
			shmkit__cpu_relax();
			continue;
		}
		if (deadline >= 0 && shmkit__mono_ns() >= deadline)
			return -ETIMEDOUT;
		/* S1: counted before the kernel re-reads value; pairs with S2 */
		atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
		/* at most a poll period: see "Crashes" above */
		err = shmkit__futex_wait(&p->value, 0, shmkit__deadline_min(deadline,
					 shmkit__mono_ns() + SHMKIT_POLL_NS));
		atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
		if (err == -EINTR)
			return err;
		/* -ETIMEDOUT: one more look at value first, then the check above */
	}
}

int shmkit_sem_wait(shmkit_region *r, shmkit_sem *s)
{
	return sem_take(r, s, SHMKIT_NO_DEADLINE, false);
}

int shmkit_sem_trywait(shmkit_region *r, shmkit_sem *s)
{
	return sem_take(r, s, SHMKIT_NO_DEADLINE, true);
}

int shmkit_sem_timedwait(shmkit_region *r, shmkit_sem *s, int64_t timeout_ns)
{
	int err = sem_take(r, s, shmkit__deadline(timeout_ns), timeout_ns == 0);

	return (err == -EAGAIN && timeout_ns == 0) ? -ETIMEDOUT : err;
}

int shmkit_sem_post(shmkit_region *r, shmkit_sem *s)
{
	int err = sem_check(r, s);

	if (err)
		return err;
	struct shmkit_sem_shm *p = shm(s);
	uint32_t v = load_relaxed(&p->value);
	do {
		if (v > SHMKIT_SEM_VALUE_MAX)
			return -EBADMSG;
		if (v == SHMKIT_SEM_VALUE_MAX)
			return -EOVERFLOW;
		/* S2: releases the poster's writes, then reads sleepers; pairs
		 * with S1 (seq_cst) and S3 (acquire) */
	} while (!atomic_compare_exchange_weak_explicit(&p->value, &v, v + 1,
			memory_order_seq_cst, memory_order_relaxed));
	if (atomic_load_explicit(&p->sleepers, memory_order_seq_cst) > 0)
		shmkit__futex_wake(&p->value, 1);
	return 0;
}

int shmkit_sem_value(shmkit_region *r, shmkit_sem *s)
{
	int err = sem_check(r, s);

	if (err)
		return err;
	uint32_t v = load_relaxed(&shm(s)->value);
	return v > SHMKIT_SEM_VALUE_MAX ? -EBADMSG : (int)v;
}

#define NAMED_SEM_SIZE 64u

int shmkit_sem_open(const char *name, unsigned flags, unsigned mode,
		    unsigned value, shmkit_region **r, shmkit_sem **s)
{
	struct shmkit_sem_shm img;
	struct shmkit__image image = { .kind = SHMKIT_KIND_SEM, .bytes = &img,
				       .len = sizeof(img) };
	struct shmkit__name n;
	shmkit_region *reg;
	int err;

	if (!r || !s)
		return -EINVAL;
	*r = NULL;
	*s = NULL;
	if (value > SHMKIT_SEM_VALUE_MAX ||
	    (flags & ~(SHMKIT_CREATE | SHMKIT_EXCL)) || (mode & ~0777u))
		return -EINVAL;
	err = shmkit__name_parse(name, &n);
	if (err)
		return err;
	/* the whole semaphore, value and tag, is in place before publication */
	memset(&img, 0, sizeof(img));
	store_relaxed(&img.value, value);
	store_relaxed(&img.tag, SHMKIT_TAG(SHMKIT_PRIM_SEM));
	/* an existing segment is opened whatever its size, so that one that
	 * is not a semaphore is told apart below, not refused for its size */
	err = shmkit__open_or_create(name, flags, NAMED_SEM_SIZE,
				     mode ? mode : SHMKIT_DEFAULT_MODE, &image, &reg);
	if (err)
		return err;
	if (reg->size < sizeof(img) || *(volatile uint32_t *)&reg->hdr->kind != SHMKIT_KIND_SEM) {
		shmkit_region_close(reg);
		return -EPROTONOSUPPORT;
	}
	shmkit__syncdir_add(reg->hdr, 0, SHMKIT_PRIM_SEM);
	*r = reg;
	*s = (shmkit_sem *)reg->data;
	return 0;
}

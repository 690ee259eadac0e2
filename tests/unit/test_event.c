/* SPDX-License-Identifier: MIT */
/*
 * Description: the event (a sequence number with waiting on it) on every
 * backend (posix, sysv, file, anonymous across fork, memfd): prepare, wait,
 * wake_one and wake_all across processes, a stale ticket, timeouts, -EINTR,
 * wait_mutex as a condition variable (a bounded buffer between processes),
 * wait_mutex without the mutex (-EPERM) and with a relock that finds its
 * owner dead, bad pointers and garbage, and what shmkit_region_prims shows.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "sync/layout_sync.h"
#define SYNC_MEMFD_LABEL "ut-event"
#include "sync_util.h"

TestSuite(event, .init = sync_setup, .fini = kids_teardown, .timeout = 60);

static shmkit_event *ev_at(shmkit_region *r, size_t off)
{
	return data_at(r, off);
}

static struct shmkit_event_shm *eshm(shmkit_event *e)
{
	return (struct shmkit_event_shm *)(void *)e;
}

static shmkit_mutex *mx_at(shmkit_region *r, size_t off)
{
	return data_at(r, off);
}

/* ---- prepare, wait, wake ---- */

/* Prepares, reports, waits (j->count: 0 timed 5 s, 1 forever). */
static int event_waiter(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_event *e = ev_at(r, j->off);
	uint32_t t = 0;
	int err = shmkit_event_prepare(r, e, &t);

	if (err) {
		atomic_store(&bd->res[idx][0], err);
		return 10;
	}
	atomic_store(&bd->res[idx][1], (int)t);
	atomic_store(&bd->ready[idx], 1);
	err = shmkit_event_wait(r, e, t, j->count ? SHMKIT_FOREVER : SYNC_WAIT_NS);
	atomic_store(&bd->res[idx][0], err);
	atomic_store(&bd->go[idx], 1);  /* returned */
	return 0;
}

Test(event, wake_one_across_processes)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_event *e = ev_at(r, 64);
		struct job j = { .r = r, .name = name, .off = 64 };
		uint32_t t0 = 0, t1 = 0;

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_event_init(r, e), 0);
		cr_assert_eq(shmkit_event_prepare(r, e, &t0), 0);
		pid_t pid = kid_spawn_nth(event_waiter, 0, &j);
		cr_assert(WAIT_FOR(atomic_load(&eshm(e)->sleepers) >= 1), "%s: asleep", bn);
		cr_expect_eq(bd->go[0], 0, "%s: still waiting", bn);
		cr_expect_eq(shmkit_event_wake_one(r, e), 0);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(bd->res[0][0], 0, "%s: %s", bn, errname(bd->res[0][0]));
		cr_expect_eq((uint32_t)bd->res[0][1], t0, "%s: the child's ticket", bn);
		cr_assert_eq(shmkit_event_prepare(r, e, &t1), 0);
		cr_expect_eq(t1, t0 + 1, "%s: a wake bumps the sequence", bn);
		cr_expect_eq(atomic_load(&eshm(e)->sleepers), 0, "%s", bn);
		/* and the forever wait */
		memset(bd, 0, sizeof(*bd));
		j.count = 1;
		pid = kid_spawn_nth(event_waiter, 1, &j);
		cr_assert(WAIT_FOR(atomic_load(&eshm(e)->sleepers) >= 1), "%s: asleep", bn);
		cr_expect_eq(shmkit_event_wake_all(r, e), 0);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(bd->res[1][0], 0, "%s: %s", bn, errname(bd->res[1][0]));
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(event, wake_one_wakes_one_wake_all_wakes_all)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_event *e = ev_at(r, 0);
		struct job j = { .r = r, .name = name, .off = 0 };
		pid_t p[4];

		memset(bd, 0, sizeof(*bd));
		for (int i = 0; i < 2; i++)
			p[i] = kid_spawn_nth(event_waiter, i, &j);
		cr_assert(WAIT_FOR(atomic_load(&eshm(e)->sleepers) == 2), "%s: two asleep", bn);
		cr_expect_eq(shmkit_event_wake_one(r, e), 0);
		cr_assert(WAIT_FOR(atomic_load(&bd->go[0]) + atomic_load(&bd->go[1]) >= 1), "%s", bn);
		sleep_ms(50);
		cr_expect_eq(atomic_load(&bd->go[0]) + atomic_load(&bd->go[1]), 1,
			     "%s: wake_one woke one", bn);
		cr_expect_eq(atomic_load(&eshm(e)->sleepers), 1, "%s: one still asleep", bn);
		cr_expect_eq(shmkit_event_wake_one(r, e), 0);
		for (int i = 0; i < 2; i++) {
			cr_expect_eq(kid_reap(p[i]), 0);
			cr_expect_eq(bd->res[i][0], 0, "%s: waiter %d %s", bn, i, errname(bd->res[i][0]));
		}
		/* wake_all */
		memset(bd, 0, sizeof(*bd));
		for (int i = 0; i < 4; i++)
			p[i] = kid_spawn_nth(event_waiter, i, &j);
		cr_assert(WAIT_FOR(atomic_load(&eshm(e)->sleepers) == 4), "%s: four asleep", bn);
		cr_expect_eq(shmkit_event_wake_all(r, e), 0);
		for (int i = 0; i < 4; i++) {
			cr_expect_eq(kid_reap(p[i]), 0);
			cr_expect_eq(bd->res[i][0], 0, "%s: waiter %d %s", bn, i, errname(bd->res[i][0]));
		}
		cr_expect_eq(atomic_load(&eshm(e)->sleepers), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

static int stale_waiter(int idx, void *arg)
{
	struct job *j = arg;
	uint32_t t = (uint32_t)j->count;
	atomic_store(&bd->res[idx][0], shmkit_event_wait(j->r, ev_at(j->r, j->off), t,
							 SHMKIT_FOREVER));
	return 0;
}

Test(event, stale_ticket_and_timeouts)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_event *e = ev_at(r, 128);
		uint32_t t = 77;

		cr_assert_eq(shmkit_event_init(r, e), 0);
		cr_assert_eq(shmkit_event_prepare(r, e, &t), 0);
		cr_expect_eq(shmkit_event_wait(r, e, t, 0), -ETIMEDOUT, "%s", bn);
		cr_expect_eq(shmkit_event_wait(r, e, t, SHORT_NS), -ETIMEDOUT, "%s", bn);
		cr_expect_eq(shmkit_event_wake_one(r, e), 0, "%s: no one asleep", bn);
		/* stale: a wake since prepare */
		cr_expect_eq(shmkit_event_wait(r, e, t, 0), 0, "%s", bn);
		cr_expect_eq(shmkit_event_wait(r, e, t, SYNC_WAIT_NS), 0, "%s", bn);
		struct job j = { .r = r, .off = 128, .count = (int)t };
		atomic_store(&bd->res[0][0], 12345);
		cr_expect_eq(kid_reap(kid_spawn_nth(stale_waiter, 0, &j)), 0, "%s: forever, stale", bn);
		cr_expect_eq(bd->res[0][0], 0, "%s: %s", bn, errname(bd->res[0][0]));
		/* any ticket other than the sequence is stale */
		cr_expect_eq(shmkit_event_wait(r, e, t + 1000, SYNC_WAIT_NS), 0, "%s", bn);
		cr_expect_eq(shmkit_event_wake_all(r, e), 0);
		cr_assert_eq(shmkit_event_prepare(r, e, &t), 0);
		cr_expect_eq(shmkit_event_wait(r, e, t, SHORT_NS), -ETIMEDOUT, "%s", bn);
		/* the sequence wraps */
		atomic_store(&eshm(e)->seq, 0xffffffffu);
		cr_assert_eq(shmkit_event_prepare(r, e, &t), 0);
		cr_expect_eq(t, 0xffffffffu);
		cr_expect_eq(shmkit_event_wake_one(r, e), 0);
		cr_expect_eq(shmkit_event_wait(r, e, t, 0), 0, "%s: wrapped", bn);
		cr_assert_eq(shmkit_event_prepare(r, e, &t), 0);
		cr_expect_eq(t, 0);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(event, zero_memory_is_an_event)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_event *e = ev_at(r, 4080);
		struct shmkit_prim_info pi;
		uint32_t t = 5;

		cr_expect_eq(shmkit_event_prepare(r, e, &t), 0, "%s", bn);
		cr_expect_eq(t, 0, "%s", bn);
		cr_expect_eq(shmkit_event_wait(r, e, t, SHORT_NS), -ETIMEDOUT, "%s", bn);
		cr_expect_eq(shmkit_event_wake_all(r, e), 0, "%s", bn);
		cr_assert_eq(shmkit_region_prims(r, &pi, 1), 1, "%s: listed on first use", bn);
		cr_expect_eq(pi.type, SHMKIT_PRIM_EVENT);
		cr_expect_eq(pi.offset, 4080);
		cr_expect_eq(pi.value, 1, "%s: the sequence", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- signals ---- */

static int interrupted_waiter(int idx, void *arg)
{
	install_usr1();
	return event_waiter(idx, arg);
}

Test(event, signal_interrupts_wait_with_eintr)
{
	const int some[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_ANON };
	FOR_BACKENDS(be, bn, some) {
		for (int forever = 0; forever < 2; forever++) {
			const char *name;
			shmkit_region *r = make_region(be, 4096, &name);
			shmkit_event *e = ev_at(r, 0);
			struct job j = { .r = r, .name = name, .off = 0, .count = forever };

			memset(bd, 0, sizeof(*bd));
			pid_t pid = kid_spawn_nth(interrupted_waiter, 0, &j);
			poke_until_done(pid, &eshm(e)->sleepers, 0, bn);
			cr_expect_eq(kid_reap(pid), 0);
			cr_expect_eq(bd->res[0][0], -EINTR, "%s forever %d: %s", bn, forever,
				     errname(bd->res[0][0]));
			cr_expect_geq(bd->sigs, 1);
			cr_expect_eq(shmkit_region_close(r), 0);
		}
	}
}

/* ---- wait_mutex: a condition variable ---- */

#define CAP 4

struct buffer {
	shmkit_mutex m;           /* 0 */
	shmkit_event not_empty;   /* 32 */
	shmkit_event not_full;    /* 48 */
	int items;                /* under m */
	int done;
	int produced, consumed;
	int slots[CAP];
};

static int bb_producer(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	struct buffer *bb = shmkit_region_base(r);

	for (int i = 0; i < j->count; i++) {
		int err = shmkit_mutex_lock(r, &bb->m);
		if (err)
			return 10;
		while (bb->items == CAP) {
			err = shmkit_event_wait_mutex(r, &bb->not_full, &bb->m, SYNC_WAIT_NS);
			if (err) {
				atomic_store(&bd->res[idx][0], err);
				return 11;
			}
		}
		bb->slots[bb->items++] = idx;
		bb->produced++;
		if (shmkit_event_wake_one(r, &bb->not_empty))
			return 12;
		if (shmkit_mutex_unlock(r, &bb->m))
			return 13;
	}
	return 0;
}

static int bb_consumer(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	struct buffer *bb = shmkit_region_base(r);
	int mine = 0;

	for (;;) {
		int err = shmkit_mutex_lock(r, &bb->m);
		if (err)
			return 10;
		while (bb->items == 0 && !bb->done) {
			err = shmkit_event_wait_mutex(r, &bb->not_empty, &bb->m, SYNC_WAIT_NS);
			if (err) {
				atomic_store(&bd->res[idx][0], err);
				return 11;
			}
		}
		if (bb->items == 0) {  /* done, and drained */
			shmkit_mutex_unlock(r, &bb->m);
			break;
		}
		bb->items--;
		bb->consumed++;
		mine++;
		if (shmkit_event_wake_one(r, &bb->not_full))
			return 12;
		if (shmkit_mutex_unlock(r, &bb->m))
			return 13;
	}
	atomic_store(&bd->res[idx][1], mine);
	return 0;
}

static void run_bb(int backend, int producers, int consumers, int per_producer)
{
	const char *name;
	shmkit_region *r = make_region(backend, 4096, &name);
	struct buffer *bb = shmkit_region_base(r);
	struct job jp = { .r = r, .name = name, .count = per_producer };
	struct job jc = { .r = r, .name = name };
	const char *bn = ut_backend_names[backend];
	pid_t cons[8], prod[8];

	memset(bd, 0, sizeof(*bd));
	cr_assert_eq(shmkit_mutex_init(r, &bb->m), 0);
	cr_assert_eq(shmkit_event_init(r, &bb->not_empty), 0);
	cr_assert_eq(shmkit_event_init(r, &bb->not_full), 0);
	for (int i = 0; i < consumers; i++)
		cons[i] = kid_spawn_nth(bb_consumer, i, &jc);
	for (int i = 0; i < producers; i++)
		prod[i] = kid_spawn_nth(bb_producer, 8 + i, &jp);
	for (int i = 0; i < producers; i++)
		cr_expect_eq(kid_reap(prod[i]), 0, "%s: producer %d: %s", bn, i,
			     errname(bd->res[8 + i][0]));
	cr_assert_eq(shmkit_mutex_timedlock(r, &bb->m, SYNC_WAIT_NS), 0);
	bb->done = 1;
	cr_expect_eq(shmkit_event_wake_all(r, &bb->not_empty), 0);
	cr_assert_eq(shmkit_mutex_unlock(r, &bb->m), 0);
	int sum = 0;
	for (int i = 0; i < consumers; i++) {
		cr_expect_eq(kid_reap(cons[i]), 0, "%s: consumer %d: %s", bn, i, errname(bd->res[i][0]));
		sum += bd->res[i][1];
	}
	const int total = producers * per_producer;
	cr_expect_eq(bb->produced, total, "%s", bn);
	cr_expect_eq(bb->consumed, total, "%s", bn);
	cr_expect_eq(sum, total, "%s", bn);
	cr_expect_eq(bb->items, 0, "%s", bn);
	cr_expect_eq(shmkit_region_close(r), 0);
}

Test(event, wait_mutex_bounded_buffer)
{
	run_bb(SHMKIT_BACKEND_POSIX, 2, 2, 5000);
	run_bb(SHMKIT_BACKEND_SYSV, 2, 2, 5000);
	run_bb(SHMKIT_BACKEND_FILE, 2, 2, 2000);
	run_bb(SHMKIT_BACKEND_ANON, 2, 2, 2000);
	run_bb(SHMKIT_BACKEND_MEMFD, 2, 2, 2000);
}

static int wm_child(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	atomic_store(&bd->res[idx][0],
		     shmkit_event_wait_mutex(r, ev_at(r, 64), mx_at(r, 0), SHORT_NS));
	return 0;
}

struct thread_arg {
	shmkit_region *r;
	int err;
};

static void *wm_thread(void *p)
{
	struct thread_arg *a = p;
	a->err = shmkit_event_wait_mutex(a->r, ev_at(a->r, 64), mx_at(a->r, 0), SHORT_NS);
	return NULL;
}

Test(event, wait_mutex_needs_the_mutex)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_mutex *m = mx_at(r, 0);
		shmkit_event *e = ev_at(r, 64);
		struct job j = { .r = r, .name = name };

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_mutex_init(r, m), 0);
		cr_assert_eq(shmkit_event_init(r, e), 0);
		cr_expect_eq(shmkit_event_wait_mutex(r, e, m, SHORT_NS), -EPERM, "%s: free mutex", bn);
		cr_expect_eq(shmkit_event_wait_mutex(r, e, m, 0), -EPERM, "%s: free mutex", bn);
		cr_assert_eq(shmkit_mutex_lock(r, m), 0);
		/* held by us: another process, another thread may not wait with it */
		cr_expect_eq(kid_reap(kid_spawn_nth(wm_child, 0, &j)), 0);
		cr_expect_eq(bd->res[0][0], -EPERM, "%s: other process %s", bn, errname(bd->res[0][0]));
		struct thread_arg a = { .r = r };
		in_thread(wm_thread, &a);
		cr_expect_eq(a.err, -EPERM, "%s: other thread %s", bn, errname(a.err));
		/* we still hold it */
		cr_expect_eq(shmkit_mutex_trylock(r, m), -EBUSY, "%s", bn);
		/* timeouts return with the mutex held again */
		cr_expect_eq(shmkit_event_wait_mutex(r, e, m, 0), -ETIMEDOUT, "%s", bn);
		cr_expect_eq(shmkit_event_wait_mutex(r, e, m, SHORT_NS), -ETIMEDOUT, "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s: held after the timeout", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), -EPERM, "%s", bn);
		/* a wrong primitive as the mutex, or as the event */
		cr_assert_eq(shmkit_mutex_lock(r, m), 0);
		cr_expect_eq(shmkit_event_wait_mutex(r, e, (shmkit_mutex *)(void *)e, SHORT_NS), -EINVAL,
			     "%s: an event as the mutex", bn);
		cr_expect_eq(shmkit_event_wait_mutex(r, e, NULL, SHORT_NS), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_event_wait_mutex(r, (shmkit_event *)(void *)m, m, SHORT_NS), -EINVAL,
			     "%s: a mutex as the event", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s: held throughout", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* Holds m, waits on e with it; reports the result and whether it holds m. */
static int cond_waiter(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_mutex *m = mx_at(r, 0);

	if (j->count)
		install_usr1();
	int err = shmkit_mutex_lock(r, m);
	if (err)
		return 10;
	atomic_store(&bd->ready[idx], 1);
	err = shmkit_event_wait_mutex(r, ev_at(r, 64), m, SYNC_WAIT_NS);
	atomic_store(&bd->res[idx][0], err);
	atomic_store(&bd->res[idx][1], shmkit_mutex_unlock(r, m));
	atomic_store(&bd->go[idx], 1);
	return 0;
}

Test(event, wait_mutex_signal_is_a_spurious_wakeup)
{
	const int some[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_ANON };
	FOR_BACKENDS(be, bn, some) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		struct job j = { .r = r, .name = name, .count = 1 };

		memset(bd, 0, sizeof(*bd));
		pid_t pid = kid_spawn_nth(cond_waiter, 0, &j);
		poke_until_done(pid, &eshm(ev_at(r, 64))->sleepers, 0, bn);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(bd->res[0][0], 0, "%s: %s", bn, errname(bd->res[0][0]));
		cr_expect_eq(bd->res[0][1], 0, "%s: the mutex was held again", bn);
		cr_expect_geq(bd->sigs, 1);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(event, wait_mutex_wake_and_relock_across_processes)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_mutex *m = mx_at(r, 0);
		shmkit_event *e = ev_at(r, 64);
		struct job j = { .r = r, .name = name };

		memset(bd, 0, sizeof(*bd));
		pid_t pid = kid_spawn_nth(cond_waiter, 0, &j);
		cr_assert(WAIT_FOR(atomic_load(&eshm(e)->sleepers) >= 1), "%s: asleep", bn);
		/* it gave the mutex up while it sleeps */
		cr_assert_eq(shmkit_mutex_timedlock(r, m, SYNC_WAIT_NS), 0, "%s", bn);
		cr_expect_eq(shmkit_event_wake_one(r, e), 0);
		sleep_ms(20);
		cr_expect_eq(bd->go[0], 0, "%s: it waits for the mutex", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(bd->res[0][0], 0, "%s: %s", bn, errname(bd->res[0][0]));
		cr_expect_eq(bd->res[0][1], 0, "%s: relocked", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* Locks m, wakes e, and waits to be killed holding m. */
static int wake_and_die(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);

	if (shmkit_mutex_lock(r, mx_at(r, 0)))
		return 10;
	shmkit_event_wake_all(r, ev_at(r, 64));
	sync_hang(idx);
}

Test(event, wait_mutex_relock_finds_owner_dead)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		struct job j = { .r = r, .name = name };

		memset(bd, 0, sizeof(*bd));
		pid_t w = kid_spawn_nth(cond_waiter, 0, &j);
		cr_assert(WAIT_FOR(atomic_load(&eshm(ev_at(r, 64))->sleepers) >= 1), "%s: asleep", bn);
		pid_t k = kid_spawn_nth(wake_and_die, 1, &j);
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[1])), "%s", bn);
		kid_kill(k);
		cr_expect_eq(kid_reap(w), 0);
		cr_expect_eq(bd->res[0][0], -EOWNERDEAD, "%s: %s", bn, errname(bd->res[0][0]));
		cr_expect_eq(bd->res[0][1], 0, "%s: held after -EOWNERDEAD", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- bad input and corruption ---- */

/* Every operation on @e (waits timed at @ns; wait_mutex with @m, left out
 * when @m is NULL): all must give @want. */
static void expect_refused(shmkit_region *r, shmkit_event *e, shmkit_mutex *m, int64_t ns,
			   int want, const char *what)
{
	uint32_t t;

	cr_expect_eq(shmkit_event_init(r, e), want, "%s", what);
	cr_expect_eq(shmkit_event_prepare(r, e, &t), want, "%s", what);
	cr_expect_eq(shmkit_event_wait(r, e, 0, ns), want, "%s", what);
	if (m)
		cr_expect_eq(shmkit_event_wait_mutex(r, e, m, ns), want, "%s", what);
	cr_expect_eq(shmkit_event_wake_one(r, e), want, "%s", what);
	cr_expect_eq(shmkit_event_wake_all(r, e), want, "%s", what);
}

Test(event, bad_pointers_and_regions)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		char *base = shmkit_region_base(r);
		shmkit_event local;
		shmkit_event *bad[] = {
			(shmkit_event *)(void *)(base + 4),
			(shmkit_event *)(void *)(base + 4096 - 8),
			(shmkit_event *)(void *)(base + 4096),
			(shmkit_event *)(void *)(base - 16),
			&local,
			NULL,
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char what[64];
			snprintf(what, sizeof(what), "%s #%zu", bn, i);
			expect_refused(r, bad[i], mx_at(r, 0), SHORT_NS, -EINVAL, what);
		}
		shmkit_event *e = ev_at(r, 4096 - 16);
		cr_expect_eq(shmkit_event_init(r, e), 0, "%s", bn);
		cr_expect_eq(shmkit_event_prepare(r, e, NULL), -EINVAL, "%s: NULL ticket", bn);
		expect_refused(NULL, e, mx_at(r, 0), 0, -EINVAL, "no region");
		/* the mutex of wait_mutex is checked as well */
		cr_assert_eq(shmkit_mutex_lock(r, mx_at(r, 0)), 0);
		cr_expect_eq(shmkit_event_wait_mutex(r, e, (shmkit_mutex *)(void *)(base + 4), 0), -EINVAL,
			     "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, mx_at(r, 0)), 0, "%s: still held", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
	FOR_BACKENDS(be, bn, named_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name), *ro = NULL, *pv = NULL;
		cr_assert_eq(shmkit_event_init(r, ev_at(r, 0)), 0);
		cr_assert_eq(shmkit_region_open(name, SHMKIT_RDONLY, 0, 0, &ro), 0);
		expect_refused(ro, ev_at(ro, 0), mx_at(ro, 64), SHORT_NS, -EROFS, bn);
		cr_expect_eq(shmkit_region_close(ro), 0);
		if (be != SHMKIT_BACKEND_SYSV) {
			cr_assert_eq(shmkit_region_open(name, SHMKIT_PRIVATE, 0, 0, &pv), 0);
			expect_refused(pv, ev_at(pv, 0), NULL, SHORT_NS, -EOPNOTSUPP, bn);
			cr_expect_eq(shmkit_region_close(pv), 0);
		}
		cr_expect_eq(shmkit_region_close(r), 0);
	}
	shmkit_region *raw = NULL;
	uint32_t t;
	cr_assert_eq(shmkit_region_memfd("raw", 4096, SHMKIT_RAW, &raw), 0);
	cr_expect_eq(shmkit_event_init(raw, ev_at(raw, 0)), -EOPNOTSUPP);
	cr_expect_eq(shmkit_event_prepare(raw, ev_at(raw, 0), &t), -EOPNOTSUPP);
	cr_expect_eq(shmkit_event_wake_one(raw, ev_at(raw, 0)), -EOPNOTSUPP);
	cr_expect_eq(shmkit_region_close(raw), 0);
}

Test(event, another_type_and_garbage)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_event *e = ev_at(r, 0);
		uint32_t t = 0;

		cr_assert_eq(shmkit_sem_init(r, (shmkit_sem *)(void *)e, 0), 0);
		cr_expect_eq(shmkit_event_prepare(r, e, &t), -EINVAL, "%s: a semaphore", bn);
		cr_expect_eq(shmkit_event_wait(r, e, 0, SHORT_NS), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_event_wake_one(r, e), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_event_wake_all(r, e), -EINVAL, "%s", bn);
		const uint32_t tags[] = { 0xdeadbeefu, SHMKIT_TAG(9), 0x6b73u | 4u << 16 | 3u << 24 };
		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
			atomic_store(&eshm(e)->tag, tags[i]);
			atomic_store(&eshm(e)->seq, 0);
			cr_expect_eq(shmkit_event_prepare(r, e, &t), -EBADMSG, "%s %#x", bn, tags[i]);
			cr_expect_eq(shmkit_event_wait(r, e, 0, SHORT_NS), -EBADMSG, "%s %#x", bn, tags[i]);
			cr_expect_eq(shmkit_event_wait(r, e, 0, SHMKIT_FOREVER), -EBADMSG, "%s %#x", bn,
				     tags[i]);
			cr_expect_eq(shmkit_event_wake_one(r, e), -EBADMSG, "%s %#x", bn, tags[i]);
			cr_expect_eq(shmkit_event_wake_all(r, e), -EBADMSG, "%s %#x", bn, tags[i]);
			cr_assert_eq(shmkit_mutex_lock(r, mx_at(r, 64)), 0);
			cr_expect_eq(shmkit_event_wait_mutex(r, e, mx_at(r, 64), SHORT_NS), -EBADMSG,
				     "%s %#x", bn, tags[i]);
			cr_expect_eq(shmkit_mutex_unlock(r, mx_at(r, 64)), 0, "%s: still held", bn);
			cr_expect_eq(atomic_load(&eshm(e)->seq), 0, "%s: untouched", bn);
		}
		cr_expect_eq(shmkit_event_init(r, e), 0, "%s", bn);
		cr_expect_eq(shmkit_event_wake_one(r, e), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- what stat shows ---- */

Test(event, prims_show_sequence_and_waiters)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_event *e = ev_at(r, 256);
		struct job j = { .r = r, .name = name, .off = 256 };
		struct shmkit_prim_info pi[2];

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_event_init(r, e), 0);
		for (int i = 0; i < 3; i++)
			cr_assert_eq(shmkit_event_wake_all(r, e), 0);
		pid_t pid = kid_spawn_nth(event_waiter, 0, &j);
		cr_assert(WAIT_FOR(atomic_load(&eshm(e)->sleepers) >= 1), "%s: asleep", bn);
		for (int pass = 0; pass < (name ? 2 : 1); pass++) {
			int n = prims_pass(r, name, pass, pi, 2);
			cr_assert_eq(n, 1, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].type, SHMKIT_PRIM_EVENT, "%s", bn);
			cr_expect_eq(pi[0].offset, 256, "%s", bn);
			cr_expect_eq(pi[0].corrupt, 0, "%s", bn);
			cr_expect_eq(pi[0].value, 3, "%s pass %d: the sequence", bn, pass);
			cr_expect_eq(pi[0].waiters, 1, "%s pass %d", bn, pass);
		}
		cr_expect_eq(shmkit_event_wake_one(r, e), 0);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(bd->res[0][0], 0, "%s", bn);
		cr_assert_eq(shmkit_region_prims(r, pi, 2), 1);
		cr_expect_eq(pi[0].value, 4, "%s", bn);
		cr_expect_eq(pi[0].waiters, 0, "%s", bn);
		atomic_store(&eshm(e)->tag, 0xdeadbeefu);
		cr_assert_eq(shmkit_region_prims(r, pi, 2), 1);
		cr_expect_eq(pi[0].corrupt, 1, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

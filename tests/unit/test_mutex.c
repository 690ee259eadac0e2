/* SPDX-License-Identifier: MIT */
/*
 * Description: the robust process-shared mutex on every backend (posix,
 * sysv, file, anonymous across fork, memfd): mutual exclusion under load
 * across processes, trylock/timedlock/EDEADLK/EPERM, owner death (killed,
 * killed while a waiter sleeps, closing its region), consistent and
 * ENOTRECOVERABLE, zero-filled memory as a fresh mutex, signals during a
 * wait, bad pointers, read-only/raw/private regions and garbage in the
 * words; and what shmkit_prims / shmkit_region_prims list, including a
 * corrupt directory.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "sync/layout_sync.h"
#define SYNC_MEMFD_LABEL "ut-mutex"
#include "sync_util.h"

TestSuite(mutex, .init = sync_setup, .fini = kids_teardown, .timeout = 60);

static struct shmkit_mutex_shm *mshm(shmkit_mutex *m)
{
	return (struct shmkit_mutex_shm *)(void *)m;
}

static size_t header_size(void)
{
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 8192)
		return 8192;
	return page > 65536 ? 65536 : (size_t)page;
}

static struct shmkit_hdr *hdr_of(shmkit_region *r)
{
	return (struct shmkit_hdr *)(void *)((char *)shmkit_region_base(r) - header_size());
}

static shmkit_mutex *mutex_at(shmkit_region *r, size_t off)
{
	return data_at(r, off);
}

/* ---- mutual exclusion under load ---- */

struct counted {
	volatile uint64_t counter;   /* plain: only the mutex protects it */
	volatile uint64_t shadow;
	char pad[48];
	shmkit_mutex m;              /* at offset 64 */
};

static int count_child(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	struct counted *c = shmkit_region_base(r);

	atomic_store(&bd->ready[idx], 1);
	while (!atomic_load(&bd->go[idx]))  /* spin: all start together */
		;
	for (int i = 0; i < j->count; i++) {
		int err = shmkit_mutex_lock(r, &c->m);
		if (err)
			return 10;
		uint64_t v = c->counter;
		if (c->shadow != v)
			atomic_fetch_add(&bd->violations, 1);
		for (volatile int k = 0; k < 20; k++)  /* widen the window */
			;
		c->counter = v + 1;
		c->shadow = v + 1;
		if (shmkit_mutex_unlock(r, &c->m))
			return 11;
	}
	return 0;
}

static void run_counter(int backend, int procs, int count, bool by_name)
{
	const char *name;
	shmkit_region *r = make_region(backend, 4096, &name);
	struct counted *c = shmkit_region_base(r);
	struct job j = { .r = r, .name = by_name ? name : NULL, .count = count };
	pid_t pids[SYNC_SLOTS];

	memset(bd, 0, sizeof(*bd));
	cr_assert_eq(shmkit_mutex_init(r, &c->m), 0);
	for (int i = 0; i < procs; i++)
		pids[i] = kid_spawn_nth(count_child, i, &j);
	for (int i = 0; i < procs; i++)
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[i])), "child %d ready", i);
	for (int i = 0; i < procs; i++)
		atomic_store(&bd->go[i], 1);
	for (int i = 0; i < procs; i++)
		cr_expect_eq(kid_reap(pids[i]), 0, "%s: child %d", ut_backend_names[backend], i);
	cr_expect_eq(c->counter, (uint64_t)procs * (uint64_t)count,
		     "%s: %d x %d increments gave %llu", ut_backend_names[backend], procs,
		     count, (unsigned long long)c->counter);
	cr_expect_eq(atomic_load(&bd->violations), 0);
	/* left unlocked: the parent takes it at once */
	cr_expect_eq(shmkit_mutex_trylock(r, &c->m), 0);
	cr_expect_eq(shmkit_mutex_unlock(r, &c->m), 0);
	cr_expect_eq(shmkit_region_close(r), 0);
}

Test(mutex, counter_8x100k_posix)
{
	run_counter(SHMKIT_BACKEND_POSIX, 8, 100000, true);
}

Test(mutex, counter_8x100k_sysv)
{
	run_counter(SHMKIT_BACKEND_SYSV, 8, 100000, true);
}

Test(mutex, counter_other_backends)
{
	run_counter(SHMKIT_BACKEND_FILE, 4, 20000, true);
	run_counter(SHMKIT_BACKEND_ANON, 4, 20000, false);
	run_counter(SHMKIT_BACKEND_MEMFD, 4, 20000, false);
	/* inherited handles on named backends too */
	run_counter(SHMKIT_BACKEND_POSIX, 4, 20000, false);
	run_counter(SHMKIT_BACKEND_SYSV, 4, 20000, false);
}

/* ---- busy, timeouts, deadlock, ownership ---- */

static int busy_child(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_mutex *m = mutex_at(r, j->off);

	atomic_store(&bd->res[idx][0], shmkit_mutex_trylock(r, m));
	atomic_store(&bd->res[idx][1], shmkit_mutex_timedlock(r, m, SHORT_NS));
	atomic_store(&bd->res[idx][2], shmkit_mutex_timedlock(r, m, 0));
	atomic_store(&bd->res[idx][3], shmkit_mutex_unlock(r, m));
	atomic_store(&bd->res[idx][4], shmkit_mutex_consistent(r, m));
	return 0;
}

Test(mutex, busy_and_timeout_from_another_process)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_mutex *m = mutex_at(r, 128);
		struct job j = { .r = r, .name = name, .off = 128 };

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_mutex_init(r, m), 0);
		cr_assert_eq(shmkit_mutex_lock(r, m), 0);
		cr_expect_eq(kid_reap(kid_spawn_nth(busy_child, 0, &j)), 0);
		cr_expect_eq(bd->res[0][0], -EBUSY, "%s trylock: %s", bn, errname(bd->res[0][0]));
		cr_expect_eq(bd->res[0][1], -ETIMEDOUT, "%s timedlock: %s", bn, errname(bd->res[0][1]));
		cr_expect_eq(bd->res[0][2], -ETIMEDOUT, "%s timedlock(0): %s", bn,
			     errname(bd->res[0][2]));
		cr_expect_eq(bd->res[0][3], -EPERM, "%s unlock by another process: %s", bn,
			     errname(bd->res[0][3]));
		cr_expect_eq(bd->res[0][4], -EPERM, "%s consistent by another process: %s", bn,
			     errname(bd->res[0][4]));
		/* still ours */
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), -EPERM, "%s: unlock of a free mutex", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(mutex, relock_by_same_thread_is_edeadlk)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_mutex *m = mutex_at(r, 0);

		cr_assert_eq(shmkit_mutex_init(r, m), 0);
		cr_assert_eq(shmkit_mutex_lock(r, m), 0);
		cr_expect_eq(shmkit_mutex_lock(r, m), -EDEADLK, "%s", bn);
		cr_expect_eq(shmkit_mutex_timedlock(r, m, SHORT_NS), -EDEADLK, "%s", bn);
		cr_expect_eq(shmkit_mutex_trylock(r, m), -EBUSY, "%s", bn);
		cr_expect_eq(shmkit_mutex_consistent(r, m), -EINVAL,
			     "%s: consistent on a consistent mutex", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_trylock(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_consistent(r, m), -EPERM, "%s: consistent, not held", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

struct thread_arg {
	shmkit_region *r;
	shmkit_mutex *m;
	int unlock, trylock, timed, consistent;
};

static void *other_thread(void *p)
{
	struct thread_arg *a = p;
	a->unlock = shmkit_mutex_unlock(a->r, a->m);
	a->consistent = shmkit_mutex_consistent(a->r, a->m);
	a->trylock = shmkit_mutex_trylock(a->r, a->m);
	a->timed = shmkit_mutex_timedlock(a->r, a->m, SHORT_NS);
	return NULL;
}

Test(mutex, unlock_by_another_thread_is_eperm)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		struct thread_arg a = { .r = r, .m = mutex_at(r, 64) };

		cr_assert_eq(shmkit_mutex_lock(r, a.m), 0);
		in_thread(other_thread, &a);
		cr_expect_eq(a.unlock, -EPERM, "%s: %s", bn, errname(a.unlock));
		cr_expect_eq(a.consistent, -EPERM, "%s: %s", bn, errname(a.consistent));
		/* the same attach, another thread: busy, not a deadlock */
		cr_expect_eq(a.trylock, -EBUSY, "%s: %s", bn, errname(a.trylock));
		cr_expect_eq(a.timed, -ETIMEDOUT, "%s: %s", bn, errname(a.timed));
		cr_expect_eq(shmkit_mutex_unlock(r, a.m), 0, "%s: the owner thread still holds it", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- owner death ---- */

/* In a child: its handle, and the mutex at j->off locked, the result in
 * res[idx][0]. */
static shmkit_region *child_lock(int idx, struct job *j)
{
	shmkit_region *r = child_region(j);

	atomic_store(&bd->res[idx][0], shmkit_mutex_lock(r, mutex_at(r, j->off)));
	return r;
}

/* Locks, reports, then waits to be killed. */
static int hold_child(int idx, void *arg)
{
	child_lock(idx, arg);
	sync_hang(idx);
}

/* A child that holds the lock; returns its pid once it does. */
static pid_t start_holder(struct job *j, int idx)
{
	pid_t pid = kid_spawn_nth(hold_child, idx, j);
	cr_assert(WAIT_FOR(atomic_load(&bd->ready[idx])), "holder ready");
	cr_assert_eq(bd->res[idx][0], 0, "holder locked: %s", errname(bd->res[idx][0]));
	return pid;
}

/* A child that locks and is SIGKILLed; returns its pid (reaped). */
static pid_t kill_a_holder(struct job *j, int idx)
{
	pid_t pid = start_holder(j, idx);
	kid_kill(pid);
	return pid;
}

/* In a child, after a lock of @m that gave @err: reports it in res[idx][0],
 * after -EOWNERDEAD consistent in [1], and unlock in [2]. */
static void report_repair_unlock(int idx, shmkit_region *r, shmkit_mutex *m, int err)
{
	atomic_store(&bd->res[idx][0], err);
	if (err == -EOWNERDEAD)
		atomic_store(&bd->res[idx][1], shmkit_mutex_consistent(r, m));
	if (err == 0 || err == -EOWNERDEAD)
		atomic_store(&bd->res[idx][2], shmkit_mutex_unlock(r, m));
}

/* lock (no timeout), then consistent and unlock */
static int recovering_locker(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_mutex *m = mutex_at(r, j->off);

	report_repair_unlock(idx, r, m, shmkit_mutex_lock(r, m));
	return 0;
}

Test(mutex, owner_death_then_consistent)
{
	for (size_t b = 0; b < N_BACKENDS + 1; b++) {
		int be = b < N_BACKENDS ? all_backends[b] : SHMKIT_BACKEND_ANON;
		const char *name = NULL;
		shmkit_region *r;
		if (b < N_BACKENDS) {
			r = make_region(be, 4096, &name);
		} else {
			cr_assert_eq(shmkit_region_anon(4096, SHMKIT_DEVZERO, &r), 0);
		}
		const char *bn = b < N_BACKENDS ? ut_backend_names[be] : "anon-devzero";
		shmkit_mutex *m = mutex_at(r, 256);
		struct job j = { .r = r, .name = name, .off = 256 };

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_mutex_init(r, m), 0);
		/* the next lock finds the dead owner */
		kill_a_holder(&j, 0);
		int err = shmkit_mutex_timedlock(r, m, SYNC_WAIT_NS);
		cr_expect_eq(err, -EOWNERDEAD, "%s lock after death: %s", bn, errname(err));
		cr_expect_eq(shmkit_mutex_consistent(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_timedlock(r, m, SYNC_WAIT_NS), 0, "%s: normal again", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);

		/* trylock notices a dead owner at once */
		memset(bd, 0, sizeof(*bd));
		kill_a_holder(&j, 1);
		err = shmkit_mutex_trylock(r, m);
		cr_expect_eq(err, -EOWNERDEAD, "%s trylock after death: %s", bn, errname(err));
		cr_expect_eq(shmkit_mutex_consistent(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);

		/* plain lock (no timeout) too, in a child its alarm bounds */
		memset(bd, 0, sizeof(*bd));
		kill_a_holder(&j, 2);
		atomic_store(&bd->res[3][0], 12345);
		cr_expect_eq(kid_reap(kid_spawn_nth(recovering_locker, 3, &j)), 0, "%s", bn);
		cr_expect_eq(bd->res[3][0], -EOWNERDEAD, "%s lock after death: %s", bn,
			     errname(bd->res[3][0]));
		cr_expect_eq(bd->res[3][1], 0, "%s: consistent", bn);
		cr_expect_eq(bd->res[3][2], 0, "%s: unlock", bn);
		cr_expect_eq(mshm(m)->recoveries, 3, "%s: recoveries", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(mutex, unlock_without_consistent_is_notrecoverable)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_mutex *m = mutex_at(r, 8);
		struct job j = { .r = r, .name = name, .off = 8 };

		memset(bd, 0, sizeof(*bd));
		kill_a_holder(&j, 0);  /* on a zero mutex, never initialised */
		int err = shmkit_mutex_timedlock(r, m, SYNC_WAIT_NS);
		cr_expect_eq(err, -EOWNERDEAD, "%s: %s", bn, errname(err));
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s: unlock, not repaired", bn);
		cr_expect_eq(shmkit_mutex_lock(r, m), -ENOTRECOVERABLE, "%s", bn);
		cr_expect_eq(shmkit_mutex_trylock(r, m), -ENOTRECOVERABLE, "%s", bn);
		cr_expect_eq(shmkit_mutex_timedlock(r, m, SHORT_NS), -ENOTRECOVERABLE, "%s", bn);
		/* and for another process as well */
		cr_expect_eq(kid_reap(kid_spawn_nth(busy_child, 1, &j)), 0);
		cr_expect_eq(bd->res[1][0], -ENOTRECOVERABLE, "%s, other process: %s", bn,
			     errname(bd->res[1][0]));
		cr_expect_eq(bd->res[1][1], -ENOTRECOVERABLE, "%s, other process: %s", bn,
			     errname(bd->res[1][1]));
		/* init resets it */
		cr_expect_eq(shmkit_mutex_init(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_lock(r, m), 0, "%s: usable after init", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

static int waiter_child(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_mutex *m = mutex_at(r, j->off);

	atomic_store(&bd->ready[idx], 1);
	report_repair_unlock(idx, r, m, shmkit_mutex_timedlock(r, m, SYNC_WAIT_NS));
	return 0;
}

Test(mutex, sleeping_waiter_gets_ownerdead)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_mutex *m = mutex_at(r, 512);
		struct job j = { .r = r, .name = name, .off = 512 };

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_mutex_init(r, m), 0);
		pid_t holder = start_holder(&j, 0);
		pid_t w1 = kid_spawn_nth(waiter_child, 1, &j);
		pid_t w2 = kid_spawn_nth(waiter_child, 2, &j);
		/* both asleep in the kernel before the owner dies */
		cr_assert(WAIT_FOR(atomic_load(&mshm(m)->sleepers) >= 2), "%s: waiters asleep", bn);
		kid_kill(holder);
		cr_expect_eq(kid_reap(w1), 0);
		cr_expect_eq(kid_reap(w2), 0);
		int a = bd->res[1][0], c = bd->res[2][0];
		/* exactly one of them saw the death; the other got it after the repair */
		cr_expect((a == -EOWNERDEAD && c == 0) || (a == 0 && c == -EOWNERDEAD),
			  "%s: waiters got %s and %s", bn, errname(a), errname(c));
		int k = a == -EOWNERDEAD ? 1 : 2;
		cr_expect_eq(bd->res[k][1], 0, "%s: consistent", bn);
		cr_expect_eq(bd->res[k][2], 0, "%s: unlock", bn);
		cr_expect_eq(shmkit_mutex_trylock(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* Locks, closes the region while holding it, and lives on. */
static int close_holder(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_lock(idx, j);

	atomic_store(&bd->res[idx][1], shmkit_region_close(r));
	if (j->name)  /* the inherited handle as well: no attach left */
		shmkit_region_close(j->r);
	atomic_store(&bd->ready[idx], 1);
	sync_wait_go(idx);
	return 0;
}

Test(mutex, owner_closing_region_counts_as_dead)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_mutex *m = mutex_at(r, 1024);
		struct job j = { .r = r, .name = name, .off = 1024 };

		memset(bd, 0, sizeof(*bd));
		pid_t pid = kid_spawn_nth(close_holder, 0, &j);
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[0])));
		cr_expect_eq(bd->res[0][0], 0, "%s: child locked", bn);
		cr_expect_eq(bd->res[0][1], 0, "%s: child closed", bn);
		int err = shmkit_mutex_timedlock(r, m, SYNC_WAIT_NS);
		cr_expect_eq(err, -EOWNERDEAD, "%s: holder closed its region, alive: %s", bn,
			     errname(err));
		if (err == -EOWNERDEAD) {
			cr_expect_eq(shmkit_mutex_consistent(r, m), 0);
			cr_expect_eq(shmkit_mutex_unlock(r, m), 0);
		}
		atomic_store(&bd->go[0], 1);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(mutex, close_while_holding_in_same_process)
{
	FOR_BACKENDS(be, bn, named_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name), *h = NULL;

		cr_assert_eq(shmkit_region_open(name, 0, 0, 0, &h), 0);
		cr_assert_eq(shmkit_mutex_lock(h, mutex_at(h, 0)), 0);
		cr_assert_eq(shmkit_region_close(h), 0);
		int err = shmkit_mutex_timedlock(r, mutex_at(r, 0), SYNC_WAIT_NS);
		cr_expect_eq(err, -EOWNERDEAD, "%s: %s", bn, errname(err));
		cr_expect_eq(shmkit_mutex_consistent(r, mutex_at(r, 0)), 0);
		cr_expect_eq(shmkit_mutex_unlock(r, mutex_at(r, 0)), 0);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- zero memory, signals ---- */

static int zero_child(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_mutex *m = mutex_at(r, j->off);
	uint64_t *cell = (uint64_t *)((char *)shmkit_region_base(r) + j->off + 64);

	for (int i = 0; i < j->count; i++) {
		if (shmkit_mutex_lock(r, m))
			return 10;
		(*(volatile uint64_t *)cell)++;
		if (shmkit_mutex_unlock(r, m))
			return 11;
	}
	(void)idx;
	return 0;
}

Test(mutex, zero_memory_is_an_unlocked_mutex)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 65536, &name);
		const size_t off = 40000;
		shmkit_mutex *m = mutex_at(r, off);
		struct job j = { .r = r, .name = name, .off = off, .count = 5000 };
		struct shmkit_prim_info pi[4];

		cr_expect_eq(shmkit_region_prims(r, pi, 4), 0, "%s: nothing listed yet", bn);
		cr_expect_eq(shmkit_mutex_trylock(r, m), 0, "%s: a zero mutex is free", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);
		cr_expect_eq(mshm(m)->tag, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), "%s: stamped", bn);
		cr_assert_eq(shmkit_region_prims(r, pi, 4), 1, "%s: listed on first use", bn);
		cr_expect_eq(pi[0].type, SHMKIT_PRIM_MUTEX);
		cr_expect_eq(pi[0].offset, off);
		pid_t p1 = kid_spawn_nth(zero_child, 0, &j), p2 = kid_spawn_nth(zero_child, 1, &j);
		cr_expect_eq(kid_reap(p1), 0, "%s", bn);
		cr_expect_eq(kid_reap(p2), 0, "%s", bn);
		cr_expect_eq(*(uint64_t *)((char *)shmkit_region_base(r) + off + 64), 10000, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
	/* a fresh zero mutex, first touched by two processes at once */
	shmkit_region *r = make_region(SHMKIT_BACKEND_ANON, 4096, NULL);
	struct job j = { .r = r, .off = 0, .count = 20000 };
	pid_t p1 = kid_spawn_nth(zero_child, 0, &j), p2 = kid_spawn_nth(zero_child, 1, &j);
	cr_expect_eq(kid_reap(p1), 0);
	cr_expect_eq(kid_reap(p2), 0);
	cr_expect_eq(*(uint64_t *)((char *)shmkit_region_base(r) + 64), 40000);
	struct shmkit_prim_info pi[4];
	cr_expect_eq(shmkit_region_prims(r, pi, 4), 1, "listed once");
	cr_expect_eq(shmkit_region_close(r), 0);
}

static int signalled_locker(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);

	install_usr1();
	atomic_store(&bd->ready[idx], 1);
	int err = shmkit_mutex_lock(r, mutex_at(r, j->off));
	atomic_store(&bd->res[idx][0], err);
	if (!err)
		atomic_store(&bd->res[idx][1], shmkit_mutex_unlock(r, mutex_at(r, j->off)));
	return 0;
}

Test(mutex, signal_does_not_interrupt_lock)
{
	const int some[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_ANON };
	FOR_BACKENDS(be, bn, some) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_mutex *m = mutex_at(r, 0);
		struct job j = { .r = r, .name = name, .off = 0 };

		memset(bd, 0, sizeof(*bd));
		atomic_store(&bd->res[0][0], 12345);
		cr_assert_eq(shmkit_mutex_lock(r, m), 0);
		pid_t pid = kid_spawn_nth(signalled_locker, 0, &j);
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[0])));
		poke_sleeper(pid, &mshm(m)->sleepers, bn);  /* it would have returned -EINTR */
		cr_expect_eq(atomic_load(&bd->res[0][0]), 12345, "%s: still waiting", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(bd->res[0][0], 0, "%s: lock after signals: %s", bn,
			     errname(bd->res[0][0]));
		cr_expect_eq(bd->res[0][1], 0, "%s", bn);
		cr_expect_eq(bd->sigs, 5);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- bad input and corruption ---- */

/* Every operation on @m (a timed lock of @ns): all must give @want. */
static void expect_refused(shmkit_region *r, shmkit_mutex *m, int64_t ns, int want,
			   const char *what)
{
	cr_expect_eq(shmkit_mutex_init(r, m), want, "%s", what);
	cr_expect_eq(shmkit_mutex_lock(r, m), want, "%s", what);
	cr_expect_eq(shmkit_mutex_trylock(r, m), want, "%s", what);
	cr_expect_eq(shmkit_mutex_timedlock(r, m, ns), want, "%s", what);
	cr_expect_eq(shmkit_mutex_unlock(r, m), want, "%s", what);
	cr_expect_eq(shmkit_mutex_consistent(r, m), want, "%s", what);
}

Test(mutex, bad_pointers)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		char *base = shmkit_region_base(r);
		shmkit_mutex local;
		shmkit_mutex *bad[] = {
			(shmkit_mutex *)(void *)(base + 4),         /* misaligned */
			(shmkit_mutex *)(void *)(base + 1),
			(shmkit_mutex *)(void *)(base + 4096 - 16), /* runs past the end */
			(shmkit_mutex *)(void *)(base + 4096),      /* just past */
			(shmkit_mutex *)(void *)(base - 64),        /* in the header */
			(shmkit_mutex *)(void *)(base + (1 << 20)), /* far out */
			&local,                                     /* not in the region */
			NULL,
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char what[64];
			snprintf(what, sizeof(what), "%s #%zu", bn, i);
			expect_refused(r, bad[i], SHORT_NS, -EINVAL, what);
		}
		shmkit_mutex *ok = mutex_at(r, 4096 - 32);  /* the last place that fits */
		cr_expect_eq(shmkit_mutex_init(r, ok), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_lock(r, ok), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, ok), 0, "%s", bn);
		expect_refused(NULL, ok, 0, -EINVAL, "no region");
		cr_expect_eq(shmkit_region_close(r), 0);
	}
	/* a pointer into another region's data */
	shmkit_region *a = make_region(SHMKIT_BACKEND_ANON, 4096, NULL);
	shmkit_region *c = make_region(SHMKIT_BACKEND_ANON, 4096, NULL);
	cr_expect_eq(shmkit_mutex_lock(a, mutex_at(c, 0)), -EINVAL);
	shmkit_region_close(a);
	shmkit_region_close(c);
}

Test(mutex, readonly_raw_private_regions)
{
	FOR_BACKENDS(be, bn, named_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name), *ro = NULL, *pv = NULL;

		cr_assert_eq(shmkit_mutex_init(r, mutex_at(r, 0)), 0);
		cr_assert_eq(shmkit_region_open(name, SHMKIT_RDONLY, 0, 0, &ro), 0, "%s", bn);
		expect_refused(ro, mutex_at(ro, 0), SHORT_NS, -EROFS, bn);
		/* a zero one is not stamped through a read-only mapping (no crash) */
		cr_expect_eq(shmkit_mutex_trylock(ro, mutex_at(ro, 64)), -EROFS, "%s", bn);
		cr_expect_eq(mshm(mutex_at(r, 64))->tag, 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(ro), 0);
		if (be != SHMKIT_BACKEND_SYSV) {
			cr_assert_eq(shmkit_region_open(name, SHMKIT_PRIVATE, 0, 0, &pv), 0, "%s", bn);
			expect_refused(pv, mutex_at(pv, 0), SHORT_NS, -EOPNOTSUPP, bn);
			cr_expect_eq(shmkit_region_close(pv), 0);
		}
		cr_expect_eq(shmkit_region_close(r), 0);
	}
	/* raw regions: anon, memfd, and a raw open of a named object */
	shmkit_region *raw[3] = { NULL, NULL, NULL };
	const char *pn = ut_name(SHMKIT_BACKEND_POSIX);
	cr_assert_eq(shmkit_region_anon(4096, SHMKIT_RAW, &raw[0]), 0);
	cr_assert_eq(shmkit_region_memfd("raw", 4096, SHMKIT_RAW, &raw[1]), 0);
	cr_assert_eq(shmkit_region_open(pn, SHMKIT_CREATE | SHMKIT_RAW, 4096, 0600, &raw[2]), 0);
	for (int i = 0; i < 3; i++) {
		char what[16];
		snprintf(what, sizeof(what), "raw #%d", i);
		expect_refused(raw[i], mutex_at(raw[i], 0), 0, -EOPNOTSUPP, what);
		struct shmkit_prim_info pi;
		cr_expect_eq(shmkit_region_prims(raw[i], &pi, 1), -EPROTO, "%s", what);
		cr_expect_eq(shmkit_region_close(raw[i]), 0);
	}
}

Test(mutex, another_type_is_einval)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_mutex *m = mutex_at(r, 0);

		cr_assert_eq(shmkit_sem_init(r, (shmkit_sem *)(void *)m, 1), 0);
		cr_expect_eq(shmkit_mutex_lock(r, m), -EINVAL, "%s: a semaphore", bn);
		cr_expect_eq(shmkit_mutex_trylock(r, m), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_mutex_timedlock(r, m, SHORT_NS), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_mutex_consistent(r, m), -EINVAL, "%s", bn);
		/* and the other way round */
		cr_assert_eq(shmkit_mutex_init(r, m), 0);
		cr_expect_eq(shmkit_sem_post(r, (shmkit_sem *)(void *)m), -EINVAL, "%s: a mutex", bn);
		cr_expect_eq(shmkit_sem_trywait(r, (shmkit_sem *)(void *)m), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, (shmkit_sem *)(void *)m), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_event_wake_all(r, (shmkit_event *)(void *)m), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_rwlock_tryrdlock(r, (shmkit_rwlock *)(void *)m), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_mutex_lock(r, m), 0, "%s: still a mutex", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);
		/* an event and a rwlock there too */
		shmkit_mutex *e = mutex_at(r, 64), *l = mutex_at(r, 1024);
		cr_assert_eq(shmkit_event_init(r, (shmkit_event *)(void *)e), 0);
		cr_expect_eq(shmkit_mutex_trylock(r, e), -EINVAL, "%s: an event", bn);
		cr_assert_eq(shmkit_rwlock_init(r, (shmkit_rwlock *)(void *)l), 0);
		cr_expect_eq(shmkit_mutex_trylock(r, l), -EINVAL, "%s: a rwlock", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* Every operation on @m, each bounded; all must give @want. */
static void expect_all_ops(shmkit_region *r, shmkit_mutex *m, int want, const char *what)
{
	int e;
	e = shmkit_mutex_trylock(r, m);
	cr_expect_eq(e, want, "%s: trylock %s", what, errname(e));
	e = shmkit_mutex_timedlock(r, m, 0);
	cr_expect_eq(e, want, "%s: timedlock(0) %s", what, errname(e));
	e = shmkit_mutex_timedlock(r, m, 200000000);
	cr_expect_eq(e, want, "%s: timedlock %s", what, errname(e));
}

static int lock_child(int idx, void *arg)
{
	struct job *j = arg;
	atomic_store(&bd->res[idx][0], shmkit_mutex_lock(j->r, mutex_at(j->r, j->off)));
	return 0;
}

/* shmkit_mutex_lock itself (no timeout), in a child an alarm bounds. */
static void expect_lock(shmkit_region *r, size_t off, int want, const char *what)
{
	struct job j = { .r = r, .off = off };
	atomic_store(&bd->res[9][0], 12345);
	int st = kid_reap(kid_spawn_nth(lock_child, 9, &j));
	cr_expect_eq(st, 0, "%s: lock did not return (status %d)", what, st);
	cr_expect_eq(bd->res[9][0], want, "%s: lock %s", what, errname(bd->res[9][0]));
}

Test(mutex, garbage_words_are_ebadmsg)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_mutex *m = mutex_at(r, 0);
		struct shmkit_mutex_shm *s = mshm(m);
		struct { const char *what; uint32_t word, tag, state; } cases[] = {
			{ "tag 0xdeadbeef", 0, 0xdeadbeefu, 0 },
			{ "tag of version 2", 0, 0x6b73u | 1u << 16 | 2u << 24, 0 },
			{ "tag of type 9", 0, SHMKIT_TAG(9), 0 },
			{ "slot 127", 0x7fu, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), 0 },
			{ "slot 121", 121u | 5u << 7, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), 0 },
			{ "slot 0, gen set", 3u << 7, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), 0 },
			{ "slot 127 + waiters", 0x8000007fu, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), 0 },
			{ "reserved bit", 0x40000000u | 1u, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), 0 },
			{ "reserved bit alone", 0x40000000u, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), 0 },
			{ "state 7", 0, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), 7 },
			{ "state 3", 0, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), 3 },
			{ "state 0xffffffff", 0, SHMKIT_TAG(SHMKIT_PRIM_MUTEX), 0xffffffffu },
		};
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char what[64];
			snprintf(what, sizeof(what), "%s %s", bn, cases[i].what);
			atomic_store(&s->tag, cases[i].tag);
			atomic_store(&s->state, cases[i].state);
			atomic_store(&s->word, cases[i].word);
			expect_all_ops(r, m, -EBADMSG, what);
			expect_lock(r, 0, -EBADMSG, what);
			/* the words are left as they were: no one took the lock */
			cr_expect_eq(s->tag, cases[i].tag, "%s", what);
			cr_expect_eq(s->word & 0x7fffffffu, cases[i].word & 0x7fffffffu, "%s", what);
			int e = shmkit_mutex_unlock(r, m);
			cr_expect(e == -EBADMSG || e == -EPERM, "%s: unlock %s", what, errname(e));
			e = shmkit_mutex_consistent(r, m);
			cr_expect(e == -EBADMSG || e == -EPERM, "%s: consistent %s", what, errname(e));
		}
		/* init repairs it */
		cr_expect_eq(shmkit_mutex_init(r, m), 0, "%s", bn);
		cr_expect_eq(shmkit_mutex_lock(r, m), 0, "%s", bn);
		/* state garbage while held: unlock gives it up for good */
		atomic_store(&s->state, 7);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0, "%s", bn);
		int e = shmkit_mutex_trylock(r, m);
		cr_expect(e == -ENOTRECOVERABLE || e == -EBADMSG, "%s: %s", bn, errname(e));
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- what stat shows: shmkit_prims and shmkit_region_prims ---- */

static const struct shmkit_prim_info *find_off(const struct shmkit_prim_info *pi, int n,
					       uint64_t off)
{
	for (int i = 0; i < n; i++)
		if (pi[i].offset == off)
			return &pi[i];
	return NULL;
}

Test(mutex, prims_list_every_type)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 65536, &name);
		char *base = shmkit_region_base(r);
		struct shmkit_prim_info pi[8];

		cr_assert_eq(shmkit_mutex_init(r, (shmkit_mutex *)(void *)(base + 0)), 0);
		cr_assert_eq(shmkit_sem_init(r, (shmkit_sem *)(void *)(base + 64), 7), 0);
		cr_assert_eq(shmkit_rwlock_init(r, (shmkit_rwlock *)(void *)(base + 1024)), 0);
		cr_assert_eq(shmkit_event_init(r, (shmkit_event *)(void *)(base + 4096)), 0);
		/* first use of zero ones lists them too */
		cr_assert_eq(shmkit_sem_post(r, (shmkit_sem *)(void *)(base + 8192)), 0);
		cr_assert_eq(shmkit_event_wake_one(r, (shmkit_event *)(void *)(base + 8208)), 0);
		/* init again: listed once */
		cr_assert_eq(shmkit_mutex_init(r, (shmkit_mutex *)(void *)(base + 0)), 0);

		const struct { uint64_t off; int type; uint32_t value; } want[] = {
			{ 0, SHMKIT_PRIM_MUTEX, 0 }, { 64, SHMKIT_PRIM_SEM, 7 },
			{ 1024, SHMKIT_PRIM_RWLOCK, 0 }, { 4096, SHMKIT_PRIM_EVENT, 0 },
			{ 8192, SHMKIT_PRIM_SEM, 1 }, { 8208, SHMKIT_PRIM_EVENT, 1 },
		};
		for (int pass = 0; pass < (name ? 2 : 1); pass++) {
			int n = prims_pass(r, name, pass, pi, 8);
			const char *how = pass ? "by name" : "region";
			cr_assert_eq(n, 6, "%s %s: %d listed", bn, how, n);
			for (size_t k = 0; k < 6; k++) {
				const struct shmkit_prim_info *p = find_off(pi, n, want[k].off);
				cr_assert_not_null(p, "%s %s: offset %llu", bn, how,
						   (unsigned long long)want[k].off);
				cr_expect_eq(p->type, want[k].type, "%s %s: offset %llu", bn, how,
					     (unsigned long long)want[k].off);
				cr_expect_eq(p->corrupt, 0, "%s %s", bn, how);
				cr_expect_eq(p->locked, 0, "%s %s", bn, how);
				cr_expect_eq(p->value, want[k].value, "%s %s: offset %llu value %u", bn,
					     how, (unsigned long long)want[k].off, p->value);
			}
		}
		/* the count, whatever the capacity */
		cr_expect_eq(shmkit_region_prims(r, pi, 2), 6, "%s", bn);
		cr_expect_eq(shmkit_region_prims(r, NULL, 0), 6, "%s", bn);
		cr_expect_eq(shmkit_region_prims(r, NULL, 1), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_region_prims(NULL, pi, 1), -EINVAL, "%s", bn);
		/* a primitive re-initialised as another type changes its entry */
		cr_assert_eq(shmkit_sem_init(r, (shmkit_sem *)(void *)(base + 0), 3), 0);
		cr_assert_eq(shmkit_region_prims(r, pi, 8), 6, "%s", bn);
		const struct shmkit_prim_info *p = find_off(pi, 6, 0);
		cr_assert_not_null(p);
		cr_expect_eq(p->type, SHMKIT_PRIM_SEM, "%s: re-typed", bn);
		cr_expect_eq(p->value, 3, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(mutex, prims_directory_holds_40)
{
	shmkit_region *r = make_region(SHMKIT_BACKEND_POSIX, 65536, NULL);
	struct shmkit_prim_info pi[64];

	for (int i = 0; i < 45; i++)
		cr_assert_eq(shmkit_mutex_init(r, mutex_at(r, (size_t)i * 64)), 0);
	cr_expect_eq(shmkit_region_prims(r, pi, 64), 40);
	/* the 45th works all the same */
	cr_expect_eq(shmkit_mutex_lock(r, mutex_at(r, 44 * 64)), 0);
	cr_expect_eq(shmkit_mutex_unlock(r, mutex_at(r, 44 * 64)), 0);
	cr_expect_eq(shmkit_region_close(r), 0);
}

Test(mutex, prims_show_owner_alive_and_dead)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_mutex *m = mutex_at(r, 2048);
		struct job j = { .r = r, .name = name, .off = 2048 };
		struct shmkit_prim_info pi[4];

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_mutex_init(r, m), 0);
		pid_t pid = start_holder(&j, 0);
		for (int pass = 0; pass < (name ? 2 : 1); pass++) {
			int n = prims_pass(r, name, pass, pi, 4);
			cr_assert_eq(n, 1, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].type, SHMKIT_PRIM_MUTEX);
			cr_expect_eq(pi[0].offset, 2048);
			cr_expect_eq(pi[0].corrupt, 0);
			cr_expect_eq(pi[0].locked, 1, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].owner_pid, pid, "%s pass %d: owner %d, holder %d", bn, pass,
				     pi[0].owner_pid, (int)pid);
			cr_expect_eq(pi[0].owner_alive, 1, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].state, 0);
		}
		kid_kill(pid);
		for (int pass = 0; pass < (name ? 2 : 1); pass++) {
			int n = prims_pass(r, name, pass, pi, 4);
			cr_assert_eq(n, 1, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].locked, 1, "%s pass %d: still held by the dead", bn, pass);
			cr_expect_eq(pi[0].owner_alive, 0, "%s pass %d: owner_alive %d", bn, pass,
				     pi[0].owner_alive);
		}
		cr_expect_eq(shmkit_mutex_timedlock(r, m, SYNC_WAIT_NS), -EOWNERDEAD, "%s", bn);
		cr_assert_eq(shmkit_region_prims(r, pi, 4), 1);
		cr_expect_eq(pi[0].owner_pid, getpid(), "%s", bn);
		cr_expect_eq(pi[0].owner_alive, 1, "%s", bn);
		cr_expect_eq(pi[0].state, 1, "%s: owner died", bn);
		cr_expect_eq(pi[0].recoveries, 1, "%s", bn);
		cr_expect_eq(shmkit_mutex_unlock(r, m), 0);
		cr_assert_eq(shmkit_region_prims(r, pi, 4), 1);
		cr_expect_eq(pi[0].locked, 0, "%s", bn);
		cr_expect_eq(pi[0].owner_pid, 0, "%s", bn);
		cr_expect_eq(pi[0].state, 2, "%s: not recoverable", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(mutex, prims_waiters_counted)
{
	shmkit_region *r = make_region(SHMKIT_BACKEND_POSIX, 4096, NULL);
	shmkit_mutex *m = mutex_at(r, 0);
	struct job j = { .r = r, .off = 0 };
	struct shmkit_prim_info pi;

	memset(bd, 0, sizeof(*bd));
	cr_assert_eq(shmkit_mutex_lock(r, m), 0);
	pid_t w = kid_spawn_nth(waiter_child, 1, &j);
	cr_assert(WAIT_FOR(shmkit_region_prims(r, &pi, 1) == 1 && pi.waiters == 1));
	cr_expect_eq(shmkit_mutex_unlock(r, m), 0);
	cr_expect_eq(kid_reap(w), 0);
	cr_expect_eq(bd->res[1][0], 0);
	cr_assert_eq(shmkit_region_prims(r, &pi, 1), 1);
	cr_expect_eq(pi.waiters, 0);
	cr_expect_eq(shmkit_region_close(r), 0);
}

Test(mutex, prims_corrupt_directory)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		const size_t size = 8192;
		shmkit_region *r = make_region(be, size, &name);
		char *base = shmkit_region_base(r);
		struct shmkit_hdr *h = hdr_of(r);
		struct shmkit_prim_info pi[48];

		cr_assert_eq(h->magic, SHMKIT_MAGIC, "%s: the header is where we think", bn);
		cr_assert_eq(shmkit_mutex_init(r, mutex_at(r, 0)), 0);       /* a good one */
		/* primitives with garbage words, listed in the directory */
		cr_assert_eq(shmkit_mutex_init(r, mutex_at(r, 64)), 0);
		atomic_store(&mshm(mutex_at(r, 64))->tag, 0xdeadbeefu);
		cr_assert_eq(shmkit_mutex_init(r, mutex_at(r, 128)), 0);
		atomic_store(&mshm(mutex_at(r, 128))->word, 0x7fu);
		cr_assert_eq(shmkit_mutex_init(r, mutex_at(r, 192)), 0);
		atomic_store(&mshm(mutex_at(r, 192))->state, 7u);
		cr_assert_eq(shmkit_sem_init(r, (shmkit_sem *)(void *)(base + 256), 0), 0);
		atomic_store(&((struct shmkit_sem_shm *)(void *)(base + 256))->value, 0x80000000u);
		cr_assert_eq(shmkit_rwlock_init(r, (shmkit_rwlock *)(void *)(base + 1024)), 0);
		atomic_store(&((struct shmkit_rwlock_shm *)(void *)(base + 1024))->w.word, 0x40000001u);
		cr_assert_eq(shmkit_event_init(r, (shmkit_event *)(void *)(base + 320)), 0);
		atomic_store(&((struct shmkit_event_shm *)(void *)(base + 320))->tag, 0x12345678u);
		/* and directory entries that cannot be */
		const uint64_t bogus[] = {
			0xffffffffffffffffULL,                                  /* type 255 */
			(uint64_t)9 << 56 | 512,                                /* type 9 */
			(uint64_t)0 << 56 | 576,                                /* type 0 */
			(uint64_t)SHMKIT_PRIM_MUTEX << 56 | 4,                  /* misaligned */
			(uint64_t)SHMKIT_PRIM_MUTEX << 56 | size,               /* past the end */
			(uint64_t)SHMKIT_PRIM_MUTEX << 56 | (size - 16),        /* runs past */
			(uint64_t)SHMKIT_PRIM_RWLOCK << 56 | (size - 512),      /* runs past */
			(uint64_t)SHMKIT_PRIM_SEM << 56 | 0x00ffffffffffff00ULL, /* far out */
			(uint64_t)SHMKIT_PRIM_EVENT << 56 | 0x00fffffffffffff8ULL,
		};
		const int first = 7;  /* entries 0..6 are ours */
		for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++)
			atomic_store(&h->sync_dir[first + i], bogus[i]);
		const int total = first + (int)(sizeof(bogus) / sizeof(bogus[0]));
		for (int pass = 0; pass < (name ? 2 : 1); pass++) {
			int n = prims_pass(r, name, pass, pi, 48);
			cr_assert_eq(n, total, "%s pass %d: %d", bn, pass, n);
			for (int i = 0; i < n; i++) {
				if (i == 0) {
					cr_expect_eq(pi[i].corrupt, 0, "%s pass %d: the good mutex", bn, pass);
					cr_expect_eq(pi[i].type, SHMKIT_PRIM_MUTEX);
					cr_expect_eq(pi[i].offset, 0);
				} else {
					cr_expect_eq(pi[i].corrupt, 1, "%s pass %d: entry %d (type %d off %llu)",
						     bn, pass, i, pi[i].type,
						     (unsigned long long)pi[i].offset);
				}
			}
		}
		/* the good one still works, the bad ones refuse */
		cr_expect_eq(shmkit_mutex_lock(r, mutex_at(r, 0)), 0);
		cr_expect_eq(shmkit_mutex_unlock(r, mutex_at(r, 0)), 0);
		cr_expect_eq(shmkit_mutex_trylock(r, mutex_at(r, 64)), -EBADMSG, "%s", bn);
		cr_expect_eq(shmkit_mutex_trylock(r, mutex_at(r, 128)), -EBADMSG, "%s", bn);
		cr_expect_eq(shmkit_mutex_trylock(r, mutex_at(r, 192)), -EBADMSG, "%s", bn);
		/* a new primitive: the directory has room after the garbage */
		cr_assert_eq(shmkit_mutex_init(r, mutex_at(r, 4096)), 0);
		cr_expect_eq(shmkit_region_prims(r, pi, 48), total + 1, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* A periodic signal cuts every sleep short; the owner is still checked
 * once per poll period, so an untimed lock finds its dead owner (it once
 * never did, and hung). */
static void on_tick(int sig)
{
	(void)sig;
}

static int lock_under_ticks(shmkit_region *r, shmkit_mutex *m)
{
	struct sigaction sa = { .sa_handler = on_tick };  /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval every2ms = { { 0, 2000 }, { 0, 2000 } };
	setitimer(ITIMER_REAL, &every2ms, NULL);
	return shmkit_mutex_lock(r, m) == -EOWNERDEAD ? 0 : 1;
}

Test(mutex, dead_owner_found_under_a_periodic_signal)
{
	for (int b = 0; b < 2; b++) {
		int backend = b ? SHMKIT_BACKEND_SYSV : SHMKIT_BACKEND_POSIX;
		shmkit_region *r = make_region(backend, 4096, NULL);
		shmkit_mutex *m = shmkit_region_base(r);
		int status;
		pid_t pid = fork();
		if (pid == 0)
			_exit(shmkit_mutex_lock(r, m) == 0 ? 0 : 1);  /* dies holding it */
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		pid = fork();
		if (pid == 0)
			_exit(lock_under_ticks(r, m));
		/* bounded: 10 s is a thousand poll periods */
		pid_t got = 0;
		for (int i = 0; i < 1000 && got == 0; i++) {
			got = waitpid(pid, &status, WNOHANG);
			if (got == 0)
				usleep(10000);
		}
		if (got == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			cr_assert_fail("%s: lock under a 2 ms timer never found the dead owner",
				       ut_backend_names[backend]);
		}
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "%s: lock under a 2 ms timer did not give -EOWNERDEAD",
			  ut_backend_names[backend]);
		shmkit_region_close(r);
	}
}

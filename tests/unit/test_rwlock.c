/* SPDX-License-Identifier: MIT */
/*
 * Description: the robust writer-preferring rwlock on every backend (posix,
 * sysv, file, anonymous across fork, memfd): the exclusion invariant with
 * reader and writer processes under load, tryrdlock/trywrlock -EBUSY,
 * timeouts, EDEADLK and EPERM, a dead reader's holds dropped (also when its
 * peer slot is reused), a dead writer giving -EOWNERDEAD to writers and
 * readers until consistent, ENOTRECOVERABLE, writer preference, signals,
 * bad pointers and garbage words, and what shmkit_region_prims shows.
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
#define SYNC_MEMFD_LABEL "ut-rwlock"
#include "sync_util.h"

TestSuite(rwlock, .init = sync_setup, .fini = kids_teardown, .timeout = 60);

static shmkit_rwlock *rw_at(shmkit_region *r, size_t off)
{
	return data_at(r, off);
}

static struct shmkit_rwlock_shm *lshm(shmkit_rwlock *l)
{
	return (struct shmkit_rwlock_shm *)(void *)l;
}

enum { RD = 0, WR = 1 };

/* rdlock or wrlock, by @mode */
static int lock_as(int mode, shmkit_region *r, shmkit_rwlock *l)
{
	return mode == WR ? shmkit_rwlock_wrlock(r, l) : shmkit_rwlock_rdlock(r, l);
}

static int timedlock_as(int mode, shmkit_region *r, shmkit_rwlock *l, int64_t ns)
{
	return mode == WR ? shmkit_rwlock_timedwrlock(r, l, ns) : shmkit_rwlock_timedrdlock(r, l, ns);
}

static int trylock_as(int mode, shmkit_region *r, shmkit_rwlock *l)
{
	return mode == WR ? shmkit_rwlock_trywrlock(r, l) : shmkit_rwlock_tryrdlock(r, l);
}

static int unlock_as(int mode, shmkit_region *r, shmkit_rwlock *l)
{
	return mode == WR ? shmkit_rwlock_wrunlock(r, l) : shmkit_rwlock_rdunlock(r, l);
}

/* Takes the lock (j->count: RD or WR), reports, and waits to be killed. */
static int hold_child(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);

	atomic_store(&bd->res[idx][0], lock_as(j->count, r, rw_at(r, j->off)));
	sync_hang(idx);
}

/* Takes the lock, reports, waits for go, unlocks. */
static int hold_release_child(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_rwlock *l = rw_at(r, j->off);
	int err = timedlock_as(j->count, r, l, SYNC_WAIT_NS);

	atomic_store(&bd->res[idx][0], err);
	atomic_store(&bd->ready[idx], 1);
	sync_wait_go(idx);
	if (err == 0 || err == -EOWNERDEAD)
		err = unlock_as(j->count, r, l);
	atomic_store(&bd->res[idx][1], err);
	return 0;
}

/* rdlock then wrlock, without timeouts (the child's alarm bounds them) */
static int blocking_ops(int idx, void *arg)
{
	struct job *j = arg;
	atomic_store(&bd->res[idx][0], shmkit_rwlock_rdlock(j->r, rw_at(j->r, j->off)));
	atomic_store(&bd->res[idx][1], shmkit_rwlock_wrlock(j->r, rw_at(j->r, j->off)));
	return 0;
}

/* Starts a holder and waits until it holds; returns its pid. */
static pid_t start_holder(int (*fn)(int, void *), int idx, struct job *j, int mode)
{
	j->count = mode;
	pid_t pid = kid_spawn_nth(fn, idx, j);
	cr_assert(WAIT_FOR(atomic_load(&bd->ready[idx])), "holder %d ready", idx);
	cr_assert_eq(bd->res[idx][0], 0, "holder %d locked: %s", idx, errname(bd->res[idx][0]));
	return pid;
}

/* ---- the invariant under load ---- */

struct shared {
	_Atomic int readers_inside;
	_Atomic int writers_inside;
	_Atomic int max_readers;
	volatile uint64_t a, b;   /* a writer bumps both; a reader sees them equal */
	char pad[32];
	shmkit_rwlock l;          /* at offset 64 */
};

/* The i-th lock (by @mode) of a load child: plain, timed, or tried until it
 * gets in. */
static int load_lock(int mode, shmkit_region *r, shmkit_rwlock *l, int i)
{
	int err;

	switch (i % 3) {
	case 0:
		return lock_as(mode, r, l);
	case 1:
		return timedlock_as(mode, r, l, SYNC_WAIT_NS);
	default:
		while ((err = trylock_as(mode, r, l)) == -EBUSY)
			sched_yield();
		return err;
	}
}

/* A reader's i-th turn inside: no writer in, and a and b equal. */
static void reader_inside(struct shared *sh, int i)
{
	int n = atomic_fetch_add(&sh->readers_inside, 1) + 1;
	int m = atomic_load(&sh->max_readers);
	while (n > m && !atomic_compare_exchange_weak(&sh->max_readers, &m, n))
		;
	if (atomic_load(&sh->writers_inside) != 0)
		atomic_fetch_add(&bd->violations, 1);
	uint64_t a = sh->a;
	if ((i & 15) == 0)
		sched_yield();
	if (sh->b != a)
		atomic_fetch_add(&bd->violations, 1);
	atomic_fetch_sub(&sh->readers_inside, 1);
}

/* A writer's i-th turn inside: alone, it bumps a and b. */
static void writer_inside(struct shared *sh, int i)
{
	if (atomic_fetch_add(&sh->writers_inside, 1) != 0)
		atomic_fetch_add(&bd->violations, 1);
	if (atomic_load(&sh->readers_inside) != 0)
		atomic_fetch_add(&bd->violations, 1);
	sh->a = sh->a + 1;
	if ((i & 7) == 0)
		sched_yield();
	sh->b = sh->b + 1;
	if (atomic_load(&sh->readers_inside) != 0)
		atomic_fetch_add(&bd->violations, 1);
	atomic_fetch_sub(&sh->writers_inside, 1);
}

/* After go[0]: j->count turns of @inside, each under the lock by @mode. */
static int load_child(int idx, struct job *j, int mode, void (*inside)(struct shared *, int))
{
	shmkit_region *r = child_region(j);
	struct shared *sh = shmkit_region_base(r);

	atomic_store(&bd->ready[idx], 1);
	sync_wait_go(0);
	for (int i = 0; i < j->count; i++) {
		int err = load_lock(mode, r, &sh->l, i);
		if (err) {
			atomic_store(&bd->res[idx][0], err);
			return 10;
		}
		inside(sh, i);
		err = unlock_as(mode, r, &sh->l);
		if (err) {
			atomic_store(&bd->res[idx][1], err);
			return 11;
		}
	}
	return 0;
}

static int load_reader(int idx, void *arg)
{
	return load_child(idx, arg, RD, reader_inside);
}

static int load_writer(int idx, void *arg)
{
	return load_child(idx, arg, WR, writer_inside);
}

static void run_load(int backend, bool by_name, int readers, int writers, int rd_iter,
		     int wr_iter)
{
	const char *name;
	shmkit_region *r = make_region(backend, 4096, &name);
	struct shared *sh = shmkit_region_base(r);
	struct job jr = { .r = r, .name = by_name ? name : NULL, .count = rd_iter };
	struct job jw = { .r = r, .name = by_name ? name : NULL, .count = wr_iter };
	const char *bn = ut_backend_names[backend];
	pid_t pids[SYNC_SLOTS];
	int n = 0;

	memset(bd, 0, sizeof(*bd));
	cr_assert_eq(shmkit_rwlock_init(r, &sh->l), 0);
	for (int i = 0; i < readers; i++, n++)
		pids[n] = kid_spawn_nth(load_reader, n, &jr);
	for (int i = 0; i < writers; i++, n++)
		pids[n] = kid_spawn_nth(load_writer, n, &jw);
	for (int i = 0; i < n; i++)
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[i])));
	atomic_store(&bd->go[0], 1);
	for (int i = 0; i < n; i++)
		cr_expect_eq(kid_reap(pids[i]), 0, "%s: child %d: %s %s", bn, i, errname(bd->res[i][0]),
			     errname(bd->res[i][1]));
	cr_expect_eq(atomic_load(&bd->violations), 0, "%s: exclusion violated", bn);
	cr_expect_eq(sh->a, (uint64_t)writers * (uint64_t)wr_iter, "%s", bn);
	cr_expect_eq(sh->b, sh->a, "%s", bn);
	cr_log_info("%s: up to %d readers inside at once", bn, atomic_load(&sh->max_readers));
	/* free at the end */
	cr_expect_eq(shmkit_rwlock_trywrlock(r, &sh->l), 0, "%s", bn);
	cr_expect_eq(shmkit_rwlock_wrunlock(r, &sh->l), 0, "%s", bn);
	cr_expect_eq(shmkit_region_close(r), 0);
}

Test(rwlock, invariant_3_readers_2_writers_posix)
{
	run_load(SHMKIT_BACKEND_POSIX, true, 3, 2, 200000, 50000);
}

Test(rwlock, invariant_3_readers_2_writers_sysv)
{
	run_load(SHMKIT_BACKEND_SYSV, true, 3, 2, 200000, 50000);
}

Test(rwlock, invariant_other_backends)
{
	run_load(SHMKIT_BACKEND_FILE, true, 3, 2, 20000, 5000);
	run_load(SHMKIT_BACKEND_ANON, false, 3, 2, 20000, 5000);
	run_load(SHMKIT_BACKEND_MEMFD, false, 3, 2, 20000, 5000);
}

/* ---- busy, timeouts, deadlock, ownership ---- */

/* A @mode lock of @l, held elsewhere: busy to a try, timed out when timed. */
static void expect_busy(int mode, shmkit_region *r, shmkit_rwlock *l, const char *bn)
{
	cr_expect_eq(trylock_as(mode, r, l), -EBUSY, "%s", bn);
	cr_expect_eq(timedlock_as(mode, r, l, SHORT_NS), -ETIMEDOUT, "%s", bn);
	cr_expect_eq(timedlock_as(mode, r, l, 0), -ETIMEDOUT, "%s", bn);
}

Test(rwlock, busy_against_another_process)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_rwlock *l = rw_at(r, 1024);
		struct job j = { .r = r, .name = name, .off = 1024 };

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_rwlock_init(r, l), 0);
		/* write-locked by a child */
		pid_t pid = start_holder(hold_release_child, 0, &j, WR);
		expect_busy(RD, r, l, bn);
		expect_busy(WR, r, l, bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), -EPERM, "%s: not the writer", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), -EPERM, "%s: no read hold", bn);
		cr_expect_eq(shmkit_rwlock_consistent(r, l), -EPERM, "%s", bn);
		atomic_store(&bd->go[0], 1);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(bd->res[0][1], 0, "%s: the child's wrunlock", bn);
		cr_expect_eq(shmkit_rwlock_tryrdlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);

		/* read-locked by a child */
		pid = start_holder(hold_release_child, 1, &j, RD);
		expect_busy(WR, r, l, bn);
		cr_expect_eq(shmkit_rwlock_tryrdlock(r, l), 0, "%s: readers share", bn);
		cr_expect_eq(shmkit_rwlock_timedrdlock(r, l, SHORT_NS), 0, "%s: readers share", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), -EPERM, "%s: the child's hold is not ours", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), -EPERM, "%s", bn);
		atomic_store(&bd->go[1], 1);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(bd->res[1][1], 0, "%s: the child's rdunlock", bn);
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(rwlock, same_thread_edeadlk_and_eperm)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_rwlock *l = rw_at(r, 0);

		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), -EPERM, "%s: rdunlock, not held", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), -EPERM, "%s: wrunlock, not held", bn);
		cr_expect_eq(shmkit_rwlock_consistent(r, l), -EPERM, "%s", bn);
		cr_assert_eq(shmkit_rwlock_wrlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrlock(r, l), -EDEADLK, "%s", bn);
		cr_expect_eq(shmkit_rwlock_timedwrlock(r, l, SHORT_NS), -EDEADLK, "%s", bn);
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), -EBUSY, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdlock(r, l), -EDEADLK, "%s", bn);
		cr_expect_eq(shmkit_rwlock_timedrdlock(r, l, SHORT_NS), -EDEADLK, "%s", bn);
		cr_expect_eq(shmkit_rwlock_tryrdlock(r, l), -EBUSY, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), -EPERM, "%s: a writer is no reader", bn);
		cr_expect_eq(shmkit_rwlock_consistent(r, l), -EINVAL, "%s: nothing to repair", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), -EPERM, "%s: twice", bn);
		/* read holds nest; a writer in the same attach waits for them */
		cr_assert_eq(shmkit_rwlock_rdlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), -EBUSY, "%s", bn);
		cr_expect_eq(shmkit_rwlock_timedwrlock(r, l, SHORT_NS), -ETIMEDOUT, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), -EPERM, "%s: a reader is no writer", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), -EBUSY, "%s: one hold left", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), -EPERM, "%s: one unlock too many", bn);
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

struct thread_arg {
	shmkit_region *r;
	shmkit_rwlock *l;
	int wrunlock, rdunlock, trywr, tryrd;
};

static void *other_thread(void *p)
{
	struct thread_arg *a = p;
	a->wrunlock = shmkit_rwlock_wrunlock(a->r, a->l);
	a->rdunlock = shmkit_rwlock_rdunlock(a->r, a->l);
	a->trywr = shmkit_rwlock_trywrlock(a->r, a->l);
	a->tryrd = shmkit_rwlock_tryrdlock(a->r, a->l);
	return NULL;
}

Test(rwlock, wrunlock_by_another_thread_is_eperm)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		struct thread_arg a = { .r = r, .l = rw_at(r, 2048) };

		cr_assert_eq(shmkit_rwlock_wrlock(r, a.l), 0);
		in_thread(other_thread, &a);
		cr_expect_eq(a.wrunlock, -EPERM, "%s: %s", bn, errname(a.wrunlock));
		cr_expect_eq(a.rdunlock, -EPERM, "%s: %s", bn, errname(a.rdunlock));
		cr_expect_eq(a.trywr, -EBUSY, "%s: %s", bn, errname(a.trywr));
		cr_expect_eq(a.tryrd, -EBUSY, "%s: %s", bn, errname(a.tryrd));
		cr_expect_eq(shmkit_rwlock_wrunlock(r, a.l), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- writer preference ---- */

static int try_reader(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_rwlock *l = rw_at(r, j->off);

	atomic_store(&bd->res[idx][0], shmkit_rwlock_tryrdlock(r, l));
	atomic_store(&bd->res[idx][1], shmkit_rwlock_timedrdlock(r, l, SHORT_NS));
	return 0;
}

Test(rwlock, waiting_writer_blocks_new_readers)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_rwlock *l = rw_at(r, 0);
		struct shmkit_rwlock_shm *s = lshm(l);
		struct job jw = { .r = r, .name = name, .off = 0, .count = WR };
		struct job jr = { .r = r, .name = name, .off = 0, .count = RD };

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_rwlock_rdlock(r, l), 0);
		pid_t w = kid_spawn_nth(hold_release_child, 0, &jw);
		/* the writer holds w and sleeps until the readers leave */
		cr_assert(WAIT_FOR(atomic_load(&s->w.word) != 0 && atomic_load(&s->dsleepers) >= 1),
			  "%s: writer waiting", bn);
		cr_expect_eq(bd->ready[0], 0, "%s: the writer waits", bn);
		/* a new reader is turned away, even while readers are in */
		cr_expect_eq(kid_reap(kid_spawn_nth(try_reader, 1, &jr)), 0);
		cr_expect_eq(bd->res[1][0], -EBUSY, "%s: tryrdlock %s", bn, errname(bd->res[1][0]));
		cr_expect_eq(bd->res[1][1], -ETIMEDOUT, "%s: timedrdlock %s", bn, errname(bd->res[1][1]));
		cr_expect_eq(shmkit_rwlock_tryrdlock(r, l), -EBUSY, "%s: the parent too", bn);
		/* a reader waiting behind the writer gets in after it */
		pid_t rd = kid_spawn_nth(hold_release_child, 2, &jr);
		cr_assert(WAIT_FOR(atomic_load(&s->rsleepers) >= 1), "%s: reader parked", bn);
		cr_expect_eq(bd->ready[2], 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0);
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[0])), "%s: writer in", bn);
		cr_expect_eq(bd->res[0][0], 0, "%s: writer %s", bn, errname(bd->res[0][0]));
		cr_expect_eq(bd->ready[2], 0, "%s: the reader still waits", bn);
		atomic_store(&bd->go[0], 1);
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[2])), "%s: reader in", bn);
		cr_expect_eq(bd->res[2][0], 0, "%s: reader %s", bn, errname(bd->res[2][0]));
		atomic_store(&bd->go[2], 1);
		cr_expect_eq(kid_reap(w), 0);
		cr_expect_eq(kid_reap(rd), 0);
		cr_expect_eq(bd->res[0][1], 0, "%s", bn);
		cr_expect_eq(bd->res[2][1], 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- dead readers ---- */

Test(rwlock, dead_reader_holds_are_dropped)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_rwlock *l = rw_at(r, 64);
		struct job j = { .r = r, .name = name, .off = 64 };

		memset(bd, 0, sizeof(*bd));
		/* a plain writer lock finds it */
		kid_kill(start_holder(hold_child, 0, &j, RD));
		int err = shmkit_rwlock_timedwrlock(r, l, SYNC_WAIT_NS);
		cr_expect_eq(err, 0, "%s: wrlock after a reader died: %s", bn, errname(err));
		if (!err)
			cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0);
		/* trywrlock asks at once */
		kid_kill(start_holder(hold_child, 1, &j, RD));
		err = shmkit_rwlock_trywrlock(r, l);
		cr_expect_eq(err, 0, "%s: trywrlock after a reader died: %s", bn, errname(err));
		if (!err)
			cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0);
		/* a writer already asleep waiting for the reader */
		pid_t rd = start_holder(hold_child, 2, &j, RD);
		j.count = WR;
		pid_t w = kid_spawn_nth(hold_release_child, 3, &j);
		cr_assert(WAIT_FOR(atomic_load(&lshm(l)->dsleepers) >= 1), "%s: writer asleep", bn);
		kid_kill(rd);
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[3])), "%s: writer got in", bn);
		cr_expect_eq(bd->res[3][0], 0, "%s: %s", bn, errname(bd->res[3][0]));
		atomic_store(&bd->go[3], 1);
		cr_expect_eq(kid_reap(w), 0);
		cr_expect_eq(bd->res[3][1], 0, "%s", bn);
		/* the lock is consistent: a dead reader changed no data */
		cr_expect_eq(shmkit_rwlock_tryrdlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* Another attach of this process read-locks at offset 0 and closes. */
static void rdlock_and_close(const char *name)
{
	shmkit_region *h = NULL;

	cr_assert_eq(shmkit_region_open(name, 0, 0, 0, &h), 0);
	cr_assert_eq(shmkit_rwlock_rdlock(h, rw_at(h, 0)), 0);
	cr_assert_eq(shmkit_region_close(h), 0);
}

/* trywrlock, then a wrlock timed at 200 ms, each let go if it got in; what
 * they returned in err[0] and err[1]. */
static void try_then_timed_wrlock(shmkit_region *r, shmkit_rwlock *l, int err[2])
{
	err[0] = shmkit_rwlock_trywrlock(r, l);
	if (err[0] == 0)
		shmkit_rwlock_wrunlock(r, l);
	err[1] = shmkit_rwlock_timedwrlock(r, l, 200000000);
	if (err[1] == 0)
		shmkit_rwlock_wrunlock(r, l);
}

Test(rwlock, reader_closing_region_drops_its_holds)
{
	FOR_BACKENDS(be, bn, named_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);

		rdlock_and_close(name);
		int err = shmkit_rwlock_timedwrlock(r, rw_at(r, 0), SYNC_WAIT_NS);
		cr_expect_eq(err, 0, "%s: %s", bn, errname(err));
		if (!err)
			cr_expect_eq(shmkit_rwlock_wrunlock(r, rw_at(r, 0)), 0);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* In a fresh child (so a fresh peer slot, maybe the dead reader's): write
 * lock, within a bound. */
static int late_writer(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	int err[2];

	try_then_timed_wrlock(r, rw_at(r, j->off), err);
	atomic_store(&bd->res[idx][0], err[0]);
	atomic_store(&bd->res[idx][1], err[1]);
	return 0;
}

Test(rwlock, dead_reader_in_a_reused_slot_is_dropped)
{
	/* the dead reader's peer slot is taken by the next attach, which then
	 * write-locks: the old holds are a dead attach's, not its own */
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		struct job j = { .r = r, .off = 0 };

		memset(bd, 0, sizeof(*bd));
		kid_kill(start_holder(hold_child, 0, &j, RD));
		cr_expect_eq(kid_reap(kid_spawn_nth(late_writer, 1, &j)), 0);
		cr_expect_eq(bd->res[1][0], 0, "%s: trywrlock in the reused slot: %s", bn,
			     errname(bd->res[1][0]));
		cr_expect_eq(bd->res[1][1], 0, "%s: timedwrlock in the reused slot: %s", bn,
			     errname(bd->res[1][1]));
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(rwlock, reader_closing_then_reopening_can_write)
{
	/* the same in one process: hold, close (the holds are dropped), reopen
	 * (the same free slot comes back), write-lock */
	FOR_BACKENDS(be, bn, named_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name), *h = NULL;
		int err[2];

		rdlock_and_close(name);
		cr_assert_eq(shmkit_region_open(name, 0, 0, 0, &h), 0);
		try_then_timed_wrlock(h, rw_at(h, 0), err);
		cr_expect_eq(err[0], 0, "%s: trywrlock: %s", bn, errname(err[0]));
		cr_expect_eq(err[1], 0, "%s: timedwrlock: %s", bn, errname(err[1]));
		cr_expect_eq(shmkit_region_close(h), 0);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(rwlock, garbage_holds_of_free_slots_are_dropped)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_rwlock *l = rw_at(r, 0);
		struct shmkit_rwlock_shm *s = lshm(l);

		cr_assert_eq(shmkit_rwlock_init(r, l), 0);
		atomic_store(&s->readers[100], (uint64_t)12345 << 32 | 3);
		atomic_store(&s->readers[119], 0xffffffffffffffffULL);
		int err = shmkit_rwlock_timedwrlock(r, l, SYNC_WAIT_NS);
		cr_expect_eq(err, 0, "%s: %s", bn, errname(err));
		if (!err)
			cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- dead writers ---- */

static int other_reader(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_rwlock *l = rw_at(r, j->off);
	int err = shmkit_rwlock_tryrdlock(r, l);

	atomic_store(&bd->res[idx][0], err);
	if (err == 0 || err == -EOWNERDEAD)
		atomic_store(&bd->res[idx][1], shmkit_rwlock_rdunlock(r, l));
	atomic_store(&bd->res[idx][2], shmkit_rwlock_trywrlock(r, l));
	return 0;
}

Test(rwlock, dead_writer_next_writer_ownerdead)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_rwlock *l = rw_at(r, 128);
		struct job j = { .r = r, .name = name, .off = 128 };

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_rwlock_init(r, l), 0);
		kid_kill(start_holder(hold_child, 0, &j, WR));
		int err = shmkit_rwlock_timedwrlock(r, l, SYNC_WAIT_NS);
		cr_expect_eq(err, -EOWNERDEAD, "%s: %s", bn, errname(err));
		cr_expect_eq(shmkit_rwlock_consistent(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_consistent(r, l), -EINVAL, "%s: already", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_tryrdlock(r, l), 0, "%s: normal again", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		/* trywrlock notices a dead writer at once */
		kid_kill(start_holder(hold_child, 1, &j, WR));
		err = shmkit_rwlock_trywrlock(r, l);
		cr_expect_eq(err, -EOWNERDEAD, "%s: trywrlock %s", bn, errname(err));
		cr_expect_eq(shmkit_rwlock_consistent(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(lshm(l)->w.recoveries, 2, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(rwlock, dead_writer_readers_ownerdead_until_consistent)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_rwlock *l = rw_at(r, 0);
		struct job j = { .r = r, .name = name, .off = 0 };

		memset(bd, 0, sizeof(*bd));
		kid_kill(start_holder(hold_child, 0, &j, WR));
		int err = shmkit_rwlock_timedrdlock(r, l, SYNC_WAIT_NS);
		cr_expect_eq(err, -EOWNERDEAD, "%s: reader after a writer died: %s", bn, errname(err));
		/* with the read lock held: a writer cannot get in */
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), -EBUSY, "%s: the read lock is held", bn);
		/* another reader gets it too */
		cr_expect_eq(kid_reap(kid_spawn_nth(other_reader, 1, &j)), 0);
		cr_expect_eq(bd->res[1][0], -EOWNERDEAD, "%s: other reader %s", bn,
			     errname(bd->res[1][0]));
		cr_expect_eq(bd->res[1][1], 0, "%s: its rdunlock", bn);
		cr_expect_eq(bd->res[1][2], -EBUSY, "%s: trywrlock while we read", bn);
		cr_expect_eq(shmkit_rwlock_consistent(r, l), -EPERM, "%s: readers cannot repair", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		/* still inconsistent for readers */
		err = shmkit_rwlock_timedrdlock(r, l, SYNC_WAIT_NS);
		cr_expect_eq(err, -EOWNERDEAD, "%s: again %s", bn, errname(err));
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		/* a writer repairs it */
		err = shmkit_rwlock_timedwrlock(r, l, SYNC_WAIT_NS);
		cr_expect_eq(err, -EOWNERDEAD, "%s: writer %s", bn, errname(err));
		cr_expect_eq(shmkit_rwlock_consistent(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_timedrdlock(r, l, SYNC_WAIT_NS), 0, "%s: consistent again", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		cr_expect_eq(kid_reap(kid_spawn_nth(other_reader, 2, &j)), 0);
		cr_expect_eq(bd->res[2][0], 0, "%s: other reader %s", bn, errname(bd->res[2][0]));
		cr_expect_eq(bd->res[2][2], 0, "%s: other writer %s", bn, errname(bd->res[2][2]));
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

static int sleeping_reader(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_rwlock *l = rw_at(r, j->off);

	int err = shmkit_rwlock_timedrdlock(r, l, SYNC_WAIT_NS);
	atomic_store(&bd->res[idx][0], err);
	if (err == 0 || err == -EOWNERDEAD)
		atomic_store(&bd->res[idx][1], shmkit_rwlock_rdunlock(r, l));
	return 0;
}

Test(rwlock, sleeping_reader_gets_ownerdead)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_rwlock *l = rw_at(r, 0);
		struct job j = { .r = r, .name = name, .off = 0 };

		memset(bd, 0, sizeof(*bd));
		pid_t wr = start_holder(hold_child, 0, &j, WR);
		pid_t r1 = kid_spawn_nth(sleeping_reader, 1, &j), r2 = kid_spawn_nth(sleeping_reader, 2, &j);
		cr_assert(WAIT_FOR(atomic_load(&lshm(l)->rsleepers) >= 2), "%s: readers asleep", bn);
		kid_kill(wr);
		cr_expect_eq(kid_reap(r1), 0);
		cr_expect_eq(kid_reap(r2), 0);
		for (int k = 1; k <= 2; k++) {
			cr_expect_eq(bd->res[k][0], -EOWNERDEAD, "%s reader %d: %s", bn, k,
				     errname(bd->res[k][0]));
			cr_expect_eq(bd->res[k][1], 0, "%s", bn);
		}
		/* (that it counts exactly one recovery: see
		 * dead_writer_found_by_many_is_recovered_once) */
		cr_expect_geq(lshm(l)->w.recoveries, 1, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(rwlock, wrunlock_without_consistent_is_notrecoverable)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_rwlock *l = rw_at(r, 0);
		struct job j = { .r = r, .name = name, .off = 0 };

		memset(bd, 0, sizeof(*bd));
		kid_kill(start_holder(hold_child, 0, &j, WR));
		cr_expect_eq(shmkit_rwlock_timedwrlock(r, l, SYNC_WAIT_NS), -EOWNERDEAD, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_tryrdlock(r, l), -ENOTRECOVERABLE, "%s", bn);
		cr_expect_eq(shmkit_rwlock_timedrdlock(r, l, SHORT_NS), -ENOTRECOVERABLE, "%s", bn);
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), -ENOTRECOVERABLE, "%s", bn);
		cr_expect_eq(shmkit_rwlock_timedwrlock(r, l, SHORT_NS), -ENOTRECOVERABLE, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), -EPERM, "%s: no hold was left behind", bn);
		/* rdlock and wrlock (no timeout) in a child its alarm bounds */
		atomic_store(&bd->res[2][0], 12345);
		atomic_store(&bd->res[2][1], 12345);
		cr_expect_eq(kid_reap(kid_spawn_nth(blocking_ops, 2, &j)), 0, "%s", bn);
		cr_expect_eq(bd->res[2][0], -ENOTRECOVERABLE, "%s: rdlock %s", bn, errname(bd->res[2][0]));
		cr_expect_eq(bd->res[2][1], -ENOTRECOVERABLE, "%s: wrlock %s", bn, errname(bd->res[2][1]));
		cr_expect_eq(kid_reap(kid_spawn_nth(other_reader, 1, &j)), 0);
		cr_expect_eq(bd->res[1][0], -ENOTRECOVERABLE, "%s: other process %s", bn,
			     errname(bd->res[1][0]));
		cr_expect_eq(bd->res[1][2], -ENOTRECOVERABLE, "%s: other process %s", bn,
			     errname(bd->res[1][2]));
		cr_expect_eq(shmkit_rwlock_init(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrlock(r, l), 0, "%s: usable after init", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- signals ---- */

static int signalled_locker(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_rwlock *l = rw_at(r, j->off);

	install_usr1();
	atomic_store(&bd->ready[idx], 1);
	int err = lock_as(j->count, r, l);
	atomic_store(&bd->res[idx][0], err);
	if (!err)
		atomic_store(&bd->res[idx][1], unlock_as(j->count, r, l));
	return 0;
}

Test(rwlock, signal_does_not_interrupt_wait)
{
	const int some[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_ANON };
	FOR_BACKENDS(be, bn, some) {
		for (int mode = RD; mode <= WR; mode++) {
			const char *name;
			shmkit_region *r = make_region(be, 4096, &name);
			shmkit_rwlock *l = rw_at(r, 0);
			struct shmkit_rwlock_shm *s = lshm(l);
			struct job j = { .r = r, .name = name, .off = 0, .count = mode };
			/* a reader waits for our write lock; a writer for our read lock */
			const int ours = mode == RD ? WR : RD;

			memset(bd, 0, sizeof(*bd));
			atomic_store(&bd->res[0][0], 12345);
			cr_assert_eq(lock_as(ours, r, l), 0);
			pid_t pid = kid_spawn_nth(signalled_locker, 0, &j);
			cr_assert(WAIT_FOR(atomic_load(&bd->ready[0])));
			poke_sleeper(pid, mode == RD ? &s->rsleepers : &s->dsleepers, bn);
			cr_expect_eq(atomic_load(&bd->res[0][0]), 12345, "%s mode %d: still waiting", bn, mode);
			cr_expect_eq(unlock_as(ours, r, l), 0);
			cr_expect_eq(kid_reap(pid), 0);
			cr_expect_eq(bd->res[0][0], 0, "%s mode %d: %s", bn, mode, errname(bd->res[0][0]));
			cr_expect_eq(bd->res[0][1], 0, "%s", bn);
			cr_expect_eq(shmkit_region_close(r), 0);
		}
	}
}

/* ---- bad input and corruption ---- */

Test(rwlock, bad_pointers_and_regions)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		char *base = shmkit_region_base(r);
		shmkit_rwlock *bad[] = {
			(shmkit_rwlock *)(void *)(base + 4),
			(shmkit_rwlock *)(void *)(base + 4096 - 1016),  /* 1 KiB does not fit */
			(shmkit_rwlock *)(void *)(base + 4096),
			(shmkit_rwlock *)(void *)(base - 1024),
			NULL,
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			cr_expect_eq(shmkit_rwlock_init(r, bad[i]), -EINVAL, "%s #%zu", bn, i);
			cr_expect_eq(shmkit_rwlock_rdlock(r, bad[i]), -EINVAL, "%s #%zu", bn, i);
			cr_expect_eq(shmkit_rwlock_tryrdlock(r, bad[i]), -EINVAL, "%s #%zu", bn, i);
			cr_expect_eq(shmkit_rwlock_timedrdlock(r, bad[i], SHORT_NS), -EINVAL, "%s #%zu", bn, i);
			cr_expect_eq(shmkit_rwlock_rdunlock(r, bad[i]), -EINVAL, "%s #%zu", bn, i);
			cr_expect_eq(shmkit_rwlock_wrlock(r, bad[i]), -EINVAL, "%s #%zu", bn, i);
			cr_expect_eq(shmkit_rwlock_trywrlock(r, bad[i]), -EINVAL, "%s #%zu", bn, i);
			cr_expect_eq(shmkit_rwlock_timedwrlock(r, bad[i], SHORT_NS), -EINVAL, "%s #%zu", bn, i);
			cr_expect_eq(shmkit_rwlock_wrunlock(r, bad[i]), -EINVAL, "%s #%zu", bn, i);
			cr_expect_eq(shmkit_rwlock_consistent(r, bad[i]), -EINVAL, "%s #%zu", bn, i);
		}
		shmkit_rwlock *ok = rw_at(r, 4096 - 1024);
		cr_expect_eq(shmkit_rwlock_init(r, ok), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_init(NULL, ok), -EINVAL);
		cr_expect_eq(shmkit_rwlock_rdlock(NULL, ok), -EINVAL);
		cr_expect_eq(shmkit_rwlock_wrlock(NULL, ok), -EINVAL);
		cr_expect_eq(shmkit_rwlock_rdunlock(NULL, ok), -EINVAL);
		cr_expect_eq(shmkit_rwlock_wrunlock(NULL, ok), -EINVAL);
		cr_expect_eq(shmkit_rwlock_consistent(NULL, ok), -EINVAL);
		/* another type there */
		shmkit_rwlock *other = rw_at(r, 0);
		cr_assert_eq(shmkit_mutex_init(r, (shmkit_mutex *)(void *)other), 0);
		cr_expect_eq(shmkit_rwlock_rdlock(r, other), -EINVAL, "%s: a mutex", bn);
		cr_expect_eq(shmkit_rwlock_wrlock(r, other), -EINVAL, "%s: a mutex", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, other), -EINVAL, "%s: a mutex", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, other), -EINVAL, "%s: a mutex", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
	FOR_BACKENDS(be, bn, named_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name), *ro = NULL, *pv = NULL;
		cr_assert_eq(shmkit_region_open(name, SHMKIT_RDONLY, 0, 0, &ro), 0);
		shmkit_rwlock *l = rw_at(ro, 0);
		cr_expect_eq(shmkit_rwlock_init(ro, l), -EROFS, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdlock(ro, l), -EROFS, "%s", bn);
		cr_expect_eq(shmkit_rwlock_tryrdlock(ro, l), -EROFS, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrlock(ro, l), -EROFS, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(ro, l), -EROFS, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(ro, l), -EROFS, "%s", bn);
		cr_expect_eq(shmkit_rwlock_consistent(ro, l), -EROFS, "%s", bn);
		cr_expect_eq(shmkit_region_close(ro), 0);
		if (be != SHMKIT_BACKEND_SYSV) {
			cr_assert_eq(shmkit_region_open(name, SHMKIT_PRIVATE, 0, 0, &pv), 0);
			l = rw_at(pv, 0);
			cr_expect_eq(shmkit_rwlock_init(pv, l), -EOPNOTSUPP, "%s", bn);
			cr_expect_eq(shmkit_rwlock_rdlock(pv, l), -EOPNOTSUPP, "%s", bn);
			cr_expect_eq(shmkit_rwlock_wrlock(pv, l), -EOPNOTSUPP, "%s", bn);
			cr_expect_eq(shmkit_region_close(pv), 0);
		}
		cr_expect_eq(shmkit_region_close(r), 0);
	}
	shmkit_region *raw = NULL;
	cr_assert_eq(shmkit_region_anon(4096, SHMKIT_RAW, &raw), 0);
	cr_expect_eq(shmkit_rwlock_init(raw, rw_at(raw, 0)), -EOPNOTSUPP);
	cr_expect_eq(shmkit_rwlock_rdlock(raw, rw_at(raw, 0)), -EOPNOTSUPP);
	cr_expect_eq(shmkit_rwlock_wrlock(raw, rw_at(raw, 0)), -EOPNOTSUPP);
	cr_expect_eq(shmkit_region_close(raw), 0);
}

Test(rwlock, garbage_words_are_ebadmsg)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_rwlock *l = rw_at(r, 0);
		struct shmkit_rwlock_shm *s = lshm(l);
		struct { const char *what; uint32_t word, tag, state; } cases[] = {
			{ "tag 0xdeadbeef", 0, 0xdeadbeefu, 0 },
			{ "tag of type 9", 0, SHMKIT_TAG(9), 0 },
			{ "slot 127", 0x7fu, SHMKIT_TAG(SHMKIT_PRIM_RWLOCK), 0 },
			{ "slot 0, gen set", 5u << 7, SHMKIT_TAG(SHMKIT_PRIM_RWLOCK), 0 },
			{ "reserved bit", 0x40000001u, SHMKIT_TAG(SHMKIT_PRIM_RWLOCK), 0 },
			{ "state 7", 0, SHMKIT_TAG(SHMKIT_PRIM_RWLOCK), 7 },
		};
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char what[64];
			snprintf(what, sizeof(what), "%s %s", bn, cases[i].what);
			atomic_store(&s->w.tag, cases[i].tag);
			atomic_store(&s->w.state, cases[i].state);
			atomic_store(&s->w.word, cases[i].word);
			int e;
			e = shmkit_rwlock_tryrdlock(r, l);
			cr_expect_eq(e, -EBADMSG, "%s: tryrdlock %s", what, errname(e));
			e = shmkit_rwlock_timedrdlock(r, l, 200000000);
			cr_expect_eq(e, -EBADMSG, "%s: timedrdlock %s", what, errname(e));
			e = shmkit_rwlock_trywrlock(r, l);
			cr_expect_eq(e, -EBADMSG, "%s: trywrlock %s", what, errname(e));
			e = shmkit_rwlock_timedwrlock(r, l, 200000000);
			cr_expect_eq(e, -EBADMSG, "%s: timedwrlock %s", what, errname(e));
			struct job j = { .r = r, .off = 0 };
			atomic_store(&bd->res[0][0], 12345);
			atomic_store(&bd->res[0][1], 12345);
			int st = kid_reap(kid_spawn_nth(blocking_ops, 0, &j));
			cr_expect_eq(st, 0, "%s: rdlock/wrlock did not return (status %d)", what, st);
			cr_expect_eq(bd->res[0][0], -EBADMSG, "%s: rdlock %s", what, errname(bd->res[0][0]));
			cr_expect_eq(bd->res[0][1], -EBADMSG, "%s: wrlock %s", what, errname(bd->res[0][1]));
			cr_expect_eq(s->w.word, cases[i].word, "%s: untouched", what);
			cr_expect_eq(s->readers[0] & 0xffffffffu, 0, "%s: no read hold left", what);
		}
		cr_expect_eq(shmkit_rwlock_init(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(rwlock, zero_memory_is_an_unlocked_rwlock)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 8192, NULL);
		shmkit_rwlock *l = rw_at(r, 4096);
		struct shmkit_prim_info pi;

		cr_expect_eq(shmkit_rwlock_tryrdlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_trywrlock(r, l), 0, "%s", bn);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0, "%s", bn);
		cr_assert_eq(shmkit_region_prims(r, &pi, 1), 1, "%s: listed on first use", bn);
		cr_expect_eq(pi.type, SHMKIT_PRIM_RWLOCK);
		cr_expect_eq(pi.offset, 4096);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- what stat shows ---- */

Test(rwlock, prims_show_writer_and_read_holds)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_rwlock *l = rw_at(r, 2048);
		struct job j = { .r = r, .name = name, .off = 2048 };
		struct shmkit_prim_info pi[2];

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_rwlock_init(r, l), 0);
		pid_t w = start_holder(hold_child, 0, &j, WR);
		for (int pass = 0; pass < (name ? 2 : 1); pass++) {
			int n = prims_pass(r, name, pass, pi, 2);
			cr_assert_eq(n, 1, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].type, SHMKIT_PRIM_RWLOCK);
			cr_expect_eq(pi[0].offset, 2048);
			cr_expect_eq(pi[0].locked, 1, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].owner_pid, w, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].owner_alive, 1, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].value, 0, "%s pass %d", bn, pass);
		}
		kid_kill(w);
		cr_assert_eq(shmkit_region_prims(r, pi, 2), 1);
		cr_expect_eq(pi[0].owner_alive, 0, "%s: the writer died", bn);
		cr_expect_eq(shmkit_rwlock_timedwrlock(r, l, SYNC_WAIT_NS), -EOWNERDEAD, "%s", bn);
		cr_expect_eq(shmkit_rwlock_consistent(r, l), 0);
		cr_expect_eq(shmkit_rwlock_wrunlock(r, l), 0);
		/* two readers in, one dies: its holds do not count */
		pid_t r1 = start_holder(hold_child, 1, &j, RD);
		pid_t r2 = start_holder(hold_child, 2, &j, RD);
		cr_assert_eq(shmkit_rwlock_rdlock(r, l), 0);
		cr_assert_eq(shmkit_rwlock_rdlock(r, l), 0);
		for (int pass = 0; pass < (name ? 2 : 1); pass++) {
			int n = prims_pass(r, name, pass, pi, 2);
			cr_assert_eq(n, 1);
			cr_expect_eq(pi[0].locked, 0, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].value, 4, "%s pass %d: read holds %u", bn, pass, pi[0].value);
			cr_expect_eq(pi[0].recoveries, 1, "%s pass %d", bn, pass);
		}
		kid_kill(r1);
		cr_assert_eq(shmkit_region_prims(r, pi, 2), 1);
		cr_expect_eq(pi[0].value, 3, "%s: read holds %u", bn, pi[0].value);
		kid_kill(r2);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0);
		cr_expect_eq(shmkit_rwlock_rdunlock(r, l), 0);
		cr_assert_eq(shmkit_region_prims(r, pi, 2), 1);
		cr_expect_eq(pi[0].value, 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- many waiters find the same dead writer ---- */

static int repairing_writer(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_rwlock *l = rw_at(r, j->off);
	int err = shmkit_rwlock_timedwrlock(r, l, SYNC_WAIT_NS);

	atomic_store(&bd->res[idx][0], err);
	if (err == -EOWNERDEAD)
		atomic_store(&bd->res[idx][1], shmkit_rwlock_consistent(r, l));
	if (err == 0 || err == -EOWNERDEAD)
		atomic_store(&bd->res[idx][2], shmkit_rwlock_wrunlock(r, l));
	return 0;
}

Test(rwlock, dead_writer_found_by_many_is_recovered_once)
{
	/* readers and a writer asleep when the writer dies: one recovery, and
	 * the writer's repair sticks (the lock is consistent afterwards).  A
	 * race between the finders shows in some rounds only, hence many. */
	const int rounds = 40, readers = 8;
	int double_counted = 0, repair_lost = 0;
	for (int round = 0; round < rounds; round++) {
		shmkit_region *r = make_region(SHMKIT_BACKEND_ANON, 4096, NULL);
		shmkit_rwlock *l = rw_at(r, 0);
		struct shmkit_rwlock_shm *s = lshm(l);
		struct job j = { .r = r, .off = 0 };
		pid_t rd[16];

		memset(bd, 0, sizeof(*bd));
		pid_t w = start_holder(hold_child, 0, &j, WR);
		for (int i = 0; i < readers; i++)
			rd[i] = kid_spawn_nth(sleeping_reader, 1 + i, &j);
		pid_t fixer = kid_spawn_nth(repairing_writer, 20, &j);
		cr_assert(WAIT_FOR(atomic_load(&s->rsleepers) >= (uint32_t)readers &&
				   atomic_load(&s->w.sleepers) >= 1), "round %d: all asleep", round);
		kid_kill(w);
		for (int i = 0; i < readers; i++) {
			cr_expect_eq(kid_reap(rd[i]), 0);
			int e = bd->res[1 + i][0];
			cr_expect(e == -EOWNERDEAD || e == 0, "round %d reader %d: %s", round, i, errname(e));
		}
		cr_expect_eq(kid_reap(fixer), 0);
		cr_expect_eq(bd->res[20][0], -EOWNERDEAD, "round %d: writer %s", round,
			     errname(bd->res[20][0]));
		cr_expect_eq(bd->res[20][1], 0, "round %d: consistent", round);
		cr_expect_eq(bd->res[20][2], 0, "round %d: wrunlock", round);
		double_counted += s->w.recoveries != 1;
		int e = shmkit_rwlock_trywrlock(r, l);
		repair_lost += e != 0;
		if (e == 0 || e == -EOWNERDEAD)
			shmkit_rwlock_wrunlock(r, l);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
	cr_expect_eq(double_counted, 0, "%d of %d rounds counted the death more than once",
		     double_counted, rounds);
	cr_expect_eq(repair_lost, 0, "%d of %d rounds lost the writer's repair (lock not consistent)",
		     repair_lost, rounds);
}

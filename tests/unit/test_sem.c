/* SPDX-License-Identifier: MIT */
/*
 * Description: the process-shared counting semaphore on every backend
 * (posix, sysv, file, anonymous across fork, memfd): counts, trywait,
 * timedwait, value, a post waking a waiter in another process, overflow at
 * SHMKIT_SEM_VALUE_MAX, -EINTR from a wait a signal handler interrupts, a
 * producer/consumer run between processes, bad pointers and garbage words;
 * and the named semaphore (shmkit_sem_open) on posix, sysv and file names:
 * create, open from another process, SHMKIT_EXCL, a plain region's name,
 * removal, and what shmkit_prims shows.
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
#define SYNC_MEMFD_LABEL "ut-sem"
#include "sync_util.h"

TestSuite(sem, .init = sync_setup, .fini = kids_teardown, .timeout = 60);

static shmkit_sem *sem_at(shmkit_region *r, size_t off)
{
	return data_at(r, off);
}

static struct shmkit_sem_shm *sshm(shmkit_sem *s)
{
	return (struct shmkit_sem_shm *)(void *)s;
}

/* ---- counting ---- */

Test(sem, counts_trywait_timedwait_value)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_sem *s = sem_at(r, 16);

		cr_assert_eq(shmkit_sem_init(r, s, 5), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 5, "%s", bn);
		for (int i = 0; i < 5; i++)
			cr_expect_eq(shmkit_sem_trywait(r, s), 0, "%s: unit %d", bn, i);
		cr_expect_eq(shmkit_sem_trywait(r, s), -EAGAIN, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_timedwait(r, s, 0), -ETIMEDOUT, "%s", bn);
		cr_expect_eq(shmkit_sem_timedwait(r, s, SHORT_NS), -ETIMEDOUT, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 0, "%s: a timeout takes nothing", bn);
		for (int i = 0; i < 3; i++)
			cr_expect_eq(shmkit_sem_post(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 3, "%s", bn);
		cr_expect_eq(shmkit_sem_wait(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_timedwait(r, s, SYNC_WAIT_NS), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_timedwait(r, s, 0), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 0, "%s", bn);
		/* init resets the count */
		cr_assert_eq(shmkit_sem_init(r, s, 2), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 2, "%s", bn);
		cr_assert_eq(shmkit_sem_init(r, s, 0), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_init(r, s, SHMKIT_SEM_VALUE_MAX), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), SHMKIT_SEM_VALUE_MAX, "%s", bn);
		cr_expect_eq(shmkit_sem_init(r, s, (unsigned)SHMKIT_SEM_VALUE_MAX + 1), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_sem_init(r, s, 0xffffffffu), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), SHMKIT_SEM_VALUE_MAX, "%s: untouched", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(sem, zero_memory_is_a_sem_of_value_0)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_sem *s = sem_at(r, 4080);
		struct shmkit_prim_info pi;

		cr_expect_eq(shmkit_sem_value(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_trywait(r, s), -EAGAIN, "%s", bn);
		cr_expect_eq(shmkit_sem_post(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 1, "%s", bn);
		cr_expect_eq(sshm(s)->tag, SHMKIT_TAG(SHMKIT_PRIM_SEM), "%s", bn);
		cr_assert_eq(shmkit_region_prims(r, &pi, 1), 1, "%s: listed on first use", bn);
		cr_expect_eq(pi.type, SHMKIT_PRIM_SEM);
		cr_expect_eq(pi.offset, 4080);
		cr_expect_eq(pi.value, 1);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(sem, overflow_at_value_max)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_sem *s = sem_at(r, 0);

		cr_assert_eq(shmkit_sem_init(r, s, SHMKIT_SEM_VALUE_MAX), 0);
		cr_expect_eq(shmkit_sem_post(r, s), -EOVERFLOW, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), SHMKIT_SEM_VALUE_MAX, "%s", bn);
		cr_assert_eq(shmkit_sem_init(r, s, SHMKIT_SEM_VALUE_MAX - 1), 0);
		cr_expect_eq(shmkit_sem_post(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_post(r, s), -EOVERFLOW, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), SHMKIT_SEM_VALUE_MAX, "%s", bn);
		cr_expect_eq(shmkit_sem_trywait(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_post(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), SHMKIT_SEM_VALUE_MAX, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- across processes ---- */

static int waiting_child(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_sem *s = sem_at(r, j->off);

	atomic_store(&bd->ready[idx], 1);
	/* odd children wait without a timeout (their alarm bounds them) */
	int err = (idx & 1) ? shmkit_sem_wait(r, s) : shmkit_sem_timedwait(r, s, SYNC_WAIT_NS);
	atomic_store(&bd->res[idx][0], err);
	return 0;
}

Test(sem, post_wakes_waiter_in_another_process)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_sem *s = sem_at(r, 256);
		struct job j = { .r = r, .name = name, .off = 256 };

		memset(bd, 0, sizeof(*bd));
		for (int k = 0; k < 2; k++)
			atomic_store(&bd->res[k][0], 12345);
		cr_assert_eq(shmkit_sem_init(r, s, 0), 0);
		pid_t p0 = kid_spawn_nth(waiting_child, 0, &j), p1 = kid_spawn_nth(waiting_child, 1, &j);
		cr_assert(WAIT_FOR(atomic_load(&sshm(s)->sleepers) >= 2), "%s: both asleep", bn);
		cr_expect_eq(bd->res[0][0], 12345, "%s: nothing returned yet", bn);
		cr_expect_eq(bd->res[1][0], 12345, "%s: nothing returned yet", bn);
		cr_expect_eq(shmkit_sem_post(r, s), 0);
		/* one post, one waiter through */
		cr_assert(WAIT_FOR(bd->res[0][0] != 12345 || bd->res[1][0] != 12345), "%s", bn);
		sleep_ms(20);
		cr_expect((bd->res[0][0] == 12345) != (bd->res[1][0] == 12345),
			  "%s: exactly one woke: %d %d", bn, bd->res[0][0], bd->res[1][0]);
		cr_expect_eq(shmkit_sem_post(r, s), 0);
		cr_expect_eq(kid_reap(p0), 0);
		cr_expect_eq(kid_reap(p1), 0);
		cr_expect_eq(bd->res[0][0], 0, "%s timedwait: %s", bn, errname(bd->res[0][0]));
		cr_expect_eq(bd->res[1][0], 0, "%s wait: %s", bn, errname(bd->res[1][0]));
		cr_expect_eq(shmkit_sem_value(r, s), 0, "%s", bn);
		cr_expect_eq(atomic_load(&sshm(s)->sleepers), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* A poster killed between its increment and its wake (or a woken waiter
 * killed before it took the unit) leaves a unit no sleeper was told of:
 * a sleeper must find it anyway (it looks again every poll period). */
Test(sem, unit_no_sleeper_was_told_of_is_taken)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_sem *s = sem_at(r, 256);
		struct job j = { .r = r, .name = name, .off = 256 };

		memset(bd, 0, sizeof(*bd));
		for (int k = 0; k < 4; k++)
			atomic_store(&bd->res[k][0], 12345);
		cr_assert_eq(shmkit_sem_init(r, s, 0), 0);
		/* odd: waits without a timeout, which could end their sleep */
		pid_t p1 = kid_spawn_nth(waiting_child, 1, &j), p3 = kid_spawn_nth(waiting_child, 3, &j);
		cr_assert(WAIT_FOR(atomic_load(&sshm(s)->sleepers) >= 2), "%s: both asleep", bn);
		sleep_ms(50);  /* into the kernel's sleep, past their last look */
		/* the dead poster's increment, without its wake */
		atomic_fetch_add(&sshm(s)->value, 1);
		cr_assert(WAIT_FOR(bd->res[1][0] != 12345 || bd->res[3][0] != 12345),
			  "%s: the unit stayed untaken", bn);
		cr_expect_eq(shmkit_sem_post(r, s), 0);
		cr_expect_eq(kid_reap(p1), 0);
		cr_expect_eq(kid_reap(p3), 0);
		cr_expect_eq(bd->res[1][0], 0, "%s wait: %s", bn, errname(bd->res[1][0]));
		cr_expect_eq(bd->res[3][0], 0, "%s wait: %s", bn, errname(bd->res[3][0]));
		cr_expect_eq(shmkit_sem_value(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

static int interrupted_child(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	shmkit_sem *s = sem_at(r, j->off);

	install_usr1();
	atomic_store(&bd->ready[idx], 1);
	int err = j->count ? shmkit_sem_timedwait(r, s, SYNC_WAIT_NS) : shmkit_sem_wait(r, s);
	atomic_store(&bd->res[idx][0], err);
	atomic_store(&bd->res[idx][1], shmkit_sem_value(r, s));
	atomic_store(&bd->go[idx], 1);  /* done */
	return 0;
}

Test(sem, signal_interrupts_wait_with_eintr)
{
	const int some[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_ANON,
			     SHMKIT_BACKEND_MEMFD };
	FOR_BACKENDS(be, bn, some) {
		for (int timed = 0; timed < 2; timed++) {
			const char *name;
			shmkit_region *r = make_region(be, 4096, &name);
			shmkit_sem *s = sem_at(r, 0);
			struct job j = { .r = r, .name = name, .off = 0, .count = timed };

			memset(bd, 0, sizeof(*bd));
			atomic_store(&bd->res[0][0], 12345);
			pid_t pid = kid_spawn_nth(interrupted_child, 0, &j);
			cr_assert(WAIT_FOR(atomic_load(&bd->ready[0])));
			/* signal it while it sleeps, again if one fell before the sleep */
			poke_until_done(pid, &sshm(s)->sleepers, 0, bn);
			cr_expect_eq(kid_reap(pid), 0);
			cr_expect_eq(bd->res[0][0], -EINTR, "%s %s: %s", bn, timed ? "timedwait" : "wait",
				     errname(bd->res[0][0]));
			cr_expect_geq(bd->sigs, 1, "%s: the handler ran", bn);
			cr_expect_eq(bd->res[0][1], 0, "%s: nothing taken", bn);
			cr_expect_eq(shmkit_sem_value(r, s), 0, "%s", bn);
			cr_expect_eq(shmkit_region_close(r), 0);
		}
	}
}

/* producers post, consumers wait; past the producers' total a unit is a
 * consumer's signal to stop (the parent posts one per consumer) */
struct pc {
	_Atomic uint64_t taken;   /* successful waits, all consumers */
	_Atomic uint64_t posted;
	char pad[48];
	shmkit_sem s;             /* at 64 */
};

static int producer(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	struct pc *pc = shmkit_region_base(r);

	for (int i = 0; i < j->count; i++) {
		int err = shmkit_sem_post(r, &pc->s);
		if (err) {
			atomic_store(&bd->res[idx][0], err);
			return 10;
		}
		atomic_fetch_add(&pc->posted, 1);
		if ((i & 63) == 0)
			sched_yield();
	}
	return 0;
}

static int consumer(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);
	struct pc *pc = shmkit_region_base(r);
	int mine = 0;

	for (;;) {
		int err = (idx & 1) ? shmkit_sem_wait(r, &pc->s)
				    : shmkit_sem_timedwait(r, &pc->s, SYNC_WAIT_NS);
		if (err) {
			atomic_store(&bd->res[idx][1], err);
			return 10;
		}
		uint64_t n = atomic_fetch_add(&pc->taken, 1) + 1;
		if (n > (uint64_t)j->total)
			break;  /* a stop unit */
		mine++;
	}
	atomic_store(&bd->res[idx][0], mine);
	return 0;
}

static void run_pc(int backend, int producers, int consumers, int per_producer)
{
	const char *name;
	shmkit_region *r = make_region(backend, 4096, &name);
	struct pc *pc = shmkit_region_base(r);
	const int total = producers * per_producer;
	struct job j = { .r = r, .name = name, .count = per_producer, .total = total };
	pid_t cons[8], prod[8];
	const char *bn = ut_backend_names[backend];

	memset(bd, 0, sizeof(*bd));
	cr_assert_eq(shmkit_sem_init(r, &pc->s, 0), 0);
	for (int i = 0; i < consumers; i++)
		cons[i] = kid_spawn_nth(consumer, i, &j);
	for (int i = 0; i < producers; i++)
		prod[i] = kid_spawn_nth(producer, 8 + i, &j);
	for (int i = 0; i < producers; i++)
		cr_expect_eq(kid_reap(prod[i]), 0, "%s: producer %d", bn, i);
	for (int i = 0; i < consumers; i++)
		cr_expect_eq(shmkit_sem_post(r, &pc->s), 0);
	int sum = 0;
	for (int i = 0; i < consumers; i++) {
		cr_expect_eq(kid_reap(cons[i]), 0, "%s: consumer %d: %s", bn, i, errname(bd->res[i][1]));
		sum += bd->res[i][0];
	}
	cr_expect_eq(sum, total, "%s: consumed %d of %d", bn, sum, total);
	cr_expect_eq(atomic_load(&pc->posted), (uint64_t)total);
	cr_expect_eq(atomic_load(&pc->taken), (uint64_t)(total + consumers),
		     "%s: every post matched one successful wait", bn);
	cr_expect_eq(shmkit_sem_value(r, &pc->s), 0, "%s", bn);
	cr_expect_eq(shmkit_region_close(r), 0);
}

Test(sem, producer_consumer_across_processes)
{
	run_pc(SHMKIT_BACKEND_POSIX, 2, 3, 20000);
	run_pc(SHMKIT_BACKEND_SYSV, 2, 3, 20000);
	run_pc(SHMKIT_BACKEND_FILE, 2, 2, 5000);
	run_pc(SHMKIT_BACKEND_ANON, 2, 2, 5000);
	run_pc(SHMKIT_BACKEND_MEMFD, 2, 2, 5000);
}

/* ---- bad input and corruption ---- */

/* Every operation on @s (a wait timed at @ns): all must give @want. */
static void expect_refused(shmkit_region *r, shmkit_sem *s, int64_t ns, int want,
			   const char *what)
{
	cr_expect_eq(shmkit_sem_init(r, s, 1), want, "%s", what);
	cr_expect_eq(shmkit_sem_wait(r, s), want, "%s", what);
	cr_expect_eq(shmkit_sem_trywait(r, s), want, "%s", what);
	cr_expect_eq(shmkit_sem_timedwait(r, s, ns), want, "%s", what);
	cr_expect_eq(shmkit_sem_post(r, s), want, "%s", what);
	cr_expect_eq(shmkit_sem_value(r, s), want, "%s", what);
}

Test(sem, bad_pointers)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		char *base = shmkit_region_base(r);
		shmkit_sem local;
		shmkit_sem *bad[] = {
			(shmkit_sem *)(void *)(base + 4),
			(shmkit_sem *)(void *)(base + 2),
			(shmkit_sem *)(void *)(base + 4096 - 8),
			(shmkit_sem *)(void *)(base + 4096),
			(shmkit_sem *)(void *)(base - 16),
			&local,
			NULL,
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char what[64];
			snprintf(what, sizeof(what), "%s #%zu", bn, i);
			expect_refused(r, bad[i], SHORT_NS, -EINVAL, what);
		}
		shmkit_sem *ok = sem_at(r, 4096 - 16);
		cr_expect_eq(shmkit_sem_init(r, ok, 1), 0, "%s", bn);
		expect_refused(NULL, ok, 0, -EINVAL, "no region");
		cr_expect_eq(shmkit_sem_value(r, ok), 1, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(sem, readonly_raw_private_regions)
{
	FOR_BACKENDS(be, bn, named_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name), *ro = NULL, *pv = NULL;

		cr_assert_eq(shmkit_sem_init(r, sem_at(r, 0), 4), 0);
		cr_assert_eq(shmkit_region_open(name, SHMKIT_RDONLY, 0, 0, &ro), 0, "%s", bn);
		expect_refused(ro, sem_at(ro, 0), SHORT_NS, -EROFS, bn);
		cr_expect_eq(shmkit_sem_post(ro, sem_at(ro, 64)), -EROFS, "%s: a zero one", bn);
		cr_expect_eq(shmkit_region_close(ro), 0);
		if (be != SHMKIT_BACKEND_SYSV) {
			cr_assert_eq(shmkit_region_open(name, SHMKIT_PRIVATE, 0, 0, &pv), 0, "%s", bn);
			expect_refused(pv, sem_at(pv, 0), SHORT_NS, -EOPNOTSUPP, bn);
			cr_expect_eq(shmkit_region_close(pv), 0);
		}
		cr_expect_eq(shmkit_sem_value(r, sem_at(r, 0)), 4, "%s: untouched", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
	shmkit_region *raw[2] = { NULL, NULL };
	cr_assert_eq(shmkit_region_anon(4096, SHMKIT_RAW, &raw[0]), 0);
	cr_assert_eq(shmkit_region_memfd("raw", 4096, SHMKIT_RAW, &raw[1]), 0);
	for (int i = 0; i < 2; i++) {
		char what[16];
		snprintf(what, sizeof(what), "raw #%d", i);
		expect_refused(raw[i], sem_at(raw[i], 0), 0, -EOPNOTSUPP, what);
		cr_expect_eq(shmkit_region_close(raw[i]), 0);
	}
}

static int wait_child(int idx, void *arg)
{
	struct job *j = arg;
	atomic_store(&bd->res[idx][0], shmkit_sem_wait(j->r, sem_at(j->r, j->off)));
	return 0;
}

Test(sem, another_type_and_garbage)
{
	FOR_BACKENDS(be, bn, all_backends) {
		shmkit_region *r = make_region(be, 4096, NULL);
		shmkit_sem *s = sem_at(r, 0);
		struct shmkit_sem_shm *p = sshm(s);

		/* a mutex there */
		cr_assert_eq(shmkit_mutex_init(r, (shmkit_mutex *)(void *)s), 0);
		cr_expect_eq(shmkit_sem_wait(r, s), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_sem_trywait(r, s), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_sem_timedwait(r, s, SHORT_NS), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_sem_post(r, s), -EINVAL, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), -EINVAL, "%s", bn);
		/* an event there */
		cr_assert_eq(shmkit_event_init(r, (shmkit_event *)(void *)s), 0);
		cr_expect_eq(shmkit_sem_post(r, s), -EINVAL, "%s", bn);
		/* garbage tags */
		const uint32_t tags[] = { 0xdeadbeefu, SHMKIT_TAG(9), 0x6b73u | 2u << 16 | 7u << 24, 1u };
		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
			atomic_store(&p->tag, tags[i]);
			atomic_store(&p->value, 1);
			cr_expect_eq(shmkit_sem_trywait(r, s), -EBADMSG, "%s tag %#x", bn, tags[i]);
			cr_expect_eq(shmkit_sem_timedwait(r, s, SHORT_NS), -EBADMSG, "%s tag %#x", bn, tags[i]);
			cr_expect_eq(shmkit_sem_post(r, s), -EBADMSG, "%s tag %#x", bn, tags[i]);
			cr_expect_eq(shmkit_sem_value(r, s), -EBADMSG, "%s tag %#x", bn, tags[i]);
			cr_expect_eq(atomic_load(&p->value), 1, "%s: untouched", bn);
		}
		/* values above the maximum, with a good tag */
		const uint32_t values[] = { 0x80000000u, 0x80000001u, 0xffffffffu };
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			struct job j = { .r = r, .off = 0 };
			atomic_store(&p->tag, SHMKIT_TAG(SHMKIT_PRIM_SEM));
			atomic_store(&p->value, values[i]);
			cr_expect_eq(shmkit_sem_trywait(r, s), -EBADMSG, "%s value %#x", bn, values[i]);
			cr_expect_eq(shmkit_sem_timedwait(r, s, 0), -EBADMSG, "%s value %#x", bn, values[i]);
			cr_expect_eq(shmkit_sem_timedwait(r, s, 200000000), -EBADMSG, "%s value %#x", bn,
				     values[i]);
			cr_expect_eq(shmkit_sem_post(r, s), -EBADMSG, "%s value %#x", bn, values[i]);
			cr_expect_eq(shmkit_sem_value(r, s), -EBADMSG, "%s value %#x", bn, values[i]);
			atomic_store(&bd->res[0][0], 12345);
			int st = kid_reap(kid_spawn_nth(wait_child, 0, &j));
			cr_expect_eq(st, 0, "%s value %#x: wait did not return (status %d)", bn, values[i], st);
			cr_expect_eq(bd->res[0][0], -EBADMSG, "%s value %#x: wait %s", bn, values[i],
				     errname(bd->res[0][0]));
			cr_expect_eq(atomic_load(&p->value), values[i], "%s: untouched", bn);
		}
		/* init repairs it */
		cr_expect_eq(shmkit_sem_init(r, s, 1), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_trywait(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- what stat shows ---- */

Test(sem, prims_show_value_and_waiters)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_sem *s = sem_at(r, 512);
		struct job j = { .r = r, .name = name, .off = 512 };
		struct shmkit_prim_info pi[2];

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_sem_init(r, s, 7), 0);
		cr_assert_eq(shmkit_sem_trywait(r, s), 0);
		for (int pass = 0; pass < (name ? 2 : 1); pass++) {
			int n = prims_pass(r, name, pass, pi, 2);
			cr_assert_eq(n, 1, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].type, SHMKIT_PRIM_SEM, "%s", bn);
			cr_expect_eq(pi[0].offset, 512, "%s", bn);
			cr_expect_eq(pi[0].value, 6, "%s pass %d", bn, pass);
			cr_expect_eq(pi[0].corrupt, 0, "%s", bn);
			cr_expect_eq(pi[0].waiters, 0, "%s", bn);
		}
		cr_assert_eq(shmkit_sem_init(r, s, 0), 0);
		pid_t w = kid_spawn_nth(waiting_child, 0, &j);
		cr_expect(WAIT_FOR(shmkit_region_prims(r, pi, 2) == 1 && pi[0].waiters == 1),
			  "%s: a waiter asleep", bn);
		if (name) {
			cr_expect_eq(shmkit_prims(name, pi, 2), 1);
			cr_expect_eq(pi[0].waiters, 1, "%s: by name", bn);
			cr_expect_eq(pi[0].value, 0, "%s: by name", bn);
		}
		cr_expect_eq(shmkit_sem_post(r, s), 0);
		cr_expect_eq(kid_reap(w), 0);
		cr_expect_eq(bd->res[0][0], 0);
		atomic_store(&sshm(s)->value, 0x90000000u);
		cr_assert_eq(shmkit_region_prims(r, pi, 2), 1);
		cr_expect_eq(pi[0].corrupt, 1, "%s: value above the maximum", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- named semaphores ---- */

static int named_child(int idx, void *arg)
{
	const char *name = arg;
	shmkit_region *r = NULL;
	shmkit_sem *s = NULL;
	int err = shmkit_sem_open(name, 0, 0, 0, &r, &s);

	atomic_store(&bd->res[idx][0], err);
	if (err)
		return 10;
	atomic_store(&bd->res[idx][1], shmkit_sem_value(r, s));
	atomic_store(&bd->res[idx][2], shmkit_sem_trywait(r, s));
	atomic_store(&bd->ready[idx], 1);
	sync_wait_go(idx);
	/* then waits for a unit the parent posts */
	atomic_store(&bd->res[idx][3], shmkit_sem_timedwait(r, s, SYNC_WAIT_NS));
	atomic_store(&bd->res[idx][4], shmkit_region_close(r));
	return 0;
}

Test(sem, named_create_open_wake_remove)
{
	FOR_BACKENDS(be, bn, named_backends) {
		const char *name = ut_name(be);
		shmkit_region *r = NULL, *r2 = NULL;
		shmkit_sem *s = NULL, *s2 = NULL;
		struct shmkit_prim_info pi[2];

		memset(bd, 0, sizeof(*bd));
		cr_expect_eq(shmkit_sem_open(name, 0, 0, 3, &r, &s), -ENOENT, "%s", bn);
		cr_expect_null(r);
		cr_expect_null(s);
		cr_assert_eq(shmkit_sem_open(name, SHMKIT_CREATE | SHMKIT_EXCL, 0600, 3, &r, &s), 0,
			     "%s", bn);
		cr_assert_not_null(r);
		cr_assert_not_null(s);
		cr_expect_eq((void *)s, shmkit_region_base(r), "%s: at data offset 0", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 3, "%s", bn);
		cr_expect_eq(shmkit_sem_open(name, SHMKIT_CREATE | SHMKIT_EXCL, 0600, 3, &r2, &s2),
			     -EEXIST, "%s", bn);
		cr_expect_null(r2);
		/* CREATE without EXCL opens it, the value given is not applied */
		cr_assert_eq(shmkit_sem_open(name, SHMKIT_CREATE, 0600, 9, &r2, &s2), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r2, s2), 3, "%s", bn);
		cr_expect_eq(shmkit_region_close(r2), 0);
		/* what stat shows */
		cr_assert_eq(shmkit_prims(name, pi, 2), 1, "%s", bn);
		cr_expect_eq(pi[0].type, SHMKIT_PRIM_SEM);
		cr_expect_eq(pi[0].offset, 0);
		cr_expect_eq(pi[0].value, 3);
		/* another process opens it by name */
		pid_t pid = kid_spawn_nth(named_child, 0, (void *)name);
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[0]) || bd->res[0][0] != 0), "%s", bn);
		cr_expect_eq(bd->res[0][0], 0, "%s: open in child: %s", bn, errname(bd->res[0][0]));
		cr_expect_eq(bd->res[0][1], 3, "%s: value in child", bn);
		cr_expect_eq(bd->res[0][2], 0, "%s: trywait in child", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 2, "%s", bn);
		cr_expect_eq(shmkit_sem_trywait(r, s), 0);
		cr_expect_eq(shmkit_sem_trywait(r, s), 0);  /* 0 left: the child sleeps */
		atomic_store(&bd->go[0], 1);
		cr_expect(WAIT_FOR(atomic_load(&sshm(s)->sleepers) >= 1), "%s: child asleep", bn);
		cr_expect_eq(shmkit_sem_post(r, s), 0);
		cr_expect_eq(kid_reap(pid), 0);
		cr_expect_eq(bd->res[0][3], 0, "%s: woken in child: %s", bn, errname(bd->res[0][3]));
		cr_expect_eq(bd->res[0][4], 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 0, "%s", bn);
		/* removal: no new opens, the attached keep working */
		cr_expect_eq(shmkit_remove(name), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_open(name, 0, 0, 0, &r2, &s2), -ENOENT, "%s", bn);
		cr_expect_eq(shmkit_sem_post(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_value(r, s), 1, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
		cr_expect_eq(shmkit_remove(name), -ENOENT, "%s", bn);
	}
}

Test(sem, named_on_a_plain_region_is_eprotonosupport)
{
	FOR_BACKENDS(be, bn, named_backends) {
		const size_t sizes[] = { 4096, 64 };
		for (size_t k = 0; k < 2; k++) {
			const char *name = ut_name(be);
			shmkit_region *plain = NULL, *r = NULL;
			shmkit_sem *s = NULL;
			cr_assert_eq(shmkit_region_open(name, SHMKIT_CREATE, sizes[k], 0600, &plain), 0);
			int err = shmkit_sem_open(name, 0, 0, 0, &r, &s);
			cr_expect_eq(err, -EPROTONOSUPPORT, "%s size %zu: %s", bn, sizes[k], errname(err));
			err = shmkit_sem_open(name, SHMKIT_CREATE, 0600, 1, &r, &s);
			cr_expect_eq(err, -EPROTONOSUPPORT, "%s size %zu: %s", bn, sizes[k], errname(err));
			cr_expect_null(r);
			cr_expect_null(s);
			cr_expect_eq(shmkit_region_close(plain), 0);
		}
	}
}

Test(sem, named_on_a_small_plain_region_is_eprotonosupport)
{
	/* a plain region smaller than a named semaphore's 64 bytes of data */
	FOR_BACKENDS(be, bn, named_backends) {
		const char *name = ut_name(be);
		shmkit_region *plain = NULL, *r = NULL;
		shmkit_sem *s = NULL;
		cr_assert_eq(shmkit_region_open(name, SHMKIT_CREATE, 16, 0600, &plain), 0);
		int err = shmkit_sem_open(name, 0, 0, 0, &r, &s);
		cr_expect_eq(err, -EPROTONOSUPPORT, "%s, 16-byte region: %s", bn, errname(err));
		cr_expect_eq(shmkit_region_close(plain), 0);
	}
}

Test(sem, named_bad_arguments)
{
	const char *name = ut_name(SHMKIT_BACKEND_POSIX);
	shmkit_region *r = NULL;
	shmkit_sem *s = NULL;

	cr_expect_eq(shmkit_sem_open(name, SHMKIT_CREATE, 0600, 1, NULL, &s), -EINVAL);
	cr_expect_eq(shmkit_sem_open(name, SHMKIT_CREATE, 0600, 1, &r, NULL), -EINVAL);
	cr_expect_eq(shmkit_sem_open(name, SHMKIT_CREATE, 0600, 0x80000000u, &r, &s), -EINVAL);
	cr_expect_eq(shmkit_sem_open(name, SHMKIT_CREATE | SHMKIT_RDONLY, 0600, 1, &r, &s), -EINVAL);
	cr_expect_eq(shmkit_sem_open(name, SHMKIT_CREATE | SHMKIT_RAW, 0600, 1, &r, &s), -EINVAL);
	cr_expect_eq(shmkit_sem_open(name, SHMKIT_CREATE, 01600, 1, &r, &s), -EINVAL);
	cr_expect_eq(shmkit_sem_open("bad/name", SHMKIT_CREATE, 0600, 1, &r, &s), -EINVAL);
	cr_expect_eq(shmkit_sem_open("", SHMKIT_CREATE, 0600, 1, &r, &s), -EINVAL);
	cr_expect_eq(shmkit_sem_open(NULL, SHMKIT_CREATE, 0600, 1, &r, &s), -EINVAL);
	cr_expect_eq(shmkit_sem_open(name, 0, 0, 0, &r, &s), -ENOENT, "nothing was created");
	/* the maximum is fine, and mode 0 is the default 0600 */
	cr_assert_eq(shmkit_sem_open(name, SHMKIT_CREATE, 0, SHMKIT_SEM_VALUE_MAX, &r, &s), 0);
	cr_expect_eq(shmkit_sem_value(r, s), SHMKIT_SEM_VALUE_MAX);
	cr_expect_eq(shmkit_sem_post(r, s), -EOVERFLOW);
	struct shmkit_stat st;
	cr_expect_eq(shmkit_region_stat(r, &st), 0);
	cr_expect_eq(st.mode, 0600);
	cr_expect_eq(shmkit_region_close(r), 0);
}

static int racing_opener(int idx, void *arg)
{
	const char *name = arg;
	shmkit_region *r = NULL;
	shmkit_sem *s = NULL;

	atomic_store(&bd->ready[idx], 1);
	sync_wait_go(0);
	unsigned flags = SHMKIT_CREATE | (idx >= 8 ? SHMKIT_EXCL : 0);
	int err = shmkit_sem_open(name, flags, 0600, 4, &r, &s);
	atomic_store(&bd->res[idx][0], err);
	if (err)
		return 0;
	atomic_store(&bd->res[idx][1], shmkit_sem_trywait(r, s));
	shmkit_region_close(r);
	return 0;
}

Test(sem, named_concurrent_create_initialises_once)
{
	FOR_BACKENDS(be, bn, named_backends) {
		for (int excl = 0; excl < 2; excl++) {
			const char *name = ut_name(be);
			const int n = 4, base = excl ? 8 : 0;
			pid_t pids[4];

			memset(bd, 0, sizeof(*bd));
			for (int i = 0; i < n; i++)
				pids[i] = kid_spawn_nth(racing_opener, base + i, (void *)name);
			for (int i = 0; i < n; i++)
				cr_assert(WAIT_FOR(atomic_load(&bd->ready[base + i])));
			atomic_store(&bd->go[0], 1);
			for (int i = 0; i < n; i++)
				cr_expect_eq(kid_reap(pids[i]), 0);
			int created = 0, exists = 0, took = 0;
			for (int i = 0; i < n; i++) {
				int e = bd->res[base + i][0];
				created += e == 0;
				exists += e == -EEXIST;
				took += e == 0 && bd->res[base + i][1] == 0;
				cr_expect(e == 0 || (excl && e == -EEXIST), "%s excl %d: %s", bn, excl,
					  errname(e));
			}
			if (excl) {
				cr_expect_eq(created, 1, "%s: one EXCL creator wins", bn);
				cr_expect_eq(exists, n - 1, "%s", bn);
			} else {
				cr_expect_eq(created, n, "%s", bn);
			}
			cr_expect_eq(took, created, "%s excl %d", bn, excl);
			shmkit_region *r = NULL;
			shmkit_sem *s = NULL;
			cr_assert_eq(shmkit_sem_open(name, 0, 0, 0, &r, &s), 0);
			cr_expect_eq(shmkit_sem_value(r, s), 4 - took,
				     "%s excl %d: initialised once (value %d)", bn, excl,
				     shmkit_sem_value(r, s));
			cr_expect_eq(shmkit_region_close(r), 0);
		}
	}
}

static int take_and_hang(int idx, void *arg)
{
	struct job *j = arg;
	shmkit_region *r = child_region(j);

	atomic_store(&bd->res[idx][0], shmkit_sem_trywait(r, sem_at(r, j->off)));
	sync_hang(idx);
}

Test(sem, dead_holder_keeps_its_unit)
{
	FOR_BACKENDS(be, bn, all_backends) {
		const char *name;
		shmkit_region *r = make_region(be, 4096, &name);
		shmkit_sem *s = sem_at(r, 8);
		struct job j = { .r = r, .name = name, .off = 8 };

		memset(bd, 0, sizeof(*bd));
		cr_assert_eq(shmkit_sem_init(r, s, 2), 0);
		pid_t pid = kid_spawn_nth(take_and_hang, 0, &j);
		cr_assert(WAIT_FOR(atomic_load(&bd->ready[0])));
		cr_expect_eq(bd->res[0][0], 0);
		kid_kill(pid);
		cr_expect_eq(shmkit_sem_value(r, s), 1, "%s: a semaphore has no owner", bn);
		cr_expect_eq(shmkit_sem_trywait(r, s), 0, "%s", bn);
		cr_expect_eq(shmkit_sem_trywait(r, s), -EAGAIN, "%s", bn);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

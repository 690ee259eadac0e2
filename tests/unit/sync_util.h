/* SPDX-License-Identifier: MIT */
/*
 * sync_util.h - shared by the unit tests of the synchronisation primitives
 * (test_mutex.c, test_sem.c, test_rwlock.c, test_event.c): a board shared
 * with child processes, children started under an alarm and reaped (by
 * teardown too, when a test failed half-way), another thread, bounded
 * waits, the backends and a fresh region on each, and SIGUSR1 for tests of
 * interrupted waits.  Children: kids.h (kid_spawn_nth, kid_reap, kid_kill),
 * on a board whose slots are numbered by child.
 *
 * A suite defines SYNC_MEMFD_LABEL (the label of its memfd regions) before
 * it includes this, and declares
 *	TestSuite(name, .init = sync_setup, .fini = kids_teardown, .timeout = 60);
 */
#ifndef SHMKIT_TEST_SYNC_UTIL_H
#define SHMKIT_TEST_SYNC_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "kids.h"
#include "util.h"

#ifndef SYNC_MEMFD_LABEL
#define SYNC_MEMFD_LABEL "ut-sync"
#endif

#define SYNC_SLOTS 32                     /* children a test numbers (board slots) */
#define SYNC_KID_LIFETIME_S 20            /* a hang in the library kills the child, not the suite */
#define WAIT_MS 5000                      /* bound of every wait for another process */
#define SYNC_WAIT_NS ((int64_t)5000000000) /* the timeout of a lock or wait that is to succeed: 5 s */

/* The synchronisation suites' board: kids.h's, then each child's slots. */
struct sync_board {
	struct kids_board k;
	_Atomic int ready[SYNC_SLOTS];
	_Atomic int go[SYNC_SLOTS];
	_Atomic int res[SYNC_SLOTS][8];
	_Atomic int sigs;
	_Atomic int violations;
};

static struct sync_board *bd;

static inline void sync_setup(void)
{
	bd = kids_setup(sizeof(*bd), SYNC_KID_LIFETIME_S);
}

static inline const char *errname(int e)
{
	if (e == 0)
		return "0";
	const char *s = strerrorname_np(e < 0 ? -e : e);
	return s ? s : "?";
}

/* ---- backends and regions ---- */

static const int all_backends[] = {
	SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_FILE,
	SHMKIT_BACKEND_ANON, SHMKIT_BACKEND_MEMFD,
};
#define N_BACKENDS (sizeof(all_backends) / sizeof(all_backends[0]))

/* The backends whose objects have a name. */
static const int named_backends[] = {
	SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_FILE,
};

/*
 * Runs the statement after it once per backend of the array @list, with
 * @be the backend (int) and @bn its name for messages:
 *	FOR_BACKENDS(be, bn, all_backends) { ... }
 * A break in the statement ends that round only (as continue does).
 */
#define FOR_BACKENDS(be, bn, list) \
	for (size_t be##_i_ = 0; be##_i_ < sizeof(list) / sizeof((list)[0]); be##_i_++) \
		for (int be = (list)[be##_i_], be##_once_ = 1; be##_once_; be##_once_ = 0) \
			for (const char *bn = ut_backend_names[be]; be##_once_; be##_once_ = 0)

/* A fresh managed region on @backend; *name is NULL for anon and memfd. */
static inline shmkit_region *make_region(int backend, size_t size, const char **name)
{
	shmkit_region *r = NULL;
	const char *n = NULL;
	int err;

	switch (backend) {
	case SHMKIT_BACKEND_ANON:
		err = shmkit_region_anon(size, 0, &r);
		break;
	case SHMKIT_BACKEND_MEMFD:
		err = shmkit_region_memfd(SYNC_MEMFD_LABEL, size, 0, &r);
		break;
	default:
		n = ut_name(backend);
		err = shmkit_region_open(n, SHMKIT_CREATE | SHMKIT_EXCL, size, 0600, &r);
		break;
	}
	cr_assert_eq(err, 0, "%s: create: %s", ut_backend_names[backend], errname(err));
	if (name)
		*name = n;
	return r;
}

/* The address @off bytes into @r's data. */
static inline void *data_at(shmkit_region *r, size_t off)
{
	return (char *)shmkit_region_base(r) + off;
}

/* What stat lists for @r: pass 0 asks the region, pass 1 asks by @name (a
 * region has a name only on a named backend, hence pass < (name ? 2 : 1)). */
static inline int prims_pass(shmkit_region *r, const char *name, int pass,
			     struct shmkit_prim_info *pi, size_t cap)
{
	return pass ? shmkit_prims(name, pi, cap) : shmkit_region_prims(r, pi, cap);
}

/* ---- children (kids.h: kid_spawn_nth, kid_reap, kid_kill) ---- */

/* What a child works on. */
struct job {
	shmkit_region *r;        /* inherited handle */
	const char *name;        /* when set, the child opens the region anew */
	size_t off;              /* the primitive's offset in the data */
	int count;               /* iterations (or what the child is to do) */
	int total;               /* units the producers post in all (sem) */
};

/* The child's own handle: opened by name, or the one inherited. */
static inline shmkit_region *child_region(struct job *j)
{
	shmkit_region *r = NULL;
	if (!j->name)
		return j->r;
	if (shmkit_region_open(j->name, 0, 0, 0, &r) != 0)
		_exit(90);
	return r;
}

/* Runs fn(arg) in another thread of this process and waits for it. */
static inline void in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, fn, arg), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
}

/* ---- waiting ---- */

/* Polls @cond every millisecond for at most WAIT_MS; true if it held. */
#define WAIT_FOR(cond) ({ \
	bool ok_ = false; \
	for (int i_ = 0; i_ < WAIT_MS; i_++) { \
		if (cond) { ok_ = true; break; } \
		sleep_ms(1); \
	} \
	ok_; })

/* In a child: waits (bounded by its alarm) for the parent's go. */
static inline void sync_wait_go(int idx)
{
	while (!atomic_load(&bd->go[idx]))
		sleep_ms(1);
}

/* In a child: reports ready, then waits to be killed. */
static inline __attribute__((noreturn)) void sync_hang(int idx)
{
	atomic_store(&bd->ready[idx], 1);
	for (;;)
		pause();
}

/* ---- signals ---- */

static inline void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&bd->sigs, 1);
}

/* In a child: SIGUSR1 counts in bd->sigs and interrupts system calls (no
 * SA_RESTART). */
static inline void install_usr1(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = 0;  /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/* Signals @pid while it sleeps on @sleepers until it reports done in go[idx]. */
static inline void poke_until_done(pid_t pid, _Atomic uint32_t *sleepers, int idx, const char *bn)
{
	for (int k = 0; k < 100 && !atomic_load(&bd->go[idx]); k++) {
		cr_assert(WAIT_FOR(atomic_load(sleepers) >= 1 || atomic_load(&bd->go[idx])),
			  "%s: asleep", bn);
		kill(pid, SIGUSR1);
		for (int t = 0; t < 50 && !atomic_load(&bd->go[idx]); t++)
			sleep_ms(1);
	}
}

/* Signals @pid 5 times, each while it sleeps on @sleepers, and waits for
 * its handler to run; then gives it 20 ms in which it would return. */
static inline void poke_sleeper(pid_t pid, _Atomic uint32_t *sleepers, const char *bn)
{
	for (int k = 0; k < 5; k++) {
		cr_assert(WAIT_FOR(atomic_load(sleepers) >= 1), "%s: asleep", bn);
		kill(pid, SIGUSR1);
		cr_assert(WAIT_FOR(atomic_load(&bd->sigs) > k), "%s: handler ran", bn);
	}
	sleep_ms(20);
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Description: kill -9 of a lock holder at random points, 200 or more times
 * per backend, always recovers.  Worker processes update a small record
 * under a robust mutex (or the write side of the rwlock, with readers
 * beside them) in three steps, a++, done[me]++, b++, with busy pauses
 * between them, so that a holder killed half-way leaves a != b.  Every
 * 0-2 ms the parent SIGKILLs a worker: mostly the holder (by the phase it
 * publishes, or as `stat` names it), else one waiting for the lock (for a
 * writer: or for readers to leave), a reader holding its lock, or anyone;
 * it starts a replacement and waits for the record to move on again.
 *
 * Checked: no deadlock (every lock is a timed lock of 10 s, and the record
 * must move on within 10 s of each kill, readers too); a lock that returns
 * 0 always shows a whole record; one that returns -EOWNERDEAD shows a
 * record that a single half-done update explains, which the worker repairs
 * (rolls back or forward) before it calls *_consistent; readers see whole
 * records (or, with -EOWNERDEAD, explainable ones) that do not change while
 * they hold the lock; at the end the record counts exactly the updates that
 * completed (a == b == the sum of done[]), the lock is free, consistent and
 * without read holds, and repairs <= -EOWNERDEAD returns <= the library's
 * recovery count (<= the kills, for the mutex).
 *
 * The seed of the PRNG behind the delays and the choice of victims is
 * printed; SHMKIT_TEST_SEED=N makes the same choices again.  Backends:
 * posix (liveness by file lock), sysv and anon (by PID identity); posix and
 * sysv workers alternately use the handle inherited across fork() and one
 * of their own, opened by name (another mapping, another peer slot).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/prctl.h>

#include "kids.h"
#include "sync_util.h"

#define KILLS 220                     /* per test */
#define MAX_WORKERS 8
#define LOCK_TIMEOUT_NS (10 * 1000000000LL)
#define PROGRESS_TIMEOUT_NS (10 * 1000000000LL)
#define STOP_TIMEOUT_NS (15 * 1000000000LL)
#define WORKER_ALARM_S 150            /* a worker never outlives a lost parent */
#define REGION_SIZE 8192
#define PRIMS_MAX 40                  /* the directory's size */

/* The data the lock protects: an update is a++, done[me]++, b++. */
struct record {
	volatile uint64_t a, b;
	volatile uint64_t done[MAX_WORKERS];
	/* statistics, updated under the lock (lost if the holder dies) */
	volatile uint64_t repairs, rollbacks, rollforwards;
};

struct shared {
	shmkit_mutex m;
	shmkit_rwlock rw;
	struct record rec;
	_Atomic int stop;
	_Atomic uint64_t eod;           /* -EOWNERDEAD returned to lockers (writers) */
	_Atomic uint64_t rd_ok, rd_eod; /* read locks: 0, -EOWNERDEAD */
	_Atomic int phase[MAX_WORKERS]; /* PH_* of the worker in each place */
};

enum { PH_OUT, PH_LOCKING, PH_HOLDING, PH_UNLOCKING };
enum { ROLE_MUTEX, ROLE_WRITER, ROLE_READER };
static const char *const role_names[] = { "mutex", "writer", "reader" };

struct ctx {
	int backend;
	const char *name;           /* NULL: anonymous */
	shmkit_region *r;
	struct shared *sh;
	bool rw;                    /* rwlock test, else mutex */
	uint64_t seed, rng;
	int n;
	int role[MAX_WORKERS];
	unsigned serial;            /* workers started */
	/* counts */
	int kills, k_holding, k_locking, k_draining, k_rd_holding, k_other;
};

/* Children are killed and reaped when a test ends, whatever happened. */
static void setup(void)
{
	kids_setup(sizeof(struct kids_board), WORKER_ALARM_S);
}

TestSuite(lock_crash, .init = setup, .fini = kids_teardown, .timeout = 150);

/* ---- the record ---- */

static uint64_t rec_sum(const struct record *rec, int n)
{
	uint64_t s = 0;
	for (int i = 0; i < n; i++)
		s += rec->done[i];
	return s;
}

/* 0 whole; 1 an update stopped after a++; 2 after done[]++; -1 no single
 * interrupted update explains it. */
static int rec_state(uint64_t a, uint64_t b, uint64_t s)
{
	if (a == b && s == b)
		return 0;
	if (a == b + 1 && s == b)
		return 1;
	if (a == b + 1 && s == b + 1)
		return 2;
	return -1;
}

/* ---- workers ---- */

/* Called holding the lock after -EOWNERDEAD: makes the record whole. */
static void repair(struct shared *sh, int n, const char *who)
{
	struct record *rec = &sh->rec;
	uint64_t a = rec->a, b = rec->b, s = rec_sum(rec, n);

	switch (rec_state(a, b, s)) {
	case 0:
		break;  /* the dead holder was not in the middle of an update */
	case 1:
		rec->a = b;  /* roll back: its done[] was never counted */
		rec->rollbacks++;
		break;
	case 2:
		rec->b = a;  /* roll forward: its done[] says it happened */
		rec->rollforwards++;
		break;
	default:
		kid_fail("%s: -EOWNERDEAD with a record no single update explains:"
			    " a=%llu b=%llu sum=%llu", who, (unsigned long long)a,
			    (unsigned long long)b, (unsigned long long)s);
	}
	rec->repairs++;
	if (rec->a != rec->b || rec_sum(rec, n) != rec->b)
		kid_fail("%s: repair did not make the record whole", who);
}

/* Called holding the lock after 0: the record must be whole. */
static void check_whole(struct shared *sh, int n, const char *who)
{
	struct record *rec = &sh->rec;
	uint64_t a = rec->a, b = rec->b, s = rec_sum(rec, n);
	if (rec_state(a, b, s) != 0)
		kid_fail("%s: lock returned 0 but the record is torn: a=%llu b=%llu "
			    "sum=%llu", who, (unsigned long long)a, (unsigned long long)b,
			    (unsigned long long)s);
}

/* The update, in three steps a kill can fall between. */
static void update(struct shared *sh, int idx, uint64_t *rng)
{
	struct record *rec = &sh->rec;
	rec->a = rec->a + 1;
	spin_ns((int64_t)rnd_below(rng, 40000));
	rec->done[idx] = rec->done[idx] + 1;
	spin_ns((int64_t)rnd_below(rng, 40000));
	rec->b = rec->b + 1;
}

static void mutex_worker(shmkit_region *r, struct shared *sh, int idx, int n,
			 uint64_t *rng)
{
	for (;;) {
		if (atomic_load(&sh->stop))
			return;
		atomic_store(&sh->phase[idx], PH_LOCKING);
		int err = shmkit_mutex_timedlock(r, &sh->m, LOCK_TIMEOUT_NS);
		if (err == -EOWNERDEAD) {
			atomic_fetch_add(&sh->eod, 1);
			atomic_store(&sh->phase[idx], PH_HOLDING);
			repair(sh, n, "mutex");
			err = shmkit_mutex_consistent(r, &sh->m);
			if (err)
				kid_fail("mutex_consistent: %s", shmkit_strerror(err));
		} else if (err) {
			kid_fail("mutex_timedlock: %s", shmkit_strerror(err));
		} else {
			atomic_store(&sh->phase[idx], PH_HOLDING);
			check_whole(sh, n, "mutex");
		}
		update(sh, idx, rng);
		atomic_store(&sh->phase[idx], PH_UNLOCKING);
		err = shmkit_mutex_unlock(r, &sh->m);
		if (err)
			kid_fail("mutex_unlock: %s", shmkit_strerror(err));
		atomic_store(&sh->phase[idx], PH_OUT);
		sleep_ns((int64_t)rnd_below(rng, 100000));
	}
}

static void writer_worker(shmkit_region *r, struct shared *sh, int idx, int n,
			  uint64_t *rng)
{
	for (;;) {
		if (atomic_load(&sh->stop))
			return;
		atomic_store(&sh->phase[idx], PH_LOCKING);
		int err = shmkit_rwlock_timedwrlock(r, &sh->rw, LOCK_TIMEOUT_NS);
		if (err == -EOWNERDEAD) {
			atomic_fetch_add(&sh->eod, 1);
			atomic_store(&sh->phase[idx], PH_HOLDING);
			repair(sh, n, "writer");
			err = shmkit_rwlock_consistent(r, &sh->rw);
			if (err)
				kid_fail("rwlock_consistent: %s", shmkit_strerror(err));
		} else if (err) {
			kid_fail("rwlock_timedwrlock: %s%s", shmkit_strerror(err),
				    err == -ETIMEDOUT ? " (a writer could not get in)" : "");
		} else {
			atomic_store(&sh->phase[idx], PH_HOLDING);
			check_whole(sh, n, "writer");
		}
		update(sh, idx, rng);
		atomic_store(&sh->phase[idx], PH_UNLOCKING);
		err = shmkit_rwlock_wrunlock(r, &sh->rw);
		if (err)
			kid_fail("rwlock_wrunlock: %s", shmkit_strerror(err));
		atomic_store(&sh->phase[idx], PH_OUT);
		sleep_ns((int64_t)rnd_below(rng, 200000));
	}
}

static void reader_worker(shmkit_region *r, struct shared *sh, int idx, int n,
			  uint64_t *rng)
{
	struct record *rec = &sh->rec;

	for (;;) {
		if (atomic_load(&sh->stop))
			return;
		atomic_store(&sh->phase[idx], PH_LOCKING);
		int err = shmkit_rwlock_timedrdlock(r, &sh->rw, LOCK_TIMEOUT_NS);
		if (err != 0 && err != -EOWNERDEAD)
			kid_fail("rwlock_timedrdlock: %s", shmkit_strerror(err));
		atomic_store(&sh->phase[idx], PH_HOLDING);
		uint64_t a = rec->a, b = rec->b, s = rec_sum(rec, n);
		int st = rec_state(a, b, s);
		if (err == 0 && st != 0)
			kid_fail("reader: rdlock returned 0 but the record is torn: "
				    "a=%llu b=%llu sum=%llu", (unsigned long long)a,
				    (unsigned long long)b, (unsigned long long)s);
		if (st < 0)
			kid_fail("reader: -EOWNERDEAD with a record no single update "
				    "explains: a=%llu b=%llu sum=%llu", (unsigned long long)a,
				    (unsigned long long)b, (unsigned long long)s);
		/* hold it a while: no writer may change anything meanwhile */
		spin_ns((int64_t)rnd_below(rng, 150000));
		if (rec->a != a || rec->b != b || rec_sum(rec, n) != s)
			kid_fail("reader: the record changed under a read lock");
		atomic_fetch_add(err ? &sh->rd_eod : &sh->rd_ok, 1);
		atomic_store(&sh->phase[idx], PH_UNLOCKING);
		err = shmkit_rwlock_rdunlock(r, &sh->rw);
		if (err)
			kid_fail("rwlock_rdunlock: %s", shmkit_strerror(err));
		atomic_store(&sh->phase[idx], PH_OUT);
		sleep_ns((int64_t)rnd_below(rng, 100000));
	}
}

static __attribute__((noreturn))
void worker_main(struct ctx *c, int idx, uint64_t wseed)
{
	shmkit_region *own;
	shmkit_region *r = kid_region(c->r, c->name, c->serial, &own);
	struct shared *sh = shmkit_region_base(r);
	uint64_t rng = wseed;

	switch (c->role[idx]) {
	case ROLE_MUTEX: mutex_worker(r, sh, idx, c->n, &rng); break;
	case ROLE_WRITER: writer_worker(r, sh, idx, c->n, &rng); break;
	default: reader_worker(r, sh, idx, c->n, &rng); break;
	}
	kid_exit(own);
}

/* ---- the parent ---- */

/* What the next worker is to be (copied into it by fork). */
static struct { struct ctx *c; int idx; uint64_t wseed; } next_worker;

static int worker_entry(void *arg)
{
	(void)arg;
	worker_main(next_worker.c, next_worker.idx, next_worker.wseed);
}

static void start_worker(struct ctx *c, int idx)
{
	uint64_t wseed = c->seed ^ (0x9e3779b97f4a7c15ULL * (c->serial + 1));

	next_worker.c = c;
	next_worker.idx = idx;
	next_worker.wseed = wseed;
	kid_spawn_at(idx, worker_entry, NULL);
	c->serial++;
}

static int prim_find(shmkit_region *r, uint64_t off, struct shmkit_prim_info *out)
{
	struct shmkit_prim_info info[PRIMS_MAX];
	int n = shmkit_region_prims(r, info, PRIMS_MAX);
	for (int i = 0; i < n && i < PRIMS_MAX; i++) {
		if (info[i].offset == off) {
			*out = info[i];
			return 0;
		}
	}
	return n < 0 ? n : -ENOENT;
}

static uint64_t lock_off(const struct ctx *c)
{
	return c->rw ? offsetof(struct shared, rw) : offsetof(struct shared, m);
}

static void describe_lock(struct ctx *c, char *buf, size_t cap)
{
	struct shmkit_prim_info pi;
	int err = prim_find(c->r, lock_off(c), &pi);
	if (err) {
		snprintf(buf, cap, "(prims: %s)", shmkit_strerror(err));
		return;
	}
	snprintf(buf, cap, "locked=%d owner_pid=%d owner_alive=%d state=%d waiters=%u "
		 "read_holds=%u recoveries=%llu", pi.locked, (int)pi.owner_pid,
		 pi.owner_alive, pi.state, pi.waiters, pi.value,
		 (unsigned long long)pi.recoveries);
}

/* What a failure message shows besides its own words: the seed, the
 * lock as stat sees it, and where each worker was. */
static const char *state_of(struct ctx *c)
{
	static char buf[768];
	char d[256];
	size_t k;

	describe_lock(c, d, sizeof(d));
	k = (size_t)snprintf(buf, sizeof(buf), "[seed %llu, after %d kills] %s; workers:",
			     (unsigned long long)c->seed, c->kills, d);
	for (int i = 0; i < c->n && k < sizeof(buf); i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, " %s %d phase %d",
				      role_names[c->role[i]], (int)kid_pids[i],
				      atomic_load(&c->sh->phase[i]));
	return buf;
}

/* Fails the test if a worker reported a failure or ended on its own. */
static void check_workers(struct ctx *c)
{
	cr_assert(!atomic_load(&kids_bd->failed), "worker failed: %s\n%s", kids_bd->msg,
		  state_of(c));
	for (int i = 0; i < c->n; i++) {
		int status;
		if (kid_pids[i] > 0 && waitpid(kid_pids[i], &status, WNOHANG) == kid_pids[i]) {
			pid_t pid = kid_pids[i];
			kid_pids[i] = 0;
			cr_assert(!atomic_load(&kids_bd->failed), "worker failed: %s\n%s",
				  kids_bd->msg, state_of(c));
			cr_assert_fail("%s worker %d ended on its own: %s %d\n%s",
				       role_names[c->role[i]], (int)pid,
				       WIFEXITED(status) ? "exit" : "signal",
				       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				       state_of(c));
		}
	}
}

/* Waits until writers completed an update after @b0 and, in the rwlock
 * test, readers got in after @r0 times. */
static void wait_progress(struct ctx *c, uint64_t b0, uint64_t r0)
{
	int64_t deadline = now_ns() + PROGRESS_TIMEOUT_NS;
	for (;;) {
		check_workers(c);
		uint64_t reads = atomic_load(&c->sh->rd_ok) + atomic_load(&c->sh->rd_eod);
		if (c->sh->rec.b > b0 && (!c->rw || reads > r0))
			return;
		if (now_ns() > deadline)
			cr_assert_fail("no progress for 10 s (b=%llu, reads=%llu): deadlock?\n%s",
				       (unsigned long long)c->sh->rec.b,
				       (unsigned long long)reads, state_of(c));
		sleep_ns(200000);
	}
}

static int worker_of(const struct ctx *c, pid_t pid)
{
	for (int i = 0; pid > 0 && i < c->n; i++)
		if (kid_pids[i] == pid)
			return i;
	return -1;
}

/* A worker of @role (-1: any) in phase @ph, polled for up to 5 ms; -1 if none. */
static int find_in_phase(struct ctx *c, int role, int ph)
{
	int64_t deadline = now_ns() + 5000000;
	int cand[MAX_WORKERS];
	do {
		int k = 0;
		for (int i = 0; i < c->n; i++)
			if ((role < 0 || c->role[i] == role) &&
			    atomic_load(&c->sh->phase[i]) == ph)
				cand[k++] = i;
		if (k)
			return cand[rnd_below(&c->rng, (uint64_t)k)];
	} while (now_ns() < deadline);
	return -1;
}

/* Kills one worker and starts its replacement. */
static void kill_one(struct ctx *c)
{
	struct shmkit_prim_info pi;
	int victim = -1;
	int lockers = c->rw ? ROLE_WRITER : ROLE_MUTEX;

	switch (rnd_below(&c->rng, 8)) {
	case 0: case 1: case 2: case 3:
		/* the holder, at whatever point of its update it is */
		victim = find_in_phase(c, lockers, PH_HOLDING);
		break;
	case 4:
		/* the holder as stat names it */
		if (prim_find(c->r, lock_off(c), &pi) == 0 && pi.locked)
			victim = worker_of(c, pi.owner_pid);
		break;
	case 5:
		/* one waiting for the lock or, a writer, for readers to leave */
		victim = find_in_phase(c, lockers, PH_LOCKING);
		break;
	case 6:
		victim = find_in_phase(c, c->rw ? ROLE_READER : lockers, PH_HOLDING);
		break;
	default:
		break;  /* anyone, wherever it is */
	}
	if (victim < 0)
		victim = (int)rnd_below(&c->rng, (uint64_t)c->n);

	pid_t pid = kid_pids[victim];
	int ph = atomic_load(&c->sh->phase[victim]);
	cr_assert_eq(kill(pid, SIGKILL), 0, "kill %d: %s", (int)pid, strerror(errno));
	/* for the statistics only: did it hold w (a writer still locking is
	 * draining readers)?  Its token stays until a waiter notices. */
	bool owner = ph == PH_LOCKING && c->rw &&
		     prim_find(c->r, lock_off(c), &pi) == 0 && pi.locked &&
		     pi.owner_pid == pid;
	uint64_t b0 = c->sh->rec.b;
	uint64_t r0 = atomic_load(&c->sh->rd_ok) + atomic_load(&c->sh->rd_eod);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	kid_pids[victim] = 0;
	check_workers(c);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "[seed %llu] worker %d ended before the kill: status %#x",
		  (unsigned long long)c->seed, (int)pid, status);
	c->kills++;
	if (c->role[victim] == ROLE_READER && ph == PH_HOLDING)
		c->k_rd_holding++;
	else if (c->role[victim] == ROLE_READER)
		c->k_other++;
	else if (ph == PH_HOLDING || ph == PH_UNLOCKING)
		c->k_holding++;
	else if (ph == PH_LOCKING && owner && c->rw)
		c->k_draining++;  /* it held w, waiting for readers to leave */
	else if (ph == PH_LOCKING)
		c->k_locking++;
	else
		c->k_other++;
	atomic_store(&c->sh->phase[victim], PH_OUT);
	start_worker(c, victim);
	wait_progress(c, b0, r0);
}

static void stop_all(struct ctx *c)
{
	atomic_store(&c->sh->stop, 1);
	int64_t deadline = now_ns() + STOP_TIMEOUT_NS;
	for (;;) {
		int left = 0;
		cr_assert(!atomic_load(&kids_bd->failed), "worker failed: %s\n%s", kids_bd->msg,
			  state_of(c));
		for (int i = 0; i < c->n; i++) {
			int status;
			if (kid_pids[i] <= 0)
				continue;
			if (waitpid(kid_pids[i], &status, WNOHANG) == kid_pids[i]) {
				pid_t pid = kid_pids[i];
				kid_pids[i] = 0;
				cr_assert(!atomic_load(&kids_bd->failed), "worker failed: %s\n%s",
					  kids_bd->msg, state_of(c));
				cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
					  "worker %d: status %#x\n%s", (int)pid, status, state_of(c));
				continue;
			}
			left++;
		}
		if (!left)
			return;
		if (now_ns() > deadline)
			cr_assert_fail("%d workers did not stop within 15 s\n%s", left, state_of(c));
		sleep_ns(1000000);
	}
}

static void run(int backend, bool rw)
{
	struct ctx c;
	memset(&c, 0, sizeof(c));
	c.backend = backend;
	c.rw = rw;
	c.seed = test_seed(backend * 2 + rw);
	c.rng = c.seed;
	const char *what = rw ? "rwlock" : "mutex";
	printf("sync_crash %s %s: seed %llu (SHMKIT_TEST_SEED=%llu repeats it)\n", what,
	       ut_backend_names[backend], (unsigned long long)c.seed,
	       (unsigned long long)c.seed);
	fflush(stdout);

	c.r = make_region(backend, REGION_SIZE, &c.name);
	cr_assert_geq(shmkit_region_size(c.r), sizeof(struct shared));
	c.sh = shmkit_region_base(c.r);
	cr_assert_eq(shmkit_mutex_init(c.r, &c.sh->m), 0);
	cr_assert_eq(shmkit_rwlock_init(c.r, &c.sh->rw), 0);

	if (rw) {
		c.n = 5;  /* 2 writers, 3 readers */
		for (int i = 0; i < c.n; i++)
			c.role[i] = i < 2 ? ROLE_WRITER : ROLE_READER;
	} else {
		c.n = 4;
		for (int i = 0; i < c.n; i++)
			c.role[i] = ROLE_MUTEX;
	}
	int64_t t0 = now_ns();
	for (int i = 0; i < c.n; i++)
		start_worker(&c, i);
	wait_progress(&c, 0, 0);
	while (c.kills < KILLS) {
		sleep_ns((int64_t)rnd_below(&c.rng, 2000000));
		kill_one(&c);
	}
	stop_all(&c);
	double secs = (double)(now_ns() - t0) / 1e9;

	/* the lock is free and consistent; the record counts what completed */
	struct shmkit_prim_info pi;
	cr_assert_eq(prim_find(c.r, lock_off(&c), &pi), 0);
	cr_expect_eq(pi.corrupt, 0);
	cr_expect_eq(pi.locked, 0, "[seed %llu] %s still locked by %d",
		     (unsigned long long)c.seed, what, (int)pi.owner_pid);
	cr_expect_eq(pi.state, 0, "[seed %llu] %s state %d at the end",
		     (unsigned long long)c.seed, what, pi.state);
	uint64_t lib_rec = pi.recoveries;
	if (rw) {
		cr_expect_eq(pi.value, 0, "[seed %llu] %u read holds left",
			     (unsigned long long)c.seed, pi.value);
		cr_assert_eq(shmkit_rwlock_timedwrlock(c.r, &c.sh->rw, LOCK_TIMEOUT_NS), 0,
			     "[seed %llu] final wrlock", (unsigned long long)c.seed);
	} else {
		cr_assert_eq(shmkit_mutex_timedlock(c.r, &c.sh->m, LOCK_TIMEOUT_NS), 0,
			     "[seed %llu] final lock", (unsigned long long)c.seed);
	}
	struct record *rec = &c.sh->rec;
	uint64_t a = rec->a, b = rec->b, s = rec_sum(rec, c.n);
	cr_expect(a == b && b == s, "[seed %llu] final record a=%llu b=%llu sum(done)=%llu",
		  (unsigned long long)c.seed, (unsigned long long)a,
		  (unsigned long long)b, (unsigned long long)s);
	if (rw) {
		cr_assert_eq(shmkit_rwlock_wrunlock(c.r, &c.sh->rw), 0);
		cr_assert_eq(shmkit_rwlock_timedrdlock(c.r, &c.sh->rw, LOCK_TIMEOUT_NS), 0);
		cr_expect(rec->a == a && rec->b == b);
		cr_assert_eq(shmkit_rwlock_rdunlock(c.r, &c.sh->rw), 0);
	} else {
		cr_assert_eq(shmkit_mutex_unlock(c.r, &c.sh->m), 0);
	}
	cr_assert_eq(prim_find(c.r, lock_off(&c), &pi), 0);
	cr_expect(pi.locked == 0 && pi.state == 0 && pi.value == 0,
		  "after the final unlock: locked=%d state=%d read_holds=%u",
		  pi.locked, pi.state, pi.value);

	uint64_t eod = atomic_load(&c.sh->eod);
	printf("sync_crash %s %s: %d kills (%d holding, %d draining readers, %d waiting, "
	       "%d readers holding, %d other), %llu recoveries (library), %llu "
	       "-EOWNERDEAD to %s, %llu repairs (%llu rolled back, %llu rolled forward), "
	       "%llu updates", what, ut_backend_names[backend], c.kills, c.k_holding,
	       c.k_draining, c.k_locking, c.k_rd_holding, c.k_other,
	       (unsigned long long)lib_rec, (unsigned long long)eod,
	       rw ? "writers" : "lockers", (unsigned long long)rec->repairs,
	       (unsigned long long)rec->rollbacks, (unsigned long long)rec->rollforwards,
	       (unsigned long long)b);
	if (rw)
		printf(", reads %llu whole + %llu with -EOWNERDEAD",
		       (unsigned long long)atomic_load(&c.sh->rd_ok),
		       (unsigned long long)atomic_load(&c.sh->rd_eod));
	printf(", %.1f s\n", secs);
	fflush(stdout);

	cr_expect_geq(c.kills, 200);
	/* every repair follows an -EOWNERDEAD, every -EOWNERDEAD to a writer
	 * follows a recovery the library counted, and each recovery a kill */
	cr_expect_leq(rec->repairs, eod, "[seed %llu]", (unsigned long long)c.seed);
	cr_expect_leq(eod, lib_rec, "[seed %llu]", (unsigned long long)c.seed);
	if (!rw)
		cr_expect_leq(lib_rec, (uint64_t)c.kills, "[seed %llu]",
			      (unsigned long long)c.seed);
	cr_expect_gt(lib_rec, 0, "[seed %llu] no kill ever hit a holder",
		     (unsigned long long)c.seed);
	cr_expect_gt(b, 0);
	cr_assert_eq(shmkit_region_close(c.r), 0);
}

Test(lock_crash, mutex_posix) { run(SHMKIT_BACKEND_POSIX, false); }
Test(lock_crash, mutex_sysv) { run(SHMKIT_BACKEND_SYSV, false); }
Test(lock_crash, mutex_anon) { run(SHMKIT_BACKEND_ANON, false); }
Test(lock_crash, rwlock_posix) { run(SHMKIT_BACKEND_POSIX, true); }
Test(lock_crash, rwlock_sysv) { run(SHMKIT_BACKEND_SYSV, true); }
Test(lock_crash, rwlock_anon) { run(SHMKIT_BACKEND_ANON, true); }

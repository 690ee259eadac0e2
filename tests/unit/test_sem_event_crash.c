/* SPDX-License-Identifier: MIT */
/*
 * Description: kill -9 at random points of the primitives that have no
 * owner, the semaphore and the event, 200 times per backend.
 *
 * Semaphore: SEM_UNITS units, SEM_WORKERS workers that wait (no timeout
 * that matters: 30 s), hold the unit a moment and post it back, publishing
 * their phase.  The parent kills a worker every 0-2 ms.  One killed while
 * holding kept its unit: the parent posts it back for it.  One killed while
 * waiting or posting may or may not have moved a unit (ambiguous).  Every
 * CHECK_EVERY kills the parent stops the workers and checks the value V:
 * SEM_UNITS - ambiguous <= V <= SEM_UNITS, so no unit was ever made up and
 * none lost beyond what the ambiguous kills explain; it then posts the
 * lost ones back.  Between checks, a value above 0 that no worker takes
 * within the progress bound (10 s; without the fix the workers would sleep
 * their whole 30 s wait) is a lost wake-up (a dead poster's, or a dead
 * woken waiter's), which the semaphore's bounded sleep must prevent.
 *
 * Event: EV_WAITERS waiters (half with event_wait, half with wait_mutex
 * under a robust mutex) and EV_WAKERS wakers that count a wake as started,
 * wake_all, and count it done.  Waits last at most 10 s; as wakers wake
 * every few hundred microseconds, a timeout is a lost wake-up.  At the end
 * the sequence moved by at least the wakes done and at most those started,
 * and the count of sleepers is at most the waiters killed while waiting.
 *
 * Backends: posix, sysv (workers open their own handle now and then) and
 * anon.  SHMKIT_TEST_SEED=N repeats a run's choices.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>

#include "kids.h"
#include "sync_util.h"

#define KILLS 200                     /* per test */
#define MAX_WORKERS 8
#define SEM_UNITS 2
#define SEM_WORKERS 5
#define CHECK_EVERY 20
#define EV_WAITERS 4
#define EV_WAKERS 2
#define WAIT_NS ((int64_t)30 * 1000000000)      /* a worker's semaphore wait */
#define EV_WAIT_NS ((int64_t)10 * 1000000000)   /* a waiter's event wait */
#define ZERO_NS ((int64_t)500 * 1000000)       /* value 0 this long: check */
#define PROGRESS_NS ((int64_t)10 * 1000000000)
#define WORKER_ALARM_S 150
#define REGION_SIZE 8192

enum { PH_OUT, PH_WAITING, PH_HOLDING, PH_POSTING, PH_WAKING };

struct shared {
	shmkit_sem sem;
	shmkit_event ev;
	shmkit_mutex m;
	_Atomic int stop;
	_Atomic int phase[MAX_WORKERS];
	_Atomic uint64_t cycles;        /* sem: wait-post cycles; event: waits woken */
	_Atomic uint64_t wakes_started, wakes_done;
	_Atomic uint64_t eod;           /* wait_mutex relocks that met -EOWNERDEAD */
};

struct ctx {
	bool event;
	const char *name;               /* NULL: anonymous */
	shmkit_region *r;
	struct shared *sh;
	uint64_t seed, rng;
	int n;
	unsigned serial;
	int kills, k_phase[PH_WAKING + 1];
	int ambiguous;                  /* sem: since the last check */
	int checks, repaid, lost;
	int extra;                      /* sem: units posted to let workers stop */
};

static void setup(void)
{
	kids_setup(sizeof(struct kids_board), WORKER_ALARM_S);
}

TestSuite(sem_event_crash, .init = setup, .fini = kids_teardown, .timeout = 150);

/* ---- the workers ---- */

static void sem_worker(shmkit_region *r, struct shared *sh, int idx, uint64_t *rng)
{
	while (!atomic_load(&sh->stop)) {
		atomic_store(&sh->phase[idx], PH_WAITING);
		int err = shmkit_sem_timedwait(r, &sh->sem, WAIT_NS);
		if (err)
			kid_fail("sem_timedwait: %s (value %d)", shmkit_strerror(err),
				    shmkit_sem_value(r, &sh->sem));
		atomic_store(&sh->phase[idx], PH_HOLDING);
		spin_ns((int64_t)rnd_below(rng, 200000));
		atomic_store(&sh->phase[idx], PH_POSTING);
		err = shmkit_sem_post(r, &sh->sem);
		if (err)
			kid_fail("sem_post: %s", shmkit_strerror(err));
		atomic_store(&sh->phase[idx], PH_OUT);
		atomic_fetch_add(&sh->cycles, 1);
		if (rnd_below(rng, 4) == 0)
			sleep_ns((int64_t)rnd_below(rng, 200000));
	}
}

static void waker(shmkit_region *r, struct shared *sh, int idx, uint64_t *rng)
{
	while (!atomic_load(&sh->stop)) {
		atomic_store(&sh->phase[idx], PH_WAKING);
		atomic_fetch_add(&sh->wakes_started, 1);
		int err = shmkit_event_wake_all(r, &sh->ev);
		if (err)
			kid_fail("wake_all: %s", shmkit_strerror(err));
		atomic_fetch_add(&sh->wakes_done, 1);
		atomic_store(&sh->phase[idx], PH_OUT);
		sleep_ns((int64_t)rnd_below(rng, 400000));
	}
}

static void relock_repair(shmkit_region *r, struct shared *sh, int err)
{
	if (err == -EOWNERDEAD) {
		atomic_fetch_add(&sh->eod, 1);
		err = shmkit_mutex_consistent(r, &sh->m);
	}
	if (err)
		kid_fail("mutex: %s", shmkit_strerror(err));
}

static void waiter(shmkit_region *r, struct shared *sh, int idx, uint64_t *rng)
{
	bool cv = idx % 2;
	while (!atomic_load(&sh->stop)) {
		int err;
		atomic_store(&sh->phase[idx], PH_WAITING);
		if (cv) {
			relock_repair(r, sh, shmkit_mutex_timedlock(r, &sh->m, EV_WAIT_NS));
			atomic_store(&sh->phase[idx], PH_HOLDING);  /* or asleep */
			err = shmkit_event_wait_mutex(r, &sh->ev, &sh->m, EV_WAIT_NS);
			if (err == -EOWNERDEAD) {
				relock_repair(r, sh, err);
				err = 0;
			}
			if (!err) {
				spin_ns((int64_t)rnd_below(rng, 20000));
				atomic_store(&sh->phase[idx], PH_POSTING);
				err = shmkit_mutex_unlock(r, &sh->m);
			}
		} else {
			uint32_t ticket;
			err = shmkit_event_prepare(r, &sh->ev, &ticket);
			if (!err)
				err = shmkit_event_wait(r, &sh->ev, ticket, EV_WAIT_NS);
		}
		if (err)
			kid_fail("%s: %s", cv ? "wait_mutex" : "event_wait",
				    shmkit_strerror(err));
		atomic_store(&sh->phase[idx], PH_OUT);
		atomic_fetch_add(&sh->cycles, 1);
	}
}

static __attribute__((noreturn))
void worker_main(struct ctx *c, int idx, uint64_t wseed)
{
	shmkit_region *own;
	shmkit_region *r = kid_region(c->r, c->name, c->serial, &own);
	struct shared *sh = shmkit_region_base(r);
	uint64_t rng = wseed;

	if (!c->event)
		sem_worker(r, sh, idx, &rng);
	else if (idx < EV_WAKERS)
		waker(r, sh, idx, &rng);
	else
		waiter(r, sh, idx, &rng);
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

	atomic_store(&c->sh->phase[idx], PH_OUT);
	next_worker.c = c;
	next_worker.idx = idx;
	next_worker.wseed = wseed;
	kid_spawn_at(idx, worker_entry, NULL);
	c->serial++;
}

static void check_workers(struct ctx *c)
{
	cr_assert(!atomic_load(&kids_bd->failed), "[seed %llu] worker failed: %s",
		  (unsigned long long)c->seed, kids_bd->msg);
	for (int i = 0; i < c->n; i++) {
		int status;
		if (kid_pids[i] > 0 && waitpid(kid_pids[i], &status, WNOHANG) == kid_pids[i]) {
			kid_pids[i] = 0;
			cr_assert(!atomic_load(&kids_bd->failed), "[seed %llu] worker failed: %s",
				  (unsigned long long)c->seed, kids_bd->msg);
			cr_assert_fail("[seed %llu] worker %d ended on its own: status %#x",
				       (unsigned long long)c->seed, i, status);
		}
	}
}

static void start_all(struct ctx *c)
{
	atomic_store(&c->sh->stop, 0);
	for (int i = 0; i < c->n; i++)
		start_worker(c, i);
}

/* Stops every worker.  Sleepers are let out: waiters by wakes the parent
 * counts as the wakers' are counted, semaphore workers by units it counts
 * in c->extra (a worker that took one posts it back before it stops). */
static void stop_all(struct ctx *c)
{
	atomic_store(&c->sh->stop, 1);
	int64_t deadline = now_ns() + PROGRESS_NS;
	for (int left = c->n; left > 0;) {
		if (c->event) {
			atomic_fetch_add(&c->sh->wakes_started, 1);
			cr_assert_eq(shmkit_event_wake_all(c->r, &c->sh->ev), 0);
			atomic_fetch_add(&c->sh->wakes_done, 1);
		} else if (shmkit_sem_value(c->r, &c->sh->sem) == 0) {
			cr_assert_eq(shmkit_sem_post(c->r, &c->sh->sem), 0);
			c->extra++;
		}
		left = 0;
		for (int i = 0; i < c->n; i++) {
			int status;
			if (kid_pids[i] <= 0)
				continue;
			if (waitpid(kid_pids[i], &status, WNOHANG) != kid_pids[i]) {
				left++;
				continue;
			}
			kid_pids[i] = 0;
			cr_assert(!atomic_load(&kids_bd->failed), "[seed %llu] worker failed: %s",
				  (unsigned long long)c->seed, kids_bd->msg);
			cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
				  "[seed %llu] worker %d: status %#x",
				  (unsigned long long)c->seed, i, status);
		}
		cr_assert(left == 0 || now_ns() < deadline,
			  "[seed %llu] %d workers did not stop within 10 s (sem value %d)",
			  (unsigned long long)c->seed, left, shmkit_sem_value(c->r, &c->sh->sem));
		if (left)
			sleep_ns(1000000);
	}
}

/*
 * Semaphore check, with every worker stopped: the value is SEM_UNITS less
 * what the ambiguous kills since the last check took at most.  The lost
 * units are posted back.
 */
static void sem_check_units(struct ctx *c)
{
	c->extra = 0;
	stop_all(c);
	for (int i = 0; i < c->extra; i++)
		cr_assert_eq(shmkit_sem_trywait(c->r, &c->sh->sem), 0,
			     "[seed %llu] %d units posted to stop the workers are gone",
			     (unsigned long long)c->seed, c->extra);
	int v = shmkit_sem_value(c->r, &c->sh->sem);
	cr_assert(v >= SEM_UNITS - c->ambiguous && v <= SEM_UNITS,
		  "[seed %llu] sem value %d after %d ambiguous kills: expected %d..%d",
		  (unsigned long long)c->seed, v, c->ambiguous, SEM_UNITS - c->ambiguous,
		  SEM_UNITS);
	for (; v < SEM_UNITS; v++, c->lost++)
		cr_assert_eq(shmkit_sem_post(c->r, &c->sh->sem), 0);
	c->ambiguous = 0;
	c->checks++;
	start_all(c);
}

/* Waits for the workers to move on after a kill.  For the semaphore: a unit
 * that nobody takes within PROGRESS_NS is a lost wake-up; a value of 0 for
 * ZERO_NS may be units lost with the dead, which only a check can tell
 * from a bug. */
static void wait_progress(struct ctx *c, uint64_t c0)
{
	int64_t start = now_ns(), zero_since = -1;
	while (atomic_load(&c->sh->cycles) <= c0) {
		check_workers(c);
		int64_t now = now_ns();
		if (!c->event) {
			int v = shmkit_sem_value(c->r, &c->sh->sem);
			if (v > 0)
				zero_since = -1;
			else if (zero_since < 0)
				zero_since = now;
			if (v > 0 && now - start > PROGRESS_NS)
				cr_assert_fail("[seed %llu] sem value %d, yet no waiter took a unit "
					       "for 10 s: a lost wake-up", (unsigned long long)c->seed, v);
			if (v == 0 && now - zero_since > ZERO_NS) {
				sem_check_units(c);  /* all units held by the dead */
				return;
			}
		}
		cr_assert(now - start < PROGRESS_NS, "[seed %llu] no progress for 10 s",
			  (unsigned long long)c->seed);
		sleep_ns(200000);
	}
}

static void kill_one(struct ctx *c)
{
	int victim = (int)rnd_below(&c->rng, (uint64_t)c->n);
	/* mostly one in the middle of something */
	for (int tries = 0; tries < 50 && rnd_below(&c->rng, 4) != 0; tries++) {
		int i = (int)rnd_below(&c->rng, (uint64_t)c->n);
		if (atomic_load(&c->sh->phase[i]) != PH_OUT) {
			victim = i;
			break;
		}
	}
	pid_t pid = kid_pids[victim];
	cr_assert_eq(kill(pid, SIGKILL), 0, "kill: %s", strerror(errno));
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	kid_pids[victim] = 0;
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "[seed %llu] worker %d ended before the kill: status %#x (%s)",
		  (unsigned long long)c->seed, victim, status, kids_bd->msg);
	int ph = atomic_load(&c->sh->phase[victim]);  /* final: it is dead */
	c->kills++;
	c->k_phase[ph]++;
	if (!c->event) {
		if (ph == PH_HOLDING) {
			/* it kept its unit: give it back for it */
			cr_assert_eq(shmkit_sem_post(c->r, &c->sh->sem), 0);
			c->repaid++;
		} else if (ph == PH_WAITING || ph == PH_POSTING) {
			c->ambiguous++;
		}
	}
	uint64_t c0 = atomic_load(&c->sh->cycles);
	start_worker(c, victim);
	wait_progress(c, c0);
	if (!c->event && c->kills % CHECK_EVERY == 0)
		sem_check_units(c);
}

static void run(int backend, bool event)
{
	struct ctx c;
	memset(&c, 0, sizeof(c));
	c.event = event;
	c.seed = test_seed(backend * 2 + event);
	c.rng = c.seed;
	c.n = event ? EV_WAKERS + EV_WAITERS : SEM_WORKERS;
	const char *what = event ? "event" : "sem";
	printf("prim_crash %s %s: seed %llu (SHMKIT_TEST_SEED=%llu repeats it)\n", what,
	       ut_backend_names[backend], (unsigned long long)c.seed,
	       (unsigned long long)c.seed);
	fflush(stdout);

	c.r = make_region(backend, REGION_SIZE, &c.name);
	c.sh = shmkit_region_base(c.r);
	cr_assert_eq(shmkit_sem_init(c.r, &c.sh->sem, SEM_UNITS), 0);
	cr_assert_eq(shmkit_event_init(c.r, &c.sh->ev), 0);
	cr_assert_eq(shmkit_mutex_init(c.r, &c.sh->m), 0);
	uint32_t seq0;
	cr_assert_eq(shmkit_event_prepare(c.r, &c.sh->ev, &seq0), 0);

	int64_t t0 = now_ns();
	start_all(&c);
	wait_progress(&c, 0);
	while (c.kills < KILLS) {
		sleep_ns((int64_t)rnd_below(&c.rng, 2000000));
		kill_one(&c);
	}
	double secs;
	if (event) {
		stop_all(&c);
		secs = (double)(now_ns() - t0) / 1e9;
		uint32_t seq;
		cr_assert_eq(shmkit_event_prepare(c.r, &c.sh->ev, &seq), 0);
		uint64_t moved = (uint32_t)(seq - seq0);
		uint64_t started = atomic_load(&c.sh->wakes_started);
		uint64_t done = atomic_load(&c.sh->wakes_done);
		cr_expect(moved >= done && moved <= started,
			  "[seed %llu] sequence moved %llu, wakes done %llu, started %llu",
			  (unsigned long long)c.seed, (unsigned long long)moved,
			  (unsigned long long)done, (unsigned long long)started);
		struct shmkit_prim_info info[8];
		int np = shmkit_region_prims(c.r, info, 8);
		for (int i = 0; i < np && i < 8; i++) {
			if (info[i].type != SHMKIT_PRIM_EVENT)
				continue;
			cr_expect_eq(info[i].corrupt, 0);
			/* a waiter killed asleep stays counted; no other */
			int asleep_kills = c.k_phase[PH_WAITING] + c.k_phase[PH_HOLDING];
			cr_expect_leq(info[i].waiters, (uint32_t)asleep_kills,
				      "[seed %llu] %u sleepers, %d waiters killed waiting",
				      (unsigned long long)c.seed, info[i].waiters, asleep_kills);
		}
		/* the mutex of the wait_mutex waiters recovers */
		int err = shmkit_mutex_timedlock(c.r, &c.sh->m, EV_WAIT_NS);
		if (err == -EOWNERDEAD)
			err = shmkit_mutex_consistent(c.r, &c.sh->m);
		cr_expect_eq(err, 0, "[seed %llu] final lock: %s", (unsigned long long)c.seed,
			     shmkit_strerror(err));
		cr_expect_eq(shmkit_mutex_unlock(c.r, &c.sh->m), 0);
		printf("prim_crash event %s: %d kills (%d waiting, %d in wait_mutex, %d "
		       "unlocking, %d waking, %d idle), %llu waits woken, %llu wakes, %llu "
		       "relocks after a dead owner, %.1f s\n", ut_backend_names[backend],
		       c.kills, c.k_phase[PH_WAITING], c.k_phase[PH_HOLDING],
		       c.k_phase[PH_POSTING], c.k_phase[PH_WAKING], c.k_phase[PH_OUT],
		       (unsigned long long)atomic_load(&c.sh->cycles), (unsigned long long)done,
		       (unsigned long long)atomic_load(&c.sh->eod), secs);
	} else {
		sem_check_units(&c);
		c.extra = 0;
		stop_all(&c);
		for (int i = 0; i < c.extra; i++)
			cr_assert_eq(shmkit_sem_trywait(c.r, &c.sh->sem), 0);
		secs = (double)(now_ns() - t0) / 1e9;
		cr_expect_eq(shmkit_sem_value(c.r, &c.sh->sem), SEM_UNITS);
		printf("prim_crash sem %s: %d kills (%d waiting, %d holding, %d posting, %d idle), "
		       "%d checks, %d units given back for dead holders, %d lost in ambiguous "
		       "kills, %llu cycles, %.1f s\n", ut_backend_names[backend], c.kills,
		       c.k_phase[PH_WAITING], c.k_phase[PH_HOLDING], c.k_phase[PH_POSTING],
		       c.k_phase[PH_OUT], c.checks, c.repaid, c.lost,
		       (unsigned long long)atomic_load(&c.sh->cycles), secs);
	}
	fflush(stdout);
	cr_expect_eq(c.kills, KILLS);
	cr_assert_eq(shmkit_region_close(c.r), 0);
}

Test(sem_event_crash, sem_posix) { run(SHMKIT_BACKEND_POSIX, false); }
Test(sem_event_crash, sem_sysv) { run(SHMKIT_BACKEND_SYSV, false); }
Test(sem_event_crash, sem_anon) { run(SHMKIT_BACKEND_ANON, false); }
Test(sem_event_crash, event_posix) { run(SHMKIT_BACKEND_POSIX, true); }
Test(sem_event_crash, event_sysv) { run(SHMKIT_BACKEND_SYSV, true); }
Test(sem_event_crash, event_anon) { run(SHMKIT_BACKEND_ANON, true); }

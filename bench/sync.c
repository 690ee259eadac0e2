/* SPDX-License-Identifier: MIT */
/*
 * sync.c - the synchronization entries (issue #3): what a wake-up across
 * processes and an uncontended lock cost, next to what the hardware and
 * the kernel cost without shmkit.
 *
 *   futex           raw FUTEX_WAIT/FUTEX_WAKE on two words, one per
 *                   direction: the kernel's sleep and wake-up, no spinning
 *   event           the same round trip through two shmkit events
 *   pthread_mutex   lock+unlock of a default, process-private pthread mutex,
 *                   in a process that has had a thread (see become_threaded)
 *   pthread_robust  the same, PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST
 *                   in MAP_SHARED memory: what shmkit's mutex replaces
 *   mutex           lock+unlock of a shmkit mutex in an anonymous region
 *
 * Round trips: side A bumps the ping word and waits for pong to reach the
 * same count; side B waits for ping, then bumps pong.  Each word has a cache
 * line to itself (two: the adjacent-line prefetcher pulls pairs).  The
 * floor they are quoted against is in floor.c.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "shmkit.h"
#include "suites.h"

/* ---------------------------------------------------------------------- */
/* futex: the kernel's sleep and wake, nothing else                       */

/* Shared futexes (no FUTEX_PRIVATE_FLAG): the words are in MAP_SHARED
 * memory of two processes.  EAGAIN (the word moved on) and EINTR are both
 * "look again", which the callers do. */
static void futex_wait(_Atomic uint32_t *w, uint32_t val)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Sleeps until *w == v.  No spinning first: this is the kernel's cost. */
static void futex_until(_Atomic uint32_t *w, uint32_t v)
{
	uint32_t cur;

	while ((cur = atomic_load_explicit(w, memory_order_acquire)) != v)
		futex_wait(w, cur);
}

/* Always FUTEX_WAKE, even with no sleeper: a raw futex user without a
 * waiter count has to, and it is what the comparison is about. */
static int futex_a(struct bench_side *s)
{
	struct bench_pingpong *pp = s->ctx;
	uint32_t v = (uint32_t)++s->seq;

	atomic_store_explicit(&pp->ping, v, memory_order_release);
	futex_wake(&pp->ping);
	futex_until(&pp->pong, v);
	return 0;
}

static int futex_b(struct bench_side *s)
{
	struct bench_pingpong *pp = s->ctx;
	uint32_t v = (uint32_t)++s->seq;

	futex_until(&pp->ping, v);
	atomic_store_explicit(&pp->pong, v, memory_order_release);
	futex_wake(&pp->pong);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* event: two shmkit events, one per direction                            */

struct event_ctx {
	shmkit_region *r;
	shmkit_event *ping, *pong;
};

static int event_setup(void **ctx, struct bench_cell *cell)
{
	struct event_ctx *c = calloc(1, sizeof(*c));
	int err;

	(void)cell;
	if (!c)
		return -ENOMEM;
	/* anonymous: inherited by side B across fork, which registers it */
	err = shmkit_region_anon(2 * BENCH_LINE, 0, &c->r);
	if (err) {
		free(c);
		return err;
	}
	char *base = shmkit_region_base(c->r);
	c->ping = (shmkit_event *)(void *)base;
	c->pong = (shmkit_event *)(void *)(base + BENCH_LINE);
	if ((err = shmkit_event_init(c->r, c->ping)) ||
	    (err = shmkit_event_init(c->r, c->pong))) {
		shmkit_region_close(c->r);
		free(c);
		return err;
	}
	*ctx = c;
	return 0;
}

static void event_teardown(void *ctx)
{
	struct event_ctx *c = ctx;

	shmkit_region_close(c->r);
	free(c);
}

/* Waits for a wake since @ticket; a signal handler running is not one. */
static int event_wait(shmkit_region *r, shmkit_event *e, uint32_t ticket)
{
	int err;

	do
		err = shmkit_event_wait(r, e, ticket, SHMKIT_FOREVER);
	while (err == -EINTR);
	return err;
}

/* Side B holds a ping ticket from before side A's first wake. */
static int event_start_b(struct bench_side *s)
{
	struct event_ctx *c = s->ctx;

	return shmkit_event_prepare(c->r, c->ping, &s->ticket);
}

/* prepare, then the condition (here: wake the other side), then wait:
 * the pattern the header gives, which cannot lose the answer. */
static int event_a(struct bench_side *s)
{
	struct event_ctx *c = s->ctx;
	uint32_t ticket;
	int err;

	if ((err = shmkit_event_prepare(c->r, c->pong, &ticket)) ||
	    (err = shmkit_event_wake_one(c->r, c->ping)))
		return err;
	return event_wait(c->r, c->pong, ticket);
}

static int event_b(struct bench_side *s)
{
	struct event_ctx *c = s->ctx;
	int err;

	/* the next ticket is taken before answering: A's next ping may come
	 * the moment it sees the pong */
	if ((err = event_wait(c->r, c->ping, s->ticket)) ||
	    (err = shmkit_event_prepare(c->r, c->ping, &s->ticket)))
		return err;
	return shmkit_event_wake_one(c->r, c->pong);
}

/* ---------------------------------------------------------------------- */
/* pthread_mutex and pthread_robust: what libc offers                     */

struct pthread_ctx {
	pthread_mutex_t *m;
	bool shared;  /* in MAP_SHARED memory, process-shared and robust */
};

static int pthread_setup_kind(void **ctx, bool shared)
{
	struct pthread_ctx *c = calloc(1, sizeof(*c));
	pthread_mutexattr_t a;
	int err;

	if (!c)
		return -ENOMEM;
	c->shared = shared;
	c->m = shared ? bench_map_shared(sizeof(*c->m)) : malloc(sizeof(*c->m));
	if (!c->m) {
		free(c);
		return -ENOMEM;
	}
	if ((err = pthread_mutexattr_init(&a)) == 0) {
		if (shared && !(err = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)))
			err = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		if (!err)
			err = pthread_mutex_init(c->m, &a);
		pthread_mutexattr_destroy(&a);
	}
	if (err) {
		if (shared)
			munmap(c->m, sizeof(*c->m));
		else
			free(c->m);
		free(c);
		return -err;
	}
	*ctx = c;
	return 0;
}

static void *no_op(void *arg)
{
	return arg;
}

/*
 * glibc locks a private mutex with a plain store, no atomic, while the
 * process has never had a second thread (__libc_single_threaded).  A private
 * mutex only matters to a threaded program, so the baseline is taken as one
 * pays it: after a thread was started (the flag never comes back).
 */
static int become_threaded(void)
{
	static bool done;
	pthread_t t;
	int err;

	if (done)
		return 0;
	if ((err = pthread_create(&t, NULL, no_op, NULL)))
		return -err;
	pthread_join(t, NULL);
	done = true;
	return 0;
}

static int pthread_plain_setup(void **ctx, struct bench_cell *cell)
{
	int err = become_threaded();

	(void)cell;

	if (err)
		return err;
	return pthread_setup_kind(ctx, false);
}

static int pthread_robust_setup(void **ctx, struct bench_cell *cell)
{
	(void)cell;
	return pthread_setup_kind(ctx, true);
}

static void pthread_teardown(void *ctx)
{
	struct pthread_ctx *c = ctx;

	pthread_mutex_destroy(c->m);
	if (c->shared)
		munmap(c->m, sizeof(*c->m));
	else
		free(c->m);
	free(c);
}

static int pthread_cost(struct bench_side *s, uint64_t n)
{
	struct pthread_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = pthread_mutex_lock(c->m)) || (err = pthread_mutex_unlock(c->m)))
			return -err;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* mutex: shmkit's robust mutex                                           */

struct mutex_ctx {
	shmkit_region *r;
	shmkit_mutex *m;
};

static int mutex_setup(void **ctx, struct bench_cell *cell)
{
	struct mutex_ctx *c = calloc(1, sizeof(*c));
	int err;

	(void)cell;
	if (!c)
		return -ENOMEM;
	err = shmkit_region_anon(BENCH_LINE, 0, &c->r);
	if (!err) {
		c->m = shmkit_region_base(c->r);
		err = shmkit_mutex_init(c->r, c->m);
		if (err)
			shmkit_region_close(c->r);
	}
	if (err) {
		free(c);
		return err;
	}
	*ctx = c;
	return 0;
}

static void mutex_teardown(void *ctx)
{
	struct mutex_ctx *c = ctx;

	shmkit_region_close(c->r);
	free(c);
}

static int mutex_cost(struct bench_side *s, uint64_t n)
{
	struct mutex_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = shmkit_mutex_lock(c->r, c->m)) ||
		    (err = shmkit_mutex_unlock(c->r, c->m)))
			return err;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */

static const struct bench_method sync_methods[] = {
	{ .name = "futex", .what = "raw FUTEX_WAIT/WAKE round trip",
	  .kinds = BENCH_LATENCY, .copies = -1,
	  .setup = bench_pingpong_setup, .teardown = bench_pingpong_teardown,
	  .round_a = futex_a, .round_b = futex_b },
	{ .name = "event", .what = "shmkit event round trip",
	  .kinds = BENCH_LATENCY, .copies = -1,
	  .setup = event_setup, .teardown = event_teardown,
	  .start_b = event_start_b, .round_a = event_a, .round_b = event_b },
	{ .name = "pthread_mutex", .what = "lock+unlock, private, threaded",
	  .kinds = BENCH_COST, .copies = -1, .baseline = "pthread_mutex",
	  .setup = pthread_plain_setup, .teardown = pthread_teardown,
	  .cost = pthread_cost },
	{ .name = "pthread_robust", .what = "lock+unlock, pshared robust",
	  .kinds = BENCH_COST, .copies = -1, .baseline = "pthread_mutex",
	  .setup = pthread_robust_setup, .teardown = pthread_teardown,
	  .cost = pthread_cost },
	{ .name = "mutex", .what = "shmkit mutex lock+unlock",
	  .kinds = BENCH_COST, .copies = -1, .baseline = "pthread_mutex",
	  .setup = mutex_setup, .teardown = mutex_teardown,
	  .cost = mutex_cost },
};

const struct bench_suite bench_sync_suite = {
	.methods = sync_methods,
	.count = sizeof(sync_methods) / sizeof(sync_methods[0]),
};

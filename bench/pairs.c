/* SPDX-License-Identifier: MIT */
/*
 * pairs.c - two streams at once: four processes on the two CPUs, as when
 * two unrelated pairs of programs share a machine.
 *
 *   pipe_2p   streams only: two independent pairs of another entry's
 *   spsc_2p   stream (pipe; chan_spin_sleep, an SPSC channel with the
 *             default policy) run at once.  Pair 1 is the trial's sides:
 *             A on the first CPU sends, B on the second receives.  Pair 2
 *             is two helper processes side A forks: its writer on B's CPU,
 *             its reader on A's, so each CPU runs one writer and one
 *             reader.  Each round of n messages is split in two (half of
 *             the running total each, so that rounds of one message, at
 *             large sizes, alternate): side A sends its share and raises
 *             pair 2's writer's quota by the other; side B receives its
 *             share, then waits until pair 2's reader has received its
 *             own.  The rate is side B's, of both pairs' messages
 *             together; the CPU time per message is side A's and B's
 *             over both pairs' messages (the helpers' is not measured),
 *             about half of what each message costs.  Each pair checks
 *             its own sequence, as the entry it runs does.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suites.h"

#define PAIRS_READY_NS (10 * INT64_C(1000000000))
/* Side B gives up on pair 2 when its reader has not moved for this long
 * (a helper killed without a word: a pipe's peer never sees an EOF, as
 * every process holds every end). */
#define PAIRS_STALL_NS (10 * INT64_C(1000000000))

/* What side A, side B and pair 2's two helpers share. */
struct pairs_ctl {
	_Atomic uint64_t quota;  /* messages pair 2 is to have carried */
	_Atomic uint64_t done;   /* messages pair 2's reader has received */
	_Atomic int ready;       /* helpers with their ends open */
	_Atomic int err;         /* a helper's failure */
};

struct pairs_ctx {
	const struct bench_method *inner;  /* the stream each pair runs */
	void *ctx[2];                      /* its context, for each pair */
	struct bench_side side;            /* this process's side of its pair */
	struct pairs_ctl *ctl;
	uint64_t total;                    /* both pairs' messages so far (A and B
					    * count the same) */
	uint64_t target;                   /* side B: pair 2's share of them */
	pid_t helper[2];                   /* pair 2's reader and writer */
};

/* The entry @name of the ipc or the channel suite. */
static const struct bench_method *find_method(const char *name)
{
	const struct bench_suite *suites[] = { &bench_ipc_suite, &bench_chan_suite };

	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++)
		for (size_t i = 0; i < suites[s]->count; i++)
			if (strcmp(suites[s]->methods[i].name, name) == 0)
				return &suites[s]->methods[i];
	return NULL;
}

static void pairs_teardown(void *ctx)
{
	struct pairs_ctx *p = ctx;

	for (int i = 0; i < 2; i++) {
		if (p->helper[i] <= 0)
			continue;
		kill(p->helper[i], SIGKILL);
		while (waitpid(p->helper[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++)
		if (p->ctx[i])
			p->inner->teardown(p->ctx[i]);
	if (p->ctl)
		munmap(p->ctl, sizeof(*p->ctl));
	free(p);
}

/* Async-signal-safe: kill and the inner entry's own abandon only. */
static void pairs_abandon(void *ctx)
{
	struct pairs_ctx *p = ctx;

	for (int i = 0; i < 2; i++)
		if (p->helper[i] > 0)
			kill(p->helper[i], SIGKILL);
	for (int i = 0; i < 2; i++)
		if (p->ctx[i] && p->inner->abandon)
			p->inner->abandon(p->ctx[i]);
}

static int pairs_setup(void **ctx, struct bench_cell *cell, const char *inner)
{
	struct pairs_ctx *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	p->inner = find_method(inner);
	p->ctl = bench_map_shared(sizeof(*p->ctl));
	if (!p->ctl) {
		err = -errno;
		free(p);
		return err;
	}
	if (!p->inner || !p->inner->send_a || !p->inner->recv_b) {
		pairs_teardown(p);
		return -ENOSYS;
	}
	for (int i = 0; i < 2; i++) {
		if ((err = p->inner->setup(&p->ctx[i], cell))) {
			pairs_teardown(p);
			return err;
		}
	}
	*ctx = p;
	return 0;
}

static int pipe_2p_setup(void **ctx, struct bench_cell *cell)
{
	return pairs_setup(ctx, cell, "pipe");
}

static int spsc_2p_setup(void **ctx, struct bench_cell *cell)
{
	return pairs_setup(ctx, cell, "chan_spin_sleep");
}

/* This process's side of pair @pair, from the harness's side @s. */
static int side_of(struct pairs_ctx *p, const struct bench_side *s, int pair)
{
	p->side = *s;
	p->side.ctx = p->ctx[pair];
	p->side.seq = 0;
	if (s->size && !p->side.buf) {
		if (posix_memalign((void **)&p->side.buf, 64, s->size))
			return -ENOMEM;
		memset(p->side.buf, 0x5a, s->size);
	}
	return 0;
}

/* Pair 2's reader (@writer false) or writer: opens its end, then carries
 * the quota as side A raises it, until killed by teardown or with side A. */
static _Noreturn void helper(struct pairs_ctx *p, const struct bench_side *s, bool writer,
			     pid_t parent)
{
	const struct bench_method *m = p->inner;
	struct bench_side base = *s;
	uint64_t have = 0;
	unsigned idle = 0;
	int err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	signal(SIGCHLD, SIG_DFL);  /* side A's, for its side B */
	signal(SIGALRM, SIG_DFL);
	base.buf = NULL;
	base.cpu_a = base.cpu_b = -1;
	if ((err = bench_pin(writer ? s->cpu_b : s->cpu_a)) || (err = side_of(p, &base, 1)) ||
	    (writer ? m->start_a && (err = m->start_a(&p->side))
		    : m->start_b && (err = m->start_b(&p->side))))
		goto fail;
	atomic_fetch_add(&p->ctl->ready, 1);
	for (;;) {
		uint64_t q = atomic_load(&p->ctl->quota);
		if (have == q) {
			bench_idle(&idle);
			continue;
		}
		idle = 0;
		err = writer ? m->send_a(&p->side, q - have) : m->recv_b(&p->side, q - have);
		if (err)
			goto fail;
		have = q;
		if (!writer)
			atomic_store(&p->ctl->done, have);
	}
fail:
	atomic_store(&p->ctl->err, err ? err : -EPROTO);
	_exit(1);
}

/* Forks pair 2's reader, then its writer (a reader's start comes first, as
 * side B's does), each once the one before has its end open. */
static int start_helpers(struct pairs_ctx *p, const struct bench_side *s)
{
	pid_t parent = getpid();

	fflush(NULL);
	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();
		if (pid == 0)
			helper(p, s, i == 1, parent);
		if (pid < 0)
			return -errno;
		p->helper[i] = pid;
		int64_t end = bench_now_ns() + PAIRS_READY_NS;
		while (atomic_load(&p->ctl->ready) < i + 1) {
			int err = atomic_load(&p->ctl->err);
			if (!err && bench_now_ns() > end)
				err = -ETIMEDOUT;
			if (err)
				return err;
			sched_yield();
		}
	}
	return 0;
}

static int pairs_start_a(struct bench_side *s)
{
	struct pairs_ctx *p = s->ctx;
	int err = start_helpers(p, s);

	if (!err)
		err = side_of(p, s, 0);
	if (!err && p->inner->start_a)
		err = p->inner->start_a(&p->side);
	return err;
}

static int pairs_start_b(struct bench_side *s)
{
	struct pairs_ctx *p = s->ctx;
	int err = side_of(p, s, 0);

	if (!err && p->inner->start_b)
		err = p->inner->start_b(&p->side);
	return err;
}

/* Pair 2's share of the next @n messages: half of the running total, so
 * that rounds of one message (large sizes) or an odd count alternate. */
static uint64_t share_2(struct pairs_ctx *p, uint64_t n)
{
	uint64_t k = (p->total + n) / 2 - p->total / 2;

	p->total += n;
	return k;
}

/* Side A: pair 2's share of the round to its writer, its own sent. */
static int pairs_send(struct bench_side *s, uint64_t n)
{
	struct pairs_ctx *p = s->ctx;
	int err = atomic_load(&p->ctl->err);
	uint64_t k = share_2(p, n);

	if (err)
		return err;
	atomic_fetch_add(&p->ctl->quota, k);
	return n > k ? p->inner->send_a(&p->side, n - k) : 0;
}

/* Side B: its own share, then pair 2's reader's. */
static int pairs_recv(struct bench_side *s, uint64_t n)
{
	struct pairs_ctx *p = s->ctx;
	unsigned idle = 0;
	uint64_t k = share_2(p, n), seen = atomic_load(&p->ctl->done);
	int err = n > k ? p->inner->recv_b(&p->side, n - k) : 0;
	int64_t since = bench_now_ns();

	if (err)
		return err;
	p->target += k;
	for (uint64_t d; (d = atomic_load(&p->ctl->done)) < p->target;) {
		if ((err = atomic_load(&p->ctl->err)))
			return err;
		int64_t now = bench_now_ns();
		if (d != seen) {
			seen = d;
			since = now;
		} else if (now - since > PAIRS_STALL_NS) {
			return -ETIMEDOUT;
		}
		bench_idle(&idle);
	}
	return 0;
}

#define PAIRS_METHOD(n, w, fn, pol, cp) \
	{ .name = n, .what = w, .kinds = BENCH_THROUGHPUT, .sized = true, .policy = pol, \
	  .copies = cp, .setup = fn, .teardown = pairs_teardown, .abandon = pairs_abandon, \
	  .start_a = pairs_start_a, .start_b = pairs_start_b, \
	  .send_a = pairs_send, .recv_b = pairs_recv }

static const struct bench_method pairs_methods[] = {
	PAIRS_METHOD("pipe_2p", "two pipe pairs at once", pipe_2p_setup, NULL, 2),
	PAIRS_METHOD("spsc_2p", "two SPSC channel pairs at once", spsc_2p_setup,
		     "spin_sleep", 2),
};

const struct bench_suite bench_pairs_suite = {
	pairs_methods, sizeof(pairs_methods) / sizeof(pairs_methods[0])
};

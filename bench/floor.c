/* SPDX-License-Identifier: MIT */
/*
 * floor.c - what the hardware allows, measured in the same run as
 * everything else, so every other figure can be quoted as a multiple of it.
 *
 *   floor   two processes spinning on atomics: the round trip of a cache
 *           line between two CPUs, below which no IPC's round trip goes
 *   memcpy  one process copying messages of each size from one buffer to
 *           another: the bandwidth of one core's copy, which a transport
 *           that copies can at best approach (a throughput baseline)
 *
 * The floor's two words each have a cache line to themselves (two: the
 * adjacent-line prefetcher pulls pairs; struct bench_pingpong), so it
 * measures two line transfers and nothing else.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "suites.h"

/* Acquire: the answer is not seen before the question (pairs with the
 * other side's release store). */
static void spin_until(const struct bench_side *s, _Atomic uint32_t *w, uint32_t v)
{
	while (atomic_load_explicit(w, memory_order_acquire) != v)
		bench_spin(s);
}

static int floor_a(struct bench_side *s)
{
	struct bench_pingpong *lp = s->ctx;
	uint32_t v = (uint32_t)++s->seq;

	/* release: pairs with side B's acquire in spin_until */
	atomic_store_explicit(&lp->ping, v, memory_order_release);
	spin_until(s, &lp->pong, v);
	return 0;
}

static int floor_b(struct bench_side *s)
{
	struct bench_pingpong *lp = s->ctx;
	uint32_t v = (uint32_t)++s->seq;

	spin_until(s, &lp->ping, v);
	/* release: pairs with side A's acquire in spin_until */
	atomic_store_explicit(&lp->pong, v, memory_order_release);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* memcpy: one core's copy bandwidth at each size                         */

struct copy_ctx {
	unsigned char *src, *dst;
	size_t size;
};

static void copy_teardown(void *ctx)
{
	struct copy_ctx *c = ctx;

	free(c->src);
	free(c->dst);
	free(c);
}

static int copy_setup(void **ctx, struct bench_cell *cell)
{
	struct copy_ctx *c = calloc(1, sizeof(*c));
	void *src = NULL, *dst = NULL;

	if (!c)
		return -ENOMEM;
	c->size = cell->size;
	if (posix_memalign(&src, 64, cell->size) || posix_memalign(&dst, 64, cell->size)) {
		free(src);
		free(c);
		return -ENOMEM;
	}
	c->src = src;
	c->dst = dst;
	memset(c->src, 0x5a, c->size);
	memset(c->dst, 0, c->size);  /* touched: no page fault is timed */
	*ctx = c;
	return 0;
}

static int copy_cost(struct bench_side *s, uint64_t n)
{
	struct copy_ctx *c = s->ctx;

	for (uint64_t i = 0; i < n; i++) {
		bench_stamp(c->src, i);
		memcpy(c->dst, c->src, c->size);
		/* the copy's result is used: the compiler cannot drop it */
		if (bench_seq(c->dst) != i)
			return -EPROTO;
	}
	return 0;
}

static const struct bench_method floor_methods[] = {
	{ .name = "floor", .what = "cache-line round trip, spinning",
	  .kinds = BENCH_LATENCY, .copies = -1,
	  .setup = bench_pingpong_setup, .teardown = bench_pingpong_teardown,
	  .round_a = floor_a, .round_b = floor_b },
	{ .name = "memcpy", .what = "one core's memcpy, each size",
	  .kinds = BENCH_COST, .sized = true, .copies = 1,
	  .setup = copy_setup, .teardown = copy_teardown, .cost = copy_cost },
};

const struct bench_suite bench_floor_suite = {
	.methods = floor_methods,
	.count = sizeof(floor_methods) / sizeof(floor_methods[0]),
};

/* SPDX-License-Identifier: MIT */
/*
 * goals.c - the goals of issues #5 and #15, each a ratio of two figures of
 * the same run.
 */
#include <math.h>
#include <stdbool.h>

#include "goals.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

enum figure {
	P50,          /* latency p50, ns */
	RATE,         /* messages per second */
	BYTES,        /* bytes per second */
	CPU_SHARE,    /* CPU time over wall time, percent (cost entries) */
};

/* One side of a comparison: a figure of one cell. */
struct operand {
	const char *method;
	enum bench_kind kind;
	size_t size;
	enum figure fig;
};

struct goal_def {
	const char *goal, *target, *unit;
	double limit;
	bool at_most;
	struct operand num, den;   /* den.method NULL: num alone */
};

#define LAT(m, n) { m, BENCH_LATENCY, n, P50 }
#define RATE_OF(m, n) { m, BENCH_THROUGHPUT, n, RATE }
#define BYTES_OF(m, n) { m, BENCH_THROUGHPUT, n, BYTES }

static const struct goal_def defs[] = {
	{ "spin round trip, 64 B", "<= 1.5x floor", "x floor", 1.5, true,
	  LAT("chan_spin", 64), LAT("floor", 0) },
	{ "spin-then-sleep round trip, 64 B", "<= 2x floor", "x floor", 2, true,
	  LAT("chan_spin_sleep", 64), LAT("floor", 0) },
	{ "idle receiver after its spin budget", "<= 1% of a CPU", "% of a CPU", 1, true,
	  { "chan_idle", BENCH_COST, 0, CPU_SHARE }, { 0 } },
	{ "sleep round trip, 64 B", "<= 1x pipe", "x pipe", 1, true,
	  LAT("chan_sleep", 64), LAT("pipe", 64) },
	{ "stream 64 B messages", ">= 20x pipe", "x pipe", 20, false,
	  RATE_OF("chan_spin_sleep", 64), RATE_OF("pipe", 64) },
	{ "stream 64 KiB messages", ">= 0.5x memcpy", "x memcpy", 0.5, false,
	  BYTES_OF("chan_spin_sleep", 64 * KIB), BYTES_OF("memcpy", 64 * KIB) },
	{ "stream 64 KiB messages", ">= 10x pipe", "x pipe", 10, false,
	  BYTES_OF("chan_spin_sleep", 64 * KIB), BYTES_OF("pipe", 64 * KIB) },
	{ "zero copy, stream 1 MiB messages", ">= 1.5x copy", "x copy", 1.5, false,
	  BYTES_OF("chan_zc", MIB), BYTES_OF("chan_spin_sleep", MIB) },
	/* issue #15: channels in event loops */
	{ "epoll round trip, 64 B", "<= 1x eventfd", "x eventfd", 1, true,
	  LAT("chan_epoll", 64), LAT("eventfd", 0) },
	{ "epoll stream 64 B messages", ">= 0.8x spin-sleep", "x spin-sleep", 0.8, false,
	  RATE_OF("chan_epoll", 64), RATE_OF("chan_spin_sleep", 64) },
	/* issue #15: more processes than CPUs */
	{ "MPSC, 2 writers, 64 B", ">= 8x pipe", "x pipe", 8, false,
	  RATE_OF("mpsc_2w", 64), RATE_OF("pipe", 64) },
	{ "MPSC, 4 writers, 64 B", ">= 8x pipe", "x pipe", 8, false,
	  RATE_OF("mpsc_4w", 64), RATE_OF("pipe", 64) },
	{ "broadcast, 4 subscribers, 64 B", ">= 4x pipe", "x pipe", 4, false,
	  RATE_OF("bcast_4s", 64), RATE_OF("pipe", 64) },
	{ "broadcast, 8 subscribers, 64 B", ">= 2x pipe", "x pipe", 2, false,
	  RATE_OF("bcast_8s", 64), RATE_OF("pipe", 64) },
	{ "two SPSC pairs at once, 64 B", ">= 5x two pipe pairs", "x pipe_2p", 5, false,
	  RATE_OF("spsc_2p", 64), RATE_OF("pipe_2p", 64) },
};

/* An operand's figure, NAN if its cell did not run. */
static double value(const struct bench_report *rep, const struct operand *o)
{
	const struct bench_result *r = bench_find(rep, o->method, o->kind, o->size);

	if (!r)
		return NAN;
	switch (o->fig) {
	case P50:
		return r->p50_ns;
	case RATE:
		return r->msgs_per_s;
	case BYTES:
		return r->msgs_per_s * (double)r->size;
	case CPU_SHARE:
		return r->mean_ns > 0
			? 100 * (r->cpu[0].user_ns + r->cpu[0].sys_ns) / r->mean_ns : NAN;
	}
	return NAN;
}

size_t bench_goals(const struct bench_report *rep, struct bench_goal *out)
{
	size_t n = sizeof(defs) / sizeof(defs[0]);

	for (size_t i = 0; i < n && i < BENCH_GOALS_MAX; i++) {
		const struct goal_def *d = &defs[i];
		double v = value(rep, &d->num);
		if (d->den.method) {
			double base = value(rep, &d->den);
			v = base > 0 ? v / base : NAN;
		}
		out[i] = (struct bench_goal){
			.goal = d->goal, .target = d->target, .unit = d->unit,
			.limit = d->limit, .at_most = d->at_most, .measured = v,
			.met = isnan(v) ? -1 : d->at_most ? v <= d->limit : v >= d->limit,
		};
	}
	return n < BENCH_GOALS_MAX ? n : BENCH_GOALS_MAX;
}

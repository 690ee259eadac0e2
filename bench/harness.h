/* SPDX-License-Identifier: MIT */
/*
 * harness.h - what every benchmark entry shares: the description of a
 * method, the cell of it that runs (a kind and a message size), the plan a
 * run follows (trials, iterations, CPUs), and the result of one cell:
 * medians over trials, their spread, CPU time per operation.
 *
 * A method offers one or more kinds; a sized method runs at every message
 * size the run asks for, each (kind, size) pair a cell of its own.
 * Three kinds:
 *   latency     two processes, each pinned to its own CPU when there are
 *               two; side A times every round trip with CLOCK_MONOTONIC,
 *               side B answers.  A trial gives p50/p99/p99.9 of its round
 *               trips.
 *   cost        one process: n operations timed as a whole, ns per operation.
 *   throughput  two processes pinned as for latency: side A sends messages
 *               one way in rounds of a fixed count, side B receives them and
 *               times its measured rounds as a whole.  A trial gives
 *               messages per second, as the receiver saw them arrive.
 * Every trial starts with a warm-up the clock does not see, and runs for a
 * time budget (or, for tests, a fixed count).
 */
#ifndef SHMKIT_BENCH_HARNESS_H
#define SHMKIT_BENCH_HARNESS_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum bench_kind {
	BENCH_LATENCY = 1,
	BENCH_COST = 2,
	BENCH_THROUGHPUT = 4,
};

/* Message sizes a sized method accepts: the first 8 bytes carry a sequence
 * number the receiver checks. */
#define BENCH_SIZE_MIN 8u
#define BENCH_SIZE_MAX (16u << 20)

/* What one run of a method measures: its kind and its message size (0: the
 * method has no messages).  setup() may refuse a size the mechanism cannot
 * carry with -EMSGSIZE and say why in @skip: the cell is then reported as
 * not applicable, not as a failure. */
struct bench_cell {
	enum bench_kind kind;
	size_t size;
	char skip[96];
};

/* One side of a run, as the method's functions see it. */
struct bench_side {
	void *ctx;        /* the method's, from setup(); the child has a copy */
	size_t size;      /* bytes per message of this cell, 0: none */
	unsigned char *buf;  /* size bytes of this side's own (64-aligned), for
			      * the messages it sends or receives */
	uint64_t seq;     /* this side's own counter; 0 at the start of a trial */
	uint32_t ticket;  /* for methods that carry a ticket between rounds */
	bool yield;       /* both sides share one CPU: a spin must yield it */
	int cpu_a, cpu_b; /* the plan's CPUs (-1: unpinned), for methods that
			   * start more processes of their own */
};

/*
 * A benchmark entry.  Functions return 0 or a negative errno.  setup() runs
 * before each trial (before the fork, for latency and throughput entries),
 * so every trial starts from fresh shared state; teardown() after it, in
 * the parent, whether the trial succeeded or not.
 */
struct bench_method {
	const char *name;       /* as --methods spells it */
	const char *what;       /* one line for the table */
	unsigned kinds;         /* enum bench_kind bits it offers */
	bool sized;             /* runs at each size asked; else size 0 */
	const char *policy;     /* a channel's wait policy ("spin" ...), or NULL */
	int copies;             /* copies of the data per message, end to end;
				 * -1: it carries no data */
	uint64_t ops;           /* cost entries: operations per trial, 0: by time;
				 * a fixed count marks an entry that waits: its
				 * CPU time is quoted against its wall time */
	const char *baseline;   /* cost entries: the method quoted against, or NULL */
	int (*setup)(void **ctx, struct bench_cell *cell);
	/* optional: removes what would outlive the process (a System V queue,
	 * names) when the run dies before teardown(); async-signal-safe */
	void (*abandon)(void *ctx);
	void (*teardown)(void *ctx);
	/* latency and throughput: optional start of each side (after fork and
	 * pinning, before side A's first round; side B's comes first) */
	int (*start_a)(struct bench_side *s);
	int (*start_b)(struct bench_side *s);
	/* latency: one round trip (A) / one answer (B) */
	int (*round_a)(struct bench_side *s);
	int (*round_b)(struct bench_side *s);
	/* cost: @n operations in a row (s->size bytes each, if sized) */
	int (*cost)(struct bench_side *s, uint64_t n);
	/* throughput: side A sends @n messages, side B receives @n */
	int (*send_a)(struct bench_side *s, uint64_t n);
	int (*recv_b)(struct bench_side *s, uint64_t n);
};

/* The methods a module offers, in the order the report lists them. */
struct bench_suite {
	const struct bench_method *methods;
	size_t count;
};

#define BENCH_TRIALS_MAX 64

/* How a run goes: the same for every method in it. */
struct bench_plan {
	unsigned trials;
	double trial_seconds;  /* time budget of one trial (its warm-up: 10% more) */
	uint64_t iterations;   /* fixed count per trial (tests): round trips,
				* operations or messages; 0: by time */
	int cpu_a, cpu_b;      /* side A (and cost entries), side B; -1 unpinned */
	bool same_cpu;         /* both sides on one CPU: spinning must yield */
};

#define BENCH_SIDES 2

/* CPU time one side spent per operation (message), from getrusage. */
struct bench_cpu {
	double user_ns, sys_ns;
};

struct bench_result {
	const struct bench_method *method;
	enum bench_kind kind;
	size_t size;           /* bytes per message, 0: none */
	unsigned trials;
	uint64_t iterations;   /* measured per trial (median); messages for
				* throughput entries */
	/* medians over trials; NAN where not measured (cost entries have
	 * p50_ns = mean_ns, the cost per operation; throughput entries have
	 * only mean_ns, the receiver's time per message) */
	double p50_ns, p99_ns, p999_ns, mean_ns;
	/* fastest, slowest trial's p50 (NAN for throughput) */
	double spread_min_ns, spread_max_ns;
	/* throughput: median messages per second, slowest and fastest trial's;
	 * NAN for the other kinds */
	double msgs_per_s, rate_min, rate_max;
	struct bench_cpu cpu[BENCH_SIDES];    /* cost entries: cpu[0] only;
					       * throughput: per message */
	int sides;
};

/* Where a run failed (its errno is bench_run's return). */
struct bench_error {
	const char *where;     /* "setup", "side A", "fork", "run" ... */
};

/* What one trial measured. */
struct bench_trial {
	double p50, p99, p999, mean;
	double rate;                /* throughput: messages per second */
	double n;                   /* rounds (operations, messages) measured */
	struct bench_cpu cpu[BENCH_SIDES];
};

/* The trials of one cell so far: the caller sets method and cell, and n
 * to 0. */
struct bench_trials {
	const struct bench_method *method;
	struct bench_cell cell;
	unsigned n;
	struct bench_trial t[BENCH_TRIALS_MAX];
};

/*
 * Runs one more trial of @set's cell under @plan.  Returns 0, or a negative
 * errno with *why filled in (-EMSGSIZE: the method cannot carry this size,
 * and set->cell.skip says why).  A side that hangs or dies ends the process
 * (exit 1) with a message: a benchmark must never wedge the caller.
 *
 * A run takes one trial of every cell, then the next of every cell, and so
 * on: a slow spell of a shared machine then costs each cell one trial,
 * which the median drops, instead of every trial of a few cells.
 */
int bench_trial_run(const struct bench_plan *plan, struct bench_trials *set,
		    struct bench_error *why);

/* The medians over @set's trials, their spread, into @out. */
void bench_summarize(const struct bench_trials *set, struct bench_result *out);

/* Writes sequence number @seq into the first 8 bytes of message @p. */
static inline void bench_stamp(void *p, uint64_t seq)
{
	__builtin_memcpy(p, &seq, sizeof(seq));
}

/* The sequence number message @p carries. */
static inline uint64_t bench_seq(const void *p)
{
	uint64_t seq;

	__builtin_memcpy(&seq, p, sizeof(seq));
	return seq;
}

/* MAP_SHARED|MAP_ANONYMOUS memory a forked side B shares; NULL, errno set. */
void *bench_map_shared(size_t size);

#define BENCH_LINE 128  /* a cache line, and its prefetch buddy */

/* Two words a round trip bounces, one per direction, each alone on its line
 * pair, in memory both sides share: the floor's and the futex's. */
struct bench_pingpong {
	_Alignas(BENCH_LINE) _Atomic uint32_t ping;
	_Alignas(BENCH_LINE) _Atomic uint32_t pong;
};

/* setup() and teardown() of an entry whose context is a bench_pingpong. */
int bench_pingpong_setup(void **ctx, struct bench_cell *cell);
void bench_pingpong_teardown(void *ctx);

/* Pins the calling process to @cpu (< 0: leaves it alone); 0 or -errno. */
int bench_pin(int cpu);

static inline int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The wait inside a spin loop: nothing when the other side has a CPU of
 * its own (a pause would add its own latency to the floor), the CPU given
 * up when both share one (the other side cannot move until we do). */
static inline void bench_spin(const struct bench_side *s)
{
	if (s->yield)
		sched_yield();
}

/* A helper process's wait for work (a quota raised, a count reached)
 * without holding the CPU its peer may need: yields, then short sleeps
 * once idle for long; *@idle counts the empty looks (0 after work). */
static inline void bench_idle(unsigned *idle)
{
	if (++*idle < 1000) {
		sched_yield();
	} else {
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
}

#endif /* SHMKIT_BENCH_HARNESS_H */

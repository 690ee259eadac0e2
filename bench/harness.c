/* SPDX-License-Identifier: MIT */
/*
 * harness.c - runs one benchmark entry: trials, warm-up, pinning, the fork
 * of side B, the clock and getrusage around the measured part, and the
 * statistics over samples and over trials.
 *
 * A latency trial forks a fresh side B, so each trial starts from fresh
 * shared state and fresh processes; side A (the caller) times each round
 * trip with one clock read, so a sample includes one clock_gettime (the
 * machine description reports what that costs).  A throughput trial runs
 * the same way with rounds of STREAM_CHUNK messages sent one way instead of
 * round trips: side A sends, side B receives and reads the clock when its
 * warm-up ends and when its last round does, so the rate is the one at
 * which messages arrived, whatever the buffer between the two held.
 *
 * Trials are bounded by time, not by a count sized from a calibration run:
 * a method can have two regimes (a spin-then-sleep wait is ~100x faster
 * while both sides stay awake than once one sleeps), and a count sized in
 * the fast one ran for minutes in the slow one.  Side A decides when
 * a phase ends and announces the number of that phase's last round before
 * it starts it; side B reads the announcement after each of its answers.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "shmkit.h"

/* Round trips per latency trial: at least enough for a p99.9, at most
 * what the sample buffer holds (16 MiB). */
#define LATENCY_MIN 1000u
#define LATENCY_MIN_BIG 100u   /* ... for messages above 64 KiB */
#define LATENCY_MAX 2000000u
#define WARM_MIN 100u          /* warm-up round trips, at least */
#define WARM_MIN_STREAM 4u     /* warm-up rounds of a stream, at least */
#define WARM_SHARE 0.1         /* of a trial's time budget */
#define COST_MIN 10000u        /* operations per cost trial, at least ... */
#define COST_MIN_BYTES (64u << 20)  /* ... or this many bytes of copies */
#define STREAM_CHUNK 256u      /* messages per round of a throughput trial, at most */
#define STREAM_ROUND_BYTES (256u << 10)  /* ... and about this many bytes */
#define STREAM_MIN_ROUNDS 8u   /* rounds measured per throughput trial, at least */
#define STREAM_MAX 4000000000u /* ... and at most */
#define CHUNK_NS 1000000.0     /* a cost trial reads the clock this often */
#define CHUNK_PROBE 1000u      /* operations timed to size the chunks, at most */
#define CHUNK_MAX 10000000u
/* A trial that takes this much longer than planned is a hang. */
#define WATCHDOG_BASE_S 60u

/* What the two sides of a latency trial tell each other.  Rounds count
 * from 1; side A stores a phase's last round before it starts that round,
 * so side B, reading after each answer, sees it exactly after that round. */
struct control {
	_Atomic int ready;          /* B is pinned and started: A may begin */
	_Atomic uint64_t warm_last; /* A's last warm-up round; 0: not yet known */
	_Atomic uint64_t last;      /* A's last round of all; 0: not yet known */
	_Atomic int finished;       /* B answered every round: its exit is expected */
	int err;                    /* B failed with this (it said why itself) */
	struct bench_cpu cpu;       /* B's CPU time per measured round (message) */
	int64_t ns;                 /* B's clock over its measured rounds */
};

/* The rounds of a two-process trial, as both sides count them. */
struct rounds {
	bool stream;                /* a throughput trial: rounds of messages */
	uint64_t chunk;             /* messages per round (throughput), else 1 */
	uint64_t fixed;             /* rounds to measure, 0: by time */
	uint64_t warm_fixed;        /* warm-up rounds with a fixed count */
	uint64_t min, max;          /* rounds to measure by time: bounds */
	uint64_t warm_min;          /* warm-up rounds by time, at least */
};


/* ---------------------------------------------------------------------- */
/* The watchdog: side B dying or a trial hanging ends the run             */

static struct {
	volatile pid_t pid;           /* side B of the running trial, 0 none */
	struct control *ctl;
	const char *name;
	const struct bench_method *m; /* its abandon() runs before _exit */
	void *volatile ctx;
} watch;

/* What a run that dies leaves behind: the method's abandon(), if any. */
static void watch_abandon(void)
{
	if (watch.m && watch.m->abandon && watch.ctx)
		watch.m->abandon(watch.ctx);
}

/* Async-signal-safe "shmkit: bench: NAME: MSG". */
static void watch_say(const char *msg)
{
	const char *parts[] = { "shmkit: bench: ", watch.name, ": ", msg, "\n" };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (write(STDERR_FILENO, parts[i], strlen(parts[i])) < 0)
			break;
}

static void on_sigchld(int sig)
{
	int saved = errno, status;
	pid_t pid = watch.pid;

	(void)sig;
	if (pid > 0 && !atomic_load(&watch.ctl->finished) &&
	    waitpid(pid, &status, WNOHANG) == pid) {
		/* side B reported its own error; otherwise say it died */
		if (!watch.ctl->err)
			watch_say("side B ended before its last round");
		watch_abandon();
		_exit(1);
	}
	errno = saved;
}

static void on_sigalrm(int sig)
{
	(void)sig;
	if (watch.pid > 0)
		kill(watch.pid, SIGKILL);
	watch_say("timed out (a side hangs)");
	watch_abandon();
	_exit(1);
}

static void watch_start(const struct bench_method *m, struct control *ctl,
			unsigned seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	watch.name = m->name;
	watch.ctl = ctl;
	watch.m = m;
	sa.sa_handler = on_sigchld;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_sigalrm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

static void watch_stop(void)
{
	alarm(0);
	watch.pid = 0;
	watch.ctx = NULL;
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
}

/* ---------------------------------------------------------------------- */
/* Statistics                                                             */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile @q (0..1] of @n sorted samples. */
static double percentile(const int64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)sorted[rank - 1];
}

/* Median of @n values (reorders them). */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int64_t timeval_ns(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

/* CPU time per operation between two getrusage() readings. */
static struct bench_cpu cpu_per_op(const struct rusage *a, const struct rusage *b,
				   uint64_t n)
{
	struct bench_cpu c = {
		.user_ns = (double)(timeval_ns(b->ru_utime) - timeval_ns(a->ru_utime)) / (double)n,
		.sys_ns = (double)(timeval_ns(b->ru_stime) - timeval_ns(a->ru_stime)) / (double)n,
	};
	return c;
}

/* ---------------------------------------------------------------------- */
/* Pinning                                                                */

int bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* ---------------------------------------------------------------------- */
/* Side B: a child that answers round trips                               */

static _Noreturn void side_b_fail(const struct bench_method *m, void *ctx,
				  struct control *ctl, const char *where, int err)
{
	/* side A exits at once, without its teardown: what only a teardown
	 * removes (a System V queue, channel names) goes here */
	m->teardown(ctx);
	ctl->err = err;
	fprintf(stderr, "shmkit: bench: %s: side B: %s: %s\n", m->name, where,
		shmkit_strerror(err));
	_exit(1);
}

/* Counts the rounds of @cell's trials under @plan. */
static void plan_rounds(const struct bench_plan *plan, const struct bench_cell *cell,
			struct rounds *rd)
{
	uint64_t n = plan->iterations;

	if (cell->kind == BENCH_THROUGHPUT) {
		/* big messages: fewer per round, and fewer in all */
		uint64_t size = cell->size ? cell->size : 1;
		uint64_t chunk = STREAM_ROUND_BYTES / size;
		chunk = chunk < 1 ? 1 : chunk > STREAM_CHUNK ? STREAM_CHUNK : chunk;
		/* a test's few messages still make whole rounds */
		rd->chunk = n && n < chunk ? n : chunk;
		rd->fixed = n ? (n + rd->chunk - 1) / rd->chunk : 0;
		rd->min = STREAM_MIN_ROUNDS;
		rd->warm_min = WARM_MIN_STREAM;
		rd->max = STREAM_MAX / rd->chunk;
		rd->stream = true;
	} else {
		rd->stream = false;
		rd->chunk = 1;
		rd->fixed = n > LATENCY_MAX ? LATENCY_MAX : n;
		rd->min = cell->size > (64u << 10) ? LATENCY_MIN_BIG : LATENCY_MIN;
		rd->warm_min = WARM_MIN;
		rd->max = LATENCY_MAX;
	}
	rd->warm_fixed = n ? rd->fixed / 10 + 1 : 0;
}

/* One round of side A: a round trip, or rd->chunk messages sent. */
static int step_a(const struct bench_method *m, struct bench_side *s,
		  const struct rounds *rd)
{
	return rd->stream ? m->send_a(s, rd->chunk) : m->round_a(s);
}

static int step_b(const struct bench_method *m, struct bench_side *s,
		  const struct rounds *rd)
{
	return rd->stream ? m->recv_b(s, rd->chunk) : m->round_b(s);
}

/* A side's message buffer: 64-aligned, touched, filled with a pattern. */
static unsigned char *side_buf(size_t size)
{
	void *p = NULL;

	if (size == 0)
		return NULL;
	if (posix_memalign(&p, 64, size))
		return NULL;
	memset(p, 0x5a, size);
	return p;
}

static _Noreturn void side_b(const struct bench_plan *plan, const struct bench_method *m,
			     const struct bench_cell *cell, void *ctx,
			     struct control *ctl, pid_t parent)
{
	struct bench_side s = { .ctx = ctx, .yield = plan->same_cpu, .size = cell->size,
				.cpu_a = plan->cpu_a, .cpu_b = plan->cpu_b };
	struct rusage r0, r1;
	struct rounds rd;
	uint64_t warm = 0, last;
	int64_t t0 = 0, t1;
	int err;

	/* no orphan spinning on a CPU if side A is killed */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	err = bench_pin(plan->cpu_b);
	if (err)
		side_b_fail(m, ctx, ctl, "pinning", err);
	if (cell->size && !(s.buf = side_buf(cell->size)))
		side_b_fail(m, ctx, ctl, "buffer", -ENOMEM);
	if (m->start_b && (err = m->start_b(&s)))
		side_b_fail(m, ctx, ctl, "start", err);
	atomic_store(&ctl->ready, 1);
	plan_rounds(plan, cell, &rd);
	memset(&r0, 0, sizeof(r0));
	for (uint64_t j = 1;; j++) {
		if ((err = step_b(m, &s, &rd)))
			side_b_fail(m, ctx, ctl, "round", err);
		if (j == atomic_load(&ctl->warm_last)) {
			warm = j;
			getrusage(RUSAGE_SELF, &r0);
			t0 = bench_now_ns();
		}
		last = atomic_load(&ctl->last);
		if (last && j >= last)  /* ==, for a method that keeps step */
			break;
	}
	t1 = bench_now_ns();
	getrusage(RUSAGE_SELF, &r1);
	ctl->ns = t1 - t0;
	ctl->cpu = cpu_per_op(&r0, &r1, (last - warm) * rd.chunk);
	atomic_store(&ctl->finished, 1);
	_exit(0);
}

/* ---------------------------------------------------------------------- */
/* Trials                                                                 */

/* Whether a phase that began at @start ends with its @done-th round. */
static bool phase_over(uint64_t done, uint64_t fixed, uint64_t min, uint64_t max,
		       int64_t start, int64_t now, double budget_ns)
{
	if (fixed)
		return done >= fixed;
	return done >= max || (done >= min && (double)(now - start) >= budget_ns);
}

/* Side A's warm-up: rounds the clock does not keep; announces its end. */
static int side_a_warm(const struct bench_plan *plan, const struct bench_method *m,
		       struct bench_side *s, struct control *ctl, const struct rounds *rd,
		       uint64_t *rounds)
{
	double budget = WARM_SHARE * plan->trial_seconds * 1e9;
	int64_t start = bench_now_ns(), now = start;
	int err;

	for (uint64_t i = 1;; i++) {
		bool over = phase_over(i, rd->warm_fixed, rd->warm_min, rd->max, start, now,
				       budget);
		if (over)
			atomic_store(&ctl->warm_last, i);
		if ((err = step_a(m, s, rd)))
			return err;
		if (over) {
			*rounds = i;
			return 0;
		}
		now = bench_now_ns();
	}
}

/* Side A's part of a latency trial: warm-up, then timed round trips until
 * the time budget (or the fixed count) is spent. */
static int side_a(const struct bench_plan *plan, const struct bench_method *m,
		  const struct bench_cell *cell, struct bench_side *s, struct control *ctl,
		  int64_t *samples, struct bench_trial *t)
{
	double budget = plan->trial_seconds * 1e9;
	struct rusage r0, r1;
	struct rounds rd;
	uint64_t warm, n = 0;
	int err;

	plan_rounds(plan, cell, &rd);
	if (m->start_a && (err = m->start_a(s)))
		return err;
	if ((err = side_a_warm(plan, m, s, ctl, &rd, &warm)))
		return err;
	getrusage(RUSAGE_SELF, &r0);
	int64_t start = bench_now_ns(), t0 = start;
	for (bool over = false; !over;) {
		over = phase_over(n + 1, rd.fixed, rd.min, rd.max, start, t0, budget);
		if (over)
			atomic_store(&ctl->last, warm + n + 1);
		if ((err = m->round_a(s)))
			return err;
		int64_t t1 = bench_now_ns();
		samples[n++] = t1 - t0;
		t0 = t1;
	}
	getrusage(RUSAGE_SELF, &r1);
	t->n = (double)n;
	t->mean = (double)(t0 - start) / (double)n;
	t->cpu[0] = cpu_per_op(&r0, &r1, n);
	qsort(samples, n, sizeof(*samples), cmp_i64);
	t->p50 = percentile(samples, n, 0.50);
	t->p99 = percentile(samples, n, 0.99);
	t->p999 = percentile(samples, n, 0.999);
	t->rate = NAN;
	return 0;
}

/* Side A's part of a throughput trial: warm-up, then rounds of messages
 * until the time budget (or the fixed count) is spent.  The rate is side
 * B's to measure; A keeps its own CPU time per message. */
static int side_a_stream(const struct bench_plan *plan, const struct bench_method *m,
			 const struct bench_cell *cell, struct bench_side *s,
			 struct control *ctl, struct bench_trial *t)
{
	double budget = plan->trial_seconds * 1e9;
	struct rusage r0, r1;
	struct rounds rd;
	uint64_t warm, n = 0;
	int err;

	plan_rounds(plan, cell, &rd);
	if (m->start_a && (err = m->start_a(s)))
		return err;
	if ((err = side_a_warm(plan, m, s, ctl, &rd, &warm)))
		return err;
	getrusage(RUSAGE_SELF, &r0);
	int64_t start = bench_now_ns(), now = start;
	for (bool over = false; !over;) {
		over = phase_over(n + 1, rd.fixed, rd.min, rd.max, start, now, budget);
		if (over)
			atomic_store(&ctl->last, warm + n + 1);
		if ((err = m->send_a(s, rd.chunk)))
			return err;
		n++;
		now = bench_now_ns();
	}
	getrusage(RUSAGE_SELF, &r1);
	t->n = (double)(n * rd.chunk);
	t->cpu[0] = cpu_per_op(&r0, &r1, n * rd.chunk);
	t->p50 = t->p99 = t->p999 = NAN;
	return 0;
}

static unsigned watchdog_seconds(const struct bench_plan *plan)
{
	return WATCHDOG_BASE_S + (unsigned)(10 * plan->trial_seconds);
}

/* A latency or throughput trial: side B forked, side A here. */
static int pair_trial(const struct bench_plan *plan, const struct bench_method *m,
		      struct bench_cell *cell, int64_t *samples, struct bench_trial *t,
		      struct bench_error *why)
{
	void *ctx = NULL;
	int err = m->setup(&ctx, cell);

	if (err) {
		why->where = err == -EMSGSIZE ? "size" : "setup";
		return err;
	}
	struct control *ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED) {
		err = -errno;
		m->teardown(ctx);
		why->where = "mmap";
		return err;
	}
	watch.ctx = ctx;
	watch_start(m, ctl, watchdog_seconds(plan));
	pid_t parent = getpid();
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	/* blocked until watch.pid is set: a child that dies at once is
	 * reported, not missed */
	sigprocmask(SIG_BLOCK, &chld, &old);
	fflush(NULL);  /* nothing buffered twice */
	pid_t pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		side_b(plan, m, cell, ctx, ctl, parent);
	}
	if (pid < 0)
		err = -errno;
	else
		watch.pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (err) {
		why->where = "fork";
		goto out;
	}
	while (!atomic_load(&ctl->ready))
		sched_yield();  /* B pins itself; A must not hold its CPU */

	struct bench_side s = { .ctx = ctx, .yield = plan->same_cpu, .size = cell->size,
				.cpu_a = plan->cpu_a, .cpu_b = plan->cpu_b };
	if (cell->size && !(s.buf = side_buf(cell->size)))
		err = -ENOMEM;
	else if (cell->kind == BENCH_THROUGHPUT)
		err = side_a_stream(plan, m, cell, &s, ctl, t);
	else
		err = side_a(plan, m, cell, &s, ctl, samples, t);
	free(s.buf);
	if (err) {
		why->where = "side A";
		watch.pid = 0;
		kill(pid, SIGKILL);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	watch.pid = 0;
	if (!err)
		t->cpu[1] = ctl->cpu;
	if (!err && cell->kind == BENCH_THROUGHPUT) {
		/* B's clock: at least one tick, so a tiny test run stays finite */
		double ns = ctl->ns > 0 ? (double)ctl->ns : 1;
		t->mean = ns / t->n;
		t->rate = t->n * 1e9 / ns;
	}
out:
	watch_stop();
	munmap(ctl, sizeof(*ctl));
	m->teardown(ctx);
	return err;
}

/* Operations per chunk: about CHUNK_NS, so the clock is read rarely. */
/* At least @n operations, and fewer when each copies @size bytes: at
 * most COST_MIN_BYTES of copies, never below 10. */
static uint64_t ops_for(uint64_t n, size_t size)
{
	uint64_t by_bytes = size ? COST_MIN_BYTES / size : n;

	by_bytes = by_bytes < 10 ? 10 : by_bytes;
	return n < by_bytes ? n : by_bytes;
}

static int cost_chunk(const struct bench_method *m, struct bench_side *s, uint64_t *chunk)
{
	uint64_t probe = ops_for(CHUNK_PROBE, s->size);
	int64_t t0 = bench_now_ns();
	int err = m->cost(s, probe);
	double each = (double)(bench_now_ns() - t0) / (double)probe;

	if (err)
		return err;
	double want = CHUNK_NS / (each > 0.1 ? each : 0.1);
	*chunk = want < 1 ? 1 : want > CHUNK_MAX ? CHUNK_MAX : (uint64_t)want;
	return 0;
}

/* Chunks of operations until @budget_ns has passed and @min were done, or
 * exactly @fixed operations; *done tells how many, *ns how long. */
static int cost_phase(const struct bench_method *m, struct bench_side *s, uint64_t fixed,
		      uint64_t chunk, uint64_t min, double budget_ns, uint64_t *done,
		      int64_t *ns)
{
	int64_t start = bench_now_ns(), now = start;
	int err = 0;

	*done = 0;
	if (fixed) {
		err = m->cost(s, fixed);
		*done = fixed;
		now = bench_now_ns();
	}
	while (!fixed && !err && (*done < min || (double)(now - start) < budget_ns)) {
		err = m->cost(s, chunk);
		*done += chunk;
		now = bench_now_ns();
	}
	*ns = now - start;
	return err;
}

static int cost_trial(const struct bench_plan *plan, const struct bench_method *m,
		      struct bench_cell *cell, struct bench_trial *t, struct bench_error *why)
{
	struct bench_side s = { .yield = false, .size = cell->size };
	double budget = plan->trial_seconds * 1e9;
	uint64_t fixed = m->ops ? m->ops : plan->iterations, chunk = 1, n;
	struct rusage r0, r1;
	int64_t ns;
	int err = m->setup(&s.ctx, cell);

	if (err) {
		why->where = err == -EMSGSIZE ? "size" : "setup";
		return err;
	}
	watch.ctx = s.ctx;
	watch_start(m, NULL, watchdog_seconds(plan));
	if (!fixed)
		err = cost_chunk(m, &s, &chunk);
	if (!err)  /* warm-up */
		err = cost_phase(m, &s, fixed ? fixed / 10 + 1 : 0, chunk, 1,
				 WARM_SHARE * budget, &n, &ns);
	getrusage(RUSAGE_SELF, &r0);
	if (!err)
		err = cost_phase(m, &s, fixed, chunk, ops_for(COST_MIN, s.size), budget, &n,
				 &ns);
	getrusage(RUSAGE_SELF, &r1);
	watch_stop();
	m->teardown(s.ctx);
	if (err) {
		why->where = "run";
		return err;
	}
	t->n = (double)n;
	t->mean = (double)ns / (double)n;
	t->p50 = t->mean;
	t->p99 = t->p999 = t->rate = NAN;
	t->cpu[0] = cpu_per_op(&r0, &r1, n);
	return 0;
}

static int trial(const struct bench_plan *plan, const struct bench_method *m,
		 struct bench_cell *cell, int64_t *samples, struct bench_trial *t,
		 struct bench_error *why)
{
	if (cell->kind == BENCH_COST)
		return cost_trial(plan, m, cell, t, why);
	return pair_trial(plan, m, cell, samples, t, why);
}

/* ---------------------------------------------------------------------- */
/* A method: trials and medians                                           */

/* The double at byte offset @off of trial @t. */
static double field_of(const struct bench_trial *t, size_t off)
{
	double v;

	memcpy(&v, (const char *)t + off, sizeof(v));
	return v;
}

/* Median over @trials trials of the double at byte offset @off of a trial. */
static double median_of(const struct bench_trial *t, unsigned trials, size_t off)
{
	double v[BENCH_TRIALS_MAX];

	for (unsigned i = 0; i < trials; i++)
		v[i] = field_of(&t[i], off);
	return median(v, trials);
}

/* Medians over trials into @out; spread of the p50s. */
static void summarize(const struct bench_trial *t, unsigned trials, struct bench_result *out)
{
	out->p50_ns = median_of(t, trials, offsetof(struct bench_trial, p50));
	out->p99_ns = median_of(t, trials, offsetof(struct bench_trial, p99));
	out->p999_ns = median_of(t, trials, offsetof(struct bench_trial, p999));
	out->mean_ns = median_of(t, trials, offsetof(struct bench_trial, mean));
	out->iterations = (uint64_t)median_of(t, trials, offsetof(struct bench_trial, n));
	for (int side = 0; side < out->sides; side++) {
		/* the median of each trial's total: getrusage splits user and
		 * system time by sampling, so their own medians need not add up */
		double total[BENCH_TRIALS_MAX], share[BENCH_TRIALS_MAX];
		for (unsigned i = 0; i < trials; i++) {
			const struct bench_cpu *c = &t[i].cpu[side];
			total[i] = c->user_ns + c->sys_ns;
			share[i] = total[i] > 0 ? c->sys_ns / total[i] : 0;
		}
		double tot = median(total, trials), sys = median(share, trials);
		out->cpu[side].sys_ns = tot * sys;
		out->cpu[side].user_ns = tot - out->cpu[side].sys_ns;
	}
	/* the spread of the p50s (a cost's p50 is its mean; a stream's spread
	 * is of its rates, below) */
	out->spread_min_ns = out->spread_max_ns = t[0].p50;
	for (unsigned i = 1; i < trials; i++) {
		out->spread_min_ns = fmin(out->spread_min_ns, t[i].p50);
		out->spread_max_ns = fmax(out->spread_max_ns, t[i].p50);
	}
	out->msgs_per_s = out->rate_min = out->rate_max = NAN;
	if (out->kind == BENCH_COST && out->size) {
		/* a sized cost (memcpy) is a rate: one message per operation */
		out->msgs_per_s = 1e9 / out->mean_ns;
		out->rate_min = 1e9 / out->spread_max_ns;
		out->rate_max = 1e9 / out->spread_min_ns;
	}
	if (out->kind == BENCH_THROUGHPUT) {
		out->msgs_per_s = median_of(t, trials, offsetof(struct bench_trial, rate));
		out->rate_min = out->rate_max = t[0].rate;
		for (unsigned i = 1; i < trials; i++) {
			out->rate_min = fmin(out->rate_min, t[i].rate);
			out->rate_max = fmax(out->rate_max, t[i].rate);
		}
	}
}

void *bench_map_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int bench_pingpong_setup(void **ctx, struct bench_cell *cell)
{
	struct bench_pingpong *pp = bench_map_shared(sizeof(*pp));

	(void)cell;
	if (!pp)
		return -errno;
	*ctx = pp;
	return 0;
}

void bench_pingpong_teardown(void *ctx)
{
	munmap(ctx, sizeof(struct bench_pingpong));
}

int bench_trial_run(const struct bench_plan *plan, struct bench_trials *set,
		    struct bench_error *why)
{
	const struct bench_method *m = set->method;
	struct bench_cell *cell = &set->cell;
	int err;

	cell->skip[0] = '\0';
	if (set->n >= BENCH_TRIALS_MAX || !(m->kinds & cell->kind) ||
	    (m->sized ? cell->size < BENCH_SIZE_MIN : cell->size)) {
		why->where = "plan";
		return -EINVAL;
	}
	why->where = "pinning side A";
	if ((err = bench_pin(plan->cpu_a)))
		return err;

	uint64_t cap = plan->iterations && plan->iterations < LATENCY_MAX ? plan->iterations
									  : LATENCY_MAX;
	int64_t *samples = NULL;
	if (cell->kind == BENCH_LATENCY && !(samples = malloc(cap * sizeof(*samples)))) {
		why->where = "memory";
		return -ENOMEM;
	}
	err = trial(plan, m, cell, samples, &set->t[set->n], why);
	if (!err)
		set->n++;
	free(samples);
	return err;
}

void bench_summarize(const struct bench_trials *set, struct bench_result *out)
{
	memset(out, 0, sizeof(*out));
	out->method = set->method;
	out->kind = set->cell.kind;
	out->size = set->cell.size;
	out->sides = set->cell.kind == BENCH_COST ? 1 : 2;
	out->trials = set->n;
	if (set->n)
		summarize(set->t, set->n, out);
}

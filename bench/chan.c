/* SPDX-License-Identifier: MIT */
/*
 * chan.c - the channel entries: round trips and one-way streams through
 * shmkit channels at every message size, under each wait policy, by copy
 * and in place.
 *
 *   chan_spin        round trip: two channels, one per direction, with
 *   chan_spin_sleep  shmkit_chan_send/shmkit_chan_recv (a copy in and a
 *   chan_sleep       copy out), each wait policy in turn; stream: one
 *                    channel, one send and one recv per message
 *   chan_zc          the same in place (zero copy), the default policy:
 *                    the sender writes each message into the ring
 *                    (reserve, fill, commit; streams commit up to ZC_BATCH
 *                    at once), the receiver reads one word of every cache
 *                    line of it where it lies (peek, release)
 *   chan_epoll       as chan_spin_sleep, but every call has timeout 0 and
 *                    a side that gets -EAGAIN waits in epoll_wait on its
 *                    end's event-loop fd (shmkit_chan_fd), as a server's
 *                    loop does
 *   chan_idle        one reader waiting on an empty channel with the
 *                    default policy for IDLE_NS: the CPU time an idle
 *                    receiver costs once its spin budget is spent
 *   mpsc_1w          streams: one MPSC channel, 1, 2 or 4 writers (side
 *   mpsc_2w          A and helper processes it forks, pinned in turn to
 *   mpsc_4w          side A's and side B's CPUs) into one reader (side
 *                    B), send and recv, the default policy.  Side A hands
 *                    each helper its share of every round through a
 *                    cumulative quota in shared memory and sends its own;
 *                    the receiver checks every writer's sequence.  Round
 *                    trips for mpsc_1w only: two MPSC channels, as chan_*.
 *   bcast_1s         streams: one broadcast channel (backpressure), one
 *   bcast_2s         writer (side A) to 1, 2, 4 or 8 subscribers: side B
 *   bcast_4s         and helper processes side A forks, pinned in turn to
 *   bcast_8s         side B's and side A's CPUs, each mapping the ring
 *                    read-only and checking every sequence number; the
 *                    rate is side B's, and the writer waits for the
 *                    slowest, so it is every subscriber's.  Send and recv,
 *                    the default policy.  Round trips for bcast_1s only:
 *                    two broadcast channels, as chan_*.
 *
 * Every message carries its sequence number in its first 8 bytes; the
 * receiver checks it (and a round trip's sender checks the echo), so a
 * figure is never taken from a broken stream.
 *
 * Channels have names unique to the process and the trial
 * ("shmkit-bench-PID-N-ab" / "-ba"), with a capacity of 1 MiB or 4 times
 * the message size, whichever is larger (a channel's largest message is a
 * quarter of its ring).  setup() creates them, each side opens its ends in
 * its start, and side A removes the names as soon as both sides have them
 * open: the segments live on while mapped, and nothing stays in /dev/shm
 * if the run dies from then on.  teardown() removes them too (a trial that
 * failed before that) and side B does when its own start fails, since
 * side A exits at once then.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "shmkit.h"
#include "suites.h"

#define ZC_BATCH 64       /* messages per commit in chan_zc streams, at most */
#define NAME_LEN 64
#define CAP_MIN (1u << 20)
#define IDLE_NS 100000000 /* chan_idle: one wait of 100 ms */
#define LINE 64

/* Reads one word of every cache line of a message: what a consumer that
 * uses the data pays at least.  The empty asm takes the sum, so the
 * compiler must compute it. */
static void zc_consume(const unsigned char *p, size_t size)
{
	uint64_t sum = 0, w;

	for (size_t off = 0; off + sizeof(w) <= size; off += LINE) {
		memcpy(&w, p + off, sizeof(w));
		sum += w;
	}
	__asm__ volatile("" : : "r"(sum));
}

/* Writes a whole message in place: filler, then its sequence number. */
static void zc_fill(unsigned char *p, size_t size, uint64_t seq)
{
	memset(p + sizeof(seq), 0x5a, size - sizeof(seq));
	bench_stamp(p, seq);
}

/* ---------------------------------------------------------------------- */
/* Channels: names, setup, the ends of each side                          */

struct chan_ctx {
	char name[2][NAME_LEN];  /* A->B, and B->A for round trips */
	int count;               /* channels made: 1 (streams) or 2 */
	unsigned policy;         /* enum shmkit_wait each end opens with */
	size_t size;             /* bytes per message */
	uint64_t cap;            /* ring bytes */
	bool removed;            /* the names are gone (both sides opened) */
	shmkit_chan *tx, *rx;    /* this side's ends (each side its own copy) */
	/* MPSC and broadcast entries */
	unsigned writers;        /* 1..MPSC_WRITERS; 0: another kind */
	unsigned subs;           /* broadcast: 1..BCAST_SUBS subscribers */
	struct helper_ctl *mc;   /* shared with the helpers */
	pid_t helper[8];         /* side A's helpers: writers 1..writers-1,
				  * or subscribers 1..subs-1 */
	uint64_t wseq[4];        /* each writer's sequence (as sent, as read) */
	int ep_tx, ep_rx;        /* chan_epoll: epoll sets of this side's ends' fds */
};

/* Removes the names that are left; a missing one is no error. */
static void chan_remove_names(struct chan_ctx *c)
{
	for (int i = 0; i < c->count; i++)
		shmkit_remove(c->name[i]);
	c->removed = true;
}

/* A run that dies before both sides opened: the names go (shm_unlink of
 * the POSIX objects the names are, which a signal handler may call). */
static void chan_abandon(void *ctx)
{
	struct chan_ctx *c = ctx;
	char path[NAME_LEN + 1];

	for (int i = 0; i < c->count && !c->removed; i++) {
		path[0] = '/';
		memcpy(path + 1, c->name[i], NAME_LEN);
		path[NAME_LEN] = '\0';
		shm_unlink(path);
	}
}

/* Makes the channels of @cell (two for round trips, one for a stream)
 * with unique names and @policy as their default. */
static int chan_setup_kind(void **ctx, const struct bench_cell *cell, unsigned policy,
			   uint32_t kind)
{
	static unsigned serial;
	struct shmkit_chan_opts opts = { .policy = policy, .kind = kind };
	struct chan_ctx *c = calloc(1, sizeof(*c));
	int count = cell->kind == BENCH_LATENCY ? 2 : 1, err = 0;

	if (!c)
		return -ENOMEM;
	c->ep_tx = c->ep_rx = -1;
	c->policy = policy;
	c->size = cell->size;
	for (c->cap = CAP_MIN; c->cap / 4 < cell->size;)
		c->cap *= 2;
	opts.capacity = c->cap;
	for (int i = 0; i < count && !err; i++) {
		/* EXCL: never someone else's channel; a stale name (a PID
		 * reused after a killed run) only costs the next number */
		for (int tries = 0; tries < 8; tries++) {
			snprintf(c->name[i], NAME_LEN, "shmkit-bench-%ld-%u-%s", (long)getpid(),
				 serial++, i ? "ba" : "ab");
			err = shmkit_chan_create(c->name[i], SHMKIT_EXCL, &opts);
			if (err != -EEXIST)
				break;
		}
		if (!err)
			c->count = i + 1;
	}
	if (err) {
		chan_remove_names(c);
		free(c);
		return err;
	}
	*ctx = c;
	return 0;
}

static int chan_setup(void **ctx, const struct bench_cell *cell, unsigned policy)
{
	return chan_setup_kind(ctx, cell, policy, SHMKIT_CHAN_SPSC);
}

static int chan_spin_setup(void **ctx, struct bench_cell *cell)
{
	return chan_setup(ctx, cell, SHMKIT_WAIT_SPIN);
}

static int chan_spin_sleep_setup(void **ctx, struct bench_cell *cell)
{
	return chan_setup(ctx, cell, SHMKIT_WAIT_SPIN_SLEEP);
}

static int chan_sleep_setup(void **ctx, struct bench_cell *cell)
{
	return chan_setup(ctx, cell, SHMKIT_WAIT_SLEEP);
}

/* Zero copy runs with what a channel gets when nothing is asked. */
static int chan_zc_setup(void **ctx, struct bench_cell *cell)
{
	return chan_setup(ctx, cell, SHMKIT_WAIT_DEFAULT);
}

static void chan_teardown(void *ctx)
{
	struct chan_ctx *c = ctx;

	shmkit_chan_close(c->tx);
	shmkit_chan_close(c->rx);
	if (c->ep_tx >= 0)
		close(c->ep_tx);
	if (c->ep_rx >= 0)
		close(c->ep_rx);
	if (!c->removed)
		chan_remove_names(c);
	free(c);
}

/* Opens this side's ends: the writer of channel @w and the reader of
 * channel @r (-1: none).  On failure nothing stays open. */
static int chan_open_ends(struct chan_ctx *c, int w, int r)
{
	struct shmkit_chan_opts opts = { .policy = c->policy };
	int err = 0;

	if (w >= 0)
		err = shmkit_chan_open(c->name[w], 0, SHMKIT_CHAN_WRITER, &opts, &c->tx);
	if (!err && r >= 0)
		err = shmkit_chan_open(c->name[r], 0, SHMKIT_CHAN_READER, &opts, &c->rx);
	if (err) {
		shmkit_chan_close(c->tx);
		shmkit_chan_close(c->rx);
		c->tx = c->rx = NULL;
	}
	return err;
}

/* Side B starts first (side A waits for it): once A has its ends too, both
 * have everything open and the names can go. */
static int chan_start_a(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	int err = chan_open_ends(c, 0, c->count > 1 ? 1 : -1);

	if (!err)
		chan_remove_names(c);
	return err;
}

static int chan_start_b(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	int err = chan_open_ends(c, c->count > 1 ? 1 : -1, 0);

	/* side A exits at once when B fails, without its teardown */
	if (err)
		chan_remove_names(c);
	return err;
}

/* ---------------------------------------------------------------------- */
/* Copies: send and recv                                                  */

/*
 * Receives one message into the side's buffer.  Spinning while both sides
 * share one CPU would hold the CPU the other side needs until the
 * scheduler takes it, so a spinning side then polls and yields instead,
 * as the floor's spin does.
 */
static int chan_get(const struct bench_side *s, struct chan_ctx *c)
{
	long n;

	if (s->yield && c->policy == SHMKIT_WAIT_SPIN) {
		while ((n = shmkit_chan_recv(c->rx, s->buf, s->size, 0)) == -EAGAIN)
			sched_yield();
	} else {
		n = shmkit_chan_recv(c->rx, s->buf, s->size, SHMKIT_FOREVER);
	}
	if (n < 0)
		return (int)n;
	return (size_t)n == s->size ? 0 : -EPROTO;  /* 0: the writer ended the stream */
}

static int chan_rt_a(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	uint64_t seq = ++s->seq;
	int err;

	bench_stamp(s->buf, seq);
	if ((err = shmkit_chan_send(c->tx, s->buf, s->size, SHMKIT_FOREVER)) ||
	    (err = chan_get(s, c)))
		return err;
	return bench_seq(s->buf) == seq ? 0 : -EPROTO;
}

static int chan_rt_b(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	int err;

	if ((err = chan_get(s, c)))
		return err;
	if (bench_seq(s->buf) != ++s->seq)
		return -EPROTO;
	return shmkit_chan_send(c->tx, s->buf, s->size, SHMKIT_FOREVER);
}

static int chan_send_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		bench_stamp(s->buf, ++s->seq);
		if ((err = shmkit_chan_send(c->tx, s->buf, s->size, SHMKIT_FOREVER)))
			return err;
	}
	return 0;
}

static int chan_recv_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = chan_get(s, c)))
			return err;
		if (bench_seq(s->buf) != ++s->seq)
			return -EPROTO;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Event loops: timeout 0, and epoll_wait on the fd after -EAGAIN          */

/* An epoll set holding @ch's event-loop fd. */
static int epoll_of(shmkit_chan *ch, int *ep)
{
	int fd = ch ? shmkit_chan_fd(ch) : -1;
	struct epoll_event ev = { .events = EPOLLIN };

	if (!ch)
		return 0;
	if (fd < 0)
		return fd;
	*ep = epoll_create1(EPOLL_CLOEXEC);
	if (*ep < 0 || epoll_ctl(*ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -errno;
	return 0;
}

/* After a side's start (@err its result): an epoll set for each end. */
static int epoll_ends(struct chan_ctx *c, int err)
{
	if (!err)
		err = epoll_of(c->tx, &c->ep_tx);
	if (!err)
		err = epoll_of(c->rx, &c->ep_rx);
	return err;
}

static int epoll_start_a(struct bench_side *s)
{
	return epoll_ends(s->ctx, chan_start_a(s));
}

static int epoll_start_b(struct bench_side *s)
{
	return epoll_ends(s->ctx, chan_start_b(s));
}

/* Sleeps in epoll until @ep's fd is readable. */
static int epoll_sleep(int ep)
{
	struct epoll_event ev;
	int n;

	while ((n = epoll_wait(ep, &ev, 1, -1)) < 0 && errno == EINTR)
		;
	return n < 0 ? -errno : 0;
}

static int epoll_put(struct bench_side *s, struct chan_ctx *c)
{
	int err;

	while ((err = shmkit_chan_send(c->tx, s->buf, s->size, 0)) == -EAGAIN)
		if ((err = epoll_sleep(c->ep_tx)))
			return err;
	return err;
}

static int epoll_get(struct bench_side *s, struct chan_ctx *c)
{
	long n;
	int err;

	while ((n = shmkit_chan_recv(c->rx, s->buf, s->size, 0)) == -EAGAIN)
		if ((err = epoll_sleep(c->ep_rx)))
			return err;
	if (n < 0)
		return (int)n;
	return (size_t)n == s->size ? 0 : -EPROTO;
}

static int epoll_rt_a(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	uint64_t seq = ++s->seq;
	int err;

	bench_stamp(s->buf, seq);
	if ((err = epoll_put(s, c)) || (err = epoll_get(s, c)))
		return err;
	return bench_seq(s->buf) == seq ? 0 : -EPROTO;
}

static int epoll_rt_b(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	int err;

	if ((err = epoll_get(s, c)))
		return err;
	if (bench_seq(s->buf) != ++s->seq)
		return -EPROTO;
	return epoll_put(s, c);
}

static int epoll_send_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		bench_stamp(s->buf, ++s->seq);
		if ((err = epoll_put(s, c)))
			return err;
	}
	return 0;
}

static int epoll_recv_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = epoll_get(s, c)))
			return err;
		if (bench_seq(s->buf) != ++s->seq)
			return -EPROTO;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* In place: reserve/commit, peek/release                                 */

/* Checks one peeked message: its length and sequence number; reads it. */
static int zc_take(struct bench_side *s, long len, const void *p)
{
	if (len < 0)
		return (int)len;
	if ((size_t)len != s->size || bench_seq(p) != ++s->seq)
		return -EPROTO;
	zc_consume(p, s->size);
	return 0;
}

/* Writes message @seq in place and publishes it. */
static int zc_put(struct bench_side *s, struct chan_ctx *c, uint64_t seq)
{
	void *p;
	int err = shmkit_chan_reserve(c->tx, s->size, &p, SHMKIT_FOREVER);

	if (err)
		return err;
	zc_fill(p, s->size, seq);
	return shmkit_chan_commit(c->tx);
}

static int zc_rt_a(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	uint64_t seq = s->seq + 1;
	const void *p;
	int err;

	if ((err = zc_put(s, c, seq)))
		return err;
	long len = shmkit_chan_peek(c->rx, &p, SHMKIT_FOREVER);
	if ((err = zc_take(s, len, p)))  /* takes s->seq to seq: the echo */
		return err;
	return shmkit_chan_release(c->rx);
}

static int zc_rt_b(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	const void *p;
	int err;

	long len = shmkit_chan_peek(c->rx, &p, SHMKIT_FOREVER);
	if ((err = zc_take(s, len, p)) || (err = zc_put(s, c, s->seq)))
		return err;
	return shmkit_chan_release(c->rx);
}

/* Messages written in place, published ZC_BATCH at a time (or a quarter
 * of the ring, whichever is less), and at the end of a round, which side B
 * waits for whole. */
static int zc_send_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	uint64_t most = c->cap / 4 / (s->size + 8);
	int err;

	if (most > ZC_BATCH)
		most = ZC_BATCH;
	if (most < 1)
		most = 1;
	for (uint64_t i = 0; i < n;) {
		uint64_t batch = n - i < most ? n - i : most;
		for (uint64_t k = 0; k < batch; k++) {
			void *p;
			if ((err = shmkit_chan_reserve(c->tx, s->size, &p, SHMKIT_FOREVER)))
				return err;
			zc_fill(p, s->size, ++s->seq);
		}
		if ((err = shmkit_chan_commit(c->tx)))
			return err;
		i += batch;
	}
	return 0;
}

/* Waits for one message, takes what else has arrived (up to ZC_BATCH, and
 * not past the round), reads each in place, releases all. */
static int zc_recv_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	const void *p;
	int err;

	for (uint64_t i = 0; i < n;) {
		uint64_t limit = n - i < ZC_BATCH ? n - i : ZC_BATCH, got = 1;
		long len = shmkit_chan_peek(c->rx, &p, SHMKIT_FOREVER);
		if ((err = zc_take(s, len, p)))
			return err;
		for (; got < limit; got++) {
			len = shmkit_chan_peek(c->rx, &p, 0);
			if (len == -EAGAIN)
				break;
			if ((err = zc_take(s, len, p)))
				return err;
		}
		if ((err = shmkit_chan_release(c->rx)))
			return err;
		i += got;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* chan_idle: what a receiver waiting on an empty channel costs           */

static int idle_setup(void **ctx, struct bench_cell *cell)
{
	struct chan_ctx *c;
	struct bench_cell one = { .kind = BENCH_THROUGHPUT, .size = 8 };
	int err = chan_setup(ctx, &one, SHMKIT_WAIT_DEFAULT);

	(void)cell;
	if (err)
		return err;
	c = *ctx;
	/* a reader alone: no writer has ever come, so it waits for one */
	err = chan_open_ends(c, -1, 0);
	chan_remove_names(c);
	if (err) {
		chan_teardown(c);
		return err;
	}
	return 0;
}

static int idle_cost(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	unsigned char buf[8];

	for (uint64_t i = 0; i < n; i++) {
		long got = shmkit_chan_recv(c->rx, buf, sizeof(buf), IDLE_NS);
		if (got != -ETIMEDOUT)
			return got < 0 ? (int)got : -EPROTO;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* MPSC: several writers into one reader                                  */

#define MPSC_WRITERS 4
#define MPSC_SEQ_MASK ((UINT64_C(1) << 56) - 1)  /* the writer is in the top byte */
#define MPSC_READY_NS (10 * INT64_C(1000000000))

/* What side A and its helpers (MPSC writers, broadcast subscribers) share. */
struct helper_ctl {
	_Atomic uint64_t quota[MPSC_WRITERS];  /* messages writer i is to have sent */
	_Atomic int ready;                     /* helpers with their end open */
	_Atomic int err;                       /* a helper's failure */
};

/* A channel of @kind with helpers: @writers MPSC writers or @subs broadcast
 * subscribers in all, side A's or B's own end among them. */
static int helpers_setup(void **ctx, const struct bench_cell *cell, uint32_t kind,
			 unsigned writers, unsigned subs)
{
	struct helper_ctl *mc = bench_map_shared(sizeof(*mc));
	struct chan_ctx *c;
	int err;

	if (!mc)
		return -errno;
	err = chan_setup_kind(ctx, cell, SHMKIT_WAIT_DEFAULT, kind);
	if (err) {
		munmap(mc, sizeof(*mc));
		return err;
	}
	c = *ctx;
	c->writers = writers;
	c->subs = subs;
	c->mc = mc;
	return 0;
}

static int mpsc_setup(void **ctx, const struct bench_cell *cell, unsigned writers)
{
	return helpers_setup(ctx, cell, SHMKIT_CHAN_MPSC, writers, 0);
}

static int mpsc_1w_setup(void **ctx, struct bench_cell *cell)
{
	return mpsc_setup(ctx, cell, 1);
}

static int mpsc_2w_setup(void **ctx, struct bench_cell *cell)
{
	return mpsc_setup(ctx, cell, 2);
}

static int mpsc_4w_setup(void **ctx, struct bench_cell *cell)
{
	return mpsc_setup(ctx, cell, 4);
}

/* Sends @n messages of writer @w through @tx. */
static int mpsc_put(struct chan_ctx *c, shmkit_chan *tx, unsigned char *buf, size_t size,
		    unsigned w, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		bench_stamp(buf, (uint64_t)w << 56 | ++c->wseq[w]);
		int err = shmkit_chan_send(tx, buf, size, SHMKIT_FOREVER);
		if (err)
			return err;
	}
	return 0;
}

/* A helper writer: sends up to its quota as side A raises it, until
 * killed by teardown (or with side A's process). */
static void mpsc_helper(struct chan_ctx *c, unsigned w, int cpu, pid_t parent)
{
	shmkit_chan *tx = NULL;
	unsigned char *buf = aligned_alloc(64, (c->size + 63) & ~(size_t)63);
	uint64_t sent = 0;
	unsigned idle = 0;
	int err = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	if (!buf || (err = bench_pin(cpu)) ||
	    (err = shmkit_chan_open(c->name[0], 0, SHMKIT_CHAN_WRITER, NULL, &tx))) {
		atomic_store(&c->mc->err, buf ? err : -ENOMEM);
		_exit(1);
	}
	memset(buf, 0x5a, c->size);
	atomic_fetch_add(&c->mc->ready, 1);
	for (;;) {
		uint64_t q = atomic_load(&c->mc->quota[w]);
		if (sent < q) {
			if ((err = mpsc_put(c, tx, buf, c->size, w, q - sent))) {
				atomic_store(&c->mc->err, err);
				_exit(1);
			}
			sent = q;
			idle = 0;
		} else {
			bench_idle(&idle);
		}
	}
}

/* Side A: forks helpers 1..@count-1 running @fn, pinned in turn to side
 * B's and side A's CPUs, waits until each has its end open, then opens
 * its own and lets the names go. */
static int helpers_start_a(struct bench_side *s, unsigned count,
			   void (*fn)(struct chan_ctx *c, unsigned i, int cpu, pid_t parent))
{
	struct chan_ctx *c = s->ctx;
	pid_t parent = getpid();
	int err = 0;

	fflush(NULL);
	for (unsigned i = 1; i < count; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			fn(c, i, i % 2 ? s->cpu_b : s->cpu_a, parent);
			_exit(1);
		}
		if (pid < 0)
			return -errno;
		c->helper[i] = pid;
	}
	int64_t end = bench_now_ns() + MPSC_READY_NS;
	while (atomic_load(&c->mc->ready) < (int)count - 1 && !err) {
		err = atomic_load(&c->mc->err);
		if (!err && bench_now_ns() > end)
			err = -ETIMEDOUT;
		sched_yield();
	}
	if (!err)
		err = chan_open_ends(c, 0, c->count > 1 ? 1 : -1);
	if (!err)
		chan_remove_names(c);
	return err;
}

static int mpsc_start_a(struct bench_side *s)
{
	return helpers_start_a(s, ((struct chan_ctx *)s->ctx)->writers, mpsc_helper);
}

/* Side A: every helper gets its share of the round, side A sends its own. */
static int mpsc_send_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	uint64_t share = n / c->writers, rest = n % c->writers;
	int err = atomic_load(&c->mc->err);

	if (err)
		return err;
	for (unsigned w = 1; w < c->writers; w++)
		atomic_fetch_add(&c->mc->quota[w], share + (w < rest));
	return mpsc_put(c, c->tx, s->buf, s->size, 0, share + (0 < rest));
}

/* Side B: every message in its writer's order. */
static int mpsc_recv_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = chan_get(s, c)))
			return err;
		uint64_t v = bench_seq(s->buf), w = v >> 56;
		if (w >= c->writers || (v & MPSC_SEQ_MASK) != ++c->wseq[w])
			return -EPROTO;
	}
	return 0;
}

/* The helpers side A forked (async-signal-safe: kill only). */
static void helpers_abandon(void *ctx)
{
	struct chan_ctx *c = ctx;

	for (unsigned i = 1; i < sizeof(c->helper) / sizeof(c->helper[0]); i++)
		if (c->helper[i] > 0)
			kill(c->helper[i], SIGKILL);
	chan_abandon(ctx);
}

static void helpers_teardown(void *ctx)
{
	struct chan_ctx *c = ctx;

	for (unsigned i = 1; i < sizeof(c->helper) / sizeof(c->helper[0]); i++) {
		if (c->helper[i] <= 0)
			continue;
		kill(c->helper[i], SIGKILL);
		while (waitpid(c->helper[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
	munmap(c->mc, sizeof(*c->mc));
	chan_teardown(ctx);
}

/* ---------------------------------------------------------------------- */
/* Broadcast: one writer to several subscribers                           */

#define BCAST_SUBS 8

static int bcast_1s_setup(void **ctx, struct bench_cell *cell)
{
	return helpers_setup(ctx, cell, SHMKIT_CHAN_BROADCAST, 0, 1);
}

static int bcast_2s_setup(void **ctx, struct bench_cell *cell)
{
	return helpers_setup(ctx, cell, SHMKIT_CHAN_BROADCAST, 0, 2);
}

static int bcast_4s_setup(void **ctx, struct bench_cell *cell)
{
	return helpers_setup(ctx, cell, SHMKIT_CHAN_BROADCAST, 0, 4);
}

static int bcast_8s_setup(void **ctx, struct bench_cell *cell)
{
	return helpers_setup(ctx, cell, SHMKIT_CHAN_BROADCAST, 0, BCAST_SUBS);
}

/* A helper subscriber: joins read-only before the writer sends, then
 * receives and checks every message until the stream ends or it is killed
 * by teardown (or with side A's process). */
static void bcast_helper(struct chan_ctx *c, unsigned i, int cpu, pid_t parent)
{
	struct shmkit_chan_opts opts = { .policy = c->policy };
	shmkit_chan *rx = NULL;
	unsigned char *buf = aligned_alloc(64, (c->size + 63) & ~(size_t)63);
	uint64_t seq = 0;
	int err = 0;

	(void)i;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	if (!buf || (err = bench_pin(cpu)) ||
	    (err = shmkit_chan_open(c->name[0], SHMKIT_RDONLY, SHMKIT_CHAN_READER, &opts, &rx))) {
		atomic_store(&c->mc->err, buf ? err : -ENOMEM);
		_exit(1);
	}
	atomic_fetch_add(&c->mc->ready, 1);
	for (;;) {
		long n = shmkit_chan_recv(rx, buf, c->size, SHMKIT_FOREVER);
		if (n == 0)
			_exit(0);  /* the writer closed: the trial is over */
		if (n != (long)c->size || bench_seq(buf) != ++seq) {
			atomic_store(&c->mc->err, n < 0 ? (int)n : -EPROTO);
			_exit(1);
		}
	}
}

static int bcast_start_a(struct bench_side *s)
{
	return helpers_start_a(s, ((struct chan_ctx *)s->ctx)->subs, bcast_helper);
}

/* Side A: a helper's failure stops the run; the writer waits for the
 * slowest subscriber. */
static int bcast_send_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	int err = atomic_load(&c->mc->err);

	return err ? err : chan_send_n(s, n);
}

/* ---------------------------------------------------------------------- */

#define BOTH (BENCH_LATENCY | BENCH_THROUGHPUT)

static const struct bench_method chan_methods[] = {
	{ .name = "chan_spin", .what = "shmkit channel, spin",
	  .kinds = BOTH, .sized = true, .policy = "spin", .copies = 2,
	  .setup = chan_spin_setup, .teardown = chan_teardown, .abandon = chan_abandon,
	  .start_a = chan_start_a, .start_b = chan_start_b,
	  .round_a = chan_rt_a, .round_b = chan_rt_b,
	  .send_a = chan_send_n, .recv_b = chan_recv_n },
	{ .name = "chan_spin_sleep", .what = "shmkit channel, spin then sleep",
	  .kinds = BOTH, .sized = true, .policy = "spin_sleep", .copies = 2,
	  .setup = chan_spin_sleep_setup, .teardown = chan_teardown, .abandon = chan_abandon,
	  .start_a = chan_start_a, .start_b = chan_start_b,
	  .round_a = chan_rt_a, .round_b = chan_rt_b,
	  .send_a = chan_send_n, .recv_b = chan_recv_n },
	{ .name = "chan_sleep", .what = "shmkit channel, sleep",
	  .kinds = BOTH, .sized = true, .policy = "sleep", .copies = 2,
	  .setup = chan_sleep_setup, .teardown = chan_teardown, .abandon = chan_abandon,
	  .start_a = chan_start_a, .start_b = chan_start_b,
	  .round_a = chan_rt_a, .round_b = chan_rt_b,
	  .send_a = chan_send_n, .recv_b = chan_recv_n },
	{ .name = "chan_zc", .what = "shmkit channel, zero copy",
	  .kinds = BOTH, .sized = true, .policy = "spin_sleep", .copies = 0,
	  .setup = chan_zc_setup, .teardown = chan_teardown, .abandon = chan_abandon,
	  .start_a = chan_start_a, .start_b = chan_start_b,
	  .round_a = zc_rt_a, .round_b = zc_rt_b,
	  .send_a = zc_send_n, .recv_b = zc_recv_n },
	{ .name = "chan_epoll", .what = "shmkit channel, epoll on its fd",
	  .kinds = BOTH, .sized = true, .policy = "fd", .copies = 2,
	  .setup = chan_spin_sleep_setup, .teardown = chan_teardown, .abandon = chan_abandon,
	  .start_a = epoll_start_a, .start_b = epoll_start_b,
	  .round_a = epoll_rt_a, .round_b = epoll_rt_b,
	  .send_a = epoll_send_n, .recv_b = epoll_recv_n },
	{ .name = "chan_idle", .what = "idle receiver, 100 ms waits",
	  .kinds = BENCH_COST, .policy = "spin_sleep", .copies = -1, .ops = 2,
	  .setup = idle_setup, .teardown = chan_teardown, .cost = idle_cost },
	/* round trips only with one writer: two MPSC channels, as chan_* */
#define MPSC_METHOD(n, w, k)                                                      \
	{ .name = "mpsc_" #n "w", .what = "shmkit MPSC channel, " w,                 \
	  .kinds = k, .sized = true, .policy = "spin_sleep",                        \
	  .copies = 2, .setup = mpsc_##n##w_setup, .teardown = helpers_teardown,    \
	  .abandon = helpers_abandon, .start_a = mpsc_start_a, .start_b = chan_start_b, \
	  .round_a = chan_rt_a, .round_b = chan_rt_b,                               \
	  .send_a = mpsc_send_n, .recv_b = mpsc_recv_n }
	MPSC_METHOD(1, "1 writer", BOTH),
	MPSC_METHOD(2, "2 writers", BENCH_THROUGHPUT),
	MPSC_METHOD(4, "4 writers", BENCH_THROUGHPUT),
#undef MPSC_METHOD
	/* round trips only with one subscriber: two broadcast channels */
#define BCAST_METHOD(n, w, k)                                                     \
	{ .name = "bcast_" #n "s", .what = "shmkit broadcast channel, " w,           \
	  .kinds = k, .sized = true, .policy = "spin_sleep",                        \
	  .copies = 2, .setup = bcast_##n##s_setup, .teardown = helpers_teardown,   \
	  .abandon = helpers_abandon, .start_a = bcast_start_a, .start_b = chan_start_b, \
	  .round_a = chan_rt_a, .round_b = chan_rt_b,                               \
	  .send_a = bcast_send_n, .recv_b = chan_recv_n }
	BCAST_METHOD(1, "1 subscriber", BOTH),
	BCAST_METHOD(2, "2 subscribers", BENCH_THROUGHPUT),
	BCAST_METHOD(4, "4 subscribers", BENCH_THROUGHPUT),
	BCAST_METHOD(8, "8 subscribers", BENCH_THROUGHPUT),
#undef BCAST_METHOD
};

const struct bench_suite bench_chan_suite = {
	.methods = chan_methods,
	.count = sizeof(chan_methods) / sizeof(chan_methods[0]),
};

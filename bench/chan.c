/* SPDX-License-Identifier: MIT */
/*
 * chan.c - the channel entries (issue #4): messages per second and round
 * trips of 64-byte messages through shmkit channels, next to a pipe, in one
 * run.
 *
 *   pipe             round trip through two pipes, one per direction: a
 *                    write() and a read() of 64 bytes each way
 *   chan_spin        round trip through two channels, one per direction,
 *   chan_spin_sleep  shmkit_chan_send/shmkit_chan_recv, with each wait
 *   chan_sleep       policy in turn
 *   pipe_stream      64-byte messages one way through a pipe: one write()
 *                    per message, and reads of exactly 64 bytes
 *   chan_stream      the same through a channel, shmkit_chan_send/recv (a
 *                    copy in and a copy out), the default wait policy
 *   chan_stream_zc   the same in place: reserve/commit in batches of up to
 *                    ZC_BATCH, peek/release of what has arrived, up to
 *                    ZC_BATCH at once
 *
 * Every message carries its sequence number in its first 8 bytes; the
 * receiver checks it (and a round trip's sender checks the echo), so a
 * figure is never taken from a broken stream.
 *
 * Channels have names unique to the process and the trial
 * ("shmkit-bench-PID-N-ab" / "-ba"), with the default capacity (1 MiB).
 * setup() creates them, each side opens its ends in its start, and side A
 * removes the names as soon as both sides have them open: the segments live
 * on while mapped, and nothing stays in /dev/shm if the run dies from then
 * on.  teardown() removes them too (a trial that failed before that) and
 * side B does when its own start fails, since side A exits at once then.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "shmkit.h"
#include "suites.h"

#define MSG 64          /* bytes per message */
#define ZC_BATCH 64     /* messages per commit / release in chan_stream_zc */
#define NAME_LEN 64

/* ---------------------------------------------------------------------- */
/* Messages                                                               */

/* A message: its sequence number, then filler. */
static void msg_fill(unsigned char *p, uint64_t seq)
{
	memset(p + sizeof(seq), 0x5a, MSG - sizeof(seq));
	memcpy(p, &seq, sizeof(seq));
}

static uint64_t msg_seq(const void *p)
{
	uint64_t seq;

	memcpy(&seq, p, sizeof(seq));
	return seq;
}

/* ---------------------------------------------------------------------- */
/* Pipes                                                                  */

/* fd[0] read / fd[1] write ends of A->B (ab) and B->A (ba). */
struct pipe_ctx {
	int ab[2], ba[2];
};

static int pipe_setup(void **ctx)
{
	struct pipe_ctx *c = malloc(sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (pipe(c->ab)) {
		int err = -errno;
		free(c);
		return err;
	}
	if (pipe(c->ba)) {
		int err = -errno;
		close(c->ab[0]);
		close(c->ab[1]);
		free(c);
		return err;
	}
	*ctx = c;
	return 0;
}

static void pipe_teardown(void *ctx)
{
	struct pipe_ctx *c = ctx;

	close(c->ab[0]);
	close(c->ab[1]);
	close(c->ba[0]);
	close(c->ba[1]);
	free(c);
}

/* Writes all of @len bytes (a pipe takes up to PIPE_BUF at once). */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly @len bytes: a pipe is a byte stream, a read may return
 * less than a message.  -EPIPE at the end of the stream. */
static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pipe_a(struct bench_side *s)
{
	struct pipe_ctx *c = s->ctx;
	unsigned char buf[MSG];
	uint64_t seq = ++s->seq;
	int err;

	msg_fill(buf, seq);
	if ((err = write_all(c->ab[1], buf, MSG)) || (err = read_all(c->ba[0], buf, MSG)))
		return err;
	return msg_seq(buf) == seq ? 0 : -EPROTO;
}

static int pipe_b(struct bench_side *s)
{
	struct pipe_ctx *c = s->ctx;
	unsigned char buf[MSG];
	int err;

	if ((err = read_all(c->ab[0], buf, MSG)))
		return err;
	if (msg_seq(buf) != ++s->seq)
		return -EPROTO;
	return write_all(c->ba[1], buf, MSG);
}

static int pipe_send(struct bench_side *s, uint64_t n)
{
	struct pipe_ctx *c = s->ctx;
	unsigned char buf[MSG];
	int err;

	msg_fill(buf, 0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t seq = ++s->seq;
		memcpy(buf, &seq, sizeof(seq));
		if ((err = write_all(c->ab[1], buf, MSG)))
			return err;
	}
	return 0;
}

static int pipe_recv(struct bench_side *s, uint64_t n)
{
	struct pipe_ctx *c = s->ctx;
	unsigned char buf[MSG];
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = read_all(c->ab[0], buf, MSG)))
			return err;
		if (msg_seq(buf) != ++s->seq)
			return -EPROTO;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Channels: names, setup, the ends of each side                          */

struct chan_ctx {
	char name[2][NAME_LEN];  /* A->B, and B->A for round trips */
	int count;               /* channels made: 1 (streams) or 2 */
	unsigned policy;         /* enum shmkit_wait each end opens with */
	bool removed;            /* the names are gone (both sides opened) */
	shmkit_chan *tx, *rx;    /* this side's ends (each side its own copy) */
};

/* Removes the names that are left; a missing one is no error. */
static void chan_remove_names(struct chan_ctx *c)
{
	for (int i = 0; i < c->count; i++)
		shmkit_remove(c->name[i]);
	c->removed = true;
}

/* Makes @count channels with unique names and @policy as their default. */
static int chan_setup(void **ctx, int count, unsigned policy)
{
	static unsigned serial;
	struct shmkit_chan_opts opts = { .policy = policy };
	struct chan_ctx *c = calloc(1, sizeof(*c));
	int err = 0;

	if (!c)
		return -ENOMEM;
	c->policy = policy;
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

static int chan_rt_spin_setup(void **ctx)
{
	return chan_setup(ctx, 2, SHMKIT_WAIT_SPIN);
}

static int chan_rt_spin_sleep_setup(void **ctx)
{
	return chan_setup(ctx, 2, SHMKIT_WAIT_SPIN_SLEEP);
}

static int chan_rt_sleep_setup(void **ctx)
{
	return chan_setup(ctx, 2, SHMKIT_WAIT_SLEEP);
}

/* The streams run with what a channel gets when nothing is asked. */
static int chan_stream_setup(void **ctx)
{
	return chan_setup(ctx, 1, SHMKIT_WAIT_DEFAULT);
}

static void chan_teardown(void *ctx)
{
	struct chan_ctx *c = ctx;

	shmkit_chan_close(c->tx);
	shmkit_chan_close(c->rx);
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
/* Channels: round trips                                                  */

/*
 * Receives one message into @buf.  Spinning while both sides share one CPU
 * would hold the CPU the other side needs until the scheduler takes it, so
 * a spinning side then polls and yields instead, as the floor's spin does.
 */
static int chan_get(const struct bench_side *s, struct chan_ctx *c, unsigned char *buf)
{
	long n;

	if (s->yield && c->policy == SHMKIT_WAIT_SPIN) {
		while ((n = shmkit_chan_recv(c->rx, buf, MSG, 0)) == -EAGAIN)
			sched_yield();
	} else {
		n = shmkit_chan_recv(c->rx, buf, MSG, SHMKIT_FOREVER);
	}
	if (n < 0)
		return (int)n;
	return n == MSG ? 0 : -EPROTO;  /* 0: the writer ended the stream */
}

static int chan_rt_a(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	unsigned char buf[MSG];
	uint64_t seq = ++s->seq;
	int err;

	msg_fill(buf, seq);
	if ((err = shmkit_chan_send(c->tx, buf, MSG, SHMKIT_FOREVER)) ||
	    (err = chan_get(s, c, buf)))
		return err;
	return msg_seq(buf) == seq ? 0 : -EPROTO;
}

static int chan_rt_b(struct bench_side *s)
{
	struct chan_ctx *c = s->ctx;
	unsigned char buf[MSG];
	int err;

	if ((err = chan_get(s, c, buf)))
		return err;
	if (msg_seq(buf) != ++s->seq)
		return -EPROTO;
	return shmkit_chan_send(c->tx, buf, MSG, SHMKIT_FOREVER);
}

/* ---------------------------------------------------------------------- */
/* Channels: streams                                                      */

/* The copy path: one send per message, one recv per message. */
static int chan_send_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	unsigned char buf[MSG];
	int err;

	msg_fill(buf, 0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t seq = ++s->seq;
		memcpy(buf, &seq, sizeof(seq));
		if ((err = shmkit_chan_send(c->tx, buf, MSG, SHMKIT_FOREVER)))
			return err;
	}
	return 0;
}

static int chan_recv_n(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	unsigned char buf[MSG];
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = chan_get(s, c, buf)))
			return err;
		if (msg_seq(buf) != ++s->seq)
			return -EPROTO;
	}
	return 0;
}

/* Zero copy: messages written in place, published ZC_BATCH at a time (and
 * at the end of a round, which side B waits for whole). */
static int chan_send_zc(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n;) {
		uint64_t batch = n - i < ZC_BATCH ? n - i : ZC_BATCH;
		for (uint64_t k = 0; k < batch; k++) {
			void *p;
			if ((err = shmkit_chan_reserve(c->tx, MSG, &p, SHMKIT_FOREVER)))
				return err;
			msg_fill(p, ++s->seq);
		}
		if ((err = shmkit_chan_commit(c->tx)))
			return err;
		i += batch;
	}
	return 0;
}

/* Checks one peeked message: its length and sequence number. */
static int zc_check(struct bench_side *s, long len, const void *p)
{
	if (len < 0)
		return (int)len;
	if (len != MSG || msg_seq(p) != ++s->seq)
		return -EPROTO;
	return 0;
}

/* Zero copy: waits for one message, takes what else has arrived (up to
 * ZC_BATCH, and not past the round), reads each in place, releases all. */
static int chan_recv_zc(struct bench_side *s, uint64_t n)
{
	struct chan_ctx *c = s->ctx;
	const void *p;
	int err;

	for (uint64_t i = 0; i < n;) {
		uint64_t limit = n - i < ZC_BATCH ? n - i : ZC_BATCH, got = 1;
		long len = shmkit_chan_peek(c->rx, &p, SHMKIT_FOREVER);
		if ((err = zc_check(s, len, p)))
			return err;
		for (; got < limit; got++) {
			len = shmkit_chan_peek(c->rx, &p, 0);
			if (len == -EAGAIN)
				break;
			if ((err = zc_check(s, len, p)))
				return err;
		}
		if ((err = shmkit_chan_release(c->rx)))
			return err;
		i += got;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */

static const struct bench_method chan_methods[] = {
	{ .name = "pipe", .what = "64 B round trip, two pipes",
	  .kind = BENCH_LATENCY, .baseline = "floor", .size = MSG,
	  .setup = pipe_setup, .teardown = pipe_teardown,
	  .round_a = pipe_a, .round_b = pipe_b },
	{ .name = "chan_spin", .what = "64 B round trip, channels, spin",
	  .kind = BENCH_LATENCY, .baseline = "floor", .versus = "pipe",
	  .policy = "spin", .size = MSG,
	  .setup = chan_rt_spin_setup, .teardown = chan_teardown,
	  .start_a = chan_start_a, .start_b = chan_start_b,
	  .round_a = chan_rt_a, .round_b = chan_rt_b },
	{ .name = "chan_spin_sleep", .what = "the same, spin then sleep",
	  .kind = BENCH_LATENCY, .baseline = "floor", .versus = "pipe",
	  .policy = "spin_sleep", .size = MSG,
	  .setup = chan_rt_spin_sleep_setup, .teardown = chan_teardown,
	  .start_a = chan_start_a, .start_b = chan_start_b,
	  .round_a = chan_rt_a, .round_b = chan_rt_b },
	{ .name = "chan_sleep", .what = "the same, sleep at once",
	  .kind = BENCH_LATENCY, .baseline = "floor", .versus = "pipe",
	  .policy = "sleep", .size = MSG,
	  .setup = chan_rt_sleep_setup, .teardown = chan_teardown,
	  .start_a = chan_start_a, .start_b = chan_start_b,
	  .round_a = chan_rt_a, .round_b = chan_rt_b },
	{ .name = "pipe_stream", .what = "64 B one way, write/read",
	  .kind = BENCH_THROUGHPUT, .baseline = "pipe_stream", .size = MSG,
	  .setup = pipe_setup, .teardown = pipe_teardown,
	  .send_a = pipe_send, .recv_b = pipe_recv },
	{ .name = "chan_stream", .what = "64 B one way, send/recv",
	  .kind = BENCH_THROUGHPUT, .baseline = "pipe_stream",
	  .policy = "spin_sleep", .size = MSG,
	  .setup = chan_stream_setup, .teardown = chan_teardown,
	  .start_a = chan_start_a, .start_b = chan_start_b,
	  .send_a = chan_send_n, .recv_b = chan_recv_n },
	{ .name = "chan_stream_zc", .what = "64 B one way, zero copy, x64",
	  .kind = BENCH_THROUGHPUT, .baseline = "pipe_stream",
	  .policy = "spin_sleep", .size = MSG,
	  .setup = chan_stream_setup, .teardown = chan_teardown,
	  .start_a = chan_start_a, .start_b = chan_start_b,
	  .send_a = chan_send_zc, .recv_b = chan_recv_zc },
};

const struct bench_suite bench_chan_suite = {
	.methods = chan_methods,
	.count = sizeof(chan_methods) / sizeof(chan_methods[0]),
};

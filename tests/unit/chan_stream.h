/* SPDX-License-Identifier: MIT */
/*
 * chan_stream.h - the one stream body every kind of channel runs (the
 * shape of DPDK's test_ring_stress_impl.h): writer processes send n
 * messages each, of random sizes, made by msg.h; readers (the test process
 * and, for a broadcast channel, subscriber processes besides) check every
 * message: its writer is one of the stream's, its sequence number is the
 * next of that writer's (none lost, repeated or reordered), its length is
 * the one the writer chose, its length field, checksum and every byte are
 * right; then end of stream (0, and 0 again), each writer's count, the
 * same digest of the whole stream in every reader, and the statistics.
 *
 * What differs by kind is bound in a struct stream_kind, which each suite
 * fills: how many writers and readers, how long a message is, which
 * messages go by reserve/commit and which are read by peek/release, how
 * readers open, and the statistics at the start and at the end.  A test is
 * then one line:
 *	Test(mpsc, stream_8x1M) { stream_run(&mpsc_stream, &(struct stream_case){ ... }); }
 *
 * Every wait is bounded: channel calls time out (CHAN_WAIT_NS), children
 * live under kids.h's alarm and are waited for at most kind->reap_ns.
 */
#ifndef SHMKIT_TEST_CHAN_STREAM_H
#define SHMKIT_TEST_CHAN_STREAM_H

#include <stdio.h>
#include <stdlib.h>

#include "chan_test.h"

#define STREAM_WRITERS_MAX 16

/* How a writer sends a message, how a reader takes one. */
enum { STREAM_SEND, STREAM_RESERVE, STREAM_RESERVE_COMMIT };
enum { STREAM_RECV, STREAM_PEEK, STREAM_PEEK_RELEASE };

/* One stream test. */
struct stream_case {
	int backend;
	size_t cap;
	unsigned policy;       /* the channel's and every handle's */
	unsigned overflow;     /* broadcast: SHMKIT_BCAST_* */
	bool zero_copy;        /* the kind's reserve/commit and peek/release share */
	uint64_t n;            /* messages per writer */
	const char *n_env;     /* when set and in the environment, n instead */
	unsigned n_div;        /* then divided by this (0: by 1) */
};

/* What a kind binds. */
struct stream_kind {
	const char *name;
	unsigned kind;         /* SHMKIT_CHAN_* */
	uint32_t writers;      /* writer processes */
	uint32_t readers;      /* reader 0 the test process, the rest children */
	unsigned start;        /* a reader's opts.start */
	bool rdonly_odd;       /* odd readers open SHMKIT_RDONLY */
	size_t max_len;        /* messages at most this long (0: max_msg) */
	int64_t reap_ns;       /* the wait for a child to end */
	size_t (*len)(uint64_t seed, uint32_t id, uint64_t seq, size_t max);
	int (*how_send)(const struct stream_case *c, uint32_t id, uint64_t seq, uint64_t n);
	int (*how_read)(const struct stream_case *c, uint32_t rid, uint64_t got);
	/* all open, before the go; @max the reader's max_msg */
	void (*check_start)(const struct stream_case *c, const struct shmkit_chan_info *ci,
			    size_t max);
	/* at the end: with the test process's reader open, and closed */
	void (*check_end)(const struct stream_case *c, uint64_t n,
			  const struct shmkit_chan_info *open, const struct shmkit_chan_info *closed);
};

/* What the children of one stream are given. */
struct stream_job {
	const struct stream_kind *k;
	const struct stream_case *c;
	const char *name;
	uint64_t n, seed;
	uint32_t id;           /* writer id, or reader id */
};

static inline size_t stream_max(const struct stream_kind *k, shmkit_chan *h)
{
	size_t max = shmkit_chan_max_msg(h);
	return k->max_len && k->max_len < max ? k->max_len : max;
}

static inline int stream_open_reader(const struct stream_job *j, shmkit_chan **r)
{
	struct shmkit_chan_opts o = { .policy = j->c->policy, .start = j->k->start };
	unsigned flags = j->k->rdonly_odd && (j->id & 1) ? SHMKIT_RDONLY : 0;
	return shmkit_chan_open(j->name, flags, SHMKIT_CHAN_READER, &o, r);
}

/* A writer: n messages, by send or reserve/commit as the kind says. */
static inline int stream_writer(void *arg)
{
	const struct stream_job *j = arg;
	struct shmkit_chan_opts o = { .policy = j->c->policy };
	shmkit_chan *w;
	int err = shmkit_chan_open(j->name, 0, SHMKIT_CHAN_WRITER, &o, &w);
	if (err)
		kid_fail("writer %u: open: %s", j->id, shmkit_strerror(err));
	size_t max = stream_max(j->k, w);
	unsigned char *buf = malloc(max);
	if (!buf)
		kid_fail("writer %u: malloc", j->id);
	bool held = false;
	kid_ready();
	kid_wait_go(1);
	for (uint64_t seq = 0; seq < j->n; seq++) {
		size_t len = j->k->len(j->seed, j->id, seq, max);
		int how = j->k->how_send(j->c, j->id, seq, j->n);
		if (how != STREAM_SEND) {
			void *p;
			err = shmkit_chan_reserve(w, len, &p, CHAN_WAIT_NS);
			if (!err) {
				msg_fill(p, len, j->id, seq);
				held = how == STREAM_RESERVE;
				if (!held)
					err = shmkit_chan_commit(w);
			}
		} else {
			msg_fill(buf, len, j->id, seq);
			err = shmkit_chan_send(w, buf, len, CHAN_WAIT_NS);
		}
		if (err)
			kid_fail("writer %u: seq %llu len %zu: %s", j->id, (unsigned long long)seq,
				 len, shmkit_strerror(err));
	}
	if (held && (err = shmkit_chan_commit(w)) != 0)
		kid_fail("writer %u: the last commit: %s", j->id, shmkit_strerror(err));
	free(buf);
	err = shmkit_chan_close(w);
	if (err)
		kid_fail("writer %u: close: %s", j->id, shmkit_strerror(err));
	return 0;
}

/* A reader's result, or why it failed (in a static buffer). */
struct stream_read {
	const char *why;
	uint64_t got, bytes, digest;
	uint64_t next[STREAM_WRITERS_MAX];
};

/* NULL if the @got bytes at @p are the next message of the stream for
 * reader @r (which learns of it), else why not. */
static inline const char *stream_check(const struct stream_job *j, struct stream_read *r,
				       const unsigned char *p, size_t got, size_t max)
{
	static char why[512];
	uint32_t id = 0;
	uint64_t seq = r->next[0];
	const char *bad;

	if (got < MSG_HDR) {
		/* too short for a header: only one writer's stream has them */
		if (j->k->writers != 1)
			return "a message shorter than a header among several writers";
		bad = msg_check_is(p, got, 0, seq);
	} else {
		bad = msg_check(p, got, &id, &seq);
	}
	if (!bad && id >= j->k->writers)
		bad = "writer id out of range";
	if (!bad && seq != r->next[id])
		bad = "wrong sequence number (lost, repeated or reordered)";
	size_t want = bad ? 0 : j->k->len(j->seed, id, seq, max);
	if (!bad && got != want)
		bad = "wrong length (lost, repeated or reordered)";
	if (bad) {
		snprintf(why, sizeof(why), "%s stream (%s, seed %llu): reader %u, message %llu "
			 "(writer %u seq %llu, %zu bytes; writer %u expects seq %llu): %s",
			 j->k->name, ut_backend_names[j->c->backend], (unsigned long long)j->seed,
			 j->id, (unsigned long long)r->got, id, (unsigned long long)seq, got,
			 id < STREAM_WRITERS_MAX ? id : 0,
			 (unsigned long long)r->next[id < STREAM_WRITERS_MAX ? id : 0], bad);
		return why;
	}
	r->next[id]++;
	r->got++;
	r->bytes += got;
	/* every message was checked whole: its tag and length stand for it */
	r->digest = mix64(r->digest ^ msg_tag(id, seq) ^ ((uint64_t)got << 40)) + seq;
	return NULL;
}

/* Releases what reader @j holds, if anything; false (r->why set) if that
 * fails. */
static inline bool stream_release(const struct stream_job *j, shmkit_chan *h, unsigned *held,
				  struct stream_read *r)
{
	static char why[256];
	if (!*held)
		return true;
	*held = 0;
	int err = shmkit_chan_release(h);
	if (err) {
		snprintf(why, sizeof(why), "reader %u after %llu messages: release: %s", j->id,
			 (unsigned long long)r->got, shmkit_strerror(err));
		r->why = why;
	}
	return err == 0;
}

/* Reads to the end of the stream; r->why says what went wrong, if anything.
 * @verdict sees every message's check (the test process asserts on it). */
static inline void stream_read_all(const struct stream_job *j, shmkit_chan *h,
				   struct stream_read *r, void (*verdict)(const char *why))
{
	static char why[1536];
	size_t max = stream_max(j->k, h);
	unsigned char *buf = malloc(max);
	unsigned held = 0;

	memset(r, 0, sizeof(*r));
	if (!buf) {
		r->why = "malloc";
		return;
	}
	for (;;) {
		int how = j->k->how_read(j->c, j->id, r->got);
		const unsigned char *p = buf;
		long got;
		if (how != STREAM_RECV) {
			/* peeked messages hold their room until released: release
			 * them before waiting, or a writer that needs that room
			 * and a reader that waits for its next message would wait
			 * for each other */
			const void *q;
			got = shmkit_chan_peek(h, &q, 0);
			if (got == -EAGAIN) {
				if (!stream_release(j, h, &held, r))
					break;
				got = shmkit_chan_peek(h, &q, CHAN_WAIT_NS);
			}
			p = q;
		} else {
			if (!stream_release(j, h, &held, r))
				break;
			got = shmkit_chan_recv(h, buf, max, CHAN_WAIT_NS);
		}
		if (got == 0)
			break;
		if (got < 0) {
			snprintf(why, sizeof(why), "%s stream: reader %u after %llu messages: %s; "
				 "board: %s", j->k->name, j->id, (unsigned long long)r->got,
				 shmkit_strerror((int)got), kids_msg());
			r->why = why;
			break;
		}
		r->why = stream_check(j, r, p, (size_t)got, max);
		verdict(r->why);
		if (r->why)
			break;
		if (how != STREAM_RECV)
			held++;
		if (how == STREAM_PEEK_RELEASE && !stream_release(j, h, &held, r))
			break;
	}
	if (!r->why)
		stream_release(j, h, &held, r);
	free(buf);
}

static inline void stream_child_verdict(const char *why)
{
	if (why)
		kid_fail("%s", why);
}

static inline void stream_parent_verdict(const char *why)
{
	cr_assert(why == NULL, "%s", why);
}

/* A reader child: reads to the end, notes its count and digest. */
static inline int stream_reader(void *arg)
{
	const struct stream_job *j = arg;
	static struct stream_read r;
	shmkit_chan *h;
	unsigned char b[16];
	int err = stream_open_reader(j, &h);
	if (err)
		kid_fail("reader %u: open: %s", j->id, shmkit_strerror(err));
	kid_ready();
	stream_read_all(j, h, &r, stream_child_verdict);
	if (r.why)
		kid_fail("%s", r.why);
	long last = shmkit_chan_recv(h, b, sizeof(b), 0);
	if (last != 0)
		kid_fail("reader %u: after the end: %ld, wanted the end again", j->id, last);
	atomic_store(&bd->got[j->id], r.got);
	atomic_store(&bd->digest[j->id], r.digest);
	return shmkit_chan_close(h) ? 5 : 0;
}

/* Runs one stream of kind @k. */
static inline void stream_run(const struct stream_kind *k, const struct stream_case *c)
{
	static struct stream_job jobs[STREAM_WRITERS_MAX + STREAM_READERS_MAX];
	pid_t pids[STREAM_WRITERS_MAX + STREAM_READERS_MAX];
	uint64_t n = c->n;
	const char *e = c->n_env ? getenv(c->n_env) : NULL;
	if (e && *e)
		n = strtoull(e, NULL, 0);
	if (c->n_div)
		n /= c->n_div;
	cr_assert(k->writers <= STREAM_WRITERS_MAX && k->readers <= STREAM_READERS_MAX);

	const char *name = ut_name(c->backend);
	struct shmkit_chan_opts o = { .capacity = c->cap, .policy = c->policy, .kind = k->kind,
				      .overflow = c->overflow };
	int err = shmkit_chan_create(name, SHMKIT_EXCL, &o);
	cr_assert_eq(err, 0, "create %s: %s", name, shmkit_strerror(err));
	uint64_t seed = test_seed(0);
	uint32_t nk = 0;

	/* the readers first, so that every subscriber sees the whole stream */
	for (uint32_t i = 1; i < k->readers; i++, nk++) {
		jobs[nk] = (struct stream_job){ .k = k, .c = c, .name = name, .n = n,
						.seed = seed, .id = i };
		pids[nk] = kid_spawn(stream_reader, &jobs[nk]);
	}
	struct stream_job j0 = { .k = k, .c = c, .name = name, .n = n, .seed = seed, .id = 0 };
	shmkit_chan *r;
	err = stream_open_reader(&j0, &r);
	cr_assert_eq(err, 0, "reader open: %s", shmkit_strerror(err));
	kids_wait_ready((int)k->readers - 1);
	for (uint32_t i = 0; i < k->writers; i++, nk++) {
		jobs[nk] = (struct stream_job){ .k = k, .c = c, .name = name, .n = n,
						.seed = seed, .id = i };
		pids[nk] = kid_spawn(stream_writer, &jobs[nk]);
	}
	kids_wait_ready((int)(k->readers - 1 + k->writers));
	struct shmkit_chan_info ci, ci2;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	if (k->check_start)
		k->check_start(c, &ci, shmkit_chan_max_msg(r));

	int64_t t0 = now_ns();
	kids_go(1);
	struct stream_read rd;
	stream_read_all(&j0, r, &rd, stream_parent_verdict);
	cr_assert(rd.why == NULL, "%s", rd.why);
	unsigned char b[16];
	long last = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
	cr_assert_eq(last, 0, "after %llu messages: %ld (%s), wanted the end of the stream",
		     (unsigned long long)rd.got, last, shmkit_strerror((int)last));
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 0, "the end stays the end");
	double secs = (double)(now_ns() - t0) / 1e9;
	for (uint32_t i = 0; i < nk; i++)
		kid_expect_exit0(pids[i], k->reap_ns, i < k->readers - 1 ? "reader" : "writer");

	for (uint32_t i = 0; i < k->writers; i++)
		cr_expect_eq(rd.next[i], n, "writer %u: %llu of %llu", i,
			     (unsigned long long)rd.next[i], (unsigned long long)n);
	for (uint32_t i = 1; i < k->readers; i++) {
		cr_expect_eq(atomic_load(&bd->got[i]), n * k->writers, "reader %u got %llu of %llu",
			     i, (unsigned long long)atomic_load(&bd->got[i]),
			     (unsigned long long)(n * k->writers));
		cr_expect_eq(atomic_load(&bd->digest[i]), rd.digest, "reader %u: another stream", i);
	}
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(shmkit_chan_close(r), 0);
	cr_assert_eq(shmkit_chan_stat(name, &ci2), 0);
	k->check_end(c, n, &ci, &ci2);
	printf("%s stream (%s, policy %u, capacity %zu%s): %u writer%s x %llu messages to %u "
	       "reader%s, %.1f MB, %.2f s, %.2f M msg/s (seed %llu)\n", k->name,
	       ut_backend_names[c->backend], c->policy, c->cap, c->zero_copy ? ", zero copy" : "",
	       k->writers, k->writers > 1 ? "s" : "", (unsigned long long)n, k->readers,
	       k->readers > 1 ? "s" : "", (double)rd.bytes / 1e6, secs,
	       (double)rd.got / secs / 1e6, (unsigned long long)seed);
	fflush(stdout);
}

#endif

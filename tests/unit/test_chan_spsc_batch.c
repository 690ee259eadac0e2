/* SPDX-License-Identifier: MIT */
/*
 * Description: the single-producer single-consumer channel's zero-copy
 * batches: reservations invisible until their commit, a writer that dies
 * between reserve and commit (exactly what was committed arrives, never
 * the abandoned records), batches of reserve/commit and peek/release and
 * the statistics they leave.
 */
#include "chan_spsc.h"

TestSuite(chan_spsc_batch, .init = chan_setup, .fini = kids_teardown, .timeout = 60);

/* ---- per-record commit ---- */

/* A batch is invisible until its commit, whatever it holds (padding
 * included), and then arrives whole and in order. */
Test(chan_spsc_batch, batch_invisible_until_commit)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 256, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER), *r = xopen(name, SHMKIT_CHAN_READER);
	struct shmkit_chan_shm *cb = cb_of(w);
	unsigned char b[256];
	const void *q;
	uint64_t seq = 0, got = 0;

	for (int round = 0; round < 200; round++) {
		int k = 1 + round % 5;
		uint64_t tail0 = atomic_load(&cb->tail);
		for (int i = 0; i < k; i++) {
			size_t len = 1 + (size_t)((round * 7 + i * 13) % 40);
			void *p;
			cr_assert_eq(shmkit_chan_reserve(w, len, &p, 0), 0, "round %d rec %d", round, i);
			msg_fill(p, len, 0, seq++);
			cr_assert_eq(shmkit_chan_peek(r, &q, 0), -EAGAIN,
				     "round %d: %d reserved, none committed", round, i + 1);
			cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN);
		}
		cr_assert_eq(atomic_load(&cb->tail), tail0, "round %d: tail before commit", round);
		cr_assert_eq(shmkit_chan_commit(w), 0);
		for (int i = 0; i < k; i++, got++) {
			size_t len = 1 + (size_t)((round * 7 + i * 13) % 40);
			long n = shmkit_chan_peek(r, &q, 0);
			cr_assert_eq(n, (long)len, "round %d rec %d: %ld", round, i, n);
			cr_assert(msg_is(q, len, 0, got), "round %d rec %d damaged", round, i);
		}
		cr_assert_eq(shmkit_chan_peek(r, &q, 0), -EAGAIN);
		cr_assert_eq(shmkit_chan_release(r), 0);
	}
	cr_expect_eq(xstat(name).sent, got);
	cr_expect_eq(shmkit_chan_close(w), 0);
	cr_expect_eq(shmkit_chan_close(r), 0);
}

/* Commits a->n numbered messages (from a->variant), then reserves a batch
 * of 4 (written, one over the ring's end when it comes to that) and dies
 * without committing it. */
static int writer_abandons(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *w = writer_sends(a, (uint64_t)a->variant);
	int err;

	for (int i = 0; i < 4; i++) {
		void *p;
		size_t len = 8 + (size_t)i * 8;
		if ((err = shmkit_chan_reserve(w, len, &p, 0)) != 0)
			kid_fail("reserve %d: %s", i, shmkit_strerror(err));
		msg_fill(p, len, 0, 0xdead0000u + (uint64_t)i);
	}
	_exit(0);  /* no commit, no close */
}

/* A writer killed between reserve and commit: the reader gets exactly what
 * was committed, then the next writer's messages, never the abandoned
 * ones; and the same when the dead writer had stored a commit's header but
 * not its tail (tail put back by hand). */
Test(chan_spsc_batch, writer_dies_before_commit)
{
	static const size_t caps[] = { 256, 4096 };
	for (size_t ci = 0; ci < sizeof(caps) / sizeof(caps[0]); ci++) {
		for (int stale = 0; stale < 2; stale++) {
			const char *name = new_chan(SHMKIT_BACKEND_POSIX, caps[ci], 0);
			shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
			struct shmkit_chan_shm *cb = cb_of(r);
			unsigned char b[64];
			uint64_t next = 0;
			int written = 0;

			/* several rounds, each a writer that commits 3 (of 20) and
			 * abandons a batch; positions move by 96 and more a round,
			 * so some abandoned batches lie over the ring's end (a
			 * reservation that has to wait commits the earlier ones:
			 * the batch must fit, so the small ring is read out) */
			for (int round = 0; round < 12; round++) {
				struct peer_arg a = { .name = name, .n = 3, .len = 20,
						      .variant = written };
				pid_t pid = kid_spawn(writer_abandons, &a);
				kid_expect_exit0(pid, KID_WAIT_NS, "writer");
				written += 3;
				if (stale) {
					/* as if it died after the last header, before tail */
					uint64_t t = atomic_load(&cb->tail) & ~(uint64_t)1;
					atomic_store(&cb->tail, t - rec_size(20));
				}
				/* in the big ring, leave every other round's unread */
				uint64_t lag = caps[ci] > 256 && round % 2 == 0 ? 3 : 0;
				while (next < (uint64_t)written - lag) {
					long n = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
					cr_assert_eq(n, 20, "cap %zu stale %d round %d msg %llu: %ld (%s)",
						     caps[ci], stale, round, (unsigned long long)next, n,
						     shmkit_strerror((int)n));
					cr_assert(msg_is(b, 20, 0, next), "cap %zu round %d: seq %llu, want %llu",
						  caps[ci], round, (unsigned long long)msg_seq_of(b, 20),
						  (unsigned long long)next);
					next++;
				}
			}
			while (next < (uint64_t)written) {
				long n = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
				cr_assert_eq(n, 20, "msg %llu: %ld", (unsigned long long)next, n);
				cr_assert(msg_is(b, 20, 0, next));
				next++;
			}
			long n = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
			cr_assert_eq(n, -EPIPE, "cap %zu stale %d: after the last: %ld (%s)", caps[ci],
				     stale, n, shmkit_strerror((int)n));
			struct shmkit_chan_info st = xstat(name);
			cr_expect_eq(st.received, (uint64_t)written);
			cr_expect_eq(shmkit_chan_close(r), 0);
		}
	}
}

/* ---- batches and statistics ---- */

Test(chan_spsc_batch, batch_and_stat)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);
	struct shmkit_chan_info ci = xstat(name);
	cr_expect_eq(ci.kind, 1);
	cr_expect_eq(ci.capacity, 4096);
	cr_expect_eq(ci.max_msg, 1024);
	cr_expect_eq(ci.writer_pid, 0, "never had a writer");
	cr_expect_eq(ci.reader_pid, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER), *r = xopen(name, SHMKIT_CHAN_READER);
	int alive = -5;
	cr_expect_eq(shmkit_chan_peer_pid(w, &alive), getpid());
	cr_expect_eq(alive, 1);
	ci = xstat(name);
	cr_expect_eq(ci.writer_pid, getpid());
	cr_expect_eq(ci.reader_pid, getpid());
	cr_expect_eq(ci.writer_alive, 1);
	cr_expect_eq(ci.reader_alive, 1);
	cr_expect(ci.sent == 0 && ci.received == 0 && ci.used == 0 && ci.in_flight == 0 &&
		  ci.closed == 0);

	/* ten reservations, one commit */
	uint64_t bytes = 0;
	for (uint64_t i = 0; i < 10; i++) {
		void *p;
		size_t len = 10 + i;
		cr_assert_eq(shmkit_chan_reserve(w, len, &p, 0), 0);
		msg_fill(p, len, 0, i);
		bytes += rec_size(len);
	}
	unsigned char b[2048];
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN, "not committed yet");
	ci = xstat(name);
	cr_expect(ci.sent == 0 && ci.used == 0, "before commit: sent %llu used %llu",
		  (unsigned long long)ci.sent, (unsigned long long)ci.used);
	cr_assert_eq(shmkit_chan_commit(w), 0);
	cr_assert_eq(shmkit_chan_commit(w), 0, "nothing to commit");
	ci = xstat(name);
	cr_expect_eq(ci.sent, 10);
	cr_expect_eq(ci.used, bytes);
	cr_expect_eq(ci.in_flight, 10);
	cr_expect_eq(ci.received, 0);

	/* four peeks, one release; then six */
	const void *q;
	uint64_t freed = 0;
	for (uint64_t i = 0; i < 4; i++) {
		cr_assert_eq(shmkit_chan_peek(r, &q, 0), (long)(10 + i));
		cr_assert(msg_is(q, 10 + i, 0, i));
		freed += rec_size(10 + i);
	}
	ci = xstat(name);
	cr_expect(ci.received == 0 && ci.used == bytes, "peeks release nothing");
	cr_assert_eq(shmkit_chan_release(r), 0);
	ci = xstat(name);
	cr_expect_eq(ci.received, 4);
	cr_expect_eq(ci.in_flight, 6);
	cr_expect_eq(ci.used, bytes - freed);
	for (uint64_t i = 4; i < 10; i++) {
		cr_assert_eq(shmkit_chan_peek(r, &q, 0), (long)(10 + i));
		cr_assert(msg_is(q, 10 + i, 0, i));
	}
	cr_assert_eq(shmkit_chan_peek(r, &q, 0), -EAGAIN);
	cr_assert_eq(shmkit_chan_release(r), 0);
	cr_assert_eq(shmkit_chan_release(r), 0, "nothing to release");
	ci = xstat(name);
	cr_expect(ci.sent == 10 && ci.received == 10 && ci.in_flight == 0 && ci.used == 0);

	/* the writer waits for room only behind peeked, unreleased messages */
	uint64_t n = 0;
	while (shmkit_chan_send(w, b, 1000, 0) == 0)
		n++;
	cr_assert_geq(n, 3);
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(shmkit_chan_peek(r, &q, 0), 1000);
	cr_expect_eq(shmkit_chan_send(w, b, 1000, 0), -EAGAIN, "peeked is not released");
	cr_assert_eq(shmkit_chan_release(r), 0);
	cr_expect_eq(shmkit_chan_send(w, b, 1000, 0), 0);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 1000);

	/* reservations that fill the ring: the reserve that finds no room
	 * publishes the earlier ones itself (timeout 0 or not) */
	uint64_t sent0 = xstat(name).sent;
	void *p;
	n = 0;
	int err;
	while ((err = shmkit_chan_reserve(w, 100, &p, 0)) == 0) {
		msg_fill(p, 100, 0, n);
		n++;
	}
	cr_assert_eq(err, -EAGAIN);
	ci = xstat(name);
	cr_expect_eq(ci.sent, sent0 + n, "the full reserve committed the %llu before it",
		     (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++) {
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 100);
		cr_assert(msg_is(b, 100, 0, i));
	}
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN);

	/* close commits pending reservations and ends the stream */
	cr_assert_eq(shmkit_chan_reserve(w, 5, &p, 0), 0);
	msg_fill(p, 5, 0, 77);
	cr_assert_eq(shmkit_chan_close(w), 0);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 5);
	cr_assert(msg_is(b, 5, 0, 77));
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 0);
	ci = xstat(name);
	cr_expect_eq(ci.closed, 1);
	cr_expect_eq(ci.sent, ci.received);
	cr_expect_eq(ci.writer_alive, 0);
	/* a new writer opens a new stream */
	w = xopen(name, SHMKIT_CHAN_WRITER);
	cr_expect_eq(xstat(name).closed, 0);
	msg_fill(b, 9, 0, 1);
	cr_assert_eq(shmkit_chan_send(w, b, 9, 0), 0);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 9);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN);
	cr_expect_eq(shmkit_chan_close(w), 0);
	cr_expect_eq(shmkit_chan_close(r), 0);
}

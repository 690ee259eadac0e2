/* SPDX-License-Identifier: MIT */
/*
 * Description: the single-producer single-consumer channel's ring at its
 * edges: a message at every reachable starting offset of a 64- and a
 * 256-byte ring, every size, through send/recv and reserve/commit +
 * peek/release, with the padding checked byte for byte; wrapping with a
 * backlog; full and empty rings, the exact amount that fits, the smallest
 * ring with its largest message.
 */
#include "chan_spsc.h"

TestSuite(chan_spsc_edges, .init = chan_setup, .fini = kids_teardown, .timeout = 60);

/* ---- wrapping ---- */

/* One message of @len through the (empty) ring, to move its positions. */
static void step(shmkit_chan *w, shmkit_chan *r, size_t len)
{
	unsigned char b[4096];
	cr_assert_leq(len, sizeof(b));
	msg_fill(b, len, 0, 7);
	cr_assert_eq(shmkit_chan_send(w, b, len, 0), 0, "filler of %zu", len);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), (long)len);
}

/* Moves the positions of an empty ring forward by exactly @d bytes of
 * records (d >= 16, a multiple of 8, not crossing the ring's end). */
static void fill_span(shmkit_chan *w, shmkit_chan *r, size_t max, uint64_t d)
{
	while (d) {
		uint64_t rec = d < SHMKIT_REC_HDR + max ? d : SHMKIT_REC_HDR + max;
		if (d - rec == 8)
			rec -= 8;
		step(w, r, rec - SHMKIT_REC_HDR);
		d -= rec;
	}
}

/*
 * Brings an empty ring to tail % cap == @s.  The smallest record is 16
 * bytes and padding always ends at the ring's end, so offset 8 is never a
 * record's start; every other multiple of 8 is reached.
 */
static void advance_to(shmkit_chan *w, shmkit_chan *r, uint64_t cap, uint64_t s)
{
	struct shmkit_chan_shm *cb = cb_of(w);
	size_t max = shmkit_chan_max_msg(w);

	for (int i = 0; i < 8; i++) {
		uint64_t o = atomic_load(&cb->tail) & (cap - 1);
		if (o == s)
			return;
		if (s > o && s - o >= 16)
			fill_span(w, r, max, s - o);
		else if (cap - o >= 16)
			fill_span(w, r, max, cap - o);  /* to the end: offset 0 */
		else
			step(w, r, 1);  /* 8 bytes left: a padding of 8, then 16 at 0 */
	}
	cr_assert_fail("could not bring the ring to offset %llu", (unsigned long long)s);
}

/* Every reachable start offset, every size, four ways (send or reserve x
 * recv or peek): the message arrives whole, and when it does not fit before
 * the ring's end a padding record fills the rest exactly. */
static void wrap_all(size_t cap)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, cap, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER), *r = xopen(name, SHMKIT_CHAN_READER);
	struct shmkit_chan_shm *cb = cb_of(w);
	unsigned char *ring = ring_of(w);
	size_t max = shmkit_chan_max_msg(w);
	unsigned char out[4096], in[4096];
	unsigned cases = 0, padded = 0;

	cr_assert_eq(max, cap / 4);
	for (int mode = 0; mode < 4; mode++) {
		for (uint64_t s = 0; s < cap; s += 8) {
			if (s == 8)
				continue;  /* unreachable, see advance_to */
			for (size_t len = 1; len <= max; len++) {
				advance_to(w, r, cap, s);
				uint64_t t0 = atomic_load(&cb->tail);
				cr_assert_eq(atomic_load(&cb->head), t0, "the ring is empty");
				uint64_t need = rec_size(len);
				uint64_t pad = cap - s < need ? cap - s : 0;
				uint64_t at = (s + pad) & (cap - 1);
				uint64_t seq = (s << 20) | len;  /* writer id: the mode */
				msg_fill(out, len, (uint32_t)mode, seq);
				if (mode & 1) {
					void *p = NULL;
					cr_assert_eq(shmkit_chan_reserve(w, len, &p, 0), 0,
						     "cap %zu off %llu len %zu", cap,
						     (unsigned long long)s, len);
					cr_assert_eq(p, ring + at + SHMKIT_REC_HDR,
						     "cap %zu off %llu len %zu: payload pointer",
						     cap, (unsigned long long)s, len);
					memcpy(p, out, len);
					cr_assert_eq(atomic_load(&cb->tail), t0, "not yet published");
					cr_assert_eq(shmkit_chan_commit(w), 0);
				} else {
					cr_assert_eq(shmkit_chan_send(w, out, len, 0), 0,
						     "cap %zu off %llu len %zu", cap,
						     (unsigned long long)s, len);
				}
				cr_assert_eq(atomic_load(&cb->tail), t0 + pad + need,
					     "cap %zu off %llu len %zu: tail", cap,
					     (unsigned long long)s, len);
				struct shmkit_chan_rec rec;
				if (pad) {
					memcpy(&rec, ring + s, sizeof(rec));
					cr_assert(rec.kind == SHMKIT_REC_PAD &&
						  rec.len == pad - SHMKIT_REC_HDR,
						  "cap %zu off %llu len %zu: padding {%u, %u}", cap,
						  (unsigned long long)s, len, rec.len, rec.kind);
					padded++;
				}
				memcpy(&rec, ring + at, sizeof(rec));
				cr_assert(rec.kind == SHMKIT_REC_DATA && rec.len == len,
					  "cap %zu off %llu len %zu: record {%u, %u}", cap,
					  (unsigned long long)s, len, rec.len, rec.kind);
				long n;
				if (mode & 2) {
					const void *q = NULL;
					n = shmkit_chan_peek(r, &q, 0);
					cr_assert_eq(n, (long)len, "cap %zu off %llu len %zu: peek %ld",
						     cap, (unsigned long long)s, len, n);
					cr_assert_eq(q, ring_of(r) + at + SHMKIT_REC_HDR);
					cr_assert_eq(memcmp(q, out, len), 0, "cap %zu off %llu len %zu",
						     cap, (unsigned long long)s, len);
					cr_assert_eq(atomic_load(&cb->head), t0, "not yet released");
					cr_assert_eq(shmkit_chan_release(r), 0);
				} else {
					memset(in, 0, len);
					n = shmkit_chan_recv(r, in, sizeof(in), 0);
					cr_assert_eq(n, (long)len, "cap %zu off %llu len %zu: recv %ld",
						     cap, (unsigned long long)s, len, n);
					cr_assert_eq(memcmp(in, out, len), 0, "cap %zu off %llu len %zu",
						     cap, (unsigned long long)s, len);
				}
				cr_assert_eq(atomic_load(&cb->head), t0 + pad + need);
				cr_assert_eq(shmkit_chan_recv(r, in, sizeof(in), 0), -EAGAIN);
				cases++;
			}
		}
	}
	printf("chan wrap: capacity %zu: %u cases, %u with padding\n", cap, cases, padded);
	fflush(stdout);
	cr_expect_eq(shmkit_chan_close(w), 0);
	cr_expect_eq(shmkit_chan_close(r), 0);
}

Test(chan_spsc_edges, wrap_every_offset_64) { wrap_all(64); }
Test(chan_spsc_edges, wrap_every_offset_256) { wrap_all(256); }

/* A ring that is not empty when a message wraps: the reader lags by up to
 * @lag records while sizes vary, so padding is written while older records
 * still occupy the front of the ring. */
Test(chan_spsc_edges, wrap_with_backlog)
{
	static const size_t caps[] = { 64, 256, 1024 };
	for (size_t ci = 0; ci < sizeof(caps) / sizeof(caps[0]); ci++) {
		size_t cap = caps[ci];
		const char *name = new_chan(SHMKIT_BACKEND_POSIX, cap, 0);
		shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
		shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
		size_t max = shmkit_chan_max_msg(w);
		unsigned char b[4096];
		uint64_t sent = 0, got = 0, rng = 12345 + cap;
		while (got < 20000) {
			/* send until full, then read a random number */
			for (;;) {
				size_t len = 1 + mix64(rng++) % max;
				msg_fill(b, len, 0, sent);
				int err = shmkit_chan_send(w, b, len, 0);
				if (err == -EAGAIN)
					break;
				cr_assert_eq(err, 0, "cap %zu msg %llu: %s", cap,
					     (unsigned long long)sent, shmkit_strerror(err));
				sent++;
			}
			uint64_t k = 1 + mix64(rng++) % (sent - got);
			for (uint64_t i = 0; i < k; i++, got++) {
				long n = shmkit_chan_recv(r, b, sizeof(b), 0);
				cr_assert_gt(n, 0, "cap %zu msg %llu: %ld", cap,
					     (unsigned long long)got, n);
				cr_assert(msg_is(b, (size_t)n, 0, got),
					  "cap %zu msg %llu damaged", cap, (unsigned long long)got);
			}
		}
		cr_expect_eq(shmkit_chan_close(w), 0);
		cr_expect_eq(shmkit_chan_close(r), 0);
	}
}

/* ---- full, empty, capacities, sizes ---- */

Test(chan_spsc_edges, full_and_empty_edges)
{
	static const size_t caps[] = { 64, 256, 4096 };
	for (size_t ci = 0; ci < sizeof(caps) / sizeof(caps[0]); ci++) {
		size_t cap = caps[ci], max = cap / 4;
		size_t lens[] = { 1, 8, 9, max / 2 + 1, max };
		for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
			size_t len = lens[li];
			const char *name = new_chan(SHMKIT_BACKEND_POSIX, cap, 0);
			shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
			shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
			unsigned char b[4096];
			const void *q;
			void *p;

			/* empty */
			cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN);
			cr_assert_eq(shmkit_chan_peek(r, &q, 0), -EAGAIN);
			/* fill: exactly floor((cap - 8) / record) fit: the 8 bytes
			 * after the last record are the frontier's zero word */
			uint64_t need = rec_size(len), fit = (cap - 8) / need, n = 0;
			for (;;) {
				msg_fill(b, len, 0, n);
				int err = shmkit_chan_send(w, b, len, 0);
				if (err == -EAGAIN)
					break;
				cr_assert_eq(err, 0, "cap %zu len %zu msg %llu: %s", cap, len,
					     (unsigned long long)n, shmkit_strerror(err));
				n++;
				cr_assert_leq(n, fit, "cap %zu len %zu: more than fit", cap, len);
			}
			cr_assert_eq(n, fit, "cap %zu len %zu: %llu fit, expected %llu", cap, len,
				     (unsigned long long)n, (unsigned long long)fit);
			struct shmkit_chan_info st = xstat(name);
			cr_assert_eq(st.used, fit * need, "cap %zu len %zu: used %llu", cap, len,
				     (unsigned long long)st.used);
			cr_assert_eq(st.in_flight, fit);
			cr_assert_eq(shmkit_chan_send(w, b, len, 0), -EAGAIN, "still full");
			cr_assert_eq(shmkit_chan_reserve(w, len, &p, 0), -EAGAIN);
			/* one more fits once one is out if it fits before the ring's
			 * end; otherwise its padding (the rest of the ring) needs a
			 * second one out: rest + need + 8 > need */
			uint64_t rest = cap - fit * need, outs = rest >= need ? 1 : 2;
			for (uint64_t i = 0; i < outs; i++) {
				cr_assert_eq(shmkit_chan_send(w, b, len, 0), -EAGAIN,
					     "cap %zu len %zu: %llu out", cap, len,
					     (unsigned long long)i);
				cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), (long)len);
				cr_assert(msg_is(b, len, 0, i));
			}
			msg_fill(b, len, 0, 1000);
			cr_assert_eq(shmkit_chan_send(w, b, len, 0), 0, "cap %zu len %zu: refill",
				     cap, len);
			cr_assert_eq(shmkit_chan_send(w, b, len, 0), -EAGAIN, "cap %zu len %zu: full",
				     cap, len);
			cr_assert_leq(xstat(name).used, cap - 8, "cap %zu len %zu: used", cap, len);
			/* drain, in order */
			for (uint64_t i = outs; i <= fit; i++) {
				uint64_t want = i < fit ? i : 1000;
				cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), (long)len);
				cr_assert(msg_is(b, len, 0, want), "cap %zu len %zu: message %llu", cap,
					  len, (unsigned long long)want);
			}
			cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN, "empty again");
			cr_assert_eq(shmkit_chan_peek(r, &q, 0), -EAGAIN, "empty again");
			st = xstat(name);
			cr_assert_eq(st.used, 0);
			cr_assert_eq(st.in_flight, 0);
			cr_expect_eq(shmkit_chan_close(w), 0);
			cr_expect_eq(shmkit_chan_close(r), 0);
		}
	}
}

/* Full: capacity - 8 bytes of records (the frontier's zero word takes the
 * rest), in order; and the ring full at its end, where the next record
 * needs padding. */
Test(chan_spsc_edges, exactly_full)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 64, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER), *r = xopen(name, SHMKIT_CHAN_READER);
	unsigned char b[64];

	/* records of 16 from offset 0: three fit (48 + 8), a fourth would
	 * leave no room for the zero word */
	for (uint64_t round = 0; round < 50; round++) {
		for (uint64_t i = 0; i < 3; i++) {
			msg_fill(b, 8, 0, round * 3 + i);
			cr_assert_eq(shmkit_chan_send(w, b, 8, 0), 0, "round %llu msg %llu",
				     (unsigned long long)round, (unsigned long long)i);
		}
		cr_assert_eq(shmkit_chan_send(w, b, 1, 0), -EAGAIN);
		cr_assert_eq(xstat(name).used, 48);
		for (uint64_t i = 0; i < 3; i++) {
			cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 8);
			cr_assert(msg_is(b, 8, 0, round * 3 + i), "round %llu msg %llu",
				  (unsigned long long)round, (unsigned long long)i);
		}
	}
	/* bring the positions back to offset 0: 50 rounds of 48 = 2400 = 37.5
	 * rings, so offset 32; two records of 16 reach the end */
	for (uint64_t i = 0; i < 2; i++) {
		msg_fill(b, 8, 0, i);
		cr_assert_eq(shmkit_chan_send(w, b, 8, 0), 0);
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 8);
	}
	/* capacity 64, max 16: records of 24; two fit (48 + 8), the third
	 * needs a padding of 16, 24 and the zero word: 48, which is there once
	 * both are released, not before */
	for (uint64_t i = 0; i < 2; i++) {
		msg_fill(b, 16, 0, i);
		cr_assert_eq(shmkit_chan_send(w, b, 16, 0), 0);
	}
	msg_fill(b, 16, 0, 2);
	cr_assert_eq(shmkit_chan_send(w, b, 16, 0), -EAGAIN);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 16);
	cr_assert(msg_is(b, 16, 0, 0));
	msg_fill(b, 16, 0, 2);
	cr_assert_eq(shmkit_chan_send(w, b, 16, 0), -EAGAIN, "24 freed: not enough");
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 16);
	cr_assert(msg_is(b, 16, 0, 1));
	msg_fill(b, 16, 0, 2);
	cr_assert_eq(shmkit_chan_send(w, b, 16, 0), 0, "padding 16 + record 24 + 8 in 48 freed");
	cr_assert_eq(xstat(name).used, 40);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 16);
	cr_assert(msg_is(b, 16, 0, 2));
	cr_assert(msg_is(b, 16, 0, 2));
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN);
	cr_expect_eq(shmkit_chan_close(w), 0);
	cr_expect_eq(shmkit_chan_close(r), 0);
}

/* The smallest ring with its largest message, many times round. */
Test(chan_spsc_edges, smallest_capacity_largest_message)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 64, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER), *r = xopen(name, SHMKIT_CHAN_READER);
	unsigned char b[64];

	cr_assert_eq(shmkit_chan_max_msg(w), 16);
	cr_assert_eq(shmkit_chan_max_msg(r), 16);
	cr_assert_eq(shmkit_chan_send(w, b, 17, 0), -EMSGSIZE);
	uint64_t s = 0, g = 0;
	while (g < 5000) {
		while (s < g + 2) {
			msg_fill(b, 16, 0, s);
			int err = shmkit_chan_send(w, b, 16, 0);
			if (err == -EAGAIN)
				break;
			cr_assert_eq(err, 0);
			s++;
		}
		cr_assert_eq(shmkit_chan_recv(r, b, 16, 0), 16);
		cr_assert(msg_is(b, 16, 0, g), "message %llu", (unsigned long long)g);
		g++;
	}
	cr_expect_eq(shmkit_chan_close(w), 0);
	cr_expect_eq(shmkit_chan_close(r), 0);
}

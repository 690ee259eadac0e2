/* SPDX-License-Identifier: MIT */
/*
 * Description: streams through the single-producer single-consumer channel:
 * millions of messages of random sizes (1 .. max, biased to small ones)
 * from a writer process to the test process under each wait policy, one
 * in four of them reserved in place and peeked (the stream body of
 * chan_stream.h, bound here to the SPSC channel); every message's length,
 * writer, sequence number, checksum and every byte checked (msg.h: those of
 * 16 bytes or more carry a header, shorter ones are all pattern), so a
 * lost, repeated, reordered or damaged message fails; then end of stream
 * and the statistics.  The basic stream also runs on posix, sysv and file
 * names (memfd and anon regions have no name, and a channel is opened by
 * name: not tested).
 */
#include "chan_spsc.h"
#include "chan_stream.h"

/*
 * Stream sizes.  On the 2-core machine this was written on, each policy
 * moves 10 M messages (about 2.2 GB) in 6-8 s (the stream tests print
 * their rate), about 21 s for the three: all three run the full 10 M.
 * SHMKIT_TEST_CHAN_N=N overrides the three (for a quick or a longer run).
 */
#define STREAM_N_POLICY 10000000ull
#define STREAM_N_BACKEND 200000ull

TestSuite(chan_spsc_stream, .init = chan_setup, .fini = kids_teardown, .timeout = 60);

/* 1..max, biased to small: 60% 1-16, 30% 17-128, 9% 129-2048, 1% above
 * (a tenth of those exactly max). */
static size_t spsc_len(uint64_t seed, uint32_t id, uint64_t seq, size_t max)
{
	(void)id;
	uint64_t h = mix64(seed ^ (seq * 0x9e3779b97f4a7c15ULL));
	unsigned r = (unsigned)(h % 1000);
	uint64_t x = h >> 20;
	size_t n;

	if (r < 600)
		n = 1 + x % 16;
	else if (r < 900)
		n = 17 + x % 112;
	else if (r < 990)
		n = 129 + x % 1920;
	else if (r < 999)
		n = 2049 + x % (max - 2048);
	else
		n = max;
	return n > max ? max : n;
}

/* One in four reserved in place, the reservations committed four at a time. */
static int spsc_how_send(const struct stream_case *c, uint32_t id, uint64_t seq, uint64_t n)
{
	(void)c;
	(void)id;
	unsigned k = (unsigned)(seq % 16);
	if (k < 12)
		return STREAM_SEND;
	return k == 15 || seq + 1 == n ? STREAM_RESERVE_COMMIT : STREAM_RESERVE;
}

/* One in four peeked, released four at a time. */
static int spsc_how_read(const struct stream_case *c, uint32_t rid, uint64_t got)
{
	(void)c;
	(void)rid;
	unsigned k = (unsigned)(got % 16);
	return k < 12 ? STREAM_RECV : k == 15 ? STREAM_PEEK_RELEASE : STREAM_PEEK;
}

static void spsc_check_start(const struct stream_case *c, const struct shmkit_chan_info *ci,
			     size_t max)
{
	(void)ci;
	cr_assert_eq(max, c->cap / 4);
}

static void spsc_check_end(const struct stream_case *c, uint64_t n,
			   const struct shmkit_chan_info *ci, const struct shmkit_chan_info *closed)
{
	(void)closed;
	cr_expect_eq(ci->sent, n);
	cr_expect_eq(ci->received, n);
	cr_expect_eq(ci->in_flight, 0);
	cr_expect_eq(ci->used, 0);
	cr_expect_eq(ci->closed, 1);
	cr_expect_eq(ci->capacity, c->cap);
	cr_expect_eq(ci->reader_pid, getpid());
	cr_expect_eq(ci->reader_alive, 1);
}

static const struct stream_kind spsc_stream = {
	.name = "spsc", .kind = SHMKIT_CHAN_SPSC, .writers = 1, .readers = 1,
	.reap_ns = KID_WAIT_NS, .len = spsc_len, .how_send = spsc_how_send,
	.how_read = spsc_how_read, .check_start = spsc_check_start, .check_end = spsc_check_end,
};

static void spsc_run(int backend, unsigned policy, uint64_t n, size_t cap)
{
	stream_run(&spsc_stream, &(struct stream_case){
		.backend = backend, .cap = cap, .policy = policy, .zero_copy = true, .n = n,
		.n_env = policy ? "SHMKIT_TEST_CHAN_N" : NULL });
}

Test(chan_spsc_stream, stream_10M_spin_sleep, .timeout = 120)
{
	spsc_run(SHMKIT_BACKEND_POSIX, SHMKIT_WAIT_SPIN_SLEEP, STREAM_N_POLICY, 1u << 16);
}

Test(chan_spsc_stream, stream_spin, .timeout = 120)
{
	spsc_run(SHMKIT_BACKEND_POSIX, SHMKIT_WAIT_SPIN, STREAM_N_POLICY, 1u << 16);
}

Test(chan_spsc_stream, stream_sleep, .timeout = 120)
{
	spsc_run(SHMKIT_BACKEND_POSIX, SHMKIT_WAIT_SLEEP, STREAM_N_POLICY, 1u << 16);
}

Test(chan_spsc_stream, stream_posix) { spsc_run(SHMKIT_BACKEND_POSIX, 0, STREAM_N_BACKEND, 1u << 20); }
Test(chan_spsc_stream, stream_sysv) { spsc_run(SHMKIT_BACKEND_SYSV, 0, STREAM_N_BACKEND, 1u << 20); }
Test(chan_spsc_stream, stream_file) { spsc_run(SHMKIT_BACKEND_FILE, 0, STREAM_N_BACKEND, 1u << 12); }

/* SPDX-License-Identifier: MIT */
/*
 * Description: the many-writer, one-reader channel (SHMKIT_CHAN_MPSC), issue #6.
 *
 *  - stream: 8 writer processes x 1,000,000 messages of random sizes, each
 *    carrying its writer id, sequence number and an FNV-1a checksum of the
 *    rest; the reader (the test process) checks every message's length and
 *    checksum and that each writer's messages come in order, none missing,
 *    none twice, then end of stream (recv 0 once every writer closed) and
 *    the statistics; prints the rate.  SHMKIT_TEST_MPSC_N=N changes the
 *    per-writer count;
 *  - the ring's edges: a message at every starting offset of a 64- and a
 *    256-byte ring, every size, by send/recv and by reserve/commit +
 *    peek/release, two writers taking turns; full and empty rings;
 *  - timeouts, -EAGAIN, -EMSGSIZE, zero copy (reserve's pointer is peek's),
 *    one reservation at a time, the 65th writer (-EUSERS), kinds
 *    (-EPROTOTYPE), end of stream 0 and -EPIPE;
 *  - a writer killed between reserve and commit (exit, and kill -9 while
 *    it holds the reservation; posix and sysv): the reader skips the
 *    record, lost = 1, and later messages come;
 *  - corruption of positions, headers and the writer table: -EBADMSG,
 *    never a crash or a hang.
 *
 * Children: kids.h; messages: msg.h; the stream: chan_stream.h.  Every
 * wait is bounded: channel calls time out, children run under
 * alarm() and PR_SET_PDEATHSIG, and .fini kills and reaps them.
 */
#include "chan_stream.h"
#include "chan/layout_mpsc.h"

#define STREAM_WRITERS 8
#define STREAM_N_DEFAULT 1000000ull
#define MPSC_REAP_NS (6 * KID_WAIT_NS)  /* the wait for a writer of many to end */

TestSuite(mpsc, .init = chan_setup, .fini = kids_teardown, .timeout = 120);

static void mpsc_expect_exit0(pid_t pid)
{
	kid_expect_exit0(pid, MPSC_REAP_NS, NULL);
}

static const char *new_mpsc(int backend, size_t cap, unsigned policy)
{
	const char *name = ut_name(backend);
	struct shmkit_chan_opts o = { .capacity = cap, .policy = policy, .kind = SHMKIT_CHAN_MPSC };
	int err = shmkit_chan_create(name, SHMKIT_EXCL, &o);
	cr_assert_eq(err, 0, "create %s: %s", name, shmkit_strerror(err));
	return name;
}

static shmkit_chan *xopen(const char *name, int role)
{
	shmkit_chan *c = NULL;
	int err = shmkit_chan_open(name, 0, role, NULL, &c);
	cr_assert_eq(err, 0, "open %s: %s", name, shmkit_strerror(err));
	return c;
}

static struct shmkit_mpsc_shm *cb_of(shmkit_chan *c)
{
	return shmkit_region_base(shmkit_chan_region(c));
}

/* ---- the stream: 8 writers x 1M (chan_stream.h) ---- */

/* The length of message (id, seq): 16..~270 mostly, now and then up to @max. */
static size_t mpsc_len(uint64_t seed, uint32_t id, uint64_t seq, size_t max)
{
	(void)seed;
	uint64_t r = mix64(seq * 64 + id + 1);
	size_t n = (r & 255) == 0 ? 16 + (r >> 8) % (max - 15) : 16 + (r >> 8) % 256;
	return n > max ? max : n;
}

/* Odd writers reserve every other message in place. */
static int mpsc_how_send(const struct stream_case *c, uint32_t id, uint64_t seq, uint64_t n)
{
	(void)c;
	(void)n;
	return (id & 1) && (seq & 1) ? STREAM_RESERVE_COMMIT : STREAM_SEND;
}

static int mpsc_how_read(const struct stream_case *c, uint32_t rid, uint64_t got)
{
	(void)c;
	(void)rid;
	(void)got;
	return STREAM_RECV;
}

static void mpsc_check_end(const struct stream_case *c, uint64_t n,
			   const struct shmkit_chan_info *ci, const struct shmkit_chan_info *closed)
{
	(void)c;
	(void)closed;
	cr_expect_eq(ci->kind, SHMKIT_CHAN_MPSC);
	cr_expect_eq(ci->sent, n * STREAM_WRITERS);
	cr_expect_eq(ci->received, n * STREAM_WRITERS);
	cr_expect_eq(ci->lost, 0);
	cr_expect_eq(ci->used, 0);
	cr_expect_eq(ci->writers, 0);
	cr_expect(ci->closed);
}

static const struct stream_kind mpsc_stream = {
	.name = "mpsc", .kind = SHMKIT_CHAN_MPSC, .writers = STREAM_WRITERS, .readers = 1,
	.max_len = 4096, .reap_ns = MPSC_REAP_NS, .len = mpsc_len, .how_send = mpsc_how_send,
	.how_read = mpsc_how_read, .check_end = mpsc_check_end,
};

Test(mpsc, stream_8x1M)
{
	stream_run(&mpsc_stream, &(struct stream_case){
		.backend = SHMKIT_BACKEND_POSIX, .cap = 1u << 18, .n = STREAM_N_DEFAULT,
		.n_env = "SHMKIT_TEST_MPSC_N" });
}

/* a 4 KiB ring, sleeping at once: the writers wait for room all the time
 * and every wake-up path runs; a tenth of the messages */
Test(mpsc, stream_8_sleep_small_ring)
{
	stream_run(&mpsc_stream, &(struct stream_case){
		.backend = SHMKIT_BACKEND_SYSV, .cap = 4096, .policy = SHMKIT_WAIT_SLEEP,
		.n = STREAM_N_DEFAULT, .n_env = "SHMKIT_TEST_MPSC_N", .n_div = 10 });
}

/* ---- edges ---- */

/* The size of the next filler record from ring offset @at towards @off
 * (simulated offline over both ring sizes: it never cycles). */
static size_t filler(size_t at, size_t off, size_t cap, size_t max)
{
	size_t most = 8 + ((max + 7) & ~(size_t)7);
	size_t d = (off - at) & (cap - 1), e = cap - at;
	bool fits_d = d >= 16 && d - 8 <= max, fits_e = e >= 16 && e - 8 <= max;

	if (d <= e) {
		size_t rec = fits_d ? d : d == 8 ? most : 16;
		if (at + rec <= cap)
			return rec;
	}
	/* it would cross the end: reach the end exactly, or step; with 8
	 * bytes left the padding comes first and the record lands at rec */
	if (fits_e)
		return e;
	if (e >= 24)
		return 16;
	return off >= 16 && off - 8 <= max ? off : 16;
}

/* Sends one message of every size at every reachable offset of a ring of
 * @cap bytes, by two writers in turn, and reads each back at once. */
static void edges(size_t cap, bool zero_copy)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, cap, 0);
	shmkit_chan *w[2] = { xopen(name, SHMKIT_CHAN_WRITER), xopen(name, SHMKIT_CHAN_WRITER) };
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	size_t max = shmkit_chan_max_msg(r);
	unsigned char in[1024], out[1024];
	struct shmkit_mpsc_shm *s = cb_of(r);
	uint64_t k = 0;

	/* offset 8 is no record's start: a record is 16 bytes or more, and
	 * padding ends only at the ring's end */
	for (size_t off = 0; off < cap; off += off == 0 ? 16 : 8) {
		for (size_t len = 1; len <= max; len++, k++) {
			/* move the ring to @off with a filler from the other writer */
			uint64_t at = atomic_load(&s->tail) & (cap - 1);
			if (at != off) {
				/* a filler record towards @off (padding may come
				 * first, then we look again) */
				size_t fill = filler(at, off, cap, max) - 8;
				memset(in, 0xee, fill);
				cr_assert_eq(shmkit_chan_send(w[(k + 1) & 1], in, fill, 0), 0);
				cr_assert_eq(shmkit_chan_recv(r, out, sizeof(out), 0), (long)fill);
				len--;
				k--;
				continue;
			}
			for (size_t i = 0; i < len; i++)
				in[i] = (unsigned char)(k * 7 + i);
			if (zero_copy) {
				void *p;
				const void *q;
				cr_assert_eq(shmkit_chan_reserve(w[k & 1], len, &p, 0), 0);
				memcpy(p, in, len);
				cr_assert_eq(shmkit_chan_commit(w[k & 1]), 0);
				cr_assert_eq(shmkit_chan_peek(r, &q, 0), (long)len, "off %zu len %zu", off, len);
				cr_assert_eq((const char *)q - (const char *)shmkit_region_base(shmkit_chan_region(r)),
					     (char *)p - (char *)shmkit_region_base(shmkit_chan_region(w[k & 1])),
					     "zero copy: peek's bytes are reserve's");
				cr_assert_eq(memcmp(q, in, len), 0, "off %zu len %zu", off, len);
				cr_assert_eq(shmkit_chan_release(r), 0);
			} else {
				cr_assert_eq(shmkit_chan_send(w[k & 1], in, len, 0), 0, "off %zu len %zu",
					     off, len);
				cr_assert_eq(shmkit_chan_recv(r, out, sizeof(out), 0), (long)len,
					     "off %zu len %zu", off, len);
				cr_assert_eq(memcmp(in, out, len), 0, "off %zu len %zu", off, len);
			}
			cr_assert_eq(shmkit_chan_recv(r, out, sizeof(out), 0), -EAGAIN);
		}
	}
	cr_expect_eq(atomic_load(&s->head), atomic_load(&s->tail));
	shmkit_chan_close(w[0]);
	shmkit_chan_close(w[1]);
	cr_expect_eq(shmkit_chan_recv(r, out, sizeof(out), 0), 0, "both closed: end of stream");
	shmkit_chan_close(r);
}

Test(mpsc, edges_64) { edges(64, false); }
Test(mpsc, edges_64_zero_copy) { edges(64, true); }
Test(mpsc, edges_256) { edges(256, false); }
Test(mpsc, edges_256_zero_copy) { edges(256, true); }

Test(mpsc, full_and_empty)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 256, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	unsigned char b[64] = { 0 };
	int n = 0;

	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), SHORT_NS), -ETIMEDOUT);
	/* 8 + 8 bytes a record: the ring holds exactly 16 */
	while (shmkit_chan_send(w, b, 8, 0) == 0)
		n++;
	cr_expect_eq(n, 16);
	cr_expect_eq(shmkit_chan_send(w, b, 1, 0), -EAGAIN);
	cr_expect_eq(shmkit_chan_send(w, b, 1, SHORT_NS), -ETIMEDOUT);
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.used, 256);
	cr_expect_eq(ci.writers, 1);
	cr_expect_eq(ci.in_flight, 16);
	for (int i = 0; i < n; i++)
		cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 8);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN);
	cr_expect_eq(shmkit_chan_send(w, b, 65, 0), -EMSGSIZE);
	cr_expect_eq(shmkit_chan_send(w, b, 0, 0), -EMSGSIZE);
	cr_expect_eq(shmkit_chan_send(w, b, 64, 0), 0);
	cr_expect_eq(shmkit_chan_recv(r, b, 63, 0), -EMSGSIZE);
	cr_expect_eq(shmkit_chan_recv(r, b, 64, 0), 64);
	/* roles */
	cr_expect_eq(shmkit_chan_send(r, b, 1, 0), -EPERM);
	cr_expect_eq(shmkit_chan_recv(w, b, 1, 0), -EPERM);
	cr_expect_eq(shmkit_chan_release(w), -EPERM);
	cr_expect_eq(shmkit_chan_commit(r), -EPERM);
	shmkit_chan *r2 = NULL;
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_READER, NULL, &r2), -EBUSY);
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

Test(mpsc, one_reservation_at_a_time)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 1024, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	void *p, *q;
	const void *x;

	cr_assert_eq(shmkit_chan_reserve(w, 5, &p, 0), 0);
	memcpy(p, "first", 5);
	cr_expect_eq(shmkit_chan_peek(r, &x, 0), -EAGAIN, "not committed yet");
	cr_assert_eq(shmkit_chan_reserve(w, 6, &q, 0), 0);  /* commits the first */
	memcpy(q, "second", 6);
	cr_expect_eq(shmkit_chan_peek(r, &x, 0), 5);
	cr_expect_eq(memcmp(x, "first", 5), 0);
	cr_expect_eq(shmkit_chan_peek(r, &x, 0), -EAGAIN);
	cr_assert_eq(shmkit_chan_commit(w), 0);
	cr_expect_eq(shmkit_chan_peek(r, &x, 0), 6);
	cr_expect_eq(memcmp(x, "second", 6), 0);
	cr_expect_eq(shmkit_chan_release(r), 0);
	cr_expect_eq(atomic_load(&cb_of(r)->received), 2);
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

Test(mpsc, kinds)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 4096, 0);
	struct shmkit_chan_opts spsc = { .kind = SHMKIT_CHAN_SPSC };
	struct shmkit_chan_opts bad = { .kind = 7 };
	shmkit_chan *c = NULL;

	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, &spsc, &c), -EPROTOTYPE);
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, &bad, &c), -EINVAL);
	cr_expect_eq(shmkit_chan_create(name, 0, &spsc), -EPROTOTYPE);
	const char *sp = ut_name(SHMKIT_BACKEND_POSIX);
	cr_assert_eq(shmkit_chan_create(sp, SHMKIT_EXCL, NULL), 0);
	struct shmkit_chan_opts mp = { .kind = SHMKIT_CHAN_MPSC };
	cr_expect_eq(shmkit_chan_open(sp, 0, SHMKIT_CHAN_READER, &mp, &c), -EPROTOTYPE);
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(sp, &ci), 0);
	cr_expect_eq(ci.kind, SHMKIT_CHAN_SPSC);
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.kind, SHMKIT_CHAN_MPSC);
	cr_expect_eq(ci.capacity, 4096);
	cr_expect_eq(ci.max_msg, 1024);
}

Test(mpsc, sixty_fifth_writer)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 4096, 0);
	shmkit_chan *w[SHMKIT_CHAN_MPSC_WRITERS];
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *x = NULL;
	char b[16];

	for (int i = 0; i < SHMKIT_CHAN_MPSC_WRITERS; i++) {
		w[i] = xopen(name, SHMKIT_CHAN_WRITER);
		snprintf(b, sizeof(b), "w%d", i);
		cr_assert_eq(shmkit_chan_send(w[i], b, strlen(b) + 1, 0), 0);
	}
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &x), -EUSERS);
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.writers, 64);
	shmkit_chan_close(w[10]);
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &x), 0, "an entry is free");
	w[10] = x;
	for (int i = 0; i < SHMKIT_CHAN_MPSC_WRITERS; i++) {
		char e[16];
		snprintf(e, sizeof(e), "w%d", i);
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), (long)strlen(e) + 1);
		cr_expect_str_eq(b, e, "the order of the sends");
	}
	for (int i = 0; i < SHMKIT_CHAN_MPSC_WRITERS; i++)
		shmkit_chan_close(w[i]);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 0);
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.sent, 64);
	cr_expect(ci.closed);
	shmkit_chan_close(r);
}

/* ---- end of stream ---- */

static int send_and_die(void *a)
{
	shmkit_chan *c = NULL;
	if (shmkit_chan_open(a, 0, SHMKIT_CHAN_WRITER, NULL, &c))
		kid_fail("open");
	if (shmkit_chan_send(c, "bye", 3, CHAN_WAIT_NS))
		kid_fail("send");
	_exit(0);  /* no close: the entry names a dead writer */
}

Test(mpsc, end_of_stream)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 4096, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	char b[8];

	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), SHORT_NS), -ETIMEDOUT, "no writer yet");
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	cr_assert_eq(shmkit_chan_send(w, "a", 1, 0), 0);
	shmkit_chan_close(w);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 1);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 0);
	/* a writer that dies: its message, then -EPIPE */
	mpsc_expect_exit0(kid_spawn(send_and_die, (void *)name));
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 3);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), -EPIPE);
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.writers_dead, 1);
	cr_expect_eq(ci.sent, 2);
	/* a new writer takes the dead one's entry: the stream goes on */
	w = xopen(name, SHMKIT_CHAN_WRITER);
	cr_assert_eq(shmkit_chan_send(w, "b", 1, 0), 0);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 1);
	shmkit_chan_close(w);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0);
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.sent, 3);
	cr_expect(ci.closed);
	shmkit_chan_close(r);
}

Test(mpsc, reader_sleeping_wakes_at_last_close)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 4096, SHMKIT_WAIT_SLEEP);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	char b[8];
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), SHORT_NS), -ETIMEDOUT);
	shmkit_chan_close(w);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0);
	shmkit_chan_close(r);
}

/* ---- a writer killed between reserve and commit ---- */

struct abandon_arg {
	const char *name;
	bool exit_now;   /* _exit after the reserve; else wait for the kill */
};

static int reserve_and_die(void *a)
{
	struct abandon_arg *aa = a;
	shmkit_chan *c = NULL;
	void *p;
	if (shmkit_chan_open(aa->name, 0, SHMKIT_CHAN_WRITER, NULL, &c))
		kid_fail("open");
	if (shmkit_chan_send(c, "before", 6, CHAN_WAIT_NS))
		kid_fail("send");
	if (shmkit_chan_reserve(c, 100, &p, CHAN_WAIT_NS))
		kid_fail("reserve");
	memset(p, 'x', 50);  /* half written */
	if (aa->exit_now)
		_exit(0);
	kid_ready();
	for (;;)
		pause();
}

static void abandoned(int backend, bool exit_now)
{
	const char *name = new_mpsc(backend, 1024, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	struct abandon_arg aa = { .name = name, .exit_now = exit_now };
	char b[128], o[128];

	cr_assert_eq(shmkit_chan_send(w, "first", 5, 0), 0);
	pid_t pid = kid_spawn(reserve_and_die, &aa);
	if (exit_now)
		mpsc_expect_exit0(pid);
	else
		kids_wait_ready(1);
	cr_assert_eq(shmkit_chan_send(w, "after", 5, 0), 0);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 5);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 6);
	cr_expect_eq(memcmp(b, "before", 6), 0);
	if (!exit_now) {
		/* the claim stands and its writer lives: later messages wait */
		cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), SHORT_NS), -ETIMEDOUT,
			     "a live writer's claim holds the stream");
		kill(pid, SIGKILL);
		int st = kid_wait(pid, CHAN_WAIT_NS);
		cr_assert(WIFSIGNALED(st));
	}
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 5, "after the hole");
	cr_expect_eq(memcmp(b, "after", 5), 0);
	/* more than a ring's worth goes on through the same space */
	for (int i = 0; i < 40; i++) {
		snprintf(b, sizeof(b), "%-60d", i);
		cr_assert_eq(shmkit_chan_send(w, b, 60, CHAN_WAIT_NS), 0, "send %d", i);
		cr_assert_eq(shmkit_chan_recv(r, o, sizeof(o), CHAN_WAIT_NS), 60, "recv %d", i);
		cr_assert_eq(memcmp(o, b, 60), 0);
	}
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.lost, 1);
	cr_expect_eq(ci.sent, 43);
	cr_expect_eq(ci.received, 43);
	cr_expect_eq(ci.writers, 1);
	cr_expect_eq(ci.writers_dead, 1);
	shmkit_chan_close(w);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), -EPIPE,
		     "no writer left, one died");
	shmkit_chan_close(r);
}

Test(mpsc, abandoned_exit_posix) { abandoned(SHMKIT_BACKEND_POSIX, true); }
Test(mpsc, abandoned_kill_posix) { abandoned(SHMKIT_BACKEND_POSIX, false); }
Test(mpsc, abandoned_exit_sysv) { abandoned(SHMKIT_BACKEND_SYSV, true); }
Test(mpsc, abandoned_kill_sysv) { abandoned(SHMKIT_BACKEND_SYSV, false); }
Test(mpsc, abandoned_kill_file) { abandoned(SHMKIT_BACKEND_FILE, false); }

/* ---- the writer listing (shmkit_chan_writers) ---- */

static void expect_badmsg(long v, const char *what);

Test(mpsc, writers_listing)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 1024, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *w1 = xopen(name, SHMKIT_CHAN_WRITER);
	struct shmkit_chan_writer wl[SHMKIT_CHAN_MPSC_WRITERS];
	char b[16];

	cr_expect_eq(shmkit_chan_writers(name, wl, SHMKIT_CHAN_MPSC_WRITERS), 1);
	cr_expect_eq(wl[0].entry, 0);
	cr_expect_eq(wl[0].pid, getpid());
	cr_expect_eq(wl[0].alive, 1);
	cr_expect_eq(wl[0].join, 0);
	cr_expect_eq(wl[0].pos, 0, "no claim yet: its join");
	cr_expect_eq(wl[0].lag, 0, "no claim yet: no lag");
	/* three records of 16 bytes at 0, 16, 32; the second writer joins at 48 */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(shmkit_chan_send(w1, "hello", 5, 0), 0);
	shmkit_chan *w2 = xopen(name, SHMKIT_CHAN_WRITER);
	cr_assert_eq(shmkit_chan_send(w2, "hi", 2, 0), 0);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 5);  /* head 16 */
	cr_assert_eq(shmkit_chan_writers(name, wl, SHMKIT_CHAN_MPSC_WRITERS), 2);
	cr_expect_eq(wl[0].sent, 3);
	cr_expect_eq(wl[0].pos, 32);
	cr_expect_eq(wl[0].lag, 32, "to the end of its record at 32");
	cr_expect_eq(wl[1].entry, 1);
	cr_expect_eq(wl[1].join, 48);
	cr_expect_eq(wl[1].pos, 48);
	cr_expect_eq(wl[1].sent, 1);
	cr_expect_eq(wl[1].lag, 48);
	/* less room than entries: the count, and no more than cap filled */
	memset(wl, 0xa5, sizeof(wl));
	cr_expect_eq(shmkit_chan_writers(name, wl, 1), 2);
	cr_expect_eq(wl[0].entry, 0);
	cr_expect_eq(wl[1].entry, 0xa5a5a5a5u, "past cap: untouched");
	cr_expect_eq(shmkit_chan_writers(name, NULL, 0), 2);
	cr_expect_eq(shmkit_chan_writers(name, NULL, 1), -EINVAL);
	/* a dead writer keeps its entry, marked dead */
	pid_t pid = kid_spawn(send_and_die, (void *)name);
	mpsc_expect_exit0(pid);
	cr_assert_eq(shmkit_chan_writers(name, wl, SHMKIT_CHAN_MPSC_WRITERS), 3);
	cr_expect_eq(wl[2].pid, pid);
	cr_expect_eq(wl[2].alive, 0);
	cr_expect_eq(wl[2].sent, 1);
	/* every message read: no lag left */
	for (int i = 0; i < 4; i++)
		cr_assert_gt(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0);
	cr_assert_eq(shmkit_chan_writers(name, wl, SHMKIT_CHAN_MPSC_WRITERS), 3);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(wl[i].lag, 0, "entry %d", i);
	/* a closed writer's entry is free */
	shmkit_chan_close(w1);
	cr_assert_eq(shmkit_chan_writers(name, wl, SHMKIT_CHAN_MPSC_WRITERS), 2);
	cr_expect_eq(wl[0].entry, 1);
	/* corrupt entries: a token no attach can have, misaligned positions */
	struct shmkit_mpsc_writer *tab = (struct shmkit_mpsc_writer *)(void *)
		((unsigned char *)cb_of(r) + SHMKIT_MPSC_TABLE_OFF);
	atomic_store(&tab[5].token, 0xffffffffu);
	expect_badmsg(shmkit_chan_writers(name, wl, SHMKIT_CHAN_MPSC_WRITERS), "bad token");
	atomic_store(&tab[5].token, 0);
	uint64_t pos = atomic_load(&tab[1].pos);
	atomic_store(&tab[1].pos, pos + 3);
	expect_badmsg(shmkit_chan_writers(name, wl, SHMKIT_CHAN_MPSC_WRITERS), "pos misaligned");
	atomic_store(&tab[1].pos, pos);
	uint64_t head = atomic_load(&cb_of(r)->head);
	atomic_store(&cb_of(r)->head, head + 4);
	expect_badmsg(shmkit_chan_writers(name, wl, SHMKIT_CHAN_MPSC_WRITERS), "head misaligned");
	atomic_store(&cb_of(r)->head, head);
	cr_expect_eq(shmkit_chan_writers(name, wl, SHMKIT_CHAN_MPSC_WRITERS), 2);
	/* other kinds and other segments */
	const char *sp = ut_name(SHMKIT_BACKEND_POSIX);
	cr_assert_eq(shmkit_chan_create(sp, SHMKIT_EXCL, NULL), 0);
	cr_expect_eq(shmkit_chan_writers(sp, wl, 4), -EPROTOTYPE, "spsc");
	const char *plain = ut_name(SHMKIT_BACKEND_POSIX);
	shmkit_region *reg = NULL;
	cr_assert_eq(shmkit_region_open(plain, SHMKIT_CREATE | SHMKIT_EXCL, 4096, 0, &reg), 0);
	cr_expect_eq(shmkit_chan_writers(plain, wl, 4), -EPROTONOSUPPORT, "a plain region");
	shmkit_region_close(reg);
	cr_expect_eq(shmkit_chan_writers(ut_name(SHMKIT_BACKEND_POSIX), wl, 4), -ENOENT);
	shmkit_chan_close(w2);
	shmkit_chan_close(r);
}

Test(mpsc, writers_listing_sysv_and_file)
{
	static const int backends[] = { SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_FILE };

	for (int i = 0; i < 2; i++) {
		int backend = backends[i];
		const char *name = new_mpsc(backend, 4096, 0);
		shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
		struct shmkit_chan_writer wl[4];
		cr_assert_eq(shmkit_chan_send(w, "x", 1, 0), 0);
		cr_expect_eq(shmkit_chan_writers(name, wl, 4), 1, "%s", name);
		cr_expect_eq(wl[0].pid, getpid());
		cr_expect_eq(wl[0].alive, 1);
		cr_expect_eq(wl[0].sent, 1);
		cr_expect_eq(wl[0].lag, 16, "its record at 0, unread");
		shmkit_chan_close(w);
		cr_expect_eq(shmkit_chan_writers(name, wl, 4), 0);
	}
}

/* A writer that reserves @len bytes and exits without committing. */
struct claim_arg {
	const char *name;
	size_t len;
};

static int claim_and_exit(void *a)
{
	struct claim_arg *ca = a;
	shmkit_chan *c = NULL;
	void *p;
	if (shmkit_chan_open(ca->name, 0, SHMKIT_CHAN_WRITER, NULL, &c))
		kid_fail("open");
	if (shmkit_chan_reserve(c, ca->len, &p, 0))
		kid_fail("reserve");
	_exit(0);
}

static void abandon_claim(const char *name, size_t len)
{
	struct claim_arg ca = { .name = name, .len = len };
	mpsc_expect_exit0(kid_spawn(claim_and_exit, &ca));
}

/* Peeking a whole ring without releasing: the next peek finds nothing
 * (the word a ring further is its own first record), not -EBADMSG. */
Test(mpsc, peek_a_full_ring)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 64, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	const void *p;

	for (int i = 0; i < 4; i++)
		cr_assert_eq(shmkit_chan_send(w, "abcdefgh", 8, 0), 0, "send %d", i);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(shmkit_chan_peek(r, &p, 0), 8, "peek %d", i);
	cr_expect_eq(shmkit_chan_peek(r, &p, 0), -EAGAIN, "a full ring peeked");
	cr_expect_eq(shmkit_chan_peek(r, &p, SHORT_NS), -ETIMEDOUT);
	cr_assert_eq(shmkit_chan_release(r), 0);
	cr_expect_eq(shmkit_chan_send(w, "ijklmnop", 8, 0), 0, "room again");
	cr_expect_eq(shmkit_chan_peek(r, &p, 0), 8);
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

/* Two abandoned claims and the padding after them take the reader to the
 * end of the lap: it must give that space back, not read the next lap's
 * word, which is still the first abandoned header (was -EBADMSG). */
Test(mpsc, abandoned_claims_then_padding)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 64, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	char b[64];

	abandon_claim(name, 16);  /* [0, 24) */
	abandon_claim(name, 16);  /* [24, 48) */
	/* padding over [48, 64), then no room at 64 */
	cr_expect_eq(shmkit_chan_send(w, "0123456789abcdef", 16, 0), -EAGAIN);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN, "nothing, no error");
	cr_expect_eq(shmkit_chan_send(w, "0123456789abcdef", 16, 0), 0, "the space came back");
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 16);
	cr_expect_eq(memcmp(b, "0123456789abcdef", 16), 0);
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.lost, 2);
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

/* A writer waiting for room that only abandoned records hold, while the
 * reader waits for that writer: the reader gives the space back before it
 * waits (both used to wait for ever). */
static int send_16(void *a)
{
	shmkit_chan *c = NULL;
	if (shmkit_chan_open(a, 0, SHMKIT_CHAN_WRITER, NULL, &c))
		kid_fail("open");
	int err = shmkit_chan_send(c, "0123456789abcdef", 16, CHAN_WAIT_NS);
	if (err)
		kid_fail("send: %s", shmkit_strerror(err));
	shmkit_chan_close(c);
	return 0;
}

Test(mpsc, abandoned_space_goes_back_before_the_reader_waits)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 64, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	char b[64];

	cr_assert_eq(shmkit_chan_send(w, "abcdefgh", 8, 0), 0);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 8);  /* head 16 */
	abandon_claim(name, 16);  /* [16, 40) */
	abandon_claim(name, 16);  /* [40, 64) */
	pid_t pid = kid_spawn(send_16, (void *)name);  /* waits for room */
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 16, "the waiting writer's message");
	cr_expect_eq(memcmp(b, "0123456789abcdef", 16), 0);
	mpsc_expect_exit0(pid);
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.lost, 2);
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

/* A writer killed after its claim but before its tail CAS: forged here by
 * a claim header at tail with tail left alone, in a free entry. */
Test(mpsc, claim_without_tail_move)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 1024, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	struct shmkit_mpsc_shm *s = cb_of(r);
	unsigned char *ring = (unsigned char *)s + SHMKIT_MPSC_RING_OFF;
	char b[64];

	cr_assert_eq(shmkit_chan_send(w, "one", 3, 0), 0);
	uint64_t t = atomic_load(&s->tail);
	/* entry 5 is free: its claimer "closed"; then it counts as dead */
	atomic_store((_Atomic uint64_t *)(void *)(ring + t), SHMKIT_MPSC_HDR(SHMKIT_MPSC_CLAIMED, 5, 0, 20));
	/* the writer helps tail past it and goes on */
	cr_assert_eq(shmkit_chan_send(w, "two", 3, 0), 0);
	cr_expect_eq(atomic_load(&s->tail), t + 8 + 24 + 16);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 3);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 3);
	cr_expect_eq(memcmp(b, "two", 3), 0);
	cr_expect_eq(atomic_load(&s->lost), 1);
	/* and a claim the reader meets first: it moves tail itself */
	t = atomic_load(&s->tail);
	atomic_store((_Atomic uint64_t *)(void *)(ring + t), SHMKIT_MPSC_HDR(SHMKIT_MPSC_CLAIMED, 6, 0, 8));
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), SHORT_NS), -ETIMEDOUT);
	cr_expect_eq(atomic_load(&s->tail), t + 16);
	cr_assert_eq(shmkit_chan_send(w, "three", 5, 0), 0);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 5);
	cr_expect_eq(atomic_load(&s->lost), 2);
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

/* ---- corruption ---- */

static void expect_badmsg(long v, const char *what)
{
	cr_expect_eq(v, -EBADMSG, "%s: %ld (%s)", what, v, shmkit_strerror((int)v));
}

Test(mpsc, corrupt_positions_and_headers)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 1024, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	struct shmkit_mpsc_shm *s = cb_of(r);
	_Atomic uint64_t *ring = (_Atomic uint64_t *)(void *)((unsigned char *)s + SHMKIT_MPSC_RING_OFF);
	char b[300];
	struct shmkit_chan_info ci;

	cr_assert_eq(shmkit_chan_send(w, "ok", 2, 0), 0);
	uint64_t t = atomic_load(&s->tail), h0 = atomic_load(&ring[0]);
	/* tail misaligned, before head, far past head */
	atomic_store(&s->tail, t + 3);
	expect_badmsg(shmkit_chan_send(w, "x", 1, CHAN_WAIT_NS), "tail misaligned");
	expect_badmsg(shmkit_chan_stat(name, &ci), "stat, tail misaligned");
	atomic_store(&s->tail, t + 4096);
	expect_badmsg(shmkit_chan_send(w, "x", 1, CHAN_WAIT_NS), "tail far ahead");
	atomic_store(&s->tail, t);
	/* garbage where the reader looks */
	atomic_store(&ring[0], 0x1234567812345678ull);
	expect_badmsg(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), "garbage header");
	/* a wrong tag, a zero length, a length past max, past the ring end,
	 * padding not at the end */
	uint64_t bad[] = {
		SHMKIT_MPSC_HDR(SHMKIT_MPSC_COMMITTED, 0, 1, 2),
		SHMKIT_MPSC_HDR(SHMKIT_MPSC_COMMITTED, 0, 0, 0),
		SHMKIT_MPSC_HDR(SHMKIT_MPSC_COMMITTED, 0, 0, 257),
		SHMKIT_MPSC_HDR(SHMKIT_MPSC_PAD, 0, 0, 2000),
		SHMKIT_MPSC_HDR(SHMKIT_MPSC_PAD, 0, 0, 8),
		SHMKIT_MPSC_EMPTY(1),
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		atomic_store(&ring[0], bad[i]);
		expect_badmsg(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), "bad header");
	}
	atomic_store(&ring[0], h0);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 2, "repaired");
	/* the word at tail: neither EMPTY nor a claim */
	t = atomic_load(&s->tail);
	atomic_store(&ring[t / 8], 0x42);
	expect_badmsg(shmkit_chan_send(w, "x", 1, CHAN_WAIT_NS), "garbage at tail");
	expect_badmsg(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), "garbage at head");
	atomic_store(&ring[t / 8], SHMKIT_MPSC_EMPTY(0));
	/* head misaligned (a writer with room in its last view of head does
	 * not look again; stat does), then past tail */
	atomic_store(&s->head, t + 4);
	expect_badmsg(shmkit_chan_stat(name, &ci), "stat, head misaligned");
	atomic_store(&s->head, t + 64);
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0, "a racy copy: tolerated");
	cr_expect_eq(ci.used, 0);
	atomic_store(&s->head, t);
	/* a claim naming an entry with a malformed token: judged on the wait */
	atomic_store(&s->tail, t);
	cr_assert_eq(shmkit_chan_send(w, "y", 1, 0), 0);
	uint64_t hc = atomic_load(&ring[t / 8]);
	uint64_t claim = (hc & ~(uint64_t)3) | SHMKIT_MPSC_CLAIMED;
	atomic_store(&ring[t / 8], (claim & ~(uint64_t)(63 << 2)) | (uint64_t)9 << 2);
	struct shmkit_mpsc_writer *tab = (void *)((unsigned char *)s + SHMKIT_MPSC_TABLE_OFF);
	atomic_store(&tab[9].token, 0x7fffffffu);
	expect_badmsg(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), "bad token");
	atomic_store(&tab[9].token, 0);
	atomic_store(&ring[t / 8], hc);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 1, "repaired again");
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

Test(mpsc, corrupt_before_open)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 1024, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	struct shmkit_mpsc_shm *s = cb_of(w);
	shmkit_chan *c = NULL;

	/* the immutable line */
	s->l0.slots = 65;
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_READER, NULL, &c), -EBADMSG);
	s->l0.slots = SHMKIT_CHAN_MPSC_WRITERS;
	/* a release in progress that makes no sense */
	atomic_store(&s->rel, 8);
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_READER, NULL, &c), -EBADMSG);
	atomic_store(&s->rel, 0);
	/* a malformed writer token blocks no join but is reported */
	struct shmkit_mpsc_writer *tab = (void *)((unsigned char *)s + SHMKIT_MPSC_TABLE_OFF);
	atomic_store(&tab[1].token, 0x40000001u);
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &c), -EBADMSG);
	atomic_store(&tab[1].token, 0);
	cr_assert_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_READER, NULL, &c), 0);
	shmkit_chan_close(c);
	shmkit_chan_close(w);
}

/* A reader killed while it marked a release: the next one finishes it. */
Test(mpsc, release_in_progress)
{
	const char *name = new_mpsc(SHMKIT_BACKEND_POSIX, 1024, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	struct shmkit_mpsc_shm *s = cb_of(w);
	char b[64];

	cr_assert_eq(shmkit_chan_send(w, "one", 3, 0), 0);
	cr_assert_eq(shmkit_chan_send(w, "two", 3, 0), 0);
	uint64_t end = atomic_load(&s->tail);
	shmkit_chan_close(r);
	/* as if a reader died after storing rel and marking the first word */
	atomic_store(&s->rel, end);
	atomic_store((_Atomic uint64_t *)(void *)((unsigned char *)s + SHMKIT_MPSC_RING_OFF),
		     SHMKIT_MPSC_EMPTY(1));
	r = xopen(name, SHMKIT_CHAN_READER);
	cr_expect_eq(atomic_load(&s->head), end);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN);
	cr_assert_eq(shmkit_chan_send(w, "three", 5, 0), 0);
	cr_expect_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 5);
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

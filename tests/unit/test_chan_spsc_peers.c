/* SPDX-License-Identifier: MIT */
/*
 * Description: the single-producer single-consumer channel's two sides
 * coming and going: end of stream after the writer closes, -EPIPE both
 * ways when a side is killed (and that it stays), start orders, -EBUSY for
 * a second live side, and takeover of a dead (or closed) writer or reader,
 * also while another process attaches.
 *
 * Two tests hold the library to its header where it fell short when they
 * were written (they failed until it was fixed): epipe_is_sticky (a dead
 * peer was reported as -EAGAIN to timeout-0 calls for up to
 * SHMKIT_OWNER_POLL_MS) and takeover_while_another_attaches (a takeover
 * could get -EBUSY for a dead holder while another process attached, on
 * posix and file).  Children: kids.h; every wait is bounded.
 */
#include "chan_spsc.h"

TestSuite(chan_spsc_peers, .init = chan_setup, .fini = kids_teardown, .timeout = 60);

static int writer_then_close(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *w = writer_sends(a, 0);
	int err;

	atomic_store(&bd->stage, 1);
	kid_wait_go(a->variant);
	if (a->variant)
		sleep_ns(30000000);  /* let the reader block first (not required) */
	if ((err = shmkit_chan_close(w)) != 0)
		kid_fail("close: %s", shmkit_strerror(err));
	return 0;
}

static void read_seqs(shmkit_chan *r, uint64_t from, uint64_t to, size_t len)
{
	unsigned char b[4096];
	for (uint64_t i = from; i < to; i++) {
		long n = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
		cr_assert_eq(n, (long)len, "message %llu: %ld (%s); board: %s",
			     (unsigned long long)i, n, n < 0 ? shmkit_strerror((int)n) : "",
			     kids_msg());
		cr_assert(msg_is(b, len, 0, i), "message %llu: got seq %llu", (unsigned long long)i,
			  (unsigned long long)msg_seq_of(b, len));
	}
}

Test(chan_spsc_peers, eof_after_writer_close)
{
	for (int variant = 0; variant < 2; variant++) {
		const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);
		shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
		struct peer_arg a = { .name = name, .n = 500, .len = 24, .variant = variant };
		atomic_store(&bd->stage, 0);
		atomic_store(&bd->k.go, 0);
		pid_t pid = kid_spawn(writer_then_close, &a);
		read_seqs(r, 0, 500, 24);
		unsigned char b[64];
		const void *q;
		/* variant 0: the writer closes whenever; 1: we are (likely)
		 * asleep in recv when it does */
		atomic_store(&bd->k.go, 1);
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0, "the end");
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0, "and again");
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), 0);
		cr_assert_eq(shmkit_chan_peek(r, &q, 0), 0);
		kid_expect_exit0(pid, KID_WAIT_NS, "writer");
		struct shmkit_chan_info ci = xstat(name);
		cr_expect_eq(ci.closed, 1);
		cr_expect_eq(ci.sent, 500);
		cr_expect_eq(ci.received, 500);
		cr_expect_eq(ci.writer_alive, 0);
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), SHORT_NS), 0, "after it is gone");
		cr_expect_eq(shmkit_chan_close(r), 0);
	}
}

/* The writer commits n, reserves (and writes) more without committing,
 * and waits to be killed. */
static int writer_then_park(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *w = writer_sends(a, 0);
	int err;

	for (int i = 0; i < 3; i++) {
		void *p;
		if ((err = shmkit_chan_reserve(w, a->len, &p, 0)) != 0)
			kid_fail("reserve: %s", shmkit_strerror(err));
		msg_fill(p, a->len, 0, 9999);
	}
	atomic_store(&bd->stage, 1);
	kid_park();
}

struct killer_arg { pid_t victim; int64_t after_ns; };

static int killer(void *arg)
{
	struct killer_arg *k = arg;
	sleep_ns(k->after_ns);
	return kill(k->victim, SIGKILL) == 0 ? 0 : 1;
}

Test(chan_spsc_peers, writer_killed_epipe)
{
	for (int variant = 0; variant < 2; variant++) {
		const char *name = new_chan(SHMKIT_BACKEND_POSIX, 1u << 16, 0);
		shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
		struct peer_arg a = { .name = name, .n = 600, .len = 40 };
		unsigned char b[64];
		const void *q;
		int alive;

		atomic_store(&bd->stage, 0);
		pid_t pid = kid_spawn(writer_then_park, &a);
		if (variant == 0) {
			/* killed before the reader reads anything */
			wait_stage(1);
			cr_assert_eq(shmkit_chan_peer_pid(r, &alive), pid);
			cr_assert_eq(alive, 1);
			kid_kill(pid);
			read_seqs(r, 0, 600, 40);
		} else {
			/* killed while the reader sleeps in recv */
			read_seqs(r, 0, 600, 40);
			wait_stage(1);
			struct killer_arg k = { .victim = pid, .after_ns = 30000000 };
			pid_t kp = kid_spawn(killer, &k);
			long n = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
			cr_assert_eq(n, -EPIPE, "blocked recv: %ld (%s)", n,
				     shmkit_strerror((int)n));
			kid_expect_exit0(kp, KID_WAIT_NS, "killer");
			int st = kid_wait(pid, CHAN_WAIT_NS);
			cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		}
		/* everything committed came, nothing reserved, then -EPIPE */
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), -EPIPE);
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), -EPIPE, "and again");
		cr_assert_eq(shmkit_chan_peek(r, &q, CHAN_WAIT_NS), -EPIPE);
		cr_assert_eq(shmkit_chan_peer_pid(r, &alive), pid);
		cr_assert_eq(alive, 0);
		struct shmkit_chan_info ci = xstat(name);
		cr_expect_eq(ci.sent, 600);
		cr_expect_eq(ci.received, 600);
		cr_expect_eq(ci.in_flight, 0);
		cr_expect_eq(ci.used, 0);
		cr_expect_eq(ci.closed, 0);
		cr_expect_eq(ci.writer_alive, 0);
		cr_expect_eq(shmkit_chan_close(r), 0);
	}
}

static int reader_then_park(void *arg);

/*
 * A dead peer is -EPIPE whatever the timeout, and stays -EPIPE: a reader
 * (or a writer on a full ring) that polls with timeout 0 must not be told
 * -EAGAIN ("try again") about a peer that is dead and reaped.  The header
 * says the other side's death is seen "within SHMKIT_OWNER_POLL_MS when it
 * waits"; a call that does not wait, like the mutex's trylock, should ask
 * at once.
 */
Test(chan_spsc_peers, epipe_is_sticky)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	struct peer_arg a = { .name = name, .n = 3, .len = 16 };
	unsigned char b[64] = { 0 };

	/* reader side: one poll while the writer lives, then it dies */
	atomic_store(&bd->stage, 0);
	pid_t pid = kid_spawn(writer_then_park, &a);
	wait_stage(1);
	read_seqs(r, 0, 3, 16);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), 0), -EAGAIN, "the writer lives");
	kid_kill(pid);
	for (int i = 0; i < 4; i++) {
		long n = shmkit_chan_recv(r, b, sizeof(b), 0);
		cr_expect_eq(n, -EPIPE, "recv(timeout 0) #%d after the writer died: %ld (%s)", i,
			     n, shmkit_strerror((int)n));
	}
	cr_expect_eq(shmkit_chan_close(r), 0);

	/* writer side: a full ring, one poll while the reader lives, then
	 * the reader dies */
	name = new_chan(SHMKIT_BACKEND_POSIX, 256, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	a.name = name;
	atomic_store(&bd->stage, 0);
	pid = kid_spawn(reader_then_park, &a);
	wait_stage(1);
	while (shmkit_chan_send(w, b, 16, 0) == 0)
		;
	cr_assert_eq(shmkit_chan_send(w, b, 16, 0), -EAGAIN, "the reader lives");
	kid_kill(pid);
	for (int i = 0; i < 4; i++) {
		int err = shmkit_chan_send(w, b, 16, 0);
		cr_expect_eq(err, -EPIPE, "send(timeout 0) #%d on a full ring after the reader "
			     "died: %d (%s)", i, err, shmkit_strerror(err));
	}
	cr_expect_eq(shmkit_chan_close(w), 0);
}

/* The reader: opens, tells the parent, parks (to be killed). */
static int reader_then_park(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *r;
	int err = shmkit_chan_open(a->name, 0, SHMKIT_CHAN_READER, NULL, &r);
	if (err)
		kid_fail("reader open: %s", shmkit_strerror(err));
	atomic_store(&bd->stage, 1);
	kid_park();
}

/* The writer fills the ring, then blocks in send until the reader dies. */
static int writer_blocks(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *w;
	unsigned char b[64] = { 0 };
	int err = shmkit_chan_open(a->name, 0, SHMKIT_CHAN_WRITER, NULL, &w);
	if (err)
		kid_fail("writer open: %s", shmkit_strerror(err));
	while ((err = shmkit_chan_send(w, b, 32, 0)) == 0)
		;
	if (err != -EAGAIN)
		kid_fail("fill: %s", shmkit_strerror(err));
	atomic_store(&bd->stage, 2);
	err = shmkit_chan_send(w, b, 32, CHAN_WAIT_NS);
	if (err != -EPIPE)
		kid_fail("blocked send: %s, wanted -EPIPE", shmkit_strerror(err));
	if ((err = shmkit_chan_send(w, b, 32, CHAN_WAIT_NS)) != -EPIPE)
		kid_fail("second send: %s, wanted -EPIPE", shmkit_strerror(err));
	if ((err = shmkit_chan_close(w)) != 0)
		kid_fail("close: %s", shmkit_strerror(err));
	return 0;
}

Test(chan_spsc_peers, reader_killed_blocked_writer_epipe)
{
	for (unsigned pol = SHMKIT_WAIT_SPIN; pol <= SHMKIT_WAIT_SLEEP; pol++) {
		const char *name = new_chan(SHMKIT_BACKEND_POSIX, 1024, pol);
		struct peer_arg a = { .name = name };
		atomic_store(&bd->stage, 0);
		pid_t rp = kid_spawn(reader_then_park, &a);
		wait_stage(1);
		pid_t wp = kid_spawn(writer_blocks, &a);
		wait_stage(2);
		sleep_ns(30000000);  /* the writer most likely sleeps by now */
		kid_kill(rp);
		kid_expect_exit0(wp, KID_WAIT_NS, "writer");
		struct shmkit_chan_info ci = xstat(name);
		cr_expect_eq(ci.reader_alive, 0);
		cr_expect_eq(ci.reader_pid, rp, "the dead reader's pid");
	}
}

/* Either side may create the channel and either may come first. */
static int reader_counts(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *r;
	unsigned char b[4096];
	struct shmkit_chan_opts o = { .capacity = 256 };
	int err = shmkit_chan_open(a->name, a->variant ? SHMKIT_CREATE : 0, SHMKIT_CHAN_READER,
				   &o, &r);
	if (err)
		kid_fail("reader open: %s", shmkit_strerror(err));
	atomic_fetch_add(&bd->stage, 1);
	for (int i = 0; i < a->n; i++) {
		long n = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
		if (n != (long)a->len || !msg_is(b, a->len, 0, (uint64_t)i))
			kid_fail("message %d: %ld (%s)", i, n, n < 0 ? shmkit_strerror((int)n) : "");
	}
	long n = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
	if (n != 0)
		kid_fail("end: %ld (%s)", n, shmkit_strerror((int)n));
	if ((err = shmkit_chan_close(r)) != 0)
		kid_fail("close: %s", shmkit_strerror(err));
	return 0;
}

static int writer_creates(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *w;
	unsigned char b[4096];
	struct shmkit_chan_opts o = { .capacity = 256 };
	int err = shmkit_chan_open(a->name, a->variant ? SHMKIT_CREATE : 0, SHMKIT_CHAN_WRITER,
				   &o, &w);
	if (err)
		kid_fail("writer open: %s", shmkit_strerror(err));
	atomic_fetch_add(&bd->stage, 1);
	for (int i = 0; i < a->n; i++) {
		msg_fill(b, a->len, 0, (uint64_t)i);
		if ((err = shmkit_chan_send(w, b, a->len, CHAN_WAIT_NS)) != 0)
			kid_fail("send %d: %s", i, shmkit_strerror(err));
	}
	if ((err = shmkit_chan_close(w)) != 0)
		kid_fail("close: %s", shmkit_strerror(err));
	return 0;
}

Test(chan_spsc_peers, start_orders)
{
	unsigned char b[64];

	/* the reader creates it and waits; the writer comes later */
	const char *name = ut_name(SHMKIT_BACKEND_POSIX);
	struct shmkit_chan_opts o = { .capacity = 256 };
	shmkit_chan *r, *w;
	cr_assert_eq(shmkit_chan_open(name, SHMKIT_CREATE | SHMKIT_EXCL, SHMKIT_CHAN_READER, &o,
				      &r), 0);
	struct peer_arg a = { .name = name, .n = 300, .len = 20 };
	pid_t pid = kid_spawn(writer_creates, &a);
	read_seqs(r, 0, 300, 20);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0);
	kid_expect_exit0(pid, KID_WAIT_NS, "writer");
	cr_expect_eq(shmkit_chan_close(r), 0);

	/* the writer creates it, sends what fits and closes before any
	 * reader exists; the reader still gets it all, then the end (7
	 * records of 32 in 256: the frontier's zero word takes 8) */
	name = ut_name(SHMKIT_BACKEND_POSIX);
	cr_assert_eq(shmkit_chan_open(name, SHMKIT_CREATE | SHMKIT_EXCL, SHMKIT_CHAN_WRITER, &o,
				      &w), 0);
	for (uint64_t i = 0; i < 7; i++) {
		msg_fill(b, 20, 0, i);
		cr_assert_eq(shmkit_chan_send(w, b, 20, 0), 0);
	}
	cr_assert_eq(shmkit_chan_send(w, b, 20, SHORT_NS), -ETIMEDOUT, "no reader yet: wait");
	cr_expect_eq(shmkit_chan_close(w), 0);
	r = xopen(name, SHMKIT_CHAN_READER);
	read_seqs(r, 0, 7, 20);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0);
	cr_expect_eq(shmkit_chan_close(r), 0);

	/* the writer first, blocked on a full ring until a reader comes */
	name = ut_name(SHMKIT_BACKEND_POSIX);
	cr_assert_eq(shmkit_chan_open(name, SHMKIT_CREATE | SHMKIT_EXCL, SHMKIT_CHAN_WRITER, &o,
				      &w), 0);
	a = (struct peer_arg){ .name = name, .n = 300, .len = 20 };
	atomic_store(&bd->stage, 0);
	uint64_t i = 0;
	int err;
	for (;; i++) {
		msg_fill(b, 20, 0, i);
		if ((err = shmkit_chan_send(w, b, 20, 0)) != 0)
			break;
	}
	cr_assert_eq(err, -EAGAIN);
	cr_assert_eq(i, 7);
	pid = kid_spawn(reader_counts, &a);
	for (; i < 300; i++) {
		msg_fill(b, 20, 0, i);
		err = shmkit_chan_send(w, b, 20, CHAN_WAIT_NS);
		cr_assert_eq(err, 0, "send %llu: %s; board: %s", (unsigned long long)i,
			     shmkit_strerror(err), kids_msg());
	}
	cr_expect_eq(shmkit_chan_close(w), 0);
	kid_expect_exit0(pid, KID_WAIT_NS, "reader");

	/* both create at once, again and again: both succeed, one channel */
	for (int round = 0; round < 40; round++) {
		name = ut_name(SHMKIT_BACKEND_POSIX);
		a = (struct peer_arg){ .name = name, .n = 50, .len = 16, .variant = 1 };
		atomic_store(&bd->stage, 0);
		pid_t p1 = kid_spawn(reader_counts, &a), p2 = kid_spawn(writer_creates, &a);
		kid_expect_exit0(p1, KID_WAIT_NS, "reader");
		kid_expect_exit0(p2, KID_WAIT_NS, "writer");
		cr_assert_eq(shmkit_remove(name), 0);
	}
}

/* ---- roles ---- */

static int open_expect(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *c = NULL;
	int err = shmkit_chan_open(a->name, 0, (int)a->len, NULL, &c);
	if (err != a->variant)
		kid_fail("open as %zu: %s, wanted %s", a->len, shmkit_strerror(err),
			   shmkit_strerror(a->variant));
	if (c)
		shmkit_chan_close(c);
	return 0;
}

Test(chan_spsc_peers, second_live_side_ebusy)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 256, 0);
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER), *r = xopen(name, SHMKIT_CHAN_READER);
	shmkit_chan *c = (shmkit_chan *)1;

	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &c), -EBUSY);
	cr_expect_null(c);
	cr_expect_eq(shmkit_chan_open(name, SHMKIT_CREATE, SHMKIT_CHAN_READER, NULL, &c), -EBUSY);
	for (int role = SHMKIT_CHAN_WRITER; role <= SHMKIT_CHAN_READER; role++) {
		struct peer_arg a = { .name = name, .len = (size_t)role, .variant = -EBUSY };
		kid_expect_exit0(kid_spawn(open_expect, &a), KID_WAIT_NS, "second side in another process");
	}
	/* a closed side can be taken */
	cr_expect_eq(shmkit_chan_close(w), 0);
	w = xopen(name, SHMKIT_CHAN_WRITER);
	cr_expect_eq(shmkit_chan_close(r), 0);
	struct peer_arg a = { .name = name, .len = SHMKIT_CHAN_READER, .variant = 0 };
	kid_expect_exit0(kid_spawn(open_expect, &a), KID_WAIT_NS, "reader after the reader closed");
	/* a killed side can be taken */
	atomic_store(&bd->stage, 0);
	pid_t pid = kid_spawn(reader_then_park, &a);
	wait_stage(1);
	cr_expect_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_READER, NULL, &c), -EBUSY);
	kid_kill(pid);
	r = xopen(name, SHMKIT_CHAN_READER);
	cr_expect_eq(shmkit_chan_close(r), 0);
	cr_expect_eq(shmkit_chan_close(w), 0);
}

/* Attaches to and detaches from @name until the parent's go. */
static int attach_churn(void *arg)
{
	struct peer_arg *a = arg;
	while (atomic_load(&bd->k.go) < 1) {
		shmkit_region *reg;
		int err = shmkit_region_open(a->name, 0, 0, 0, &reg);
		if (err)
			kid_fail("region_open: %s", shmkit_strerror(err));
		shmkit_region_close(reg);
	}
	return 0;
}

/*
 * Taking over a dead reader's role while some other process attaches to
 * the segment (any process: a monitor, the writer reopening) must work.
 * On posix and file, liveness is an OFD lock per peer slot: the attach
 * that reuses the dead reader's slot takes the lock before it stores its
 * claim, and in that moment the dead token looks alive.
 */
Test(chan_spsc_peers, takeover_while_another_attaches)
{
	static const int backends[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_FILE,
					SHMKIT_BACKEND_SYSV };
	for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		const char *name = new_chan(backends[b], 256, 0);
		struct peer_arg a = { .name = name };
		int busy = 0, first = -1;
		atomic_store(&bd->k.go, 0);
		pid_t churn = kid_spawn(attach_churn, &a);
		for (int i = 0; i < 800; i++) {
			atomic_store(&bd->stage, 0);
			pid_t pid = kid_spawn(reader_then_park, &a);
			wait_stage(1);
			kid_kill(pid);
			shmkit_chan *r;
			int err = shmkit_chan_open(name, 0, SHMKIT_CHAN_READER, NULL, &r);
			if (err == -EBUSY) {
				if (busy++ == 0)
					first = i;
				continue;
			}
			cr_assert_eq(err, 0, "%s: takeover %d: %s", ut_backend_names[backends[b]], i,
				     shmkit_strerror(err));
			cr_assert_eq(shmkit_chan_close(r), 0);
		}
		atomic_store(&bd->k.go, 1);
		kid_expect_exit0(churn, KID_WAIT_NS, "attacher");
		cr_expect_eq(busy, 0, "%s: %d of 800 takeovers of a dead (killed and reaped) "
			     "reader's role failed with -EBUSY, the first at %d",
			     ut_backend_names[backends[b]], busy, first);
	}
}

/* Writer A sends seqs [from, to) and parks; writer B sends [from, to) and
 * closes (variant 1). */
static int writer_range(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *w;
	unsigned char b[64];
	int err = shmkit_chan_open(a->name, 0, SHMKIT_CHAN_WRITER, NULL, &w);
	if (err)
		kid_fail("writer open: %s", shmkit_strerror(err));
	int from = a->variant ? a->n : 0, to = from + a->n;
	for (int i = from; i < to; i++) {
		msg_fill(b, a->len, 0, (uint64_t)i);
		if ((err = shmkit_chan_send(w, b, a->len, CHAN_WAIT_NS)) != 0)
			kid_fail("send %d: %s", i, shmkit_strerror(err));
	}
	if (!a->variant) {
		atomic_store(&bd->stage, 1);
		kid_park();
	}
	if ((err = shmkit_chan_close(w)) != 0)
		kid_fail("close: %s", shmkit_strerror(err));
	return 0;
}

Test(chan_spsc_peers, writer_takeover)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);  /* 1000 do not fit */
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	struct peer_arg a = { .name = name, .n = 1000, .len = 24 };
	unsigned char b[64];
	uint64_t next = 0;
	int epipes = 0;

	atomic_store(&bd->stage, 0);
	pid_t pa = kid_spawn(writer_range, &a);
	/* read while A sends, until A has sent its 1000 */
	while (atomic_load(&bd->stage) < 1) {
		long n = shmkit_chan_recv(r, b, sizeof(b), SHORT_NS);
		if (n == -ETIMEDOUT)
			continue;
		cr_assert_eq(n, 24, "message %llu: %ld (%s); board: %s", (unsigned long long)next,
			     n, shmkit_strerror((int)n), kids_msg());
		cr_assert(msg_is(b, 24, 0, next), "message %llu: seq %llu", (unsigned long long)next,
			  (unsigned long long)msg_seq_of(b, 24));
		next++;
	}
	kid_kill(pa);
	struct peer_arg bb = a;
	bb.variant = 1;
	pid_t pb = kid_spawn(writer_range, &bb);
	for (;;) {
		long n = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
		if (n == -EPIPE) {
			/* A's all read and B not there yet: allowed, before B */
			cr_assert_eq(next, 1000, "-EPIPE after %llu", (unsigned long long)next);
			cr_assert_lt(++epipes, 100000);
			sleep_ns(100000);
			continue;
		}
		if (n == 0)
			break;
		cr_assert_eq(n, 24, "message %llu: %ld (%s); board: %s", (unsigned long long)next,
			     n, shmkit_strerror((int)n), kids_msg());
		cr_assert(msg_is(b, 24, 0, next), "message %llu: got seq %llu",
			  (unsigned long long)next, (unsigned long long)msg_seq_of(b, 24));
		next++;
	}
	cr_assert_eq(next, 2000, "end after %llu messages", (unsigned long long)next);
	kid_expect_exit0(pb, KID_WAIT_NS, "writer B");
	struct shmkit_chan_info ci = xstat(name);
	cr_expect_eq(ci.sent, 2000);
	cr_expect_eq(ci.received, 2000);
	cr_expect_eq(ci.closed, 1);
	cr_expect_eq(shmkit_chan_close(r), 0);
}

/* The same with the reader away: B takes over while all of A's messages
 * are still in the ring, and must append after them, not over them. */
Test(chan_spsc_peers, writer_takeover_unread)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 1u << 16, 0);  /* 2000 fit */
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
	struct peer_arg a = { .name = name, .n = 1000, .len = 24 };
	unsigned char b[64];

	atomic_store(&bd->stage, 0);
	pid_t pa = kid_spawn(writer_range, &a);
	wait_stage(1);
	kid_kill(pa);
	cr_expect_eq(xstat(name).in_flight, 1000);
	struct peer_arg bb = a;
	bb.variant = 1;
	kid_expect_exit0(kid_spawn(writer_range, &bb), KID_WAIT_NS, "writer B");
	struct shmkit_chan_info ci = xstat(name);
	cr_expect_eq(ci.in_flight, 2000);
	cr_expect_eq(ci.used, 2000 * 32);
	read_seqs(r, 0, 2000, 24);
	cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0);
	cr_expect_eq(shmkit_chan_close(r), 0);
}

/* Reader A: recv k, then peek 50 without release; then closes (variant 1)
 * or waits to be killed. */
static int reader_partial(void *arg)
{
	struct peer_arg *a = arg;
	shmkit_chan *r;
	unsigned char b[64];
	const void *q;
	int err = shmkit_chan_open(a->name, 0, SHMKIT_CHAN_READER, NULL, &r);
	if (err)
		kid_fail("reader open: %s", shmkit_strerror(err));
	for (int i = 0; i < a->n; i++) {
		long n = shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS);
		if (n != 16 || !msg_is(b, 16, 0, (uint64_t)i))
			kid_fail("message %d: %ld", i, n);
	}
	for (int i = 0; i < 50; i++) {
		long n = shmkit_chan_peek(r, &q, CHAN_WAIT_NS);
		if (n != 16 || !msg_is(q, 16, 0, (uint64_t)(a->n + i)))
			kid_fail("peek %d: %ld", i, n);
	}
	atomic_store(&bd->stage, 1);
	if (a->variant) {
		if ((err = shmkit_chan_close(r)) != 0)
			kid_fail("close: %s", shmkit_strerror(err));
		return 0;
	}
	kid_park();
}

Test(chan_spsc_peers, reader_takeover)
{
	for (int variant = 0; variant < 2; variant++) {
		const char *name = new_chan(SHMKIT_BACKEND_POSIX, 1u << 16, 0);
		shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
		unsigned char b[64];
		for (uint64_t i = 0; i < 1000; i++) {
			msg_fill(b, 16, 0, i);
			cr_assert_eq(shmkit_chan_send(w, b, 16, 0), 0);
		}
		cr_assert_eq(shmkit_chan_close(w), 0);
		struct peer_arg a = { .name = name, .n = 300, .variant = variant };
		atomic_store(&bd->stage, 0);
		pid_t pid = kid_spawn(reader_partial, &a);
		wait_stage(1);
		if (variant)
			kid_expect_exit0(pid, KID_WAIT_NS, "reader A");
		else
			kid_kill(pid);
		struct shmkit_chan_info ci = xstat(name);
		cr_expect_eq(ci.received, 300, "the peeks were not released");
		cr_expect_eq(ci.in_flight, 700);
		cr_expect_eq(ci.used, 700 * 24);
		shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
		read_seqs(r, 300, 1000, 16);
		cr_assert_eq(shmkit_chan_recv(r, b, sizeof(b), CHAN_WAIT_NS), 0);
		cr_expect_eq(shmkit_chan_close(r), 0);
	}
}

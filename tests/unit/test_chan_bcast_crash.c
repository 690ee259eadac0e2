/* SPDX-License-Identifier: MIT */
/*
 * Description: kill -9 of broadcast subscribers and of the writer at random
 * points (issue #6), 250 times per test, a new incarnation started in each
 * victim's place.
 *
 * One writer process at a time sends messages whose payload carries the
 * channel's own message number (shmkit_chan_stat's sent, read once it holds
 * the role: a new writer carries on from what its predecessor published)
 * and an FNV-1a checksum, by send or by reserve + commit, with random
 * pauses.  It notes in the board the longest any send took.
 *
 * SUBS subscriber processes each join at the next message and check every
 * message: checksum (never torn), and seq == the one expected: under
 * backpressure seqs run without a gap from the first one it got; under
 * overwrite a gap is allowed only where recv said -EOVERFLOW, and then it
 * is exactly the count shmkit_chan_missed gives.  They count what they get
 * in the board; -EPIPE (the writer died) just means wait for the next.
 *
 * The parent kills a random victim (the writer or a subscriber), starts
 * another, and wants the subscribers' total to move within 10 s.  Under
 * backpressure a send that waits 10 s (CHAN_WAIT_NS) fails the writer: a dead
 * subscriber that held it back and was never dropped shows so.  The
 * longest send is printed (about one poll period), not asserted: no test
 * asserts on wall time.  At the end the writer closes, every subscriber reads to the end (0) and
 * exits 0, and stat shows no subscriber left.  Every wait is bounded:
 * channel calls time out (10 s), children run under alarm() and
 * PR_SET_PDEATHSIG.  The seed is printed; SHMKIT_TEST_SEED=N repeats the
 * same choices.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "chan_test.h"

#define KILLS 250
#define SUBS 4
#define CAPACITY 4096u
#define MAX_INC (KILLS + SUBS + 8)
#define PROGRESS_NS ((int64_t)10 * 1000000000)

struct crash_board {
	struct kids_board k;   /* first: kids.h's */
	_Atomic int stop;
	_Atomic uint64_t total;       /* messages the subscribers got */
	_Atomic uint64_t gaps, missed;
	_Atomic int64_t longest_send;
	_Atomic uint64_t sent;        /* by writers that closed */
};

static struct crash_board *sb;

static void setup(void)
{
	sb = kids_setup(sizeof(*sb), KID_LIFETIME_S);
}

TestSuite(chan_bcast_crash, .init = setup, .fini = kids_teardown, .timeout = 150);

struct arg {
	const char *name;
	uint32_t inc;
	uint64_t seed;
	bool overwrite;
};

static int writer_main(void *a)
{
	struct arg *wa = a;
	uint64_t rs = wa->seed ^ ((uint64_t)wa->inc << 32);
	shmkit_chan *c = NULL;
	unsigned char buf[512];
	struct shmkit_chan_info ci;

	int err = shmkit_chan_open(wa->name, 0, SHMKIT_CHAN_WRITER, NULL, &c);
	if (err)
		kid_fail("writer %u: open: %s", wa->inc, shmkit_strerror(err));
	err = shmkit_chan_stat(wa->name, &ci);
	if (err)
		kid_fail("writer %u: stat: %s", wa->inc, shmkit_strerror(err));
	uint64_t seq = ci.sent;
	for (; !atomic_load(&sb->stop); seq++) {
		size_t n = 16 + rnd_below(&rs, 200);
		int64_t t0 = now_ns();
		if (rnd_below(&rs, 2)) {
			msg_fill(buf, n, 0, seq);
			err = shmkit_chan_send(c, buf, n, wa->overwrite ? 0 : CHAN_WAIT_NS);
		} else {
			void *p;
			err = shmkit_chan_reserve(c, n, &p, wa->overwrite ? 0 : CHAN_WAIT_NS);
			if (!err) {
				msg_fill(p, n, 0, seq);
				if (rnd_below(&rs, 8) == 0)
					spin_ns((int64_t)rnd_below(&rs, 20000));  /* a kill lands here */
				err = shmkit_chan_commit(c);
			}
		}
		if (err)
			kid_fail("writer %u: seq %llu: %s", wa->inc, (unsigned long long)seq,
				   shmkit_strerror(err));
		int64_t took = now_ns() - t0;
		if (took > atomic_load(&sb->longest_send))
			atomic_store(&sb->longest_send, took);
		if (rnd_below(&rs, 16) == 0)
			spin_ns((int64_t)rnd_below(&rs, 30000));
	}
	atomic_store(&sb->sent, seq);
	return shmkit_chan_close(c) ? 5 : 0;
}

static int sub_main(void *a)
{
	struct arg *sa = a;
	uint64_t rs = sa->seed ^ ((uint64_t)sa->inc << 32) ^ 0x77;
	shmkit_chan *c = NULL;
	unsigned char buf[1024];
	uint64_t expect = 0;
	bool first = true;

	int err = shmkit_chan_open(sa->name, sa->inc & 1 ? SHMKIT_RDONLY : 0, SHMKIT_CHAN_READER,
				   NULL, &c);
	if (err)
		kid_fail("sub %u: open: %s", sa->inc, shmkit_strerror(err));
	for (;;) {
		long n = shmkit_chan_recv(c, buf, sizeof(buf), CHAN_WAIT_NS);
		if (n == 0)
			break;  /* the end: the last writer closed */
		if (n == -EPIPE)
			continue;  /* the writer died: another comes */
		if (n == -EOVERFLOW && sa->overwrite && !first) {
			uint64_t last;
			shmkit_chan_missed(c, &last, NULL);
			if (last == 0)
				kid_fail("sub %u: a gap of 0", sa->inc);
			expect += last;
			atomic_fetch_add(&sb->gaps, 1);
			atomic_fetch_add(&sb->missed, last);
			continue;
		}
		if (n == -EOVERFLOW && sa->overwrite) {
			first = true;  /* lapped before its first message: no expectation yet */
			continue;
		}
		if (n < 0)
			kid_fail("sub %u: recv after seq %llu: %s", sa->inc,
				   (unsigned long long)expect, shmkit_strerror((int)n));
		struct { uint32_t id; uint64_t seq; } h;
		if ((size_t)n < MSG_HDR)
			kid_fail("sub %u: %ld bytes", sa->inc, n);
		const char *why = msg_check(buf, (size_t)n, &h.id, &h.seq);
		if (why || h.id != 0)
			kid_fail("sub %u: torn message (seq %llu): %s", sa->inc, (unsigned long long)h.seq,
				 why ? why : "writer id not 0");
		if (!first && h.seq != expect)
			kid_fail("sub %u: seq %llu, expected %llu", sa->inc, (unsigned long long)h.seq,
				   (unsigned long long)expect);
		first = false;
		expect = h.seq + 1;
		atomic_fetch_add(&sb->total, 1);
		if (rnd_below(&rs, 64) == 0)
			sleep_ns((int64_t)rnd_below(&rs, 300000));  /* slow now and then */
	}
	return shmkit_chan_close(c) ? 5 : 0;
}

static void run(int backend, bool overwrite)
{
	uint64_t seed = test_seed(backend * 2 + overwrite), rs = seed;
	const char *name = ut_name(backend);
	const char *what = overwrite ? "overwrite" : "backpressure";
	struct shmkit_chan_opts o = { .capacity = CAPACITY, .kind = SHMKIT_CHAN_BROADCAST,
				      .overflow = overwrite ? SHMKIT_BCAST_OVERWRITE
							    : SHMKIT_BCAST_BACKPRESSURE };
	static struct arg args[MAX_INC];
	uint32_t next_inc = 0;
	int kills = 0, writer_kills = 0;
	int64_t t0 = now_ns();

	printf("bcast_crash %s, %s: seed %llu (SHMKIT_TEST_SEED=%llu repeats it)\n", what,
	       ut_backend_names[backend], (unsigned long long)seed, (unsigned long long)seed);
	cr_assert_eq(shmkit_chan_create(name, SHMKIT_EXCL, &o), 0);
	/* slot 0 the writer, 1..SUBS the subscribers */
	for (int i = 0; i <= SUBS; i++) {
		args[next_inc] = (struct arg){ .name = name, .inc = next_inc, .seed = seed,
					       .overwrite = overwrite };
		kid_spawn_at(i, i ? sub_main : writer_main, &args[next_inc++]);
	}
	while (kills < KILLS) {
		cr_assert(!atomic_load(&sb->k.failed), "%s", sb->k.msg);
		sleep_ns((int64_t)rnd_below(&rs, 2000000));
		int v = rnd_below(&rs, 4) == 0 ? 0 : 1 + (int)rnd_below(&rs, SUBS);
		cr_assert_eq(kill(kid_pids[v], SIGKILL), 0);
		int st = kid_wait(kid_pids[v], CHAN_WAIT_NS);
		kid_pids[v] = 0;
		cr_assert(WIFSIGNALED(st), "victim %d ended before the kill: %#x; %s", v, st,
			  sb->k.msg);
		kills++;
		writer_kills += v == 0;
		if (v == 0)
			atomic_store(&sb->longest_send, 0);  /* a new writer: its own sends */
		if (v != 0 && !overwrite && rnd_below(&rs, 2)) {
			/* half the time the dead subscriber's slot is left to the
			 * writer: it must find it dead and drop it to get on (a
			 * ring holds at most CAPACITY / 40 messages) */
			struct shmkit_chan_info ci;
			cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
			uint64_t from = ci.sent;
			int64_t end = now_ns() + PROGRESS_NS;
			do {
				cr_assert(!atomic_load(&sb->k.failed), "%s", sb->k.msg);
				cr_assert(now_ns() < end, "the writer is held by a dead subscriber "
					  "(kill %d; seed %llu)", kills, (unsigned long long)seed);
				sleep_ns(50000);
				cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
			} while (ci.sent < from + CAPACITY / 40 + 2);
		}
		args[next_inc] = (struct arg){ .name = name, .inc = next_inc, .seed = seed,
					       .overwrite = overwrite };
		kid_spawn_at(v, v ? sub_main : writer_main, &args[next_inc++]);
		uint64_t seen = atomic_load(&sb->total);
		int64_t end = now_ns() + PROGRESS_NS;
		while (atomic_load(&sb->total) == seen) {
			cr_assert(!atomic_load(&sb->k.failed), "%s", sb->k.msg);
			cr_assert(now_ns() < end, "no message for 10 s after kill %d; seed %llu", kills,
				  (unsigned long long)seed);
			sleep_ns(20000);
		}
	}
	atomic_store(&sb->stop, 1);
	int st = kid_wait(kid_pids[0], CHAN_WAIT_NS);
	kid_pids[0] = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "last writer: %#x; %s", st, sb->k.msg);
	for (int i = 1; i <= SUBS; i++) {
		st = kid_wait(kid_pids[i], 3 * CHAN_WAIT_NS);
		kid_pids[i] = 0;
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "subscriber: %#x; %s", st,
			  sb->k.msg);
	}
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.sent, atomic_load(&sb->sent), "sent %llu, the last writer's %llu",
		     (unsigned long long)ci.sent, (unsigned long long)atomic_load(&sb->sent));
	cr_expect_eq(ci.subscribers, 0);
	cr_expect(ci.closed);
	if (!overwrite)
		cr_expect_eq(atomic_load(&sb->gaps), 0);
	double secs = (double)(now_ns() - t0) / 1e9;
	printf("bcast_crash %s, %s: %d kills (%d of the writer), %.1f s\n", what,
	       ut_backend_names[backend], kills, writer_kills, secs);
	printf("  %llu messages sent, %llu received by %u subscriber incarnations, %llu missed in "
	       "%llu reported gaps, none torn; %u dead subscribers dropped, longest send %.2f ms\n",
	       (unsigned long long)ci.sent, (unsigned long long)atomic_load(&sb->total),
	       next_inc - (uint32_t)writer_kills - 1, (unsigned long long)atomic_load(&sb->missed),
	       (unsigned long long)atomic_load(&sb->gaps), ci.dropped,
	       (double)atomic_load(&sb->longest_send) / 1e6);
	cr_expect_geq(kills, 200);
}

Test(chan_bcast_crash, kill_backpressure_posix) { run(SHMKIT_BACKEND_POSIX, false); }
Test(chan_bcast_crash, kill_backpressure_sysv) { run(SHMKIT_BACKEND_SYSV, false); }
Test(chan_bcast_crash, kill_overwrite_posix) { run(SHMKIT_BACKEND_POSIX, true); }

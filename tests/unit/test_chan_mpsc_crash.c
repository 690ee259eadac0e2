/* SPDX-License-Identifier: MIT */
/*
 * Description: kill -9 of MPSC writers at random points (issue #6), 250
 * times per test, with WRITERS writer processes running at once and a new
 * incarnation started in each victim's place.
 *
 * Every writer process is an incarnation `inc` that sends messages tagged
 * (inc, seq, checksum), seq from 0, by send or by reserve + commit, with
 * random pauses (some between reserve and commit, where a kill abandons a
 * claimed record).  It notes attempted[inc] before each reservation and
 * committed[inc] after each commit returns, in a board no writer reads: a
 * kill can fall between the library's commit and the note, so the truth
 * lies in [committed, attempted].
 *
 * The reader is a child that is never killed: it checks every message's
 * checksum and that each incarnation's messages come in order, none twice
 * (seq == delivered[inc]), and counts them in the board.  At the end (the
 * parent stops the live writers, which close) it reads to the end of the
 * stream (0, or -EPIPE: no writer left, some died) and exits.
 *
 * Then: every incarnation's delivered count lies in [committed, attempted]
 * (no committed message lost; one killed between reserve and commit loses
 * that record only), the last ones, closed normally, are exact; the
 * channel's lost count is at most the number of incarnations killed with
 * a reservation outstanding (attempted == delivered + 1) and at least the
 * number killed while they said they held one; received equals
 * what the reader counted; sent lies within a kill per incarnation of it.
 * Every wait is bounded: channel calls time out (10 s), the parent wants
 * the reader's count to move within 10 s of each kill, children run under
 * alarm() and PR_SET_PDEATHSIG.  The seed is printed; SHMKIT_TEST_SEED=N
 * repeats the same choices.  Backends: posix (liveness by file lock) and
 * sysv (by PID identity).
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
#define WRITERS 4
#define CAPACITY 4096u
#define MAX_INC (KILLS + WRITERS + 8)
#define PROGRESS_NS ((int64_t)10 * 1000000000)

enum { PH_OUT, PH_OPEN, PH_SEND, PH_RESERVED, PH_COMMIT, PH_PAUSE, PH_COUNT };
static const char *const ph_names[] = { "out", "open", "send", "reserved", "commit", "pause" };

struct crash_board {
	struct kids_board k;   /* first: kids.h's */
	_Atomic int stop;
	_Atomic int reader_done;
	_Atomic uint64_t attempted[MAX_INC];
	_Atomic uint64_t committed[MAX_INC];
	_Atomic uint64_t delivered[MAX_INC];
	_Atomic uint64_t total;
	_Atomic int phase[MAX_INC];
};

static struct crash_board *sb;

static void setup(void)
{
	sb = kids_setup(sizeof(*sb), KID_LIFETIME_S);
}

TestSuite(chan_mpsc_crash, .init = setup, .fini = kids_teardown, .timeout = 120);

struct wr_arg {
	const char *name;
	uint32_t inc;
	uint64_t seed;
};

static int writer_main(void *a)
{
	struct wr_arg *wa = a;
	uint64_t rs = wa->seed ^ ((uint64_t)wa->inc << 32);
	_Atomic int *ph = &sb->phase[wa->inc];
	shmkit_chan *c = NULL;
	unsigned char buf[512];

	atomic_store(ph, PH_OPEN);
	int err = shmkit_chan_open(wa->name, 0, SHMKIT_CHAN_WRITER, NULL, &c);
	if (err)
		kid_fail("writer %u: open: %s", wa->inc, shmkit_strerror(err));
	for (uint64_t seq = 0; !atomic_load(&sb->stop); seq++) {
		size_t n = 16 + rnd_below(&rs, 300);
		atomic_store(&sb->attempted[wa->inc], seq + 1);
		if (rnd_below(&rs, 2)) {
			atomic_store(ph, PH_SEND);
			msg_fill(buf, n, wa->inc, seq);
			err = shmkit_chan_send(c, buf, n, CHAN_WAIT_NS);
		} else {
			void *p;
			err = shmkit_chan_reserve(c, n, &p, CHAN_WAIT_NS);
			if (!err) {
				atomic_store(ph, PH_RESERVED);
				msg_fill(buf, n, wa->inc, seq);
				memcpy(p, buf, n / 2);
				if (rnd_below(&rs, 4) == 0)
					spin_ns((int64_t)rnd_below(&rs, 50000));  /* a kill lands here */
				memcpy((char *)p + n / 2, buf + n / 2, n - n / 2);
				atomic_store(ph, PH_COMMIT);
				err = shmkit_chan_commit(c);
			}
		}
		if (err)
			kid_fail("writer %u: seq %llu: %s", wa->inc, (unsigned long long)seq,
				   shmkit_strerror(err));
		atomic_store(&sb->committed[wa->inc], seq + 1);
		if (rnd_below(&rs, 8) == 0) {
			atomic_store(ph, PH_PAUSE);
			spin_ns((int64_t)rnd_below(&rs, 20000));
		}
	}
	atomic_store(ph, PH_OUT);
	return shmkit_chan_close(c) ? 5 : 0;
}

static int reader_main(void *a)
{
	shmkit_chan *c = NULL;
	unsigned char buf[1024];
	int err = shmkit_chan_open(a, 0, SHMKIT_CHAN_READER, NULL, &c);

	if (err)
		kid_fail("reader: open: %s", shmkit_strerror(err));
	for (;;) {
		long n = shmkit_chan_recv(c, buf, sizeof(buf), CHAN_WAIT_NS);
		if (n == 0 || n == -EPIPE) {
			if (atomic_load(&sb->stop))
				break;
			continue;  /* every writer gone for a moment: they come back */
		}
		if (n < 0)
			kid_fail("reader: recv: %s", shmkit_strerror((int)n));
		struct { uint32_t inc; uint64_t seq; } h;
		if ((size_t)n < MSG_HDR)
			kid_fail("reader: %ld bytes", n);
		const char *why = msg_check(buf, (size_t)n, &h.inc, &h.seq);
		if (h.inc >= MAX_INC)
			kid_fail("reader: incarnation %u", h.inc);
		if (why)
			kid_fail("reader: inc %u seq %llu: %s", h.inc, (unsigned long long)h.seq, why);
		uint64_t d = atomic_load(&sb->delivered[h.inc]);
		if (h.seq != d)
			kid_fail("reader: inc %u: seq %llu after %llu delivered", h.inc,
				   (unsigned long long)h.seq, (unsigned long long)d);
		atomic_store(&sb->delivered[h.inc], d + 1);
		atomic_fetch_add(&sb->total, 1);
	}
	atomic_store(&sb->reader_done, 1);
	return shmkit_chan_close(c) ? 5 : 0;
}

static void run(int backend)
{
	uint64_t seed = test_seed(backend), rs = seed;
	const char *name = ut_name(backend);
	struct shmkit_chan_opts o = { .capacity = CAPACITY, .kind = SHMKIT_CHAN_MPSC };
	static struct wr_arg args[MAX_INC];
	int slot_inc[WRITERS];
	uint32_t next_inc = 0;
	int kills = 0, at[PH_COUNT] = { 0 };
	bool killed[MAX_INC] = { false };
	int64_t t0 = now_ns();

	printf("mpsc_crash kill writers, %s: seed %llu (SHMKIT_TEST_SEED=%llu repeats it)\n",
	       ut_backend_names[backend], (unsigned long long)seed, (unsigned long long)seed);
	cr_assert_eq(shmkit_chan_create(name, SHMKIT_EXCL, &o), 0);
	kid_spawn_at(WRITERS, reader_main, (void *)name);
	for (int i = 0; i < WRITERS; i++) {
		args[next_inc] = (struct wr_arg){ .name = name, .inc = next_inc, .seed = seed };
		slot_inc[i] = (int)next_inc;
		kid_spawn_at(i, writer_main, &args[next_inc++]);
	}
	while (kills < KILLS) {
		cr_assert(!atomic_load(&sb->k.failed), "%s", sb->k.msg);
		sleep_ns((int64_t)rnd_below(&rs, 2000000));
		int v = (int)rnd_below(&rs, WRITERS);
		int inc = slot_inc[v];
		/* the kill; where it landed, as the victim last said */
		cr_assert_eq(kill(kid_pids[v], SIGKILL), 0);
		int st = kid_wait(kid_pids[v], CHAN_WAIT_NS);
		kid_pids[v] = 0;
		cr_assert(WIFSIGNALED(st), "writer %d ended before the kill: %#x; %s", inc, st, sb->k.msg);
		at[atomic_load(&sb->phase[inc])]++;
		killed[inc] = true;
		kills++;
		args[next_inc] = (struct wr_arg){ .name = name, .inc = next_inc, .seed = seed };
		slot_inc[v] = (int)next_inc;
		kid_spawn_at(v, writer_main, &args[next_inc++]);
		/* progress: the reader moves on within PROGRESS_NS */
		uint64_t seen = atomic_load(&sb->total);
		int64_t end = now_ns() + PROGRESS_NS;
		while (atomic_load(&sb->total) == seen) {
			cr_assert(!atomic_load(&sb->k.failed), "%s", sb->k.msg);
			cr_assert(now_ns() < end, "no message delivered for 10 s after kill %d; seed %llu",
				  kills, (unsigned long long)seed);
			sleep_ns(20000);
		}
	}
	atomic_store(&sb->stop, 1);
	for (int i = 0; i < WRITERS; i++) {
		int st = kid_wait(kid_pids[i], CHAN_WAIT_NS);
		kid_pids[i] = 0;
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "last writer: %#x; %s", st, sb->k.msg);
	}
	int st = kid_wait(kid_pids[WRITERS], CHAN_WAIT_NS);
	kid_pids[WRITERS] = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reader: %#x; %s", st, sb->k.msg);

	uint64_t sum = 0, may_lose = 0;
	for (uint32_t i = 0; i < next_inc; i++) {
		uint64_t d = atomic_load(&sb->delivered[i]), c = atomic_load(&sb->committed[i]),
			 a = atomic_load(&sb->attempted[i]);
		cr_expect(d >= c && d <= a, "inc %u: delivered %llu, committed %llu, attempted %llu; "
			  "seed %llu", i, (unsigned long long)d, (unsigned long long)c,
			  (unsigned long long)a, (unsigned long long)seed);
		if (!killed[i])
			cr_expect_eq(d, a, "inc %u closed normally: all delivered", i);
		if (killed[i] && a == d + 1)
			may_lose++;
		sum += d;
	}
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(sum, atomic_load(&sb->total));
	cr_expect_eq(ci.received, sum, "received %llu, delivered %llu",
		     (unsigned long long)ci.received, (unsigned long long)sum);
	cr_expect(ci.sent <= sum && ci.sent + (uint64_t)kills >= sum, "sent %llu, delivered %llu",
		  (unsigned long long)ci.sent, (unsigned long long)sum);
	cr_expect(ci.lost <= may_lose, "lost %llu, at most %llu", (unsigned long long)ci.lost,
		  (unsigned long long)may_lose);
	/* a victim that said "reserved" held a claim it never committed */
	cr_expect_geq(ci.lost, (uint64_t)at[PH_RESERVED], "lost %llu, killed holding a claim %d",
		      (unsigned long long)ci.lost, at[PH_RESERVED]);
	cr_expect_eq(ci.used, 0);
	cr_expect_eq(ci.writers, 0);
	double secs = (double)(now_ns() - t0) / 1e9;
	printf("mpsc_crash kill writers, %s: %d kills, %.1f s\n", ut_backend_names[backend], kills,
	       secs);
	printf("  killed in:");
	for (int p = 0; p < PH_COUNT; p++)
		if (at[p])
			printf(" %s %d", ph_names[p], at[p]);
	printf("\n  %llu messages from %u writers delivered in order; %llu records lost "
	       "(%llu victims held a reservation or had just asked for one)\n",
	       (unsigned long long)sum, next_inc, (unsigned long long)ci.lost,
	       (unsigned long long)may_lose);
	cr_expect_geq(kills, 200);
}

Test(chan_mpsc_crash, kill_writers_posix) { run(SHMKIT_BACKEND_POSIX); }
Test(chan_mpsc_crash, kill_writers_sysv) { run(SHMKIT_BACKEND_SYSV); }

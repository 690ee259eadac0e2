/* SPDX-License-Identifier: MIT */
/*
 * Description: kill -9 of a channel's writer or reader at random points,
 * 200 or more times per test, and a new process taking over the role each
 * time: no committed message is lost, none is delivered twice (beyond the
 * one window the test itself opens, below), order is kept, nothing hangs.
 *
 * Writers.  Every writer process is an incarnation (inc = 0, 1, 2 ...) that
 * knows nothing of the ones before it: it sends messages tagged (inc, seq)
 * with seq from 0, by send or by batches of reservations and one commit,
 * with random pauses.  So that the checker can tell what was committed, it
 * notes in a board (shared memory that no writer ever reads) attempted[inc]
 * before each reservation and committed[inc] after each commit returns: a
 * kill can fall between the library's commit and that note, so the truth
 * lies in [committed, attempted].
 *
 * Readers.  A reader peeks a message, checks it (magic, length, checksum,
 * pattern), appends (inc, seq) to the board's delivery log, and only then
 * releases it (now, or after a few more peeks).  Around each release it
 * notes rel_hi (what it is about to release) before and rel_lo after, so
 * the channel's head is one of those two log positions whatever the kill
 * hit.  A new reader's first message must therefore be the log entry at
 * rel_lo or at rel_hi (an exact re-delivery of messages a dead reader had
 * peeked and logged but not released) or, when that position is the end of
 * the log, a new message; re-delivered messages must repeat the log in
 * order; new ones must follow the last logged one: the same incarnation
 * and seq + 1, or a later incarnation and seq 0.
 *
 * At the end (the last writer closes, the last reader reads to the end of
 * the stream) every incarnation's delivered prefix lies in [committed,
 * attempted] (no committed message lost; the last, closed normally, is
 * exact), the channel's statistics agree, and the segment is gone once
 * removed.  Every wait is bounded: channel calls time out (10 s at most),
 * the parent wants progress within 10 s of each kill, children run under
 * alarm() and PR_SET_PDEATHSIG.
 *
 * Kill points: the parent sleeps 0-2 ms, then kills the victim wherever it
 * is (the children publish what they are doing, for the statistics); one
 * kill in eight comes without waiting for the new process to get going, so
 * some land in shmkit_chan_open itself.  The seed is printed;
 * SHMKIT_TEST_SEED=N repeats the same choices.  Backends: posix (liveness
 * by file lock) and sysv (by PID identity): writer kills, reader kills, and
 * both (a random victim each time); file (file lock) with both.
 */
#include "chan_test.h"

#define KILLS 300                        /* per test */
#define CAPACITY 4096u                   /* small: the writer waits often */
#define MAX_INC 4096                     /* writer incarnations */
#define LOG_WINDOW 4096                  /* log entries kept (> a ring's worth) */
#define POLL_NS ((int64_t)200 * 1000000)
#define PROGRESS_NS ((int64_t)10 * 1000000000)

enum { KILL_WRITER = 1, KILL_READER = 2, KILL_BOTH = 3 };
enum { PH_OUT, PH_OPEN, PH_SEND, PH_RESERVE, PH_COMMIT, PH_PEEK, PH_LOG, PH_RELEASE,
       PH_PAUSE, PH_CLOSE, PH_COUNT };
static const char *const ph_names[] = { "out", "open", "send", "reserve", "commit", "peek",
					"log", "release", "pause", "close" };

struct entry { uint32_t inc, pad; uint64_t seq; };

struct crash_board {
	struct kids_board k;   /* first: kids.h's */
	_Atomic int stop;
	/* writers */
	_Atomic uint64_t attempted[MAX_INC];
	_Atomic uint64_t committed[MAX_INC];
	_Atomic uint64_t w_epipe;
	_Atomic int wphase;
	/* readers */
	_Atomic uint64_t count;                /* messages logged */
	struct entry log[LOG_WINDOW];          /* log[i % LOG_WINDOW] */
	_Atomic uint64_t rel_lo, rel_hi;
	_Atomic uint64_t received[MAX_INC];    /* per incarnation: delivered prefix */
	_Atomic uint64_t redelivered, r_epipe, eof;
	_Atomic uint64_t busy;                 /* -EBUSY from a takeover, retried */
	_Atomic int stalls;                    /* readers stall now and then */
	_Atomic int rphase;
};

struct ctx {
	int backend;
	int mode;
	const char *name;
	struct crash_board *sb;
	uint64_t seed, rng;
	pid_t writer, reader;
	unsigned winc;         /* the next writer incarnation */
	unsigned rinc;         /* readers started */
	int kills, wkills, rkills, quick;
	int at[2][PH_COUNT];   /* kills by victim and phase */
};

static struct crash_board *sb;

static void setup(void)
{
	ut_catch_crashes();
	sb = kids_setup(sizeof(*sb), KID_LIFETIME_S);
}

TestSuite(chan_spsc_crash, .init = setup, .fini = kids_teardown, .timeout = 120);

/* A pause in a child now and then: a wider window for the kill to hit. */
static void maybe_pause(uint64_t *rng, _Atomic int *phase)
{
	uint64_t x = rnd(rng);
	if (x % 8 == 0) {
		int old = atomic_load(phase);
		atomic_store(phase, PH_PAUSE);
		spin_ns((int64_t)((x >> 8) % 10000));
		atomic_store(phase, old);
	}
}

/* ---- messages (msg.h: writer id = incarnation) ---- */

static size_t pick_len(uint64_t *rng, size_t max)
{
	uint64_t x = rnd(rng);
	unsigned r = (unsigned)(x % 100);
	x >>= 8;
	if (r < 70)
		return 24 + x % 41;                               /* 24..64 */
	if (r < 95)
		return 65 + x % 192;                              /* 65..256 */
	return 257 + x % (max - 256);                             /* 257..max */
}

/* NULL if @p (n bytes) is a whole message, its (inc, seq) in *h; else why. */
static const char *check_msg(const void *p, long n, struct entry *h)
{
	if (n < MSG_HDR)
		return "shorter than a header";
	const char *why = msg_check(p, (size_t)n, &h->inc, &h->seq);
	if (!why && h->inc >= MAX_INC)
		return "incarnation out of range";
	return why;
}

/* ---- children ---- */

/*
 * Opens the role the dead process held.  -EBUSY is retried for up to
 * 100 ms and counted: on posix and file a process attaching at that moment
 * (here: the other side's replacement) can make the dead holder look alive
 * for an instant (see takeover_while_another_attaches in test_chan_spsc_peers.c);
 * longer than that, the role is held: a failure.
 */
static int open_role(const char *name, int role, shmkit_chan **c)
{
	int err;
	for (int i = 0; i < 100; i++) {
		err = shmkit_chan_open(name, 0, role, NULL, c);
		if (err != -EBUSY)
			return err;
		atomic_fetch_add(&sb->busy, 1);
		sleep_ns(1000000);
	}
	return err;
}

/* A writer incarnation: sends (inc, seq) messages until stopped, then
 * closes.  -EPIPE (no live reader, a full ring): waits and tries the same
 * message again; every reservation it made stays (committed or pending). */
static __attribute__((noreturn))
void writer_main(const char *name, uint32_t inc, uint64_t rng)
{
	shmkit_chan *w;
	unsigned char buf[CAPACITY / 4];

	atomic_store(&sb->wphase, PH_OPEN);
	int err = open_role(name, SHMKIT_CHAN_WRITER, &w);
	if (err)
		kid_fail("writer %u: open: %s", inc, shmkit_strerror(err));
	size_t max = shmkit_chan_max_msg(w);
	if (max != sizeof(buf))
		kid_fail("writer %u: max_msg %zu", inc, max);
	uint64_t seq = 0;
	while (!atomic_load(&sb->stop)) {
		unsigned batch = rnd_below(&rng, 4) == 0 ? 1 + (unsigned)rnd_below(&rng, 6) : 0;
		if (!batch) {
			size_t len = pick_len(&rng, max);
			msg_fill(buf, len, inc, seq);
			atomic_store(&sb->attempted[inc], seq + 1);
			atomic_store(&sb->wphase, PH_SEND);
			err = shmkit_chan_send(w, buf, len, CHAN_WAIT_NS);
			if (err == 0) {
				seq++;
				atomic_store(&sb->committed[inc], seq);
			}
		} else {
			unsigned done = 0;
			err = 0;
			while (done < batch) {
				size_t len = pick_len(&rng, max);
				void *p;
				atomic_store(&sb->attempted[inc], seq + 1);
				atomic_store(&sb->wphase, PH_RESERVE);
				err = shmkit_chan_reserve(w, len, &p, CHAN_WAIT_NS);
				if (err)
					break;
				maybe_pause(&rng, &sb->wphase);
				msg_fill(p, len, inc, seq);
				seq++;
				done++;
			}
			if (err == 0 || err == -EPIPE) {
				atomic_store(&sb->wphase, PH_COMMIT);
				int e2 = shmkit_chan_commit(w);
				if (e2)
					kid_fail("writer %u: commit: %s", inc, shmkit_strerror(e2));
				atomic_store(&sb->committed[inc], seq);
			}
		}
		atomic_store(&sb->wphase, PH_OUT);
		if (err == -EPIPE) {
			atomic_fetch_add(&sb->w_epipe, 1);
			sleep_ns(100000 + (int64_t)rnd_below(&rng, 400000));
			continue;
		}
		if (err)
			kid_fail("writer %u: seq %llu: %s", inc, (unsigned long long)seq,
				   shmkit_strerror(err));
		maybe_pause(&rng, &sb->wphase);
	}
	atomic_store(&sb->wphase, PH_CLOSE);
	err = shmkit_chan_close(w);
	if (err)
		kid_fail("writer %u: close: %s", inc, shmkit_strerror(err));
	_exit(0);
}

static struct entry log_at(uint64_t i)
{
	return sb->log[i % LOG_WINDOW];
}

static void release(shmkit_chan *r, uint64_t pos)
{
	atomic_store(&sb->rphase, PH_RELEASE);
	atomic_store(&sb->rel_hi, pos);
	int err = shmkit_chan_release(r);
	if (err)
		kid_fail("reader: release: %s", shmkit_strerror(err));
	atomic_store(&sb->rel_lo, pos);
	atomic_store(&sb->rphase, PH_OUT);
}

/* A reader incarnation: peek, check, log, release; to the end of the
 * stream. */
static __attribute__((noreturn))
void reader_main(const char *name, unsigned rinc, uint64_t rng)
{
	shmkit_chan *r;

	atomic_store(&sb->rphase, PH_OPEN);
	int err = open_role(name, SHMKIT_CHAN_READER, &r);
	if (err)
		kid_fail("reader %u: open: %s", rinc, shmkit_strerror(err));
	/* where this reader stands in the log: unknown until its first message */
	bool placed = false;
	uint64_t pos = 0;
	unsigned peeked = 0;
	for (;;) {
		const void *q;
		atomic_store(&sb->rphase, PH_PEEK);
		long n = shmkit_chan_peek(r, &q, 0);
		if (n == -EAGAIN) {
			/* hand back what we hold before waiting */
			if (peeked) {
				release(r, pos);
				peeked = 0;
			}
			atomic_store(&sb->rphase, PH_PEEK);
			n = shmkit_chan_peek(r, &q, POLL_NS);
		}
		if (n == 0) {
			/* the end: everything logged was released by now, by us
			 * or by a reader before us (what a dead reader logged
			 * without releasing must have come again) */
			uint64_t count = atomic_load(&sb->count);
			if (placed && pos != count)
				kid_fail("reader %u: the end of the stream at log position %llu "
					   "of %llu", rinc, (unsigned long long)pos,
					   (unsigned long long)count);
			if (!placed && atomic_load(&sb->rel_hi) != count)
				kid_fail("reader %u: the end of the stream, but log entries "
					   "%llu..%llu were never released and did not come again",
					   rinc, (unsigned long long)atomic_load(&sb->rel_hi),
					   (unsigned long long)count);
			release(r, count);
			atomic_fetch_add(&sb->eof, 1);
			break;
		}
		if (n < 0) {
			if (peeked) {
				release(r, pos);
				peeked = 0;
			}
			if (n == -ETIMEDOUT)
				continue;
			if (n == -EPIPE) {
				atomic_fetch_add(&sb->r_epipe, 1);
				sleep_ns(100000);
				continue;
			}
			kid_fail("reader %u: peek: %s", rinc, shmkit_strerror((int)n));
		}
		struct entry h;
		const char *why = check_msg(q, n, &h);
		if (why)
			kid_fail("reader %u: message after log position %llu (%ld bytes): %s",
				   rinc, (unsigned long long)pos, n, why);
		uint64_t count = atomic_load(&sb->count);
		if (!placed) {
			/* the head is at rel_lo or rel_hi, whichever the last
			 * reader got to */
			uint64_t lo = atomic_load(&sb->rel_lo), hi = atomic_load(&sb->rel_hi);
			uint64_t cand[2] = { lo, hi };
			bool found = false;
			for (int i = 0; i < 2 && !found; i++) {
				if (cand[i] > count || count - cand[i] > LOG_WINDOW / 2)
					kid_fail("reader %u: release marks %llu/%llu beyond the log "
						   "(%llu)", rinc, (unsigned long long)lo,
						   (unsigned long long)hi, (unsigned long long)count);
				if (cand[i] == count) {
					pos = count;
					found = true;
				} else {
					struct entry e = log_at(cand[i]);
					if (e.inc == h.inc && e.seq == h.seq) {
						pos = cand[i];
						found = true;
					}
				}
			}
			if (!found) {
				struct entry elo = log_at(lo);
				kid_fail("reader %u: first message (%u, %llu) is neither the one at "
					   "the released mark %llu (%u, %llu) nor at %llu; log has %llu",
					   rinc, h.inc, (unsigned long long)h.seq,
					   (unsigned long long)lo, elo.inc,
					   (unsigned long long)elo.seq, (unsigned long long)hi,
					   (unsigned long long)count);
			}
			placed = true;
		}
		if (pos < count) {
			/* a re-delivery: must repeat the log exactly */
			struct entry e = log_at(pos);
			if (e.inc != h.inc || e.seq != h.seq)
				kid_fail("reader %u: re-delivery at %llu is (%u, %llu), the log has "
					   "(%u, %llu)", rinc, (unsigned long long)pos, h.inc,
					   (unsigned long long)h.seq, e.inc,
					   (unsigned long long)e.seq);
			atomic_fetch_add(&sb->redelivered, 1);
		} else {
			/* new: it follows the last logged message */
			if (count > 0) {
				struct entry last = log_at(count - 1);
				bool ok = (h.inc == last.inc && h.seq == last.seq + 1) ||
					  (h.inc > last.inc && h.seq == 0);
				if (!ok)
					kid_fail("reader %u: (%u, %llu) after (%u, %llu): %s", rinc,
						   h.inc, (unsigned long long)h.seq, last.inc,
						   (unsigned long long)last.seq,
						   h.inc < last.inc ? "an older writer's message"
						   : h.inc > last.inc ? "a new writer's not from 0"
						   : h.seq <= last.seq ? "a repeat (duplicate)"
						   : "a gap (lost message)");
			} else if (h.seq != 0) {
				kid_fail("reader %u: the first message ever is (%u, %llu)", rinc,
					   h.inc, (unsigned long long)h.seq);
			}
			atomic_store(&sb->rphase, PH_LOG);
			sb->log[count % LOG_WINDOW] = (struct entry){ .inc = h.inc, .seq = h.seq };
			atomic_store(&sb->received[h.inc], h.seq + 1);
			atomic_store(&sb->count, count + 1);
		}
		pos++;
		peeked++;
		maybe_pause(&rng, &sb->rphase);
		if (atomic_load(&sb->stalls) && rnd_below(&rng, 256) == 0) {
			/* a stall: the writer fills the ring and waits for room,
			 * so writer kills find it blocked and the ring full */
			atomic_store(&sb->rphase, PH_PAUSE);
			sleep_ns((int64_t)rnd_below(&rng, 1000000));
		}
		/* release now, or after up to 8 peeks */
		if (rnd_below(&rng, 2) == 0 || peeked >= 8) {
			release(r, pos);
			peeked = 0;
		}
	}
	atomic_store(&sb->rphase, PH_CLOSE);
	err = shmkit_chan_close(r);
	if (err)
		kid_fail("reader %u: close: %s", rinc, shmkit_strerror(err));
	_exit(0);
}

/* ---- the parent ---- */

/* What the next child is to be (copied into it by fork). */
static struct { const char *name; unsigned inc; uint64_t seed; int which; } next_child;

static int child_main(void *arg)
{
	(void)arg;
	if (next_child.which == 0)
		writer_main(next_child.name, next_child.inc, next_child.seed);
	reader_main(next_child.name, next_child.inc, next_child.seed);
}

static pid_t start(struct ctx *c, int which)
{
	uint64_t cseed = rnd(&c->rng);
	unsigned inc = which == 0 ? c->winc++ : c->rinc++;

	cr_assert_lt(c->winc, (unsigned)MAX_INC);
	next_child.name = c->name;
	next_child.inc = inc;
	next_child.seed = cseed;
	next_child.which = which;
	return kid_spawn_at(which, child_main, NULL);
}

static const char *state_of(struct ctx *c)
{
	static char buf[1024];
	uint64_t cnt = atomic_load(&c->sb->count);
	struct entry last = cnt ? c->sb->log[(cnt - 1) % LOG_WINDOW] : (struct entry){ 0 };
	struct shmkit_chan_info ci;
	int err = shmkit_chan_stat(c->name, &ci);
	snprintf(buf, sizeof(buf),
		 "[seed %llu, %d kills, writer inc %u, reader %u] logged %llu (last (%u, %llu)), "
		 "rel %llu/%llu, wphase %s, rphase %s; chan: %s sent %llu received %llu used "
		 "%llu closed %d writer %d/%d reader %d/%d",
		 (unsigned long long)c->seed, c->kills, c->winc - 1, c->rinc - 1,
		 (unsigned long long)cnt, last.inc, (unsigned long long)last.seq,
		 (unsigned long long)atomic_load(&c->sb->rel_lo),
		 (unsigned long long)atomic_load(&c->sb->rel_hi),
		 ph_names[atomic_load(&c->sb->wphase) % PH_COUNT],
		 ph_names[atomic_load(&c->sb->rphase) % PH_COUNT], err ? shmkit_strerror(err) : "ok",
		 (unsigned long long)ci.sent, (unsigned long long)ci.received,
		 (unsigned long long)ci.used, ci.closed, (int)ci.writer_pid, ci.writer_alive,
		 (int)ci.reader_pid, ci.reader_alive);
	return buf;
}

/* Fails the test if a child reported a failure or ended on its own. */
static void check_children(struct ctx *c)
{
	cr_assert(!atomic_load(&c->sb->k.failed), "child failed: %s\n%s", c->sb->k.msg, state_of(c));
	for (int i = 0; i < 2; i++) {
		int st;
		if (kid_pids[i] > 0 && waitpid(kid_pids[i], &st, WNOHANG) == kid_pids[i]) {
			kid_pids[i] = 0;
			cr_assert(!atomic_load(&c->sb->k.failed), "child failed: %s\n%s", c->sb->k.msg,
				  state_of(c));
			cr_assert_fail("the %s ended on its own: status %#x\n%s",
				       i ? "reader" : "writer", st, state_of(c));
		}
	}
}

/* Waits until the new writer's first message is logged (which == 0) or a
 * message is logged after @count0 (which == 1). */
static void wait_progress(struct ctx *c, int which, unsigned inc, uint64_t count0)
{
	int64_t deadline = now_ns() + PROGRESS_NS;
	for (;;) {
		check_children(c);
		if (which == 0 ? atomic_load(&c->sb->received[inc]) > 0
			       : atomic_load(&c->sb->count) > count0)
			return;
		cr_assert(now_ns() < deadline, "no progress for 10 s after the %s was replaced: "
			  "hang?\n%s", which ? "reader" : "writer", state_of(c));
		sleep_ns(100000);
	}
}

static void kill_one(struct ctx *c)
{
	int which;
	if (c->mode == KILL_WRITER)
		which = 0;
	else if (c->mode == KILL_READER)
		which = 1;
	else
		which = (int)rnd_below(&c->rng, 2);
	pid_t pid = kid_pids[which];
	int ph = atomic_load(which ? &c->sb->rphase : &c->sb->wphase);
	uint64_t count0 = atomic_load(&c->sb->count);

	cr_assert_eq(kill(pid, SIGKILL), 0, "kill %d: %s", (int)pid, strerror(errno));
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	kid_pids[which] = 0;
	check_children(c);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "the %s ended before the kill: status %#x\n%s", which ? "reader" : "writer", st,
		  state_of(c));
	c->kills++;
	if (which)
		c->rkills++;
	else
		c->wkills++;
	c->at[which][ph % PH_COUNT]++;
	unsigned inc = which == 0 ? c->winc : c->rinc;
	start(c, which);
	if (rnd_below(&c->rng, 8) == 0) {
		c->quick++;  /* the next kill may land in its open */
		return;
	}
	wait_progress(c, which, inc, which ? atomic_load(&c->sb->count) : count0);
}

static void stop_all(struct ctx *c)
{
	atomic_store(&c->sb->stop, 1);
	int64_t deadline = now_ns() + 2 * CHAN_WAIT_NS;
	while (kid_pids[0] > 0 || kid_pids[1] > 0) {
		cr_assert(!atomic_load(&c->sb->k.failed), "child failed: %s\n%s", c->sb->k.msg,
			  state_of(c));
		for (int i = 0; i < 2; i++) {
			int st;
			if (kid_pids[i] > 0 && waitpid(kid_pids[i], &st, WNOHANG) == kid_pids[i]) {
				kid_pids[i] = 0;
				cr_assert(!atomic_load(&c->sb->k.failed), "child failed: %s\n%s",
					  c->sb->k.msg, state_of(c));
				cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
					  "the %s: status %#x\n%s", i ? "reader" : "writer", st,
					  state_of(c));
			}
		}
		cr_assert(now_ns() < deadline, "the writer or the reader did not finish in 20 s\n%s",
			  state_of(c));
		sleep_ns(500000);
	}
}

static void run(int backend, int mode)
{
	static const char *const modes[] = { "", "writer", "reader", "both" };
	struct ctx c;
	memset(&c, 0, sizeof(c));
	c.backend = backend;
	c.mode = mode;
	c.seed = test_seed(backend * 4 + mode);
	c.rng = c.seed;
	printf("chan_crash kill %s, %s: seed %llu (SHMKIT_TEST_SEED=%llu repeats it)\n",
	       modes[mode], ut_backend_names[backend], (unsigned long long)c.seed,
	       (unsigned long long)c.seed);
	fflush(stdout);

	cr_assert_neq((void *)sb, MAP_FAILED);
	c.sb = sb;
	atomic_store(&sb->stalls, mode != KILL_READER);
	c.name = ut_name(backend);
	struct shmkit_chan_opts o = { .capacity = CAPACITY };
	int err = shmkit_chan_create(c.name, SHMKIT_EXCL, &o);
	cr_assert_eq(err, 0, "create %s: %s", c.name, shmkit_strerror(err));

	int64_t t0 = now_ns();
	start(&c, 1);
	start(&c, 0);
	wait_progress(&c, 0, 0, 0);
	while (c.kills < KILLS) {
		sleep_ns((int64_t)rnd_below(&c.rng, 2000001));
		kill_one(&c);
	}
	/* let the last ones get going before the end */
	wait_progress(&c, 1, 0, atomic_load(&sb->count));
	stop_all(&c);
	double secs = (double)(now_ns() - t0) / 1e9;

	/* every incarnation's delivered prefix is within [committed, attempted] */
	uint64_t total = 0, exact = 0, lost_window = 0;
	for (unsigned i = 0; i < c.winc; i++) {
		uint64_t rcv = atomic_load(&sb->received[i]);
		uint64_t com = atomic_load(&sb->committed[i]);
		uint64_t att = atomic_load(&sb->attempted[i]);
		cr_expect(com <= rcv && rcv <= att,
			  "[seed %llu] writer %u: delivered %llu, but it committed %llu and "
			  "attempted %llu%s", (unsigned long long)c.seed, i,
			  (unsigned long long)rcv, (unsigned long long)com,
			  (unsigned long long)att,
			  rcv < com ? ": committed messages lost" : ": more than it sent");
		total += rcv;
		exact += rcv == com;
		lost_window += rcv > com;
	}
	unsigned last = c.winc - 1;
	cr_expect_eq(atomic_load(&sb->received[last]), atomic_load(&sb->committed[last]),
		     "[seed %llu] the last writer closed normally: all it committed arrives",
		     (unsigned long long)c.seed);
	cr_expect_eq(total, atomic_load(&sb->count), "[seed %llu]", (unsigned long long)c.seed);
	cr_expect_eq(atomic_load(&sb->eof), 1, "the last reader saw the end of the stream");
	cr_expect_eq(atomic_load(&sb->rel_lo), atomic_load(&sb->count));

	struct shmkit_chan_info ci;
	err = shmkit_chan_stat(c.name, &ci);
	cr_assert_eq(err, 0, "chan_stat: %s", shmkit_strerror(err));
	cr_expect_eq(ci.used, 0, "[seed %llu] used %llu at the end", (unsigned long long)c.seed,
		     (unsigned long long)ci.used);
	cr_expect_eq(ci.closed, 1);
	cr_expect_eq(ci.writer_alive, 0);
	cr_expect_eq(ci.reader_alive, 0);
	/* sent and received are statistics: a kill between the library's
	 * count and its publication may leave them off by a batch; shown only */
	struct shmkit_peer peers[128];
	int np = shmkit_peers(c.name, peers, 128), alive = 0;
	cr_assert_geq(np, 0, "peers: %s", shmkit_strerror(np));
	for (int i = 0; i < np && i < 128; i++)
		alive += peers[i].alive != 0;
	cr_expect_eq(alive, 0, "[seed %llu] %d peers still alive", (unsigned long long)c.seed,
		     alive);

	/* the segment goes when removed */
	cr_assert_eq(shmkit_remove(c.name), 0);
	struct shmkit_stat st;
	cr_expect_eq(shmkit_stat(c.name, &st), -ENOENT, "the channel segment leaked");

	printf("chan_crash kill %s, %s: %d kills (%d writers, %d readers; %d before the new one "
	       "got going), %.1f s\n", modes[mode], ut_backend_names[backend], c.kills, c.wkills,
	       c.rkills, c.quick, secs);
	for (int w = 0; w < 2; w++) {
		if (!(w ? c.rkills : c.wkills))
			continue;
		printf("  %s killed in:", w ? "reader" : "writer");
		for (int p = 0; p < PH_COUNT; p++)
			if (c.at[w][p])
				printf(" %s %d", ph_names[p], c.at[w][p]);
		printf("\n");
	}
	printf("  %llu messages from %u writers (%llu delivered exactly what they noted as "
	       "committed, %llu more: committed by the library before the kill but not yet "
	       "noted), %llu re-delivered to a new reader, -EPIPE %llu to writers / %llu to "
	       "readers; stat: sent %llu received %llu in_flight %llu used %llu%s; %d peer "
	       "slots listed\n",
	       (unsigned long long)total, c.winc, (unsigned long long)exact,
	       (unsigned long long)lost_window, (unsigned long long)atomic_load(&sb->redelivered),
	       (unsigned long long)atomic_load(&sb->w_epipe),
	       (unsigned long long)atomic_load(&sb->r_epipe), (unsigned long long)ci.sent,
	       (unsigned long long)ci.received, (unsigned long long)ci.in_flight,
	       (unsigned long long)ci.used,
	       ci.sent != total || ci.received != total ? " (counters differ from the messages "
	       "delivered)" : "", np);
	if (atomic_load(&sb->busy))
		printf("  %llu takeovers met -EBUSY first (the role's dead holder looked alive "
		       "for a moment), then succeeded\n",
		       (unsigned long long)atomic_load(&sb->busy));
	fflush(stdout);
	cr_expect_geq(c.kills, 200);
	cr_expect_gt(total, 0);
	if (mode != KILL_WRITER)
		cr_expect_gt(atomic_load(&sb->redelivered), 0,
			     "no reader was ever killed holding a logged, unreleased message");
}

Test(chan_spsc_crash, kill_writer_posix) { run(SHMKIT_BACKEND_POSIX, KILL_WRITER); }
Test(chan_spsc_crash, kill_reader_posix) { run(SHMKIT_BACKEND_POSIX, KILL_READER); }
Test(chan_spsc_crash, kill_both_posix) { run(SHMKIT_BACKEND_POSIX, KILL_BOTH); }
Test(chan_spsc_crash, kill_writer_sysv) { run(SHMKIT_BACKEND_SYSV, KILL_WRITER); }
Test(chan_spsc_crash, kill_reader_sysv) { run(SHMKIT_BACKEND_SYSV, KILL_READER); }
Test(chan_spsc_crash, kill_both_sysv) { run(SHMKIT_BACKEND_SYSV, KILL_BOTH); }
Test(chan_spsc_crash, kill_both_file) { run(SHMKIT_BACKEND_FILE, KILL_BOTH); }

/* SPDX-License-Identifier: MIT */
/*
 * wait.h - the one waiter every channel kind waits and wakes with.
 *
 * Overview.  A side that finds nothing to do (no message, no room) waits
 * for a word of the ring or of the control block to move from the value
 * it saw.  A call first polls that word briefly (shmkit__wait_poll), then
 * takes wait steps (shmkit__wait_step) until its caller sees progress or
 * the deadline passes.  A step spins on the watched word while the spin
 * budget lasts (SHMKIT_WAIT_SPIN_SLEEP; always under SHMKIT_WAIT_SPIN),
 * prefetching the line the caller reads next, and yields the CPU when the
 * word did not move (SHMKIT_YIELD_EVERY); after that it sleeps.
 *
 * Sleeping.  Every direction of wake-ups is a pair (struct shmkit__pair):
 * a flag the sleeper raises, the futex word it sleeps on, and how the
 * waker answers.  The sleeper raises its flag, then a barrier (W1), then
 * re-checks the watched word (and whatever more its caller asks) and
 * sleeps on the futex word only if nothing moved.  The waker publishes,
 * then a barrier (W2), then reads the flag and wakes only if it is raised.
 * W1 and W2 pair: one side sees the other, so no wake-up is lost, and a
 * side that does not sleep is never woken.  A sleep lasts at most
 * SHMKIT_OWNER_POLL_MS, so a caller that waits on a peer that died learns
 * it from its liveness check within that period.
 *
 * The barriers.  W1 is a full fence, or a
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which puts a full barrier
 * on every CPU that runs a registered process: a side that spins first
 * sleeps rarely and takes the membarrier, so that its waker needs only a
 * compiler barrier for W2 at every publication.  Sleepers that fence
 * instead (SHMKIT_WAIT_SLEEP, a process that could not register, or a
 * side that sleeps often: SHMKIT_MB_MIN_CALLS) say so in their pair's
 * fence set; a waker fences whenever the set is not empty or it is not
 * registered itself.  A sleeper that joins the set issues one membarrier
 * after it (W3), so that no waker still acts on the empty set it read
 * before; one that leaves it just clears its bit.
 *
 * Usage, in a protocol's wait loop:
 *
 *	struct shmkit__wait ws;
 *	shmkit__wait_start(&me, &ws, timeout_ns);
 *	for (;;) {
 *		look; if progress, return it;
 *		if (shmkit__wait_poll(&me, &ws, timeout_ns, word, seen)) continue;
 *		check the peer's liveness; timeout 0: return -EAGAIN;
 *		err = shmkit__wait_step(&me, &ws, &pair, &(struct shmkit__sleep){...});
 *		if (err) return err;
 *	}
 *
 * and after a publication the other side may sleep on:
 *	shmkit__wake(&me, &pair);
 *
 * Event loops.  A handle whose fd was asked for (shmkit_chan_fd, chan/fdw.h)
 * waits outside the library: a step of a call with timeout 0, where the
 * call would return -EAGAIN, arms instead of sleeping.  It drains its fd,
 * stores its wake id, raises its flag as SHMKIT_FLAG_FD (a role of one)
 * or bit 0 and its bit of the pair's fd set (a table's side), then W1 and
 * the same re-check as a sleep; the waker that finds it so sends one
 * datagram to the wake id, which makes the fd readable.
 */
#ifndef SHMKIT_CHAN_WAIT_H
#define SHMKIT_CHAN_WAIT_H

/* TSan models no standalone fence, and GCC 12 says so (-Wtsan) where a
 * fence is inlined.  The channels' fences order atomics only (W1/W2 here,
 * and the protocols' own pairs), which TSan never reports as races, so it
 * checks nothing less; every channel file includes this header. */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomic.h"
#include "futex.h"
#include "chan/layout_chan.h"

/* One side's way of waiting (part of every channel handle). */
struct shmkit__waiter {
	unsigned policy;             /* enum shmkit_wait, never DEFAULT */
	uint64_t spin_ns;            /* the spin budget of a wait */
	bool mb_self;                /* this process receives the membarriers */
	bool mb_sleep;               /* this side's W1 is a membarrier */
	shmkit_fence_set *fencers;   /* the set this side's sleeps are listed in */
	uint64_t fence_bit;          /* this side's bit there */
	uint64_t calls;              /* waits started: about one per message */
	uint64_t calls_at_sleep;     /* calls at the last sleep */
	struct shmkit__fdw *fdw;     /* the event-loop fd's, once asked for */
	int tx;                      /* the socket wakes are sent from, -1 none yet */
};

/*
 * A membarrier costs microseconds and interrupts every CPU; a fence costs
 * its waker some tens of nanoseconds per message.  A side that takes
 * membarriers and sleeps once per fewer calls than SHMKIT_MB_MIN_CALLS
 * (large messages, more processes than CPUs) fences from then on, and its
 * wakers with it; it takes membarriers again once it sleeps only once per
 * SHMKIT_MB_BACK_CALLS calls or more, so that a side near the first bound
 * does not pay a W3 at every other sleep (measured in
 * docs/architecture.md, "The waiter").
 */
#define SHMKIT_MB_MIN_CALLS 128
#define SHMKIT_MB_BACK_CALLS 4096

/*
 * A spinning step that saw nothing move yields its CPU: with more runnable
 * processes than CPUs (writers and readers of one channel, or two pairs on
 * two CPUs) the peer it waits for may be queued behind it, and a spin of
 * the whole budget (or of a time slice, under SHMKIT_WAIT_SPIN) would
 * delay the very progress it waits for.  A yield that returns within
 * SHMKIT_YIELD_ALONE_NS ran no one else (a bare sched_yield costs about
 * 0.5 us on a virtual machine, a switch to another process and back
 * several), so the spinner has its CPU to itself and yields again only
 * every SHMKIT_YIELD_EVERY steps (of 64 pauses each).  The brief poll of
 * shmkit__wait_poll comes first and never yields: in a stream or a round
 * trip on CPUs of their own, the wait ends within it.
 */
#define SHMKIT_YIELD_ALONE_NS 2000
#define SHMKIT_YIELD_EVERY 8u

/* How a sleeper's flag works, and who lowers it. */
enum shmkit__flag_kind {
	SHMKIT_FLAG_OWN,    /* a word of its own: raised to 1, lowered by the sleeper after */
	SHMKIT_FLAG_TAKEN,  /* a word of its own: raised to 1, lowered by the waker */
	SHMKIT_FLAG_BIT,    /* bit 0 of the futex word: raised by the sleeper; the
			     * waker's +1 lowers it and moves the word, so a sleeper
			     * whose flag an earlier wake took finds the word moved */
};
/* The value of an OWN or TAKEN flag whose side waits on its fd: the waker
 * that takes it (to 0) sends the wake. */
#define SHMKIT_FLAG_FD 2u

/* One direction of wake-ups: where its sleepers sleep, and how. */
struct shmkit__pair {
	_Atomic uint32_t *flag;      /* FLAG_BIT: the futex word */
	_Atomic uint32_t *futex;
	unsigned kind;               /* enum shmkit__flag_kind */
	bool bump;                   /* the waker adds 1 to the futex word (a sequence) */
	int nwake;                   /* sleepers a wake wakes: 1, or all (INT_MAX) */
	shmkit_fence_set *fencers;   /* the sleepers that fence (W1 without membarrier) */
	/* the sleepers' wake ids: a role of one's, or (FLAG_BIT) slot 0's,
	 * slot i's @id_stride * i bytes on */
	_Atomic uint64_t *wake_id;
	size_t id_stride;
	shmkit_fence_set *fdset;     /* FLAG_BIT: the slots armed on their fds */
};

/* Where the value a sleep compares comes from. */
enum shmkit__fval_from {
	SHMKIT_FVAL_GIVEN,  /* the caller's, read before it looked at the state */
	SHMKIT_FVAL_POS,    /* the low half of @pos, loaded just before the flag: a
			     * position every publication moves */
	SHMKIT_FVAL_FUTEX,  /* the futex word itself, loaded just before the flag */
};

/* What one wait step waits for. */
struct shmkit__sleep {
	_Atomic uint64_t *watch;     /* wait while it holds @seen */
	uint64_t seen;
	const void *prefetch;        /* a line to fetch while spinning, or NULL */
	unsigned fval_from;          /* enum shmkit__fval_from (FLAG_BIT: unused) */
	uint32_t fval;               /* SHMKIT_FVAL_GIVEN */
	_Atomic uint64_t *pos;       /* SHMKIT_FVAL_POS */
	/* more to re-check after W1, or NULL: true while there is still
	 * nothing to do */
	bool (*idle)(void *ctx);
	void *ctx;
};

/* A wait in progress: its deadline and how far it got. */
struct shmkit__wait {
	int64_t deadline;            /* CLOCK_MONOTONIC ns, or SHMKIT_NO_DEADLINE */
	int64_t spin_until;          /* SHMKIT_SPIN_UNSET, when spinning ends, or 0
				      * after a sleep: sleep at once from then on */
	bool polled;                 /* the brief poll was made */
	bool alone;                  /* the last yield found no one else to run */
	unsigned steps;              /* spinning steps since that yield */
	bool try_only;               /* timeout 0, or a wait turned into one */
	int armed_err;               /* what a waiting call that turned into a try
				      * (to arm its fd) returns when it arms */
};
#define SHMKIT_SPIN_UNSET INT64_MIN

static inline void shmkit__wait_start(struct shmkit__waiter *me, struct shmkit__wait *ws,
				      int64_t timeout_ns)
{
	me->calls++;
	ws->deadline = shmkit__deadline(timeout_ns);
	ws->spin_until = SHMKIT_SPIN_UNSET;
	ws->polled = false;
	ws->alone = false;
	ws->steps = 0;
	ws->try_only = timeout_ns == 0;
	ws->armed_err = 0;
}

/*
 * Polls @word while it holds @seen, up to 128 times, reading nothing else:
 * in a stream the next record (or the room) is usually a few hundred
 * nanoseconds away, and the clock reads and the liveness check of a full
 * wait step would cost more than the wait.  At most once per call, and
 * only in a call that may spin.  True if it moved.
 */
static inline bool shmkit__wait_poll(const struct shmkit__waiter *me, struct shmkit__wait *ws,
				     _Atomic uint64_t *word, uint64_t seen)
{
	if (ws->polled || ws->try_only || me->policy == SHMKIT_WAIT_SLEEP)
		return false;
	ws->polled = true;
	for (int i = 0; i < 128; i++) {
		/* relaxed: the caller looks again with acquire */
		if (load_relaxed(word) != seen)
			return true;
		shmkit__cpu_relax();
	}
	return false;
}

/*
 * One wait step: spins on @s->watch, or sleeps on @p's futex word, per
 * policy (see the top of this file).  Returns 0 to look again, or
 * -ETIMEDOUT / -EINTR.  In a call with timeout 0: -EAGAIN, after arming
 * the handle's fd if it has one (0 if the re-check saw progress).
 */
int shmkit__wait_step(struct shmkit__waiter *me, struct shmkit__wait *ws,
		      const struct shmkit__pair *p, const struct shmkit__sleep *s);

/* W2: the waker's barrier between its publication and its load of the
 * sleepers' flag. */
static inline void shmkit__wake_barrier(const struct shmkit__waiter *me,
					shmkit_fence_set *fencers)
{
	atomic_signal_fence(memory_order_seq_cst);
	/* W2: the publication before the flag's load; pairs with W1.  A
	 * compiler barrier is enough when every sleeper takes a membarrier
	 * (W3 keeps a sleeper that starts to fence from being missed) */
	if (!me->mb_self || load_relaxed(fencers))
		atomic_thread_fence(memory_order_seq_cst);
}

/* The wakes of sides that wait on their fds (wait.c): a role of one's
 * flag @f was seen SHMKIT_FLAG_FD; false if it turned out to be a futex
 * sleeper's (*f then holds its flag); and a table's fd set. */
bool shmkit__wake_fd(struct shmkit__waiter *me, const struct shmkit__pair *p, uint32_t *f);
void shmkit__wake_fds(struct shmkit__waiter *me, const struct shmkit__pair *p);

/* After a publication the sleepers of @p may wait for: W2, then a wake if
 * a flag is raised (inline: every commit and release passes here). */
static inline void shmkit__wake(struct shmkit__waiter *me, const struct shmkit__pair *p)
{
	shmkit__wake_barrier(me, p->fencers);  /* W2 */
	uint32_t f = load_relaxed(p->flag);
	if (!(p->kind == SHMKIT_FLAG_BIT ? f & 1 : f))
		return;
	if (p->kind != SHMKIT_FLAG_BIT && f == SHMKIT_FLAG_FD && shmkit__wake_fd(me, p, &f))
		return;
	if (p->kind == SHMKIT_FLAG_TAKEN)
		store_relaxed(p->flag, 0);
	/* +1: a sequence moved, or (FLAG_BIT) the flag lowered with it; only
	 * wakers write it so */
	if (p->kind == SHMKIT_FLAG_BIT) {
		/* FD3: the flag lowered before the fd set is taken, acquire: a
		 * side whose raise this +1 lowers is in the set we take (its
		 * bit was stored first, FD2); a set taken before the +1 could
		 * miss a side that re-armed in between, whose raised bit the +1
		 * would then lower with no wake sent */
		atomic_fetch_add_explicit(p->futex, 1, memory_order_acquire);
		if (p->fdset && load_relaxed(p->fdset))
			shmkit__wake_fds(me, p);
	} else if (p->bump) {
		fetch_add_relaxed(p->futex, 1);
	}
	shmkit__futex_wake(p->futex, p->nwake);
}

/* Sets this side's policy and spin budget and lists it as fencing or not
 * in @fencers at @bit (W3 when it starts to fence). */
void shmkit__waiter_set(struct shmkit__waiter *me, unsigned policy, uint64_t spin_ns,
			shmkit_fence_set *fencers, uint64_t bit);
/* Takes this side out of its fence set (a leaving slot's occupant). */
void shmkit__waiter_leave(struct shmkit__waiter *me);

#endif /* SHMKIT_CHAN_WAIT_H */

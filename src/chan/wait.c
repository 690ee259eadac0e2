/* SPDX-License-Identifier: MIT */
/*
 * wait.c - the channels' waiter: spinning, sleeping, waking, and the
 * membarrier that spares wakers a fence (chan/wait.h has the protocol).
 */
#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "chan/fdw.h"
#include "chan/wait.h"

/* ---- membarrier ---- */

/* This process's registration for MEMBARRIER_CMD_GLOBAL_EXPEDITED. */
enum mb_state { MB_UNASKED = 0, MB_REGISTERED, MB_FENCES_ONLY };

/* Asked once, at the first use; relaxed: racing threads get the same
 * answer, and registering twice is harmless.  fork() keeps the
 * registration (the child's mm is a copy of the parent's), and execve
 * drops it along with this variable. */
static _Atomic int mb_state;

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0u, 0);
}

static bool mb_registered(void)
{
	int s = load_relaxed(&mb_state);

	if (s == MB_UNASKED) {
		long q = membarrier(MEMBARRIER_CMD_QUERY);
		const char *off = getenv("SHMKIT_NO_MEMBARRIER");
		s = MB_FENCES_ONLY;
		if ((!off || !*off || *off == '0') && q > 0 &&
		    (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
		    (q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) &&
		    membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0)
			s = MB_REGISTERED;
		store_relaxed(&mb_state, s);
	}
	return s == MB_REGISTERED;
}

/*
 * A membarrier costs IPIs to the CPUs that run registered processes
 * (microseconds on a virtual machine), so only a side that spins first
 * takes one: its sleeps are rare, and its wakers then publish without a
 * fence.  A side that sleeps at once (SHMKIT_WAIT_SLEEP) fences, and so do
 * its wakers for it.
 */
/* Lists this side in its fence set or takes it out, as @fence says. */
static void list_fencing(struct shmkit__waiter *me, bool fence)
{
	me->mb_sleep = !fence;
	/* relaxed: only this side writes its bit */
	bool listed = (load_relaxed(me->fencers) & me->fence_bit) != 0;
	if (fence == listed)
		return;
	if (!fence) {
		/* wakers that still fence for us do no harm */
		atomic_fetch_and_explicit(me->fencers, ~me->fence_bit, memory_order_relaxed);
		return;
	}
	atomic_fetch_or_explicit(me->fencers, me->fence_bit, memory_order_relaxed);
	/* W3: a waker that read the set without our bit fenced nothing; the
	 * membarrier puts a full barrier on its CPU (it receives them: it
	 * skips its fence only when registered), so from here on it has
	 * either fenced or will see the bit; pairs with W2's load.  Any
	 * process may issue it; where the kernel has no membarrier at all,
	 * no waker is registered and every waker fences. */
	membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}

void shmkit__waiter_set(struct shmkit__waiter *me, unsigned policy, uint64_t spin_ns,
			shmkit_fence_set *fencers, uint64_t bit)
{
	me->policy = policy;
	me->spin_ns = spin_ns;
	me->mb_self = mb_registered();
	me->fencers = fencers;
	me->fence_bit = bit;
	me->calls_at_sleep = me->calls;
	list_fencing(me, !me->mb_self || policy == SHMKIT_WAIT_SLEEP);
}

/* Before a sleep: a side that sleeps often fences from now on, one that
 * has come to sleep rarely takes the membarrier again (wait.h,
 * SHMKIT_MB_MIN_CALLS); a side that must fence always does. */
static void adapt(struct shmkit__waiter *me)
{
	uint64_t calls = me->calls - me->calls_at_sleep;

	me->calls_at_sleep = me->calls;
	if (me->mb_self && me->policy != SHMKIT_WAIT_SLEEP)
		list_fencing(me, calls < (me->mb_sleep ? SHMKIT_MB_MIN_CALLS : SHMKIT_MB_BACK_CALLS));
}

void shmkit__waiter_leave(struct shmkit__waiter *me)
{
	if (me->fencers)
		atomic_fetch_and_explicit(me->fencers, ~me->fence_bit, memory_order_relaxed);
}

/* W1: the sleeper's flag before its re-check; pairs with W2.  A
 * membarrier that fails (a filter that forbids it here) cannot serve
 * again: the side lists itself as fencing and acts as unregistered from
 * then on, so it fences as a waker too; only this one sleep may then
 * wait out its poll period. */
static void sleep_barrier(struct shmkit__waiter *me)
{
	if (me->mb_sleep) {
		if (membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0)
			return;
		me->mb_self = false;
		me->mb_sleep = false;
		atomic_fetch_or_explicit(me->fencers, me->fence_bit, memory_order_relaxed);
	}
	atomic_thread_fence(memory_order_seq_cst);
}

/* Whether this step spins (or else sleeps). */
static bool spinning(const struct shmkit__waiter *me, struct shmkit__wait *ws, int64_t now)
{
	if (me->policy == SHMKIT_WAIT_SPIN)
		return true;
	if (me->policy == SHMKIT_WAIT_SLEEP)
		return false;
	if (ws->spin_until == SHMKIT_SPIN_UNSET)
		ws->spin_until = now + (int64_t)me->spin_ns;
	return now < ws->spin_until;
}

/*
 * A spinning step's yield (wait.h, SHMKIT_YIELD_EVERY): the peer a spinner
 * waits for may be runnable on this very CPU, and a spin of the whole
 * budget would only delay it.  A yield that comes back at once found the
 * CPU to itself; the wait then yields only every SHMKIT_YIELD_EVERY steps,
 * in case that changes.
 */
static void spin_yield(struct shmkit__wait *ws)
{
	if (ws->alone && ++ws->steps % SHMKIT_YIELD_EVERY != 0)
		return;
	int64_t t0 = shmkit__mono_ns();  /* the yield alone, not the step's pauses */
	sched_yield();
	ws->alone = shmkit__mono_ns() - t0 < SHMKIT_YIELD_ALONE_NS;
	ws->steps = 0;
}

/* ---- event loops ---- */

bool shmkit__wake_fd(struct shmkit__waiter *me, const struct shmkit__pair *p, uint32_t *f)
{
	uint32_t want = SHMKIT_FLAG_FD;

	/* FD1: taking the flag, acquire: the wake id stored before it was
	 * raised; pairs with FD2.  Whoever takes it sends the one wake */
	if (!atomic_compare_exchange_strong_explicit(p->flag, &want, 0, memory_order_acquire,
						     memory_order_relaxed)) {
		*f = want;  /* taken by another waker (0), or a futex sleeper's 1 */
		return want == 0;
	}
	shmkit__fdw_send(&me->tx, load_relaxed(p->wake_id));
	return true;
}

void shmkit__wake_fds(struct shmkit__waiter *me, const struct shmkit__pair *p)
{
	/* FD1 for a table: the set taken at once, acquire: each slot's wake
	 * id stored before its bit; pairs with FD2 */
	uint64_t bits = atomic_exchange_explicit(p->fdset, 0, memory_order_acquire);

	while (bits) {
		unsigned i = (unsigned)__builtin_ctzll(bits);
		bits &= bits - 1;
		_Atomic uint64_t *id = (_Atomic uint64_t *)(void *)((char *)p->wake_id +
								    p->id_stride * i);
		shmkit__fdw_send(&me->tx, load_relaxed(id));
	}
}

/*
 * A step of a call with timeout 0 on a handle with an fd: arms it (the
 * sleep of wait.h's "Event loops").  -EAGAIN armed, or 0 to look again:
 * the re-check saw progress, or a peer died since the caller's look.
 */
static int fd_arm(struct shmkit__waiter *me, const struct shmkit__pair *p,
		  const struct shmkit__sleep *s)
{
	if (shmkit__fdw_prepare(me->fdw))
		return 0;
	adapt(me);
	uint64_t id = shmkit__fdw_id(me->fdw);
	if (p->kind == SHMKIT_FLAG_BIT) {
		_Atomic uint64_t *mine = (_Atomic uint64_t *)(void *)((char *)p->wake_id +
			p->id_stride * (unsigned)__builtin_ctzll(me->fence_bit));
		store_relaxed(mine, id);
		/* FD2: the id before the set's bit, and the bit before the
		 * flag; pairs with FD1 and FD3 */
		atomic_fetch_or_explicit(p->fdset, me->fence_bit, memory_order_release);
		atomic_fetch_or_explicit(p->flag, 1, memory_order_release);
	} else {
		store_relaxed(p->wake_id, id);
		store_release(p->flag, SHMKIT_FLAG_FD);  /* FD2: the id before the flag */
	}
	sleep_barrier(me);  /* W1 */
	if (load_relaxed(s->watch) == s->seen && (!s->idle || s->idle(s->ctx)))
		return -EAGAIN;
	if (p->kind != SHMKIT_FLAG_BIT) {
		/* progress came: no wake needed (a waker may have taken it) */
		uint32_t want = SHMKIT_FLAG_FD;
		atomic_compare_exchange_strong_explicit(p->flag, &want, 0, memory_order_relaxed,
							memory_order_relaxed);
	}
	return 0;
}

/* ---- waiting ---- */

int shmkit__wait_step(struct shmkit__waiter *me, struct shmkit__wait *ws,
		      const struct shmkit__pair *p, const struct shmkit__sleep *s)
{
	if (ws->try_only) {
		int err = me->fdw ? fd_arm(me, p, s) : -EAGAIN;
		return err == -EAGAIN && ws->armed_err ? ws->armed_err : err;
	}
	int64_t now = shmkit__mono_ns();

	/* a waiting call on a handle with an fd leaves it armed when it
	 * gives up: it goes on as a call with timeout 0 (every check forced),
	 * which arms, and returns its own error there */
	if (ws->deadline >= 0 && now >= ws->deadline) {
		if (!me->fdw)
			return -ETIMEDOUT;
		ws->try_only = true;
		ws->armed_err = -ETIMEDOUT;
		return 0;
	}
	if (spinning(me, ws, now)) {
		/* relaxed: the caller looks again with acquire */
		for (int i = 0; i < 64 && load_relaxed(s->watch) == s->seen; i++) {
			if (s->prefetch)
				__builtin_prefetch(s->prefetch, 0, 3);
			shmkit__cpu_relax();
		}
		if (load_relaxed(s->watch) == s->seen)
			spin_yield(ws);
		return 0;
	}
	adapt(me);
	uint32_t fval;
	if (p->kind == SHMKIT_FLAG_BIT) {
		/* the flag, and the value to sleep on: any wake from here
		 * moves it */
		fval = atomic_fetch_or_explicit(p->flag, 1, memory_order_relaxed) | 1;
	} else {
		/* the value the futex compares, read before the flag: every
		 * publication after this load moves it (a position), or
		 * every wake does (a sequence the waker bumps) */
		if (s->fval_from == SHMKIT_FVAL_POS)
			fval = (uint32_t)load_acquire(s->pos);  /* pairs with the publisher's release */
		else if (s->fval_from == SHMKIT_FVAL_FUTEX)
			/* relaxed: a wake after this load bumps the word (an RMW), so
			 * the futex compare fails; one before it is what W1 and the
			 * re-check catch */
			fval = load_relaxed(p->futex);
		else
			fval = s->fval;
		store_relaxed(p->flag, 1);
	}
	sleep_barrier(me);  /* W1 */
	int err = 0;
	if (load_relaxed(s->watch) == s->seen && (!s->idle || s->idle(s->ctx)))
		err = shmkit__futex_wait(p->futex, fval,
					 shmkit__deadline_min(ws->deadline, now + SHMKIT_POLL_NS));
	if (p->kind == SHMKIT_FLAG_OWN)
		store_relaxed(p->flag, 0);
	ws->spin_until = 0;  /* slept once: sleep at once from now on */
	if (err == -EINTR && me->fdw) {
		ws->try_only = true;  /* as at the deadline */
		ws->armed_err = -EINTR;
		return 0;
	}
	return err == -EINTR ? err : 0;
}

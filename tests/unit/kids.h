/* SPDX-License-Identifier: MIT */
/*
 * kids.h - the one child-process helper of the unit tests: every suite that
 * forks starts, waits for, kills and reaps its children here.
 *
 *  - the board: a MAP_SHARED mapping made by kids_setup() (a suite's .init)
 *    and inherited across fork.  It starts with struct kids_board (a
 *    child's failure and its message, the ready count, the parent's go); a
 *    suite puts fields of its own after it:
 *	struct board { struct kids_board k; _Atomic int stage; };
 *	static struct board *bd;
 *	static void setup(void) { bd = kids_setup(sizeof(*bd), KID_LIFETIME_S); }
 *	TestSuite(x, .init = setup, .fini = kids_teardown);
 *  - children: kid_spawn(fn, arg) (or kid_spawn_at(slot, ...) where a test
 *    names its children by place in kid_pids[], or kid_spawn_nth(fn, idx,
 *    arg) for children that take their number) runs fn in a child that dies
 *    with the test process (PR_SET_PDEATHSIG) and lives the suite's
 *    lifetime at most (alarm), and exits with fn's return value;
 *  - waits, each bounded: kid_wait (the wait status), kid_reap (an exit
 *    code, 128 + signal if killed), kid_expect_exit0, kid_kill (kill -9 and
 *    check it was the kill that ended it), kids_wait_ready (n children said
 *    kid_ready), and in a child kid_wait_go;
 *  - a child's failure: kid_fail(fmt, ...) notes the first one on the board
 *    and exits KID_EXIT_FAILED; the parent's kids_check() fails the test
 *    with that message, and every wait above names it;
 *  - kids_teardown (the suite's .fini) kills and reaps whatever a failed
 *    test left running and removes the test's segments (util.h).
 */
#ifndef SHMKIT_TEST_KIDS_H
#define SHMKIT_TEST_KIDS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define KIDS_MAX 80                          /* children one test has at once */
#define KID_LIFETIME_S 150                   /* a child's alarm: no child outlives a lost test */
#define KID_WAIT_NS ((int64_t)10 * 1000000000) /* the parent's wait for a child (to end, to be
						* ready), a child's wait for the go */

/* A child's exit codes besides its function's own. */
#define KID_EXIT_FAILED 3   /* kid_fail: the board says why */
#define KID_EXIT_ORPHAN 4   /* the test process was gone before the child ran */

/* The start of every board (MAP_SHARED, inherited across fork). */
struct kids_board {
	_Atomic int failed;  /* a child failed; msg says how */
	_Atomic int ready;   /* children ready (kid_ready, kids_wait_ready) */
	_Atomic int go;      /* the parent's go (kids_go, kid_wait_go) */
	char msg[1024];
};

static struct kids_board *kids_bd;
static size_t kids_bd_size;
static unsigned kids_lifetime_s = KID_LIFETIME_S;
/* The test's children by place (0 for none): kid_spawn takes a free one. */
static pid_t kid_pids[KIDS_MAX];

/* A suite's .init: a fresh board of @size bytes (struct kids_board first),
 * zeroed; children live @lifetime_s at most. */
static inline void *kids_setup(size_t size, unsigned lifetime_s)
{
	if (size < sizeof(struct kids_board))
		size = sizeof(struct kids_board);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	kids_bd = p;
	kids_bd_size = size;
	kids_lifetime_s = lifetime_s;
	memset(kid_pids, 0, sizeof(kid_pids));
	return p;
}

/* Kills and reaps the children still known, and forgets them. */
static inline void kids_kill_all(void)
{
	for (int i = 0; i < KIDS_MAX; i++) {
		if (kid_pids[i] > 0) {
			kill(kid_pids[i], SIGKILL);
			waitpid(kid_pids[i], NULL, 0);
			kid_pids[i] = 0;
		}
	}
}

/* A suite's .fini: no child left running, no segment left, no board. */
static inline void kids_teardown(void)
{
	alarm(0);
	kids_kill_all();
	ut_cleanup();
	if (kids_bd)
		munmap(kids_bd, kids_bd_size);
	kids_bd = NULL;
}

/* The board's message, for the parent's failure messages. */
static inline const char *kids_msg(void)
{
	return kids_bd ? kids_bd->msg : "";
}

/* In a child: notes the failure on the board (the first one only) and
 * exits KID_EXIT_FAILED. */
static inline __attribute__((noreturn, format(printf, 1, 2)))
void kid_fail(const char *fmt, ...)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&kids_bd->failed, &expected, 1)) {
		va_list ap;
		va_start(ap, fmt);
		int k = snprintf(kids_bd->msg, sizeof(kids_bd->msg), "child %d: ", (int)getpid());
		vsnprintf(kids_bd->msg + k, sizeof(kids_bd->msg) - (size_t)k, fmt, ap);
		va_end(ap);
	}
	_exit(KID_EXIT_FAILED);
}

/* In the parent: fails the test if a child failed. */
static inline void kids_check(void)
{
	cr_assert(!atomic_load(&kids_bd->failed), "child failed: %s", kids_bd->msg);
}

/* Runs fn(arg) in a child in kid_pids[@slot], which exits with its return
 * value; its pid. */
static inline pid_t kid_spawn_at(int slot, int (*fn)(void *), void *arg)
{
	pid_t parent = getpid();

	cr_assert(slot >= 0 && slot < KIDS_MAX && kid_pids[slot] == 0, "child slot %d taken",
		  slot);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(KID_EXIT_ORPHAN);
		alarm(kids_lifetime_s);
		_exit(fn(arg));
	}
	kid_pids[slot] = pid;
	return pid;
}

/* Runs fn(arg) in a child in a free place; its pid. */
static inline pid_t kid_spawn(int (*fn)(void *), void *arg)
{
	int slot = 0;
	while (slot < KIDS_MAX && kid_pids[slot] != 0)
		slot++;
	cr_assert_lt(slot, KIDS_MAX, "too many children");
	return kid_spawn_at(slot, fn, arg);
}

/* Children that take their number: fn(idx, arg). */
static int (*kid_nth_fn)(int, void *);
static int kid_nth_idx;

static inline int kid_run_nth(void *arg)
{
	return kid_nth_fn(kid_nth_idx, arg);
}

static inline pid_t kid_spawn_nth(int (*fn)(int, void *), int idx, void *arg)
{
	kid_nth_fn = fn;
	kid_nth_idx = idx;
	return kid_spawn(kid_run_nth, arg);
}

static inline void kid_forget(pid_t pid)
{
	for (int i = 0; i < KIDS_MAX; i++)
		if (kid_pids[i] == pid)
			kid_pids[i] = 0;
}

/* Whether child @pid has ended (its wait status in *st, and forgotten). */
static inline bool kid_poll(pid_t pid, int *st)
{
	pid_t w = waitpid(pid, st, WNOHANG);
	cr_assert_geq(w, 0, "waitpid %d: %s", (int)pid, strerror(errno));
	if (w != pid)
		return false;
	kid_forget(pid);
	return true;
}

/* Waits (at most @timeout_ns, then kills it and fails) for child @pid to
 * end; its wait status. */
static inline int kid_wait(pid_t pid, int64_t timeout_ns)
{
	int64_t end = now_ns() + timeout_ns;
	int st;

	while (!kid_poll(pid, &st)) {
		if (now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			kid_forget(pid);
			cr_assert_fail("child %d did not end in time; board: %s", (int)pid, kids_msg());
		}
		sleep_ns(100000);
	}
	return st;
}

/* A wait status as one number: the exit code, or 128 + the signal. */
static inline int kid_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Waits for child @pid as long as it may live (its alarm ends it); its
 * exit code, 128 + signal if killed. */
static inline int kid_reap(pid_t pid)
{
	return kid_code(kid_wait(pid, (int64_t)kids_lifetime_s * 1000000000 + KID_WAIT_NS));
}

/* Waits (at most @timeout_ns) for child @pid and asserts it exited 0;
 * @what, unless NULL, names it in the message. */
static inline void kid_expect_exit0(pid_t pid, int64_t timeout_ns, const char *what)
{
	int st = kid_wait(pid, timeout_ns);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s%schild status %#x; board: %s",
		  what ? what : "", what ? ": " : "", st, kids_msg());
}

/* kill -9 of child @pid, and it was the kill that ended it. */
static inline void kid_kill(pid_t pid)
{
	cr_assert_eq(kill(pid, SIGKILL), 0, "kill %d: %s", (int)pid, strerror(errno));
	int st = kid_wait(pid, KID_WAIT_NS);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "child %d ended before the kill: status %#x; board: %s", (int)pid, st, kids_msg());
}

/* In a child: one more ready. */
static inline void kid_ready(void)
{
	atomic_fetch_add(&kids_bd->ready, 1);
}

/* Waits (bounded) until @n children said kid_ready. */
static inline void kids_wait_ready(int n)
{
	int64_t end = now_ns() + KID_WAIT_NS;
	while (atomic_load(&kids_bd->ready) < n) {
		kids_check();
		cr_assert(now_ns() < end, "children not ready (%d of %d)",
			  atomic_load(&kids_bd->ready), n);
		sleep_ns(100000);
	}
}

/* The parent's go @v. */
static inline void kids_go(int v)
{
	atomic_store(&kids_bd->go, v);
}

/* In a child: a bounded wait for the parent's go (>= @v). */
static inline void kid_wait_go(int v)
{
	int64_t end = now_ns() + KID_WAIT_NS;
	while (atomic_load(&kids_bd->go) < v) {
		if (now_ns() > end)
			kid_fail("no go %d from the parent", v);
		sleep_ns(50000);
	}
}

/* Runs fn(arg) in a child and waits for it (bounded); its exit code, 128 +
 * signal if killed. */
static inline int kid_run(int (*fn)(void *), void *arg)
{
	return kid_reap(kid_spawn(fn, arg));
}

/*
 * In a child: the region it works in, the handle it inherited across fork
 * or, for odd @serial when the region has a @name, a handle of its own
 * (another mapping, another peer slot), which it returns in *own for
 * kid_exit to close.
 */
static inline shmkit_region *kid_region(shmkit_region *inherited, const char *name,
					unsigned serial, shmkit_region **own)
{
	*own = NULL;
	if (!name || !(serial & 1))
		return inherited;
	int err = shmkit_region_open(name, 0, 0, 0, own);
	if (err)
		kid_fail("open %s: %s", name, shmkit_strerror(err));
	return *own;
}

/* In a child: a clean end; closes its own handle (exit 5 if that fails). */
static inline __attribute__((noreturn)) void kid_exit(shmkit_region *own)
{
	if (own && shmkit_region_close(own) != 0)
		_exit(5);
	_exit(0);
}

/* In a child: waits to be killed. */
static inline __attribute__((noreturn)) void kid_park(void)
{
	for (;;)
		pause();
}

#endif

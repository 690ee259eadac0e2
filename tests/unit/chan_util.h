/* SPDX-License-Identifier: MIT */
/*
 * chan_util.h - shared by the channel suites (test_chan.c, test_mpsc.c,
 * test_bcast.c): a board shared with child processes, children started
 * under an alarm and PR_SET_PDEATHSIG and reaped (by .fini too, when a test
 * failed half-way) and bounded waits for them.  The clock, sleeping, the
 * seed and the FNV-1a checksum and 64-bit mixer the suites' messages are
 * made of come from crash_util.h.
 *
 * A suite may define, before it includes this,
 *	MAX_KIDS          the children it has at once (16 if not);
 *	CHAN_BOARD_EXTRA  fields of its own in the board, e.g.
 *			  #define CHAN_BOARD_EXTRA _Atomic int stage;
 * and declares
 *	TestSuite(name, .init = chan_setup, .fini = chan_teardown, ...);
 * (or an .init of its own that calls chan_setup).
 */
#ifndef SHMKIT_TEST_CHAN_UTIL_H
#define SHMKIT_TEST_CHAN_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "crash_util.h"
#include "util.h"

#define LONG_NS ((int64_t)10 * 1000000000)  /* a generous bound: 10 s */
#define SHORT_NS ((int64_t)20 * 1000000)    /* a short timeout: 20 ms */
#define CHILD_ALARM_S 150                   /* no child outlives a lost test */
#ifndef MAX_KIDS
#define MAX_KIDS 16
#endif
#ifndef CHAN_BOARD_EXTRA
#define CHAN_BOARD_EXTRA
#endif

/* A page shared with every child (MAP_SHARED, inherited across fork). */
struct board {
	_Atomic int failed;  /* a child failed; msg says how */
	_Atomic int ready;   /* children ready (wait_ready) */
	_Atomic int go;      /* the parent's go (child_wait_go) */
	CHAN_BOARD_EXTRA
	char msg[512];
};

static struct board *bd;
static pid_t kids[MAX_KIDS];

static inline void chan_setup(void)
{
	bd = mmap(NULL, sizeof(*bd), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (bd == MAP_FAILED)
		abort();
	memset(kids, 0, sizeof(kids));
}

/* Kills and reaps whatever a failed test left running, removes segments. */
static inline void chan_teardown(void)
{
	alarm(0);
	reap_kids(kids, MAX_KIDS);
	ut_cleanup();
}

/* Records a child's failure on the board and ends the child. */
static inline __attribute__((noreturn, format(printf, 1, 2)))
void child_fail(const char *fmt, ...)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&bd->failed, &expected, 1)) {
		va_list ap;
		va_start(ap, fmt);
		int k = snprintf(bd->msg, sizeof(bd->msg), "child %d: ", (int)getpid());
		vsnprintf(bd->msg + k, sizeof(bd->msg) - (size_t)k, fmt, ap);
		va_end(ap);
	}
	_exit(3);
}

/* Runs fn(arg) in a child, which exits with its return value. */
static inline pid_t spawn(int (*fn)(void *), void *arg)
{
	pid_t parent = getpid();
	int slot = -1;

	for (int i = 0; i < MAX_KIDS && slot < 0; i++)
		if (kids[i] == 0)
			slot = i;
	cr_assert_geq(slot, 0, "too many children");
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(4);
		alarm(CHILD_ALARM_S);
		_exit(fn(arg));
	}
	kids[slot] = pid;
	return pid;
}

static inline void forget(pid_t pid)
{
	for (int i = 0; i < MAX_KIDS; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

/* Waits (at most @timeout_ns) for child @pid to end; its wait status. */
static inline int wait_kid(pid_t pid, int64_t timeout_ns)
{
	int64_t end = now_ns() + timeout_ns;
	int st;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			forget(pid);
			return st;
		}
		cr_assert_geq(w, 0, "waitpid %d: %s", (int)pid, strerror(errno));
		if (now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			forget(pid);
			cr_assert_fail("child %d did not end in time; board: %s", (int)pid, bd->msg);
		}
		sleep_ns(200000);
	}
}

/* Waits (at most @timeout_ns) for child @pid and asserts it exited 0;
 * @what, unless NULL, names it in the message. */
static inline void expect_exit0_in(pid_t pid, int64_t timeout_ns, const char *what)
{
	int st = wait_kid(pid, timeout_ns);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s%schild status %#x; board: %s",
		  what ? what : "", what ? ": " : "", st, bd->msg);
}

/* Waits (bounded) until @n children reported ready on the board. */
static inline void wait_ready(int n)
{
	int64_t end = now_ns() + LONG_NS;
	while (atomic_load(&bd->ready) < n) {
		cr_assert(!atomic_load(&bd->failed), "child failed: %s", bd->msg);
		cr_assert(now_ns() < end, "children not ready (%d of %d)", atomic_load(&bd->ready), n);
		sleep_ns(100000);
	}
}

/* A child's bounded wait for the parent's go (>= v). */
static inline void child_wait_go(int v)
{
	int64_t end = now_ns() + LONG_NS;
	while (atomic_load(&bd->go) < v) {
		if (now_ns() > end)
			child_fail("no go %d from the parent", v);
		sleep_ns(50000);
	}
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * crash_util.h - shared by the kill -9 suites (test_sync_crash.c,
 * test_chan_crash.c, test_prim_crash.c, test_mpsc_crash.c,
 * test_bcast_crash.c; the clock, the seed, the mixer and the checksum by
 * chan_util.h too): a monotonic clock, sleeping and busy pauses, a seeded
 * PRNG, the children a test kills (started by crash_spawn, waited for by
 * crash_reap, reaped by crash_teardown whatever happened), a board shared
 * with them, a child's report of its failure, and the FNV-1a checksum.  A
 * suite prints its seed; the same SHMKIT_TEST_SEED makes the same choices
 * again, and `make torture` runs the suites over and over with seeds of
 * its own.
 */
#ifndef SHMKIT_TEST_CRASH_UTIL_H
#define SHMKIT_TEST_CRASH_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmkit.h"
#include "util.h"

static inline int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Busy for @ns: holds whatever is held, without a system call. */
static inline void spin_ns(int64_t ns)
{
	int64_t end = now_ns() + ns;
	while (now_ns() < end)
		;
}

/* splitmix64's finaliser: a good 64-bit hash of @z. */
static inline uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rnd(uint64_t *s)  /* splitmix64 */
{
	return mix64(*s += 0x9e3779b97f4a7c15ULL);
}

/* FNV-1a (32 bits) of @n bytes. */
static inline uint32_t fnv(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static inline uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return rnd(s) % n;
}

/* SHMKIT_TEST_SEED as it is, else one from the clock, the PID and @salt. */
static inline uint64_t test_seed(int salt)
{
	const char *e = getenv("SHMKIT_TEST_SEED");
	if (e && *e)
		return strtoull(e, NULL, 0);
	return ((uint64_t)time(NULL) << 20) ^ ((uint64_t)getpid() << 4) ^ (uint64_t)salt;
}

/* Kills and reaps the children in @kids[0..n) (0 for none), and forgets them. */
static inline void reap_kids(pid_t *kids, int n)
{
	for (int i = 0; i < n; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
}

/* The test's children, by place; crash_reap_all kills and reaps them. */
#define CRASH_MAX_KIDS 8
static pid_t crash_kids[CRASH_MAX_KIDS] __attribute__((unused));

static inline void crash_reap_all(void)
{
	reap_kids(crash_kids, CRASH_MAX_KIDS);
}

/* A suite's .fini: the children killed and reaped, the segments removed. */
static inline void crash_teardown(void)
{
	crash_reap_all();
	ut_cleanup();
}

/* A board of @size bytes shared with the children (inherited across fork). */
static inline void *crash_board(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	return p;
}

/* In shared memory: the first failure a child saw, for the parent. */
struct crash_fail {
	_Atomic int failed;
	char msg[1024];
};

/* Records the failure (unless one is recorded already) and exits 3. */
static inline __attribute__((noreturn, format(printf, 2, 3)))
void crash_fail_exit(struct crash_fail *f, const char *fmt, ...)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&f->failed, &expected, 1)) {
		va_list ap;
		va_start(ap, fmt);
		int k = snprintf(f->msg, sizeof(f->msg), "pid %d: ", (int)getpid());
		vsnprintf(f->msg + k, sizeof(f->msg) - (size_t)k, fmt, ap);
		va_end(ap);
	}
	_exit(3);
}

/*
 * A child's start: it dies with the parent (or exits 4 if that is gone
 * already) and lives @alarm_s at most.  Then the region it works in: the
 * handle it inherited across fork, or, for odd @serial when the region has
 * a @name, a handle of its own (another mapping, another peer slot), which
 * it returns in *own for crash_child_exit to close.
 */
static inline shmkit_region *crash_child_start(pid_t parent, unsigned alarm_s,
					       shmkit_region *inherited, const char *name,
					       unsigned serial, struct crash_fail *f,
					       shmkit_region **own)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(4);
	alarm(alarm_s);
	*own = NULL;
	if (!name || !(serial & 1))
		return inherited;
	int err = shmkit_region_open(name, 0, 0, 0, own);
	if (err)
		crash_fail_exit(f, "open %s: %s", name, shmkit_strerror(err));
	return *own;
}

/* A child's clean end: closes its own handle (exit 5 if that fails). */
static inline __attribute__((noreturn)) void crash_child_exit(shmkit_region *own)
{
	if (own && shmkit_region_close(own) != 0)
		_exit(5);
	_exit(0);
}

/*
 * Runs fn(arg) in a child in crash_kids[slot] (started by crash_child_start
 * on no region of its own), which exits with its return value.
 */
static inline pid_t crash_spawn(int slot, int (*fn)(void *), void *arg, unsigned alarm_s,
				struct crash_fail *f)
{
	pid_t parent = getpid();

	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		shmkit_region *own;
		crash_child_start(parent, alarm_s, NULL, NULL, 0, f, &own);
		_exit(fn(arg));
	}
	crash_kids[slot] = pid;
	return pid;
}

/* Waits (at most @timeout_ns, then kills it and fails) for child @pid to
 * end; its wait status. */
static inline int crash_reap(pid_t pid, int64_t timeout_ns, const struct crash_fail *f)
{
	int64_t end = now_ns() + timeout_ns;
	int st;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return st;
		cr_assert_geq(w, 0);
		if (now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			cr_assert_fail("child %d did not end in time; board: %s", (int)pid, f->msg);
		}
		sleep_ns(100000);
	}
}

/* The region a crash test works in: anonymous on SHMKIT_BACKEND_ANON
 * (*name NULL), else a fresh name on @backend, created 0600 (*name set;
 * util.h removes it when the test ends). */
static inline shmkit_region *crash_region(int backend, size_t size, const char **name)
{
	shmkit_region *r;
	int err;

	*name = NULL;
	if (backend == SHMKIT_BACKEND_ANON) {
		err = shmkit_region_anon(size, 0, &r);
	} else {
		*name = ut_name(backend);
		err = shmkit_region_open(*name, SHMKIT_CREATE | SHMKIT_EXCL, size, 0600, &r);
	}
	cr_assert_eq(err, 0, "region: %s", shmkit_strerror(err));
	return r;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * crash_util.h - shared by the kill -9 suites (test_sync_crash.c,
 * test_chan_crash.c, test_prim_crash.c): a monotonic clock, sleeping and
 * busy pauses, and a seeded PRNG.  A suite prints its seed; the same
 * SHMKIT_TEST_SEED makes the same choices again, and `make torture` runs
 * the suites over and over with seeds of its own.
 */
#ifndef SHMKIT_TEST_CRASH_UTIL_H
#define SHMKIT_TEST_CRASH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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

static inline uint64_t rnd(uint64_t *s)  /* splitmix64 */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
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

#endif

/* SPDX-License-Identifier: MIT */
/*
 * futex.h - sleeping and waking on a 32-bit word in shared memory, and the
 * monotonic deadlines the waits run against.  Shared futexes (no
 * FUTEX_PRIVATE_FLAG): the word may be mapped at different addresses in
 * different processes; the kernel keys it by the page behind it.
 */
#ifndef SHMKIT_FUTEX_H
#define SHMKIT_FUTEX_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SHMKIT_NO_DEADLINE ((int64_t)-1)

static inline int64_t shmkit__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The absolute deadline of a relative timeout (< 0: none). */
static inline int64_t shmkit__deadline(int64_t timeout_ns)
{
	if (timeout_ns < 0)
		return SHMKIT_NO_DEADLINE;
	int64_t now = shmkit__mono_ns();
	return timeout_ns > INT64_MAX - now ? SHMKIT_NO_DEADLINE : now + timeout_ns;
}

/* The earlier of two deadlines, either of which may be none. */
static inline int64_t shmkit__deadline_min(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/*
 * Sleeps while *word == val, until woken or @deadline (CLOCK_MONOTONIC ns,
 * SHMKIT_NO_DEADLINE for none).  Returns 0 (woken, or the word had already
 * changed: the caller re-checks either way), -ETIMEDOUT or -EINTR.
 */
static inline int shmkit__futex_wait(_Atomic uint32_t *word, uint32_t val,
				     int64_t deadline)
{
	struct timespec ts, *tp = NULL;

	if (deadline >= 0) {
		ts.tv_sec = deadline / 1000000000;
		ts.tv_nsec = deadline % 1000000000;
		tp = &ts;
	}
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time */
	if (syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET, val, tp, NULL,
		    FUTEX_BITSET_MATCH_ANY) == 0)
		return 0;
	if (errno == ETIMEDOUT || errno == EINTR)
		return -errno;
	return 0;  /* EAGAIN: the word moved on */
}

/* Wakes up to @n sleepers on @word. */
static inline void shmkit__futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* A polite busy-wait step. */
static inline void shmkit__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Busy-wait rounds before a sleep: about a microsecond or two of pauses. */
#define SHMKIT_SPIN_ROUNDS 100

#endif /* SHMKIT_FUTEX_H */

/* SPDX-License-Identifier: MIT */
/*
 * util.h - shared by the unit tests: unique segment names per backend and
 * their removal when a test ends, passed or failed (Criterion runs .fini
 * after a failed assertion too), or when the test process dies of a signal
 * (ut_catch_crashes); the monotonic clock, sleeping and busy pauses; the
 * seeded PRNG and the 64-bit mixer.  Children: kids.h.  Messages: msg.h.
 */
#ifndef SHMKIT_TEST_UTIL_H
#define SHMKIT_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <signal.h>
#include <stdint.h>
#include <errno.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmkit.h"

#define UT_MAX_NAMES 64
static char ut_names[UT_MAX_NAMES][256];
static int ut_count;

/* A fresh name on @backend that exists nowhere yet. */
static inline const char *ut_name(int backend)
{
	static unsigned serial;
	char *n;

	if (ut_count >= UT_MAX_NAMES)
		abort();
	n = ut_names[ut_count++];
	for (;;) {
		serial++;
		switch (backend) {
		case SHMKIT_BACKEND_SYSV: {
			unsigned key = 0x5b000000u |
				((unsigned)getpid() * 2654435761u + serial * 40503u +
				 (unsigned)time(NULL)) % 0xffffffu;
			snprintf(n, 256, "sysv:0x%08x", key);
			if (shmget((key_t)key, 0, 0) >= 0 || key == 0x5b000000u)
				continue;  /* taken: another key */
			return n;
		}
		case SHMKIT_BACKEND_FILE:
			snprintf(n, 256, "file:/tmp/shmkit-ut-%d-%u", (int)getpid(), serial);
			return n;
		default:
			snprintf(n, 256, "ut-%d-%u", (int)getpid(), serial);
			return n;
		}
	}
}

static inline void ut_cleanup(void)
{
	for (int i = 0; i < ut_count; i++)
		shmkit_remove(ut_names[i]);
	ut_count = 0;
}


#define SHORT_NS ((int64_t)20 * 1000000)  /* a short timeout: 20 ms */

/*
 * A test process killed by a signal (a crash, or the alarm() that bounds a
 * test) runs no .fini: ut_catch_crashes installs a handler that removes its
 * segments first, with async-signal-safe calls only, then lets the signal
 * kill it.  Children inherit it and leave the segments alone.
 */
static pid_t ut_test_pid;

static inline void ut_crash_cleanup(int sig)
{
	if (getpid() == ut_test_pid) {
		for (int i = 0; i < ut_count && i < UT_MAX_NAMES; i++) {
			const char *n = ut_names[i];
			char path[300];
			size_t k = 0;
			if (strncmp(n, "sysv:0x", 7) == 0) {
				unsigned key = 0;
				for (const char *s = n + 7; *s; s++)
					key = key * 16 + (unsigned)(*s <= '9' ? *s - '0' : (*s | 32) - 'a' + 10);
				int id = shmget((key_t)key, 0, 0);
				if (id >= 0)
					shmctl(id, IPC_RMID, NULL);
				continue;
			}
			if (strncmp(n, "file:", 5) == 0) {
				n += 5;
			} else {
				memcpy(path, "/dev/shm/", 9);
				k = 9;
			}
			while (*n && k < sizeof(path) - 1)
				path[k++] = *n++;
			path[k] = '\0';
			unlink(path);
		}
	}
	raise(sig);  /* SA_RESETHAND: the default action now */
}

static inline void ut_catch_crashes(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM };
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ut_crash_cleanup;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	ut_test_pid = getpid();
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* ---- time ---- */

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

static inline void sleep_ms(int ms)
{
	sleep_ns((int64_t)ms * 1000000);
}

/* Busy for @ns: holds whatever is held, without a system call. */
static inline void spin_ns(int64_t ns)
{
	int64_t end = now_ns() + ns;
	while (now_ns() < end)
		;
}

/* ---- randomness ---- */

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

static inline uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return rnd(s) % n;
}

/* SHMKIT_TEST_SEED as it is, else one from the clock, the PID and @salt.
 * A suite prints its seed; the same SHMKIT_TEST_SEED makes the same choices
 * again, and `make torture` runs the suites with seeds of its own. */
static inline uint64_t test_seed(int salt)
{
	const char *e = getenv("SHMKIT_TEST_SEED");
	if (e && *e)
		return strtoull(e, NULL, 0);
	return ((uint64_t)time(NULL) << 20) ^ ((uint64_t)getpid() << 4) ^ (uint64_t)salt;
}

static const char *const ut_backend_names[] = {
	[SHMKIT_BACKEND_POSIX] = "posix", [SHMKIT_BACKEND_SYSV] = "sysv",
	[SHMKIT_BACKEND_FILE] = "file", [SHMKIT_BACKEND_ANON] = "anon",
	[SHMKIT_BACKEND_MEMFD] = "memfd",
};

#endif

/* SPDX-License-Identifier: MIT */
/*
 * util.h - shared by the unit tests: unique segment names per backend, and
 * their removal when a test ends, passed or failed (Criterion runs .fini
 * after a failed assertion too).
 */
#ifndef SHMKIT_TEST_UTIL_H
#define SHMKIT_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
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

/* Runs fn(arg) in a child and returns its exit status (or 128+signal). */
static inline int ut_in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *const ut_backend_names[] = {
	[SHMKIT_BACKEND_POSIX] = "posix", [SHMKIT_BACKEND_SYSV] = "sysv",
	[SHMKIT_BACKEND_FILE] = "file", [SHMKIT_BACKEND_ANON] = "anon",
	[SHMKIT_BACKEND_MEMFD] = "memfd",
};

#endif

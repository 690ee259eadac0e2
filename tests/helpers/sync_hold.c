/* SPDX-License-Identifier: MIT */
/*
 * sync_hold - holds sync primitives in a region for the stat tests.
 *   sync_hold NAME   opens (creates) NAME with 8 KiB of data and puts there
 *                    a locked mutex @0, a semaphore of value 3 @64, an
 *                    rwlock read-held twice @128 and an event @1152 (after
 *                    two wakes); prints "ready PID", then waits for EOF on
 *                    stdin and exits without unlocking anything.
 */
#include <stdio.h>
#include <unistd.h>

#include "shmkit.h"

static int fail(const char *what, int err)
{
	fprintf(stderr, "sync_hold: %s: %s\n", what, shmkit_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	shmkit_region *r;
	char buf[64];
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: sync_hold NAME\n");
		return 2;
	}
	err = shmkit_region_open(argv[1], SHMKIT_CREATE, 8192, 0, &r);
	if (err)
		return fail("open", err);
	char *b = shmkit_region_base(r);
	shmkit_mutex *m = (shmkit_mutex *)b;
	shmkit_sem *s = (shmkit_sem *)(b + 64);
	shmkit_rwlock *l = (shmkit_rwlock *)(b + 128);
	shmkit_event *e = (shmkit_event *)(b + 1152);
	if ((err = shmkit_mutex_init(r, m)) || (err = shmkit_mutex_lock(r, m)))
		return fail("mutex", err);
	if ((err = shmkit_sem_init(r, s, 3)))
		return fail("sem", err);
	if ((err = shmkit_rwlock_init(r, l)) || (err = shmkit_rwlock_rdlock(r, l)) ||
	    (err = shmkit_rwlock_rdlock(r, l)))
		return fail("rwlock", err);
	if ((err = shmkit_event_init(r, e)) || (err = shmkit_event_wake_all(r, e)) ||
	    (err = shmkit_event_wake_one(r, e)))
		return fail("event", err);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

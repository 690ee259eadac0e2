/* SPDX-License-Identifier: MIT */
/*
 * incr_mutex - seed 004's incr3 with a robust mutex instead of the
 * semaphore.
 *
 * The counter and a shmkit mutex share the mapped file, as incr3's
 * semaphore does; parent and child print every value from 0 to 2N-1 once.
 * A semaphore has no owner: a process killed while it holds one never
 * gives it back, and the other waits forever.  The mutex is robust: when
 * its holder dies, the next locker gets it with -EOWNERDEAD (within
 * SHMKIT_OWNER_POLL_MS if it was waiting), checks the data, and calls
 * shmkit_mutex_consistent() - here it says so on stderr and goes on
 * counting (kill -9 the child while it runs to see it).
 *
 * Run:   build/examples/incr_mutex FILE 10
 * FILE is created when missing (mode 0644); an existing FILE must be a
 * shmkit file region of at least sizeof(struct shared) data bytes, e.g.
 * from an earlier incr_mutex run (incr2's and incr3's are too small).  The
 * counter and the mutex are reset.  FILE is left in place: rm it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmkit.h"

static const char prog[] = "incr_mutex";

/* What FILE holds: the seed's struct shared, with a mutex. */
struct shared {
	shmkit_mutex mutex;  /* the lock */
	int count;           /* the counter */
};

static void usage(FILE *to)
{
	fprintf(to, "usage: %s <pathname> <#loops>\n", prog);
}

/* N: a whole decimal number, 0 .. INT_MAX / 2 (the counter reaches 2N). */
static int parse_loops(const char *s, int *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v > INT_MAX / 2)
		return -1;
	*out = (int)v;
	return 0;
}

static int fail(const char *who, const char *what, int err)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, who, what, shmkit_strerror(err));
	return 1;
}

/* N times: lock, print the counter and add 1, unlock. */
static int count_up(const char *who, shmkit_region *r, struct shared *ptr,
		    int nloop)
{
	for (int i = 0; i < nloop; ++i) {
		int err = shmkit_mutex_lock(r, &ptr->mutex);
		if (err == -EOWNERDEAD) {
			/* the holder died between its lock and its unlock,
			 * before or after its count++: an int, whole either
			 * way (its value may have been printed already); keep
			 * it and mark the mutex usable again */
			fprintf(stderr, "%s: %s: the previous holder of the mutex "
				"died; the count is %d, going on\n", prog, who,
				ptr->count);
			err = shmkit_mutex_consistent(r, &ptr->mutex);
		}
		if (err)
			return fail(who, "mutex_lock", err);
		printf("%s: %d\n", who, ptr->count++);
		err = shmkit_mutex_unlock(r, &ptr->mutex);
		if (err)
			return fail(who, "mutex_unlock", err);
	}
	return 0;
}

/* wait(NULL), and whether the child did its part. */
static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "%s: waitpid: %s\n", prog, strerror(errno));
		return 1;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: the child was killed by signal %d\n", prog,
			WTERMSIG(status));
		return 1;
	}
	if (WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: the child failed\n", prog);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	shmkit_region *r;
	int nloop, err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 3 || argv[1][0] == '\0' || parse_loops(argv[2], &nloop) != 0) {
		usage(stderr);
		return 2;
	}
	size_t nlen = strlen(argv[1]) + sizeof("file:");
	char *name = malloc(nlen);
	if (!name)
		return fail("name", argv[1], -ENOMEM);
	snprintf(name, nlen, "file:%s", argv[1]);

	/* fd = open(FILE, O_RDWR|O_CREAT, FILE_MODE);
	 * write(fd, &shared, sizeof(struct shared));
	 * ptr = mmap(NULL, sizeof(struct shared), PROT_READ|PROT_WRITE,
	 *            MAP_SHARED, fd, 0) */
	err = shmkit_region_open(name, SHMKIT_CREATE, sizeof(struct shared), 0644,
				 &r);
	if (err) {
		struct shmkit_stat st;
		fail("open", name, err);
		if (err == -EINVAL && shmkit_stat(name, &st) == 0 &&
		    st.size < sizeof(struct shared))
			fprintf(stderr, "%s: %s holds %llu data bytes, fewer than the "
				"%zu needed: use another file\n", prog, argv[1],
				(unsigned long long)st.size, sizeof(struct shared));
		return 1;
	}
	struct shared *ptr = shmkit_region_base(r);
	ptr->count = 0;

	/* pthread_mutex_init with PTHREAD_PROCESS_SHARED and
	 * PTHREAD_MUTEX_ROBUST: unlocked, in a consistent state */
	err = shmkit_mutex_init(r, &ptr->mutex);
	if (err) {
		shmkit_region_close(r);
		return fail("mutex_init", name, err);
	}

	/* the seed's setbuf(stdout, NULL): each line is written while the
	 * mutex is held, so the lines come out in counter order, and
	 * nothing sits in a buffer that fork() would copy */
	setvbuf(stdout, NULL, _IOLBF, 0);
	fflush(stdout);

	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return 1;
	}
	if (pid == 0) {
		/* the child is a peer of the region in its own right */
		int rc = count_up("child", r, ptr, nloop);
		shmkit_region_close(r);
		exit(rc || fflush(stdout) != 0 || ferror(stdout) ? 1 : 0);
	}

	int rc = count_up("parent", r, ptr, nloop);

	if (wait_child(pid))
		rc = 1;
	err = shmkit_region_close(r);
	if (err)
		rc = fail("close", name, err);
	free(name);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = 1;
	return rc;
}

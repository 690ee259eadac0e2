/* SPDX-License-Identifier: MIT */
/*
 * incr3 - seed 004's third program: the semaphore in the shared memory,
 * next to the counter.
 *
 * As incr2, but instead of a named semaphore, a memory-based one lives in
 * the mapped file with the counter: struct shared { sem; count; }, and the
 * seed's sem_init(&ptr->mutex, 1, 1) is shmkit_sem_init(r, &ptr->mutex, 1),
 * before fork().  Nothing is made in /dev/shm; parent and child print every
 * value from 0 to 2N-1 once.
 *
 * Run:   build/examples/incr3 FILE 10
 * FILE is created when missing (mode 0644); an existing FILE must be a
 * shmkit file region of at least sizeof(struct shared) data bytes, e.g.
 * from an earlier incr3 run (incr2's holds an int only: too small).  The
 * counter and the semaphore are reset.  FILE is left in place: rm it.
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

static const char prog[] = "incr3";

/* What FILE holds: the seed's struct shared. */
struct shared {
	shmkit_sem mutex;  /* the semaphore */
	int count;         /* the counter */
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

/* N times: sem_wait, print the counter and add 1, sem_post. */
static int count_up(const char *who, shmkit_region *r, struct shared *ptr,
		    int nloop)
{
	for (int i = 0; i < nloop; ++i) {
		int err;
		do
			err = shmkit_sem_wait(r, &ptr->mutex);
		while (err == -EINTR);
		if (err)
			return fail(who, "sem_wait", err);
		printf("%s: %d\n", who, ptr->count++);
		err = shmkit_sem_post(r, &ptr->mutex);
		if (err)
			return fail(who, "sem_post", err);
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

	/* sem_init(&ptr->mutex, 1, 1): shared between processes, value 1 */
	err = shmkit_sem_init(r, &ptr->mutex, 1);
	if (err) {
		shmkit_region_close(r);
		return fail("sem_init", name, err);
	}

	/* the seed's setbuf(stdout, NULL): each line is written while the
	 * semaphore is held, so the lines come out in counter order, and
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

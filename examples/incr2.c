/* SPDX-License-Identifier: MIT */
/*
 * incr2 - seed 004's second program: a counter in a mapped file, guarded
 * by a named semaphore.
 *
 * FILE is mapped MAP_SHARED (a shmkit "file:" region) before fork(), so
 * parent and child increment the same int, not copies of it as in incr1.
 * A named semaphore, the seed's sem_open("mysem", O_CREAT|O_EXCL, 0644, 1),
 * lets one of them at a time print the counter and add 1: together they
 * print every value from 0 to 2N-1 once.
 *
 * The semaphore is a small POSIX object, /dev/shm/incr2-PID with this
 * process's PID, so that runs at the same time do not share one.  As the
 * seed does with sem_unlink(), its name is removed as soon as it is made:
 * both processes keep it through their mappings, and it is gone with
 * them, however they end.
 *
 * Run:   build/examples/incr2 FILE 10
 * FILE is created when missing (mode 0644); an existing FILE must be a
 * shmkit file region, e.g. from an earlier run.  The counter in it starts
 * at 0, as the seed writes a 0 first.  FILE is left in place: rm it.
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

static const char prog[] = "incr2";

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
static int count_up(const char *who, shmkit_region *sr, shmkit_sem *mutex,
		    int *count, int nloop)
{
	for (int i = 0; i < nloop; ++i) {
		int err;
		do
			err = shmkit_sem_wait(sr, mutex);
		while (err == -EINTR);
		if (err)
			return fail(who, "sem_wait", err);
		printf("%s: %d\n", who, (*count)++);
		err = shmkit_sem_post(sr, mutex);
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
	shmkit_region *r, *sr;
	shmkit_sem *mutex;
	char semname[32];
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

	/* fd = open(FILE, O_RDWR|O_CREAT, 0644); write(fd, &zero, sizeof(int));
	 * ptr = mmap(NULL, sizeof(int), PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0) */
	err = shmkit_region_open(name, SHMKIT_CREATE, sizeof(int), 0644, &r);
	if (err) {
		struct shmkit_stat st;
		fail("open", name, err);
		if (err == -EINVAL && shmkit_stat(name, &st) == 0 &&
		    st.size < sizeof(int))
			fprintf(stderr, "%s: %s holds %llu data bytes, fewer than the "
				"%zu needed: use another file\n", prog, argv[1],
				(unsigned long long)st.size, sizeof(int));
		return 1;
	}
	int *count = shmkit_region_base(r);
	*count = 0;

	/* mutex = sem_open(SEM_NAME, O_RDWR|O_CREAT|O_EXCL, FILE_MODE, 1);
	 * sem_unlink(SEM_NAME) */
	snprintf(semname, sizeof(semname), "incr2-%ld", (long)getpid());
	err = shmkit_sem_open(semname, SHMKIT_CREATE | SHMKIT_EXCL, 0600, 1,
			      &sr, &mutex);
	if (err) {
		shmkit_region_close(r);
		return fail("sem_open", semname, err);
	}
	err = shmkit_remove(semname);
	if (err)
		fprintf(stderr, "%s: remove %s: %s\n", prog, semname,
			shmkit_strerror(err));

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
		/* the child is a peer of both regions in its own right */
		int rc = count_up("child", sr, mutex, count, nloop);
		shmkit_region_close(sr);
		shmkit_region_close(r);
		exit(rc || fflush(stdout) != 0 || ferror(stdout) ? 1 : 0);
	}

	int rc = count_up("parent", sr, mutex, count, nloop);

	if (wait_child(pid))
		rc = 1;
	int e1 = shmkit_region_close(sr), e2 = shmkit_region_close(r);
	if (e1 || e2)
		rc = fail("close", name, e1 ? e1 : e2);
	free(name);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = 1;
	return rc;
}

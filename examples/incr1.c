/* SPDX-License-Identifier: MIT */
/*
 * incr1 - seed 004's first program: fork() does not share a global.
 *
 * A global counter, then fork(); parent and child each print the counter
 * and add 1 to it, N times.  After fork() the child has a copy of the
 * parent's memory, so each process counts its own copy: both print 0 to
 * N-1.  (The seed also takes a named semaphore around each step; it guards
 * nothing here, since nothing is shared, and is left out.  incr2, incr3
 * and incr_mutex put the counter in shared memory.)
 *
 * Run:   build/examples/incr1 5
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const char prog[] = "incr1";

static int count = 0;  /* one per process after fork() */

/* N: a whole decimal number, 0 .. INT_MAX / 2. */
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
	int i, nloop;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: %s <#loops>\n", prog);
		return 0;
	}
	if (argc != 2 || parse_loops(argv[1], &nloop) != 0) {
		fprintf(stderr, "usage: %s <#loops>\n", prog);
		return 2;
	}

	/* the seed's setbuf(stdout, NULL): each line is written at once, so
	 * the lines of both processes reach a shared pipe whole, and nothing
	 * sits in a buffer that fork() would copy */
	setvbuf(stdout, NULL, _IOLBF, 0);
	fflush(stdout);

	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return 1;
	}
	if (pid == 0) {
		for (i = 0; i < nloop; ++i)
			printf("child: %d\n", count++);
		exit(fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1);
	}

	for (i = 0; i < nloop; ++i)
		printf("parent: %d\n", count++);

	int rc = wait_child(pid);
	return rc || fflush(stdout) != 0 || ferror(stdout) ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * anon_fork - seeds 000 and 004: memory shared between parent and child.
 *
 * fork() gives the child a copy of the parent's memory, so a global variable
 * the child changes stays unchanged in the parent (seed 004's incr1).  A
 * MAP_SHARED|MAP_ANONYMOUS mapping, or a MAP_SHARED mapping of /dev/zero
 * (the SVR4 way), made before fork() is the same memory in both: what the
 * child writes there the parent sees.  No name, no file: only related
 * processes can share it.
 *
 * Run:   build/examples/anon_fork
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmkit.h"

static const char prog[] = "anon_fork";

/* What the two shared regions hold. */
struct shared {
	int counter;
	char message[60];
};

static int global_counter;  /* private to each process after fork() */

static void child(struct shared *anon, struct shared *zero)
{
	global_counter = 42;
	anon->counter = 42;
	zero->counter = 42;
	snprintf(anon->message, sizeof(anon->message), "written by the child");
	snprintf(zero->message, sizeof(zero->message), "written by the child");
	printf("child: set the global, the anonymous and the /dev/zero counters to 42\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	shmkit_region *ra, *rz;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: %s\n", prog);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: %s\n", prog);
		return 2;
	}
	/* mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0) */
	err = shmkit_region_anon(4096, SHMKIT_RAW, &ra);
	if (err) {
		fprintf(stderr, "%s: anonymous region: %s\n", prog, shmkit_strerror(err));
		return 1;
	}
	/* fd = open("/dev/zero", O_RDWR); mmap(..., MAP_SHARED, fd, 0) */
	err = shmkit_region_anon(4096, SHMKIT_RAW | SHMKIT_DEVZERO, &rz);
	if (err) {
		fprintf(stderr, "%s: /dev/zero region: %s\n", prog, shmkit_strerror(err));
		shmkit_region_close(ra);
		return 1;
	}
	struct shared *anon = shmkit_region_base(ra), *zero = shmkit_region_base(rz);

	printf("before fork: global %d, anonymous %d, /dev/zero %d\n",
	       global_counter, anon->counter, zero->counter);
	fflush(stdout);  /* or the child would print our buffer again */

	pid_t pid = fork();
	if (pid < 0) {
		perror("anon_fork: fork");
		return 1;
	}
	if (pid == 0) {
		child(anon, zero);
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: the child failed\n", prog);
		return 1;
	}
	printf("global after child: %d\n", global_counter);
	printf("anonymous after child: %d\n", anon->counter);
	printf("/dev/zero after child: %d\n", zero->counter);
	printf("anonymous message: %.*s\n", (int)sizeof(anon->message), anon->message);
	printf("/dev/zero message: %.*s\n", (int)sizeof(zero->message), zero->message);

	int e1 = shmkit_region_close(ra), e2 = shmkit_region_close(rz);
	if (e1 || e2) {
		fprintf(stderr, "%s: close: %s\n", prog, shmkit_strerror(e1 ? e1 : e2));
		return 1;
	}
	return 0;
}

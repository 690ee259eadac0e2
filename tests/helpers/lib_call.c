/* SPDX-License-Identifier: MIT */
/*
 * lib_call - one library call, for the shell tests that must see what the
 * library itself returns (test_security, as another user too).
 *   lib_call open NAME FLAGS       shmkit_region_open(NAME, FLAGS, 0, 0)
 *   lib_call create NAME MODE      shmkit_region_open(NAME, CREATE|EXCL, 4096, MODE)
 *   lib_call sem NAME FLAGS MODE   shmkit_sem_open(NAME, FLAGS, MODE, 1)
 *   lib_call reserve NAME          joins channel NAME as a writer and reserves
 *                                  a record it never commits, then waits to
 *                                  be killed (test_mpsc's lost record)
 * FLAGS is a number, MODE octal.  Prints the return value (0 or a negative
 * errno) and exits 0; exits 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmkit.h"

int main(int argc, char **argv)
{
	shmkit_region *r = NULL;
	shmkit_sem *s;
	int rc;

	if (argc == 4 && !strcmp(argv[1], "open")) {
		rc = shmkit_region_open(argv[2], (unsigned)strtoul(argv[3], NULL, 0), 0, 0, &r);
	} else if (argc == 4 && !strcmp(argv[1], "create")) {
		rc = shmkit_region_open(argv[2], SHMKIT_CREATE | SHMKIT_EXCL, 4096,
					(unsigned)strtoul(argv[3], NULL, 8), &r);
	} else if (argc == 5 && !strcmp(argv[1], "sem")) {
		rc = shmkit_sem_open(argv[2], (unsigned)strtoul(argv[3], NULL, 0),
				     (unsigned)strtoul(argv[4], NULL, 8), 1, &r, &s);
	} else if (argc == 3 && !strcmp(argv[1], "reserve")) {
		shmkit_chan *c = NULL;
		void *p;
		rc = shmkit_chan_open(argv[2], 0, SHMKIT_CHAN_WRITER, NULL, &c);
		if (!rc)
			rc = shmkit_chan_reserve(c, 8, &p, -1);
		printf("%d\n", rc);
		fflush(stdout);
		if (rc)
			return 0;
		memcpy(p, "partial\n", 8);  /* written, never committed */
		for (;;)
			pause();
	} else {
		fprintf(stderr, "usage: lib_call open NAME FLAGS | create NAME MODE | "
			"sem NAME FLAGS MODE | reserve NAME\n");
		return 2;
	}
	printf("%d\n", rc);
	if (r)
		shmkit_region_close(r);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * peer_helper - a peer process for the liveness tests, run as its own
 * program (possibly in another PID namespace).
 *   peer_helper hold NAME...      attach to each NAME, print "pid N", wait
 *                                 for EOF on stdin, exit without detaching
 *   peer_helper recycle POSIX SYSV
 *                                 as init of a fresh PID namespace: a peer
 *                                 attaches and is killed, its PID is handed
 *                                 to a new process, and the dead peer's slot
 *                                 is reported ("posix alive=N", "sysv alive=N")
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmkit.h"

static int hold(int argc, char **argv)
{
	char buf[64];
	for (int i = 2; i < argc; i++) {
		shmkit_region *r;
		int err = shmkit_region_open(argv[i], 0, 0, 0, &r);
		if (err) {
			fprintf(stderr, "peer_helper: %s: %s\n", argv[i], shmkit_strerror(err));
			return 1;
		}
	}
	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	_exit(0);  /* no detach: the kernel must tell */
}

static int slot_alive(const char *name, pid_t pid)
{
	struct shmkit_peer peers[128];
	int n = shmkit_peers(name, peers, 128);
	for (int i = 0; i < n && i < 128; i++)
		if (peers[i].pid == pid)
			return peers[i].alive;
	return n < 0 ? n : 99;  /* 99: no slot names the PID */
}

static int recycle(char **argv)
{
	int fds[2];
	pid_t a, b;

	if (pipe(fds) != 0)
		return 1;
	a = fork();
	if (a == 0) {
		shmkit_region *r1, *r2;
		if (shmkit_region_open(argv[2], 0, 0, 0, &r1) ||
		    shmkit_region_open(argv[3], 0, 0, 0, &r2))
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c;
	if (read(fds[0], &c, 1) != 1)
		return 1;
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	/* start times count clock ticks (10 ms): let at least two pass, as any
	 * real PID reuse (a full trip round pid_max) does many times over */
	usleep(30000);
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	if (!f || fprintf(f, "%d", (int)a - 1) < 0 || fclose(f) != 0) {
		printf("norecycle: cannot write ns_last_pid\n");
		return 0;
	}
	b = fork();
	if (b == 0) {
		pause();
		_exit(0);
	}
	if (b != a) {
		printf("norecycle: got pid %d, wanted %d\n", (int)b, (int)a);
	} else {
		printf("recycled %d\n", (int)b);
		printf("posix alive=%d\n", slot_alive(argv[2], a));
		printf("sysv alive=%d\n", slot_alive(argv[3], a));
	}
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "hold"))
		return hold(argc, argv);
	if (argc == 4 && !strcmp(argv[1], "recycle"))
		return recycle(argv);
	fprintf(stderr, "usage: peer_helper hold NAME... | recycle POSIX SYSV\n");
	return 2;
}

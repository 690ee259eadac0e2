/* SPDX-License-Identifier: MIT */
/*
 * reader - seed 000's reader: prints what the writer sends, on its signal.
 *
 * The seed's reader waits for the writer's SIGUSR1, prints the string in
 * the shared segment as "read from shm : ...", signals the writer back and
 * waits again; when the string is "quit" it exits without a word.  Either
 * of the two may start first: the PIDs are swapped through the segment.
 *
 * Here the segment is a shmkit channel (see writer.c): the writer's PID
 * comes from the channel's peer table, whose liveness the kernel keeps, so
 * the reader never signals a dead writer, a zombie or a recycled PID, and
 * a writer killed at any moment is noticed within CHECK_MS: the reader
 * prints what the writer had sent, says the writer died, removes the
 * segment and exits 1.
 *
 * Run, in two terminals, in either order:
 *   build/examples/reader NAME
 *   build/examples/writer NAME      type lines; "quit" (or EOF) ends both
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shmkit.h"

static const char prog[] = "reader";

#define PEER_WAIT_MS 10   /* how often we look for the writer at the start */
#define CHECK_MS 100      /* how often we ask whether it still lives */

static void usage(FILE *to)
{
	fprintf(to, "usage: %s NAME\n"
		"  prints each line `writer NAME` sends through the channel NAME,\n"
		"  on its SIGUSR1, as \"read from shm : LINE\"; ends on \"quit\"\n",
		prog);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The writer's PID from its peer slot, when that process lives; else 0. */
static pid_t live_peer(shmkit_chan *c)
{
	int alive;
	int32_t pid = shmkit_chan_peer_pid(c, &alive);

	return pid > 0 && alive == 1 ? (pid_t)pid : 0;
}

/* Whether the writer is known to be gone (-1, "cannot tell", is not). */
static int peer_dead(shmkit_chan *c)
{
	int alive;

	shmkit_chan_peer_pid(c, &alive);
	return alive == 0;
}

/* Waits, as long as it takes, for a live writer; returns its PID. */
static pid_t wait_for_writer(shmkit_chan *c)
{
	int said = 0;
	pid_t pid;

	while ((pid = live_peer(c)) == 0) {
		if (!said) {
			printf("waiting for the writer...\n");
			said = 1;
		}
		sleep_ms(PEER_WAIT_MS);
	}
	return pid;
}

enum {
	DRAIN_QUIT = -1,    /* "quit" came */
	DRAIN_END = -2,     /* the writer closed the stream without it */
	DRAIN_DEAD = -3,    /* the writer died; all it sent is printed */
	DRAIN_ERROR = -4,
};

/*
 * Prints every message waiting in the channel as the seed does,
 * printf("read from shm : %s", p->buf): a line keeps its '\n', one given
 * without (a piece of a long line, or from another sender) gets one.
 * Returns how many it printed (>= 0), or DRAIN_*.
 */
static int drain(shmkit_chan *c, const char *name, char *buf, size_t cap)
{
	int printed = 0;

	for (;;) {
		long n = shmkit_chan_recv(c, buf, cap, 0);
		if (n == -EAGAIN)
			return printed;
		if (n == 0)
			return DRAIN_END;
		if (n == -EPIPE)
			return DRAIN_DEAD;
		if (n < 0) {
			fprintf(stderr, "%s: receive from %s: %s\n", prog, name,
				shmkit_strerror((int)n));
			return DRAIN_ERROR;
		}
		/* if (strcmp(p->buf, "quit\n") == 0) exit(0); */
		if (n == 5 && memcmp(buf, "quit\n", 5) == 0)
			return DRAIN_QUIT;
		fputs("read from shm : ", stdout);
		fwrite(buf, 1, (size_t)n, stdout);
		if (buf[n - 1] != '\n')
			putchar('\n');
		printed++;
	}
}

int main(int argc, char **argv)
{
	sigset_t usr1;
	shmkit_chan *c;
	int err, rc = 0;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	/* a line at a time, even into a pipe or a file: a kill loses nothing */
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* blocked before the writer can learn our PID (see writer.c) */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);

	err = shmkit_chan_open(name, SHMKIT_CREATE, SHMKIT_CHAN_READER, NULL, &c);
	if (err == -EBUSY) {
		fprintf(stderr, "%s: open %s: it has a live reader already\n", prog, name);
		return 1;
	}
	if (err) {
		fprintf(stderr, "%s: open %s: %s\n", prog, name, shmkit_strerror(err));
		return 1;
	}
	pid_t writer = wait_for_writer(c);
	printf("found the writer: PID %d\n", (int)writer);

	size_t cap = shmkit_chan_max_msg(c);
	char *buf = malloc(cap);
	if (!buf) {
		fprintf(stderr, "%s: %s\n", prog, strerror(ENOMEM));
		rc = 1;
		goto out;
	}
	struct timespec step = { 0, CHECK_MS * 1000000L };
	for (;;) {
		/* pause(), but only so long: then, is the writer still there? */
		int sig = sigtimedwait(&usr1, NULL, &step);
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "%s: sigtimedwait: %s\n", prog, strerror(errno));
			rc = 1;
			break;
		}
		int dead = sig != SIGUSR1 && peer_dead(c);
		if (sig != SIGUSR1 && !dead)
			continue;
		int got = drain(c, name, buf, cap);
		if (got == DRAIN_QUIT)
			break;
		if (got == DRAIN_END) {
			fprintf(stderr, "%s: the writer closed %s without \"quit\"\n",
				prog, name);
			break;
		}
		if (got == DRAIN_ERROR) {
			rc = 1;
			break;
		}
		if (dead || got == DRAIN_DEAD) {
			fflush(stdout);
			fprintf(stderr, "%s: the writer (PID %d) died; removing %s\n",
				prog, (int)writer, name);
			rc = 1;
			break;
		}
		/* kill(other_pid, SIGUSR1), once for what we printed, to the
		 * process in the writer's slot, if it still lives */
		pid_t pid = got > 0 ? live_peer(c) : 0;
		if (got > 0 && (pid == 0 || kill(pid, SIGUSR1) != 0))
			continue;  /* gone: the next round says so */
	}
	free(buf);
out:
	if (fflush(stdout) != 0) {
		perror(prog);
		rc = 1;
	}
	err = shmkit_chan_close(c);
	if (err) {
		fprintf(stderr, "%s: close %s: %s\n", prog, name, shmkit_strerror(err));
		rc = 1;
	}
	/* whichever of the two ends last removes the segment: both try */
	err = shmkit_remove(name);
	if (err && err != -ENOENT) {
		fprintf(stderr, "%s: remove %s: %s\n", prog, name, shmkit_strerror(err));
		rc = 1;
	}
	return rc;
}

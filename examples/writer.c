/* SPDX-License-Identifier: MIT */
/*
 * writer - seed 000's writer: lines from stdin to a reader, with signals.
 *
 * In the seed a writer and a reader share one segment.  Whichever starts
 * first creates it and leaves its PID there; the other finds that PID in
 * the segment, leaves its own, and so each can signal the other.  The
 * writer then reads a line, stores it in the segment, sends SIGUSR1 to the
 * reader and waits for SIGUSR1 back before the next prompt; the reader
 * prints what it was given.  "quit" ends both, and the segment is removed.
 *
 * Here the segment is a shmkit channel (either side may create it) and
 * each line is one message.  The PIDs are swapped through the channel's
 * peer table: shmkit_chan_peer_pid() gives the other side's PID and whether
 * the process in that slot lives, a fact the kernel keeps (a lock it drops
 * when the process dies), so a crashed peer, a zombie or a recycled PID is
 * never signalled.  Both sides keep asking while they wait, so neither
 * hangs when the other is killed: the survivor says so, removes the
 * segment and exits 1.
 *
 * Run, in two terminals, in either order:
 *   build/examples/writer NAME      type lines; "quit" (or EOF) ends both
 *   build/examples/reader NAME      prints "read from shm : LINE"
 * NAME is any shmkit name: a POSIX name, sysv:KEY, file:PATH.
 * A line longer than the channel's largest message (256 KiB) goes as
 * several messages, which the reader prints on lines of their own.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shmkit.h"

static const char prog[] = "writer";

#define PEER_WAIT_MS 10   /* how often we look for the reader at the start */
#define CHECK_MS 100      /* how often we ask whether it still lives */

static void usage(FILE *to)
{
	fprintf(to, "usage: %s NAME\n"
		"  sends each line of stdin to `reader NAME` through the channel "
		"NAME,\n"
		"  signalling it with SIGUSR1; \"quit\" or EOF ends both and "
		"removes NAME\n", prog);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * The reader's PID as its peer slot tells it, when the process in that
 * slot is alive; 0 when there is none or it died.
 */
static pid_t live_peer(shmkit_chan *c)
{
	int alive;
	int32_t pid = shmkit_chan_peer_pid(c, &alive);

	return pid > 0 && alive == 1 ? (pid_t)pid : 0;
}

/* Whether the reader is known to be gone (-1, "cannot tell", is not). */
static int peer_dead(shmkit_chan *c)
{
	int alive;

	shmkit_chan_peer_pid(c, &alive);
	return alive == 0;
}

/* Waits, as long as it takes, for a live reader; returns its PID. */
static pid_t wait_for_reader(shmkit_chan *c)
{
	int said = 0;
	pid_t pid;

	while ((pid = live_peer(c)) == 0) {
		if (!said) {
			printf("waiting for the reader...\n");
			fflush(stdout);
			said = 1;
		}
		sleep_ms(PEER_WAIT_MS);
	}
	return pid;
}

/*
 * stdin, read with poll() so that a dead reader is noticed while we wait
 * for the user: buf[start..len) is what is read and not yet sent.
 */
struct input {
	char *buf;
	size_t start, len, cap;
	int eof;
};

enum { LINE_OK = 1, LINE_EOF = 0, LINE_PEER_DIED = -1, LINE_ERROR = -2 };

/*
 * The next message: a line with its '\n' (added to a last line that has
 * none), or the first @max bytes of a longer one.  *msg points into the
 * buffer until the next call.
 */
static int next_line(struct input *in, shmkit_chan *c, size_t max,
		     char **msg, size_t *n)
{
	for (;;) {
		char *p = in->buf + in->start;
		size_t have = in->len - in->start;
		char *nl = memchr(p, '\n', have < max ? have : max);

		if (nl || have >= max || (in->eof && have > 0)) {
			size_t k = nl ? (size_t)(nl - p) + 1 : have < max ? have : max;
			if (!nl && in->eof && k == have && k < max) {
				/* room for the '\n': cap > len always holds */
				in->buf[in->len++] = '\n';
				k++;
			}
			*msg = p;
			*n = k;
			in->start += k;
			return LINE_OK;
		}
		if (in->eof)
			return LINE_EOF;
		/* make room: move the partial line down, or grow */
		if (in->start > 0) {
			memmove(in->buf, p, have);
			in->start = 0;
			in->len = have;
		}
		if (in->cap - in->len < 4096) {
			size_t cap = in->cap * 2;
			char *b = realloc(in->buf, cap);
			if (!b) {
				fprintf(stderr, "%s: %s\n", prog, strerror(ENOMEM));
				return LINE_ERROR;
			}
			in->buf = b;
			in->cap = cap;
		}
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int ready = poll(&pfd, 1, CHECK_MS);
		if (ready < 0 && errno != EINTR) {
			fprintf(stderr, "%s: poll stdin: %s\n", prog, strerror(errno));
			return LINE_ERROR;
		}
		if (ready <= 0) {
			if (peer_dead(c))
				return LINE_PEER_DIED;
			continue;
		}
		/* keep one byte free for a '\n' added at EOF */
		ssize_t got = read(STDIN_FILENO, in->buf + in->len, in->cap - in->len - 1);
		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "%s: read stdin: %s\n", prog, strerror(errno));
			return LINE_ERROR;
		}
		if (got == 0)
			in->eof = 1;
		in->len += (size_t)got;
	}
}

/* kill(reader, SIGUSR1), to the PID its live slot names; 0 or -1 (dead). */
static int notify(shmkit_chan *c)
{
	pid_t pid = live_peer(c);

	if (pid == 0)
		return -1;
	if (kill(pid, SIGUSR1) != 0)
		return -1;  /* ESRCH: it died after we looked */
	return 0;
}

/*
 * The seed's pause() until the reader's SIGUSR1, which is blocked, so one
 * sent before we got here is pending, not lost.  We look at the reader
 * every CHECK_MS: 0 when it answered, -1 when it died.
 */
static int wait_for_ack(shmkit_chan *c, const sigset_t *usr1)
{
	struct timespec step = { 0, CHECK_MS * 1000000L };

	for (;;) {
		int sig = sigtimedwait(usr1, NULL, &step);
		if (sig == SIGUSR1)
			return 0;
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "%s: sigtimedwait: %s\n", prog, strerror(errno));
			return -1;
		}
		if (peer_dead(c))
			return -1;
	}
}

static int is_quit(const char *msg, size_t n)
{
	return n == 5 && memcmp(msg, "quit\n", 5) == 0;
}

/* Closes the channel and removes NAME (the reader may have done so). */
static int finish(shmkit_chan *c, const char *name, int rc)
{
	int err = shmkit_chan_close(c);

	if (err) {
		fprintf(stderr, "%s: close %s: %s\n", prog, name, shmkit_strerror(err));
		rc = 1;
	}
	err = shmkit_remove(name);
	if (err && err != -ENOENT) {
		fprintf(stderr, "%s: remove %s: %s\n", prog, name, shmkit_strerror(err));
		rc = 1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	sigset_t usr1;
	shmkit_chan *c;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];

	/* SIGUSR1 blocked before the reader can learn our PID: it stays
	 * pending until sigtimedwait takes it, so none is lost, and none
	 * kills us by its default action */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);

	/* shmget(key, ..., IPC_CREAT) by whichever starts first; our PID goes
	 * into the segment's peer table as its writer */
	err = shmkit_chan_open(name, SHMKIT_CREATE, SHMKIT_CHAN_WRITER, NULL, &c);
	if (err == -EBUSY) {
		fprintf(stderr, "%s: open %s: it has a live writer already\n", prog, name);
		return 1;
	}
	if (err) {
		fprintf(stderr, "%s: open %s: %s\n", prog, name, shmkit_strerror(err));
		return 1;
	}

	/* other_pid = p->pid: the reader's, from the segment */
	pid_t reader = wait_for_reader(c);
	printf("found the reader: PID %d\n", (int)reader);
	fflush(stdout);

	size_t max = shmkit_chan_max_msg(c);
	struct input in = { .cap = 65536 };
	in.buf = malloc(in.cap);
	if (!in.buf) {
		fprintf(stderr, "%s: %s\n", prog, strerror(ENOMEM));
		return finish(c, name, 1);
	}
	int rc = 0;
	for (;;) {
		char *msg;
		size_t n;

		printf("write to shm : ");
		fflush(stdout);
		int got = next_line(&in, c, max, &msg, &n);
		if (got == LINE_EOF) {
			/* EOF ends it as "quit" does */
			if (isatty(STDIN_FILENO))
				putchar('\n');
			msg = "quit\n";
			n = 5;
		} else if (got == LINE_PEER_DIED) {
			goto peer_died;
		} else if (got == LINE_ERROR) {
			rc = 1;
			break;
		}
		/* fgets(p->buf, N, stdin) */
		err = shmkit_chan_send(c, msg, n, SHMKIT_FOREVER);
		if (err == -EPIPE)
			goto peer_died;
		if (err) {
			fprintf(stderr, "%s: send to %s: %s\n", prog, name, shmkit_strerror(err));
			rc = 1;
			break;
		}
		/* kill(other_pid, SIGUSR1) */
		if (notify(c) != 0) {
			if (is_quit(msg, n))
				break;  /* it is gone already: nothing to stop */
			goto peer_died;
		}
		if (is_quit(msg, n))
			break;
		/* pause() */
		if (wait_for_ack(c, &usr1) != 0)
			goto peer_died;
	}
	free(in.buf);
	return finish(c, name, rc);

peer_died:
	if (isatty(STDOUT_FILENO))
		putchar('\n');  /* off the prompt's line */
	fflush(stdout);
	fprintf(stderr, "%s: the reader (PID %d) died; removing %s\n", prog,
		(int)reader, name);
	free(in.buf);
	finish(c, name, 1);
	return 1;
}

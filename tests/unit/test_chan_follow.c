/* SPDX-License-Identifier: MIT */
/*
 * test_chan_follow.c - SHMKIT_FOLLOW on every kind of channel: a reader
 * that outlives its writers gets each stream's end (0) and each dead
 * writer's -EPIPE once, then waits for the next writer (-EAGAIN,
 * -ETIMEDOUT, a quiet event-loop fd) and reads its stream; without the
 * flag the end stays the end; the flag on a writer or a create.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <string.h>

#include "shmkit.h"
#include "chan_test.h"

TestSuite(chan_follow, .init = chan_setup, .fini = kids_teardown, .timeout = 120);

static const uint32_t kinds[] = { SHMKIT_CHAN_SPSC, SHMKIT_CHAN_MPSC, SHMKIT_CHAN_BROADCAST };
static const char *ch;
static uint32_t ch_kind;

/* A writer child: sends @arg's text, then closes (a NULL text: waits for
 * its kill after saying it is ready). */
static int writer_kid(void *arg)
{
	struct shmkit_chan_opts o = { .capacity = 4096, .kind = ch_kind };
	shmkit_chan *w;
	int err = shmkit_chan_open(ch, SHMKIT_CREATE, SHMKIT_CHAN_WRITER, &o, &w);

	if (err)
		kid_fail("open writer: %s", strerror(-err));
	if (!arg) {
		kid_ready();
		for (;;)
			pause();
	}
	if ((err = shmkit_chan_send(w, arg, strlen(arg), CHAN_WAIT_NS)) != 0)
		kid_fail("send: %s", strerror(-err));
	shmkit_chan_close(w);
	return 0;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The next message, waiting; its text. */
static void expect_msg(shmkit_chan *r, const char *want)
{
	char buf[64];
	long n = shmkit_chan_recv(r, buf, sizeof(buf) - 1, CHAN_WAIT_NS);

	cr_assert_gt(n, 0, "kind %u: recv for '%s': %ld", ch_kind, want, n);
	buf[n] = '\0';
	cr_assert_str_eq(buf, want, "kind %u", ch_kind);
}

/* The end (or @err) once, then nothing: -EAGAIN, -ETIMEDOUT, a quiet fd. */
static void expect_told_once(shmkit_chan *r, long want, int fd)
{
	char buf[64];

	cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), CHAN_WAIT_NS), want,
		     "kind %u: told once", ch_kind);
	cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), 0), -EAGAIN,
		     "kind %u: after the end told: waits", ch_kind);
	cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), SHORT_NS), -ETIMEDOUT, "kind %u",
		     ch_kind);
	cr_assert(!readable(fd, 20), "kind %u: the fd of a reader told the end is quiet",
		  ch_kind);
}

Test(chan_follow, across_writers)
{
	for (int k = 0; k < 3; k++) {
		ch_kind = kinds[k];
		ch = ut_name(SHMKIT_BACKEND_POSIX);
		atomic_store(&bd->k.ready, 0);
		struct shmkit_chan_opts o = { .capacity = 4096, .kind = ch_kind };
		shmkit_chan *r;
		cr_assert_eq(shmkit_chan_open(ch, SHMKIT_CREATE | SHMKIT_FOLLOW, SHMKIT_CHAN_READER,
					      &o, &r), 0);
		int fd = shmkit_chan_fd(r);
		cr_assert_geq(fd, 0);

		kid_expect_exit0(kid_spawn(writer_kid, "first"), KID_WAIT_NS, "writer 1");
		expect_msg(r, "first");
		expect_told_once(r, 0, fd);

		/* the next writer's stream, woken through the fd */
		kid_expect_exit0(kid_spawn(writer_kid, "second"), KID_WAIT_NS, "writer 2");
		cr_assert(readable(fd, 10000), "kind %u: no wake for the next stream", ch_kind);
		expect_msg(r, "second");
		expect_told_once(r, 0, fd);

		/* a writer killed: -EPIPE once, then the next one */
		pid_t w = kid_spawn(writer_kid, NULL);
		kids_wait_ready(1);
		kid_kill(w);
		expect_told_once(r, -EPIPE, fd);
		kid_expect_exit0(kid_spawn(writer_kid, "third"), KID_WAIT_NS, "writer 4");
		expect_msg(r, "third");
		expect_told_once(r, 0, fd);
		shmkit_chan_close(r);
		kids_check();
	}
}

/* Without SHMKIT_FOLLOW the end stays the end. */
Test(chan_follow, without_the_flag)
{
	for (int k = 0; k < 3; k++) {
		ch_kind = kinds[k];
		ch = ut_name(SHMKIT_BACKEND_POSIX);
		struct shmkit_chan_opts o = { .capacity = 4096, .kind = ch_kind };
		shmkit_chan *r;
		char buf[16];
		cr_assert_eq(shmkit_chan_open(ch, SHMKIT_CREATE, SHMKIT_CHAN_READER, &o, &r), 0);
		kid_expect_exit0(kid_spawn(writer_kid, "x"), KID_WAIT_NS, "writer");
		expect_msg(r, "x");
		for (int i = 0; i < 3; i++)
			cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), 0), 0, "kind %u", ch_kind);
		shmkit_chan_close(r);
	}
}

Test(chan_follow, bad_flags)
{
	shmkit_chan *c = NULL;

	ch = ut_name(SHMKIT_BACKEND_POSIX);
	cr_assert_eq(shmkit_chan_open(ch, SHMKIT_CREATE | SHMKIT_FOLLOW, SHMKIT_CHAN_WRITER, NULL,
				      &c), -EINVAL);
	cr_assert_null(c);
	cr_assert_eq(shmkit_chan_create(ch, SHMKIT_FOLLOW, NULL), -EINVAL);
}

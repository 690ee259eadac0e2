/* SPDX-License-Identifier: MIT */
/*
 * test_chan_sessions.c - SPSC writer sessions: a reader that has not
 * caught up meets each writer's end in order, however soon the next
 * writer reopened (the END record close writes); a close without room
 * leaves the END owed, and the next writer writes it first, never told
 * twice; an empty session is an end of its own; stat counts sessions;
 * a reader that follows, and one killed writer between two sessions.
 */
#include <signal.h>
#include <sys/wait.h>

#include "chan_spsc.h"

TestSuite(chan_sessions, .init = chan_setup, .fini = kids_teardown, .timeout = 60);

static void send_str(shmkit_chan *w, const char *s)
{
	int err = shmkit_chan_send(w, s, strlen(s), 0);
	cr_assert_eq(err, 0, "send '%s': %s", s, shmkit_strerror(err));
}

/* The next call with timeout 0 gives the message @want (NULL: the end, 0;
 * a string of one char '\x0b': -EAGAIN). */
static void expect(shmkit_chan *r, const char *want, const char *what)
{
	char buf[256];
	long n = shmkit_chan_recv(r, buf, sizeof(buf) - 1, 0);

	if (!want) {
		cr_assert_eq(n, 0, "%s: the end, got %ld", what, n);
		return;
	}
	cr_assert_gt(n, 0, "%s: '%s', got %ld (%s)", what, want, n, shmkit_strerror((int)n));
	buf[n] = '\0';
	cr_assert_str_eq(buf, want, "%s", what);
}

static void expect_none(shmkit_chan *r, const char *what)
{
	char buf[64];
	long n = shmkit_chan_recv(r, buf, sizeof(buf), 0);

	cr_assert_eq(n, -EAGAIN, "%s: nothing, got %ld", what, n);
}

static uint64_t sessions_of(const char *name)
{
	struct shmkit_chan_info ci;

	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	return ci.sessions;
}

/* A reader of @name opened with SHMKIT_FOLLOW. */
static shmkit_chan *xfollow(const char *name)
{
	shmkit_chan *r = NULL;
	int err = shmkit_chan_open(name, SHMKIT_FOLLOW, SHMKIT_CHAN_READER, NULL, &r);

	cr_assert_eq(err, 0, "open %s to follow: %s", name, shmkit_strerror(err));
	return r;
}

/* A child opens @name as its writer, sends @msg (NULL: nothing) and is
 * killed with SIGKILL; returns once it is dead. */
static void writer_killed_after(const char *name, const char *msg)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		shmkit_chan *k;
		if (shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, NULL, &k) ||
		    (msg && shmkit_chan_send(k, msg, strlen(msg), 0)))
			_exit(1);
		raise(SIGKILL);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st), "the writer child was killed");
}

/* Two sessions written before the reader reads a byte: it reads the
 * first, its end, the second, its end; then the end stays the end. */
Test(chan_sessions, in_order)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER), *w;

	cr_expect_eq(sessions_of(name), 0);
	for (int s = 0; s < 2; s++) {
		w = xopen(name, SHMKIT_CHAN_WRITER);
		send_str(w, s ? "b1" : "a1");
		send_str(w, s ? "b2" : "a2");
		cr_assert_eq(shmkit_chan_close(w), 0);
	}
	cr_expect_eq(sessions_of(name), 2);
	expect(r, "a1", "first session");
	expect(r, "a2", "first session");
	expect(r, NULL, "first session's end");
	expect(r, "b1", "second session");
	expect(r, "b2", "second session");
	expect(r, NULL, "second session's end");
	expect(r, NULL, "the end stays the end without SHMKIT_FOLLOW");

	/* peeked messages and an END between them: release gives all back */
	w = xopen(name, SHMKIT_CHAN_WRITER);
	send_str(w, "c1");
	cr_assert_eq(shmkit_chan_close(w), 0);
	w = xopen(name, SHMKIT_CHAN_WRITER);
	send_str(w, "d1");
	const void *p;
	cr_assert_eq(shmkit_chan_peek(r, &p, 0), 2);
	cr_assert_eq(shmkit_chan_peek(r, &p, 0), 0, "c's end, between two peeks");
	cr_assert_eq(shmkit_chan_peek(r, &p, 0), 2);
	cr_assert_eq(memcmp(p, "d1", 2), 0);
	cr_assert_eq(shmkit_chan_release(r), 0);
	struct shmkit_chan_info ci;
	cr_assert_eq(shmkit_chan_stat(name, &ci), 0);
	cr_expect_eq(ci.used, 0, "everything released, END records too");
	expect_none(r, "d's stream is open");
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

/* Fills the ring of @w to its last bytes: 60-byte messages, then 1-byte
 * ones, until no END would fit; how many. Message i is i's digits,
 * padded (60 bytes) or its last digit (1 byte). */
static int fill(shmkit_chan *w, int *big)
{
	char msg[61];
	int n = 0;

	for (size_t len = 60;; n++) {
		snprintf(msg, sizeof(msg), "%060d", n);
		int err = shmkit_chan_send(w, msg + 60 - len, len, 0);
		if (err == -EAGAIN && len == 60) {
			*big = n--;
			len = 1;
			continue;
		}
		if (err == -EAGAIN)
			return n;
		cr_assert_eq(err, 0, "fill: %s", shmkit_strerror(err));
	}
}

/* Reads messages @from..@to - 1 of a fill() with @big long ones. */
static void drain_n(shmkit_chan *r, int from, int to, int big)
{
	char buf[64], want[61];

	for (int i = from; i < to; i++) {
		size_t len = i < big ? 60 : 1;
		snprintf(want, sizeof(want), "%060d", i);
		long got = shmkit_chan_recv(r, buf, sizeof(buf), 0);
		cr_assert_eq(got, (long)len, "message %d: %ld", i, got);
		cr_assert_eq(memcmp(buf, want + 60 - len, len), 0);
	}
}

/* A writer that closes a full ring owes its END: the reader told the
 * end from the flag is not told it again when the next writer writes
 * it, and one that had not caught up is told it once, from the record. */
Test(chan_sessions, owed_end)
{
	for (int caught_up = 0; caught_up < 2; caught_up++) {
		const char *name = new_chan(SHMKIT_BACKEND_POSIX, 256, 0);
		shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER);
		shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
		int big, n = fill(w, &big);
		cr_assert_gt(big, 0);
		cr_assert_gt(n, big);
		cr_assert_eq(shmkit_chan_close(w), 0);
		uint64_t owed = atomic_load(&cb_of(r)->owed_at);
		cr_expect(owed & 1, "no room: the END is owed");
		cr_expect_eq(owed, atomic_load(&cb_of(r)->tail), "at the frontier");
		if (caught_up) {
			drain_n(r, 0, n, big);
			expect(r, NULL, "the end, from the flag");
		} else {
			drain_n(r, 0, 1, big);  /* room for b1 and the END before it */
		}
		w = xopen(name, SHMKIT_CHAN_WRITER);
		send_str(w, "b1");
		if (!caught_up) {
			drain_n(r, 1, n, big);
			expect(r, NULL, "the owed END, from the record");
		}
		expect(r, "b1", "the next session, no second end");
		cr_assert_eq(shmkit_chan_close(w), 0);
		expect(r, NULL, "the second session's end");
		cr_expect_eq(sessions_of(name), 2);
		shmkit_chan_close(r);
	}
}

/* A session with nothing in it is an end of its own, also when it wrote
 * the END it owed: a reader that follows is told two ends, once each. */
Test(chan_sessions, empty_sessions)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 256, 0);
	shmkit_chan *r = xfollow(name), *w;

	w = xopen(name, SHMKIT_CHAN_WRITER);
	int big, n = fill(w, &big);
	cr_assert_eq(shmkit_chan_close(w), 0);  /* owed */
	cr_expect_eq(atomic_load(&cb_of(r)->owed_at), atomic_load(&cb_of(r)->tail));
	drain_n(r, 0, n, big);
	expect(r, NULL, "a's end, from the flag");
	expect_none(r, "a follower waits after the end");
	w = xopen(name, SHMKIT_CHAN_WRITER);
	cr_assert_eq(shmkit_chan_close(w), 0);  /* the owed END and its own */
	expect(r, NULL, "the empty session's end");
	expect_none(r, "told once");
	w = xopen(name, SHMKIT_CHAN_WRITER);
	cr_assert_eq(shmkit_chan_close(w), 0);
	expect(r, NULL, "a second empty session");
	expect_none(r, "told once");
	cr_expect_eq(sessions_of(name), 3);
	shmkit_chan_close(r);
}

/* A writer killed in a session: the reader that follows reads what it
 * committed, is told -EPIPE once, then reads the next writer's session
 * and its end. */
Test(chan_sessions, killed_writer_between)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);
	shmkit_chan *r = xfollow(name);

	writer_killed_after(name, "k1");
	char buf[64];
	expect(r, "k1", "what the killed writer committed");
	cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), CHAN_WAIT_NS), -EPIPE);
	expect_none(r, "the death told once");
	shmkit_chan *w = xopen(name, SHMKIT_CHAN_WRITER);
	send_str(w, "n1");
	cr_assert_eq(shmkit_chan_close(w), 0);
	expect(r, "n1", "the next session");
	expect(r, NULL, "its end");
	expect_none(r, "told once");
	cr_expect_eq(sessions_of(name), 2);
	shmkit_chan_close(r);
}

/* The end a reader told from the flag, before the next writer wrote the
 * END it owed: a reader opened after it is not told that end again. */
Test(chan_sessions, told_end_outlives_its_reader)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 256, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER), *w = xopen(name, SHMKIT_CHAN_WRITER);
	int big, n = fill(w, &big);

	cr_assert_eq(shmkit_chan_close(w), 0);
	cr_assert_eq(atomic_load(&cb_of(r)->owed_at), atomic_load(&cb_of(r)->tail));
	drain_n(r, 0, n, big);
	expect(r, NULL, "the end, from the flag");
	cr_assert_eq(shmkit_chan_close(r), 0);
	w = xopen(name, SHMKIT_CHAN_WRITER);
	send_str(w, "b1");  /* the owed END first, where r was told it */
	r = xopen(name, SHMKIT_CHAN_READER);
	expect(r, "b1", "a new reader: the next session, not the old end");
	expect_none(r, "b's stream is open");
	shmkit_chan_close(w);
	expect(r, NULL, "b's end");
	shmkit_chan_close(r);
}

/* A writer killed before it paid the END it owed: the next one pays it. */
Test(chan_sessions, owed_end_survives_a_killed_writer)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 256, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER), *w = xopen(name, SHMKIT_CHAN_WRITER);
	int big, n = fill(w, &big);

	cr_assert_eq(shmkit_chan_close(w), 0);
	writer_killed_after(name, NULL);  /* owes the END, has room for nothing */
	cr_expect_eq(atomic_load(&cb_of(r)->owed_at), atomic_load(&cb_of(r)->tail) | 1,
		     "still owed");
	drain_n(r, 0, 1, big);
	w = xopen(name, SHMKIT_CHAN_WRITER);
	send_str(w, "c1");
	drain_n(r, 1, n, big);
	expect(r, NULL, "the first session's end, paid by the third writer");
	expect(r, "c1", "the third session");
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

/* closed seen with an even tail (a close half done, or a writer killed
 * in it): no end yet while the writer lives, a death once it is gone, and
 * never an end told twice. */
Test(chan_sessions, half_closed)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);
	shmkit_chan *r = xfollow(name), *w = xopen(name, SHMKIT_CHAN_WRITER);
	struct shmkit_chan_shm *cb = cb_of(r);
	char buf[16];

	send_str(w, "a1");
	expect(r, "a1", "a");
	atomic_store(&cb->closed, 1);  /* a close half done: tail still even */
	expect_none(r, "half closed, the writer alive: no end");
	cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), SHORT_NS), -ETIMEDOUT,
		     "half closed: a wait sleeps, and ends");
	atomic_store(&cb->closed, 0);
	cr_assert_eq(shmkit_chan_close(w), 0);
	expect(r, NULL, "a's end, from its record");
	uint64_t t = atomic_load(&cb->tail);
	cr_assert(t & 1);
	atomic_store(&cb->tail, t & ~(uint64_t)1);  /* as if killed before its tail */
	cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), 0), -EPIPE,
		     "half closed, the writer gone: its death, not a second end");
	expect_none(r, "the death told once");
	atomic_store(&cb->tail, t);
	expect_none(r, "closed again: that end was told");
	shmkit_chan_close(r);
}

/* An end peeked and not released stays for the reader that takes over
 * (which re-reads what was peeked): it is told that end too. */
Test(chan_sessions, peeked_end_not_kept)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER), *w = xopen(name, SHMKIT_CHAN_WRITER);
	const void *p;

	send_str(w, "a1");
	cr_assert_eq(shmkit_chan_close(w), 0);
	w = xopen(name, SHMKIT_CHAN_WRITER);
	send_str(w, "b1");
	cr_assert_eq(shmkit_chan_peek(r, &p, 0), 2);
	cr_assert_eq(shmkit_chan_peek(r, &p, 0), 0, "a's end, peeked");
	cr_assert_eq(shmkit_chan_close(r), 0);  /* nothing released */
	r = xopen(name, SHMKIT_CHAN_READER);
	expect(r, "a1", "the peeked message again");
	expect(r, NULL, "and a's end again");
	expect(r, "b1", "then b");
	shmkit_chan_close(w);
	shmkit_chan_close(r);
}

/* closed seen, then a tail naming an end past the reader's position: a
 * newer session's, whose records lie ahead; never told before them (with
 * them hidden, the segment is inconsistent: -EBADMSG). */
Test(chan_sessions, newer_sessions_end)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);
	shmkit_chan *r = xfollow(name), *w = xopen(name, SHMKIT_CHAN_WRITER);

	send_str(w, "a1");
	cr_assert_eq(shmkit_chan_close(w), 0);
	expect(r, "a1", "a");
	expect(r, NULL, "a's end");
	w = xopen(name, SHMKIT_CHAN_WRITER);
	send_str(w, "b1");
	cr_assert_eq(shmkit_chan_close(w), 0);
	_Atomic uint64_t *hdr = (_Atomic uint64_t *)(void *)(ring_of(r) + 24);  /* b1's */
	uint64_t h = atomic_load(hdr);
	cr_assert_neq(h, 0);
	atomic_store(hdr, 0);
	char buf[16];
	cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), 0), -EBADMSG,
		     "b's end with b's records hidden: not told");
	atomic_store(hdr, h);
	expect(r, "b1", "b");
	expect(r, NULL, "b's end, after b1");
	expect_none(r, "told once");
	shmkit_chan_close(r);
}

/* A reader killed between its release (head past an END) and its store
 * of end_told: the next reader takes the end behind head as told. */
Test(chan_sessions, reader_killed_in_release)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 4096, 0);
	shmkit_chan *r = xopen(name, SHMKIT_CHAN_READER), *w = xopen(name, SHMKIT_CHAN_WRITER);

	send_str(w, "a1");
	cr_assert_eq(shmkit_chan_close(w), 0);
	expect(r, "a1", "a");
	expect(r, NULL, "a's end, released");
	atomic_store(&cb_of(r)->end_told, 0);  /* as if killed before storing it */
	cr_assert_eq(shmkit_chan_close(r), 0);
	r = xfollow(name);
	expect_none(r, "a follower: that end was told");
	shmkit_chan_close(r);
	r = xopen(name, SHMKIT_CHAN_READER);
	expect(r, NULL, "a plain reader: the stream's end, no -EBADMSG");
	shmkit_chan_close(r);
}

/* A writer killed after it paid the END it owed: the next writer, at a
 * frontier past it, owes nothing; no end that no session made. */
Test(chan_sessions, owed_end_paid_then_killed)
{
	const char *name = new_chan(SHMKIT_BACKEND_POSIX, 256, 0);
	shmkit_chan *r = xfollow(name), *w = xopen(name, SHMKIT_CHAN_WRITER);
	int big, n = fill(w, &big);

	cr_assert_eq(shmkit_chan_close(w), 0);  /* owed */
	drain_n(r, 0, n, big);
	expect(r, NULL, "a's end, from the flag");
	writer_killed_after(name, "b1");  /* paid the END before b1, then killed */
	char buf[16];
	expect(r, "b1", "b");
	cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), CHAN_WAIT_NS), -EPIPE, "b died");
	w = xopen(name, SHMKIT_CHAN_WRITER);
	send_str(w, "c1");
	expect(r, "c1", "c, with no end between that no session made");
	shmkit_chan_close(w);
	expect(r, NULL, "c's end");
	shmkit_chan_close(r);
}

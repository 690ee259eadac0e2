/* SPDX-License-Identifier: MIT */
/*
 * test_chan_fd.c - shmkit_chan_fd, the event-loop fd, on every kind of
 * channel: readable for a message, the end of a stream, room after a full
 * ring, a peer's death (kill -9, through its pidfd), an abandoned MPSC
 * claim; quiet once a call returned -EAGAIN; no lost wake-up in a stream
 * where both sides wait in epoll only (SHMKIT_TEST_FD_MSGS messages
 * in all, default 10 M); bad calls.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "shmkit.h"
#include "chan_test.h"

TestSuite(chan_fd, .init = chan_setup, .fini = kids_teardown, .timeout = 240);

static const uint32_t kinds[] = { SHMKIT_CHAN_SPSC, SHMKIT_CHAN_MPSC, SHMKIT_CHAN_BROADCAST };
static const char *const kind_names[] = { "spsc", "mpsc", "broadcast" };
#define NKINDS 3

static const char *ch;     /* the channel of the test */
static uint32_t ch_kind;
static const char *kname;
static pid_t parent;       /* the test process */

static shmkit_chan *open_as(int role, size_t cap)
{
	struct shmkit_chan_opts o = { .capacity = cap, .kind = ch_kind };
	shmkit_chan *c = NULL;
	int err = shmkit_chan_open(ch, SHMKIT_CREATE, role, &o, &c);

	if (err && getpid() == parent)
		cr_assert_fail("%s: open %s as %d: %s", kname, ch, role, strerror(-err));
	if (err)
		kid_fail("%s: open %s as %d: %s", kname, ch, role, strerror(-err));
	return c;
}

static void use_kind(int k, int backend)
{
	ch_kind = kinds[k];
	kname = kind_names[k];
	ch = ut_name(backend);
	parent = getpid();
}

/* Whether @fd polls readable within @ms. */
static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	cr_assert_geq(n, 0, "poll: %s", strerror(errno));
	return n == 1 && (p.revents & POLLIN);
}

/* Receives with timeout 0 until -EAGAIN; the messages it got. */
static int drain(shmkit_chan *c)
{
	char buf[256];
	long n;
	int got = 0;

	while ((n = shmkit_chan_recv(c, buf, sizeof(buf), 0)) > 0)
		got++;
	cr_assert_eq(n, -EAGAIN, "%s: drain: %ld", kname, n);
	return got;
}

static int arm_fd(shmkit_chan *c)
{
	int fd = shmkit_chan_fd(c);

	cr_assert_geq(fd, 0, "%s: shmkit_chan_fd: %s", kname, strerror(-fd));
	drain(c);
	cr_assert(!readable(fd, 0), "%s: readable after -EAGAIN", kname);
	return fd;
}

/* ---- children ---- */

/* A writer: sends one message at go 1, then closes at go 2 (or waits for
 * its kill). */
static int writer_kid(void *arg)
{
	bool close_it = arg != NULL;
	shmkit_chan *w = open_as(SHMKIT_CHAN_WRITER, 4096);

	kid_ready();
	kid_wait_go(1);
	int err = shmkit_chan_send(w, "hello", 5, CHAN_WAIT_NS);
	if (err)
		kid_fail("%s: send: %s", kname, strerror(-err));
	atomic_store(&bd->stage, 1);
	if (!close_it)
		for (;;)
			pause();  /* for the kill */
	kid_wait_go(2);
	shmkit_chan_close(w);
	return 0;
}

/* A reader or subscriber: takes two messages at go 1 (room for one more,
 * wherever the ring wraps), then waits for its kill. */
static int reader_kid(void *arg)
{
	(void)arg;
	shmkit_chan *r = open_as(SHMKIT_CHAN_READER, 4096);
	char buf[4096];

	kid_ready();
	kid_wait_go(1);
	for (int i = 0; i < 2; i++) {
		long n = shmkit_chan_recv(r, buf, sizeof(buf), CHAN_WAIT_NS);
		if (n <= 0)
			kid_fail("%s: recv: %ld", kname, n);
	}
	atomic_store(&bd->stage, 1);
	for (;;)
		pause();
}

/* ---- readiness ---- */

Test(chan_fd, bad_calls)
{
	cr_assert_eq(shmkit_chan_fd(NULL), -EINVAL);
	for (int k = 0; k < NKINDS; k++) {
		use_kind(k, SHMKIT_BACKEND_POSIX);
		shmkit_chan *r = open_as(SHMKIT_CHAN_READER, 4096);
		int fd = shmkit_chan_fd(r);
		cr_assert_geq(fd, 0);
		cr_assert_eq(shmkit_chan_fd(r), fd, "%s: one fd per handle", kname);
		cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC, "%s: close-on-exec", kname);
		cr_assert(readable(fd, 0), "%s: readable when made", kname);
		cr_assert_eq(drain(r), 0);
		cr_assert(!readable(fd, 0), "%s: quiet after -EAGAIN", kname);
		/* still quiet: an idle loop sleeps */
		cr_assert(!readable(fd, 30), "%s: woke with nothing to do", kname);
		cr_assert_eq(shmkit_chan_close(r), 0);
		cr_assert_eq(fcntl(fd, F_GETFD), -1, "%s: the handle closes its fd", kname);
	}
}

/* A message, then the end of the stream, on every kind and backend. */
Test(chan_fd, message_then_end)
{
	static const int backends[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV,
					SHMKIT_BACKEND_FILE };
	for (int b = 0; b < 3; b++)
		for (int k = 0; k < NKINDS; k++) {
			use_kind(k, backends[b]);
			atomic_store(&bd->stage, 0);
			kids_go(0);
			atomic_store(&bd->k.ready, 0);
			shmkit_chan *r = open_as(SHMKIT_CHAN_READER, 4096);
			pid_t w = kid_spawn(writer_kid, (void *)1);
			kids_wait_ready(1);
			int fd = arm_fd(r);
			kids_go(1);
			cr_assert(readable(fd, 10000), "%s on %s: no wake for a message", kname,
				  ch);
			char buf[16];
			cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), 0), 5, "%s", kname);
			cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), 0), -EAGAIN);
			cr_assert(!readable(fd, 0), "%s: readable after -EAGAIN", kname);
			kids_go(2);
			cr_assert(readable(fd, 10000), "%s on %s: no wake for the end", kname, ch);
			kid_expect_exit0(w, KID_WAIT_NS, "writer");
			/* readable until the end is read; the end, then */
			long n;
			while ((n = shmkit_chan_recv(r, buf, sizeof(buf), 0)) == -EAGAIN)
				cr_assert(readable(fd, 10000), "%s: end lost", kname);
			cr_assert_eq(n, 0, "%s: the end: %ld", kname, n);
			cr_assert(readable(fd, 0), "%s: the end stays readable", kname);
			shmkit_chan_close(r);
			kids_check();
		}
}

/* The writer's death reaches an armed reader through its pidfd. */
Test(chan_fd, writer_death)
{
	for (int k = 0; k < NKINDS; k++) {
		use_kind(k, SHMKIT_BACKEND_POSIX);
		atomic_store(&bd->stage, 0);
		atomic_store(&bd->k.ready, 0);
		kids_go(0);
		shmkit_chan *r = open_as(SHMKIT_CHAN_READER, 4096);
		pid_t w = kid_spawn(writer_kid, NULL);
		kids_wait_ready(1);
		int fd = arm_fd(r);
		/* the writer's join may have woken it: quiet again */
		if (readable(fd, 0))
			arm_fd(r);
		kid_kill(w);
		cr_assert(readable(fd, 10000), "%s: no wake for the writer's death", kname);
		long n;
		char buf[16];
		while ((n = shmkit_chan_recv(r, buf, sizeof(buf), 0)) == -EAGAIN)
			cr_assert(readable(fd, 10000), "%s: death lost", kname);
		cr_assert_eq(n, -EPIPE, "%s: after the death: %ld", kname, n);
		cr_assert(readable(fd, 0), "%s: a death stays readable", kname);
		shmkit_chan_close(r);
	}
}

/* One size for every message of a full ring: a smaller one could fit in
 * the ring's last gap. */
static char big[200];

/* Fills a writer's ring with timeout-0 sends; how many went in. */
static int fill(shmkit_chan *w)
{
	int sent = 0, err;

	while ((err = shmkit_chan_send(w, big, sizeof(big), 0)) == 0)
		sent++;
	cr_assert_eq(err, -EAGAIN, "%s: fill: %s", kname, strerror(-err));
	return sent;
}

/* Room after a full ring, then the reader's death, for a writer. */
Test(chan_fd, room_then_reader_death)
{
	for (int k = 0; k < NKINDS; k++) {
		use_kind(k, SHMKIT_BACKEND_POSIX);
		atomic_store(&bd->stage, 0);
		atomic_store(&bd->k.ready, 0);
		kids_go(0);
		shmkit_chan *w = open_as(SHMKIT_CHAN_WRITER, 4096);
		pid_t r = kid_spawn(reader_kid, NULL);
		kids_wait_ready(1);
		int fd = shmkit_chan_fd(w);
		cr_assert_geq(fd, 0);
		cr_assert_gt(fill(w), 0);
		cr_assert(!readable(fd, 0), "%s: a full writer readable", kname);
		kids_go(1);  /* the reader takes two */
		cr_assert(readable(fd, 10000), "%s: no wake for room", kname);
		int err;
		while ((err = shmkit_chan_send(w, big, sizeof(big), 0)) == -EAGAIN)
			cr_assert(readable(fd, 10000), "%s: room lost", kname);
		cr_assert_eq(err, 0, "%s: send into room: %s", kname, strerror(-err));
		fill(w);
		cr_assert(!readable(fd, 0));
		kid_kill(r);
		cr_assert(readable(fd, 10000), "%s: no wake for the reader's death", kname);
		while ((err = shmkit_chan_send(w, big, sizeof(big), 0)) == -EAGAIN)
			cr_assert(readable(fd, 10000), "%s: death lost", kname);
		if (ch_kind == SHMKIT_CHAN_BROADCAST)
			/* a dead subscriber is dropped: the writer goes on */
			cr_assert_eq(err, 0, "%s: after the death: %s", kname, strerror(-err));
		else
			cr_assert_eq(err, -EPIPE, "%s: after the death: %s", kname,
				     strerror(-err));
		shmkit_chan_close(w);
	}
}

/* MPSC: a writer killed holding a claim in front of another's message;
 * its death wakes the armed reader, which passes the claim. */
static int claimer_kid(void *arg)
{
	(void)arg;
	shmkit_chan *w = open_as(SHMKIT_CHAN_WRITER, 4096);
	void *p;

	int err = shmkit_chan_reserve(w, 8, &p, CHAN_WAIT_NS);
	if (err)
		kid_fail("reserve: %s", strerror(-err));
	kid_ready();
	for (;;)
		pause();
}

Test(chan_fd, mpsc_abandoned_claim)
{
	use_kind(1, SHMKIT_BACKEND_POSIX);
	shmkit_chan *r = open_as(SHMKIT_CHAN_READER, 4096);
	shmkit_chan *w2 = open_as(SHMKIT_CHAN_WRITER, 4096);
	pid_t w = kid_spawn(claimer_kid, NULL);
	kids_wait_ready(1);
	cr_assert_eq(shmkit_chan_send(w2, "after", 5, 0), 0);
	int fd = arm_fd(r);  /* the claim holds "after" back */
	kid_kill(w);
	cr_assert(readable(fd, 10000), "no wake for the claimer's death");
	char buf[16];
	long n;
	while ((n = shmkit_chan_recv(r, buf, sizeof(buf), 0)) == -EAGAIN)
		cr_assert(readable(fd, 10000), "the claimer's death lost");
	cr_assert_eq(n, 5, "past the abandoned claim: %ld", n);
	cr_assert_eq(shmkit_chan_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	cr_assert(!readable(fd, 0), "quiet after the dead writer was passed");
	shmkit_chan_close(w2);
	shmkit_chan_close(r);
}

/* ---- a stream through epoll on both sides ---- */

/* A small ring: both sides wait often, each wait an arm and a wake. */
#define STREAM_CAP 512

static uint64_t fd_msgs(void)
{
	const char *e = getenv("SHMKIT_TEST_FD_MSGS");
	return e && *e ? strtoull(e, NULL, 10) : 10000000;
}

/* Waits in epoll on @fd alone, bounded: no lost wake-up shows as a
 * timeout here. */
static void epoll_once(int ep, const char *who)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, 20000);

	if (n < 0 && errno == EINTR)
		return;
	if (n != 1)
		kid_fail("%s %s: epoll_wait %d: a lost wake-up", kname, who, n);
}

static int epoll_of(int fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		kid_fail("epoll: %s", strerror(errno));
	return ep;
}

/* Writer @id of a stream: n messages (id, seq), timeout 0, epoll between. */
static int stream_writer(int id, void *arg)
{
	uint64_t n = *(uint64_t *)arg;
	shmkit_chan *w = open_as(SHMKIT_CHAN_WRITER, STREAM_CAP);
	int ep = epoll_of(shmkit_chan_fd(w));

	kid_ready();
	kid_wait_go(1);
	for (uint64_t seq = 0; seq < n;) {
		uint64_t m[2] = { (uint64_t)id, seq };
		int err = shmkit_chan_send(w, m, sizeof(m), 0);
		if (err == 0)
			seq++;
		else if (err == -EAGAIN)
			epoll_once(ep, "writer");
		else
			kid_fail("%s: send: %s", kname, strerror(-err));
	}
	shmkit_chan_close(w);
	return 0;
}

static void stream(int k, int writers, uint64_t n)
{
	use_kind(k, SHMKIT_BACKEND_POSIX);
	atomic_store(&bd->k.ready, 0);
	kids_go(0);
	shmkit_chan *r = open_as(SHMKIT_CHAN_READER, STREAM_CAP);
	for (int i = 0; i < writers; i++)
		kid_spawn_nth(stream_writer, i, &n);
	kids_wait_ready(writers);
	int ep = epoll_of(shmkit_chan_fd(r));
	uint64_t next[4] = { 0 }, got = 0, waits = 0;
	kids_go(1);
	for (;;) {
		uint64_t m[2];
		long len = shmkit_chan_recv(r, m, sizeof(m), 0);
		if (len == -EAGAIN) {
			struct epoll_event ev;
			int e = epoll_wait(ep, &ev, 1, 20000);
			cr_assert_eq(e, 1, "%s: reader: epoll_wait %d after %llu of %llu: a lost "
				     "wake-up", kname, e, (unsigned long long)got,
				     (unsigned long long)(n * (uint64_t)writers));
			waits++;
			continue;
		}
		if (len == 0)
			break;
		cr_assert_eq(len, (long)sizeof(m), "%s: recv: %ld", kname, len);
		cr_assert_lt(m[0], (uint64_t)writers);
		cr_assert_eq(m[1], next[m[0]], "%s: writer %llu: %llu where %llu was due", kname,
			     (unsigned long long)m[0], (unsigned long long)m[1],
			     (unsigned long long)next[m[0]]);
		next[m[0]]++;
		got++;
	}
	cr_assert_eq(got, n * (uint64_t)writers, "%s: %llu messages", kname,
		     (unsigned long long)got);
	for (int i = 0; i < KIDS_MAX; i++)
		if (kid_pids[i])
			kid_expect_exit0(kid_pids[i], KID_WAIT_NS, "writer");
	cr_log_info("%s: %llu messages, %llu epoll waits", kname, (unsigned long long)got,
		    (unsigned long long)waits);
	close(ep);
	shmkit_chan_close(r);
	kids_check();
}

/* The messages split between the kinds: 4 : 3 : 3. */
Test(chan_fd, stream_spsc) { stream(0, 1, fd_msgs() / 10 * 4); }
Test(chan_fd, stream_mpsc) { stream(1, 2, fd_msgs() / 10 * 3 / 2); }
Test(chan_fd, stream_broadcast) { stream(2, 1, fd_msgs() / 10 * 3); }

/* SPDX-License-Identifier: MIT */
/*
 * ipc.c - the kernel's IPC, the baselines the seeds compare shared memory
 * with: every message copied from the sender into the kernel and out again
 * to the receiver (two copies), and shared memory guarded by semaphores as
 * the seeds write it.
 *
 *   pipe         two pipes, one per direction
 *   fifo         two named pipes (mkfifo), opened and unlinked at once
 *   unix_stream  a UNIX stream socket pair
 *   unix_dgram   a UNIX datagram socket pair: one datagram per message
 *   tcp          a TCP connection over loopback, TCP_NODELAY on both ends
 *   sysv_mq      one System V message queue, mtype 1 one way, 2 back
 *   posix_mq     two POSIX message queues, one per direction
 *   eventfd      two eventfds: a notification each way, no data
 *   shm_sem      a shared mapping with a buffer per direction and
 *                process-shared semaphores: copy in, sem_post, sem_wait,
 *                copy out (seeds 003/004)
 *
 * Every message carries its sequence number in its first 8 bytes; the
 * receiver checks it (and a round trip's sender checks the echo), so a
 * figure is never taken from a broken stream.  Stream transports (pipes,
 * stream sockets) are read until a whole message has arrived.
 *
 * A size a mechanism cannot carry (a System V message above kernel.msgmax,
 * a datagram above the socket buffer, a POSIX queue the limits refuse) is
 * a cell the report marks not applicable, with the limit that decided it.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "shmkit.h"
#include "suites.h"

/* ---------------------------------------------------------------------- */
/* File descriptors: pipes, FIFOs, sockets, eventfds                      */

/*
 * The descriptors each side uses (the same number twice for a socket, which
 * goes both ways), and every descriptor to close at teardown.  Both sides
 * hold all of them after the fork; each uses its own.
 */
struct fd_ctx {
	int a_tx, a_rx, b_tx, b_rx;
	bool dgram;       /* one message per send and per recv */
	int fds[4];
	int nfds;
};

static struct fd_ctx *fd_ctx_new(void)
{
	struct fd_ctx *c = calloc(1, sizeof(*c));

	if (c)
		c->a_tx = c->a_rx = c->b_tx = c->b_rx = -1;
	return c;
}

static void fd_teardown(void *ctx)
{
	struct fd_ctx *c = ctx;

	for (int i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	free(c);
}

/* Keeps @fd for teardown; returns it. */
static int fd_keep(struct fd_ctx *c, int fd)
{
	c->fds[c->nfds++] = fd;
	return fd;
}

/* Sets *ctx, or frees @c and returns @err. */
static int fd_done(struct fd_ctx *c, int err, void **ctx)
{
	if (err) {
		fd_teardown(c);
		return err;
	}
	*ctx = c;
	return 0;
}

/* Writes all of @len bytes: a pipe or a stream socket may take less. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly @len bytes; -EPIPE at the end of the stream. */
static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fd_put(const struct fd_ctx *c, int fd, const void *buf, size_t len)
{
	if (!c->dgram)
		return write_all(fd, buf, len);
	for (;;) {
		ssize_t n = send(fd, buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		return (size_t)n == len ? 0 : -EPROTO;
	}
}

static int fd_get(const struct fd_ctx *c, int fd, void *buf, size_t len)
{
	if (!c->dgram)
		return read_all(fd, buf, len);
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		return (size_t)n == len ? 0 : -EPROTO;
	}
}

static int fd_round_a(struct bench_side *s)
{
	struct fd_ctx *c = s->ctx;
	uint64_t seq = ++s->seq;
	int err;

	bench_stamp(s->buf, seq);
	if ((err = fd_put(c, c->a_tx, s->buf, s->size)) ||
	    (err = fd_get(c, c->a_rx, s->buf, s->size)))
		return err;
	return bench_seq(s->buf) == seq ? 0 : -EPROTO;
}

static int fd_round_b(struct bench_side *s)
{
	struct fd_ctx *c = s->ctx;
	int err;

	if ((err = fd_get(c, c->b_rx, s->buf, s->size)))
		return err;
	if (bench_seq(s->buf) != ++s->seq)
		return -EPROTO;
	return fd_put(c, c->b_tx, s->buf, s->size);
}

static int fd_send(struct bench_side *s, uint64_t n)
{
	struct fd_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		bench_stamp(s->buf, ++s->seq);
		if ((err = fd_put(c, c->a_tx, s->buf, s->size)))
			return err;
	}
	return 0;
}

static int fd_recv(struct bench_side *s, uint64_t n)
{
	struct fd_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = fd_get(c, c->b_rx, s->buf, s->size)))
			return err;
		if (bench_seq(s->buf) != ++s->seq)
			return -EPROTO;
	}
	return 0;
}

/* A -> B through @ab, B -> A through @ba: {read end, write end} each. */
static void fd_wire(struct fd_ctx *c, const int ab[2], const int ba[2])
{
	c->b_rx = fd_keep(c, ab[0]);
	c->a_tx = fd_keep(c, ab[1]);
	c->a_rx = fd_keep(c, ba[0]);
	c->b_tx = fd_keep(c, ba[1]);
}

static int pipe_setup(void **ctx, struct bench_cell *cell)
{
	struct fd_ctx *c = fd_ctx_new();
	int ab[2], ba[2], err = 0;

	(void)cell;
	if (!c)
		return -ENOMEM;
	if (pipe(ab))
		return fd_done(c, -errno, ctx);
	if (pipe(ba)) {
		err = -errno;
		close(ab[0]);
		close(ab[1]);
		return fd_done(c, err, ctx);
	}
	fd_wire(c, ab, ba);
	return fd_done(c, 0, ctx);
}

/* Makes a FIFO, opens both its ends and unlinks it: nothing stays behind. */
static int fifo_open(int end[2])
{
	static unsigned serial;
	const char *dir = getenv("TMPDIR");
	char path[256];
	int err = 0;

	for (int tries = 0;; tries++) {
		snprintf(path, sizeof(path), "%s/shmkit-bench-%ld-%u.fifo",
			 dir && *dir ? dir : "/tmp", (long)getpid(), serial++);
		if (mkfifo(path, 0600) == 0)
			break;
		if (errno != EEXIST || tries >= 8)
			return -errno;
	}
	/* the read end first, without blocking for a writer */
	end[0] = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (end[0] < 0) {
		err = -errno;
	} else if ((end[1] = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
		err = -errno;
		close(end[0]);
	} else if (fcntl(end[0], F_SETFL, 0) < 0) {
		err = -errno;
		close(end[0]);
		close(end[1]);
	}
	unlink(path);
	return err;
}

static int fifo_setup(void **ctx, struct bench_cell *cell)
{
	struct fd_ctx *c = fd_ctx_new();
	int ab[2], ba[2], err;

	(void)cell;
	if (!c)
		return -ENOMEM;
	if ((err = fifo_open(ab)))
		return fd_done(c, err, ctx);
	if ((err = fifo_open(ba))) {
		close(ab[0]);
		close(ab[1]);
		return fd_done(c, err, ctx);
	}
	fd_wire(c, ab, ba);
	return fd_done(c, 0, ctx);
}

/* A socket pair: side A on sv[0], side B on sv[1]. */
static int socket_pair(struct fd_ctx *c, int type)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		return -errno;
	c->a_tx = c->a_rx = fd_keep(c, sv[0]);
	c->b_tx = c->b_rx = fd_keep(c, sv[1]);
	return 0;
}

static int unix_stream_setup(void **ctx, struct bench_cell *cell)
{
	struct fd_ctx *c = fd_ctx_new();

	(void)cell;
	if (!c)
		return -ENOMEM;
	return fd_done(c, socket_pair(c, SOCK_STREAM), ctx);
}

/* Grows both send buffers for @size-byte datagrams, as far as allowed. */
static void dgram_buffers(const struct fd_ctx *c, size_t size)
{
	int want = (int)(2 * size + 65536);  /* size <= BENCH_SIZE_MAX */

	for (int i = 0; i < c->nfds; i++) {
		/* SO_SNDBUFFORCE passes wmem_max as root; else take what we get */
		if (setsockopt(c->fds[i], SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)))
			setsockopt(c->fds[i], SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	}
}

/* One datagram of @size bytes each way, or the reason it cannot go. */
static int dgram_probe(struct fd_ctx *c, struct bench_cell *cell, void *buf)
{
	memset(buf, 0, cell->size);
	for (int dir = 0; dir < 2; dir++) {
		int err = fd_put(c, dir ? c->b_tx : c->a_tx, buf, cell->size);
		if (!err)
			err = fd_get(c, dir ? c->a_rx : c->b_rx, buf, cell->size);
		if (err == -EMSGSIZE || err == -ENOBUFS) {
			snprintf(cell->skip, sizeof(cell->skip),
				 "a %zu-byte datagram exceeds the socket buffer "
				 "(net.core.wmem_max)", cell->size);
			return -EMSGSIZE;
		}
		if (err)
			return err;
	}
	return 0;
}

static int unix_dgram_setup(void **ctx, struct bench_cell *cell)
{
	struct fd_ctx *c = fd_ctx_new();
	int err;

	if (!c)
		return -ENOMEM;
	c->dgram = true;
	if ((err = socket_pair(c, SOCK_DGRAM)))
		return fd_done(c, err, ctx);
	dgram_buffers(c, cell->size);
	void *buf = malloc(cell->size);
	err = buf ? dgram_probe(c, cell, buf) : -ENOMEM;
	free(buf);
	return fd_done(c, err, ctx);
}

/* A loopback TCP connection: side A the client, side B what accept gave. */
static int tcp_setup(void **ctx, struct bench_cell *cell)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct fd_ctx *c = fd_ctx_new();
	int one = 1, lfd, a, b, err = 0;

	(void)cell;
	if (!c)
		return -ENOMEM;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return fd_done(c, -errno, ctx);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len)) {
		err = -errno;
		close(lfd);
		return fd_done(c, err, ctx);
	}
	a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a < 0 || connect(a, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		if (a >= 0)
			close(a);
		close(lfd);
		return fd_done(c, err, ctx);
	}
	c->a_tx = c->a_rx = fd_keep(c, a);
	b = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	err = b < 0 ? -errno : 0;
	close(lfd);
	if (err)
		return fd_done(c, err, ctx);
	c->b_tx = c->b_rx = fd_keep(c, b);
	if (setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		err = -errno;
	return fd_done(c, err, ctx);
}

/* ---------------------------------------------------------------------- */
/* eventfd: a notification each way, no data                              */

static int eventfd_setup(void **ctx, struct bench_cell *cell)
{
	struct fd_ctx *c = fd_ctx_new();
	int ab, ba;

	(void)cell;
	if (!c)
		return -ENOMEM;
	if ((ab = eventfd(0, EFD_CLOEXEC)) < 0)
		return fd_done(c, -errno, ctx);
	if ((ba = eventfd(0, EFD_CLOEXEC)) < 0) {
		int err = -errno;
		close(ab);
		return fd_done(c, err, ctx);
	}
	c->a_tx = c->b_rx = fd_keep(c, ab);
	c->b_tx = c->a_rx = fd_keep(c, ba);
	return fd_done(c, 0, ctx);
}

/* Adds 1 to the counter, waits for the other side's. */
static int eventfd_ping(int tx, int rx)
{
	uint64_t v = 1;
	int err;

	if ((err = write_all(tx, &v, sizeof(v))) || (err = read_all(rx, &v, sizeof(v))))
		return err;
	return v == 1 ? 0 : -EPROTO;
}

static int eventfd_a(struct bench_side *s)
{
	struct fd_ctx *c = s->ctx;

	return eventfd_ping(c->a_tx, c->a_rx);
}

static int eventfd_b(struct bench_side *s)
{
	struct fd_ctx *c = s->ctx;
	uint64_t v;
	int err;

	if ((err = read_all(c->b_rx, &v, sizeof(v))))
		return err;
	if (v != 1)
		return -EPROTO;
	v = 1;
	return write_all(c->b_tx, &v, sizeof(v));
}

/* ---------------------------------------------------------------------- */
/* System V message queue                                                 */

struct sysv_ctx {
	int id;
	size_t size;
	struct msgbuf *msg;   /* this side's: mtype + size bytes */
};

/* A kernel limit from /proc/sys, or @dflt if it cannot be read. */
static long proc_limit(const char *path, long dflt)
{
	FILE *f = fopen(path, "re");
	long v;

	if (!f)
		return dflt;
	if (fscanf(f, "%ld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

static int sysv_setup(void **ctx, struct bench_cell *cell)
{
	long msgmax = proc_limit("/proc/sys/kernel/msgmax", 8192);
	long msgmnb = proc_limit("/proc/sys/kernel/msgmnb", 16384);
	struct sysv_ctx *c;

	/* a message above msgmax is EINVAL; above msgmnb it never fits */
	if ((long)cell->size > msgmax || (long)cell->size > msgmnb) {
		snprintf(cell->skip, sizeof(cell->skip),
			 "%zu bytes exceed kernel.msgmax (%ld) or kernel.msgmnb (%ld)",
			 cell->size, msgmax, msgmnb);
		return -EMSGSIZE;
	}
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	c->size = cell->size;
	c->msg = malloc(sizeof(long) + cell->size);
	c->id = c->msg ? msgget(IPC_PRIVATE, IPC_CREAT | 0600) : -1;
	if (c->id < 0) {
		int err = c->msg ? -errno : -ENOMEM;
		free(c->msg);
		free(c);
		return err;
	}
	*ctx = c;
	return 0;
}

static void sysv_teardown(void *ctx)
{
	struct sysv_ctx *c = ctx;

	msgctl(c->id, IPC_RMID, NULL);
	free(c->msg);
	free(c);
}

/* A System V queue outlives every process: a run that dies removes it. */
static void sysv_abandon(void *ctx)
{
	struct sysv_ctx *c = ctx;

	msgctl(c->id, IPC_RMID, NULL);
}

static int sysv_put(struct sysv_ctx *c, long type, const void *buf)
{
	c->msg->mtype = type;
	memcpy(c->msg->mtext, buf, c->size);
	while (msgsnd(c->id, c->msg, c->size, 0))
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int sysv_get(struct sysv_ctx *c, long type, void *buf)
{
	ssize_t n;

	while ((n = msgrcv(c->id, c->msg, c->size, type, 0)) < 0)
		if (errno != EINTR)
			return -errno;
	if ((size_t)n != c->size)
		return -EPROTO;
	memcpy(buf, c->msg->mtext, c->size);
	return 0;
}

/* mtype 1: A -> B; 2: B -> A.  The copies into and out of msg->mtext are
 * the price of msgsnd's struct; they stay out of the data's path only in
 * a program that builds its messages there, so they are kept. */
static int sysv_a(struct bench_side *s)
{
	struct sysv_ctx *c = s->ctx;
	uint64_t seq = ++s->seq;
	int err;

	bench_stamp(s->buf, seq);
	if ((err = sysv_put(c, 1, s->buf)) || (err = sysv_get(c, 2, s->buf)))
		return err;
	return bench_seq(s->buf) == seq ? 0 : -EPROTO;
}

static int sysv_b(struct bench_side *s)
{
	struct sysv_ctx *c = s->ctx;
	int err;

	if ((err = sysv_get(c, 1, s->buf)))
		return err;
	if (bench_seq(s->buf) != ++s->seq)
		return -EPROTO;
	return sysv_put(c, 2, s->buf);
}

static int sysv_send(struct bench_side *s, uint64_t n)
{
	struct sysv_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		bench_stamp(s->buf, ++s->seq);
		if ((err = sysv_put(c, 1, s->buf)))
			return err;
	}
	return 0;
}

static int sysv_recv(struct bench_side *s, uint64_t n)
{
	struct sysv_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = sysv_get(c, 1, s->buf)))
			return err;
		if (bench_seq(s->buf) != ++s->seq)
			return -EPROTO;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* POSIX message queues                                                   */

#define MQ_DEPTH 10  /* messages a queue holds: fs.mqueue.msg_max's default */

struct mq_ctx {
	mqd_t ab, ba;
	size_t size;
};

/* Room under RLIMIT_MSGQUEUE for two queues of @size-byte messages: the
 * soft limit raised as far as the hard one (root may raise that too). */
static void mq_rlimit(size_t size)
{
	struct rlimit rl;
	rlim_t need = 2 * MQ_DEPTH * ((rlim_t)size + 256) + 65536;

	if (getrlimit(RLIMIT_MSGQUEUE, &rl) || rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		struct rlimit up = { need, need };
		if (setrlimit(RLIMIT_MSGQUEUE, &up) == 0)
			return;
		need = rl.rlim_max;
	}
	rl.rlim_cur = need;
	setrlimit(RLIMIT_MSGQUEUE, &rl);
}

/* Opens a new queue under a unique name and unlinks it at once. */
static int mq_make(size_t size, mqd_t *q)
{
	static unsigned serial;
	struct mq_attr attr = { .mq_maxmsg = MQ_DEPTH, .mq_msgsize = (long)size };
	long depth = proc_limit("/proc/sys/fs/mqueue/msg_max", MQ_DEPTH);
	char name[64];

	if (depth < attr.mq_maxmsg)
		attr.mq_maxmsg = depth;
	for (int tries = 0;; tries++) {
		snprintf(name, sizeof(name), "/shmkit-bench-%ld-%u", (long)getpid(), serial++);
		*q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
		if (*q != (mqd_t)-1)
			break;
		if (errno != EEXIST || tries >= 8)
			return -errno;
	}
	mq_unlink(name);
	return 0;
}

static int mq_setup(void **ctx, struct bench_cell *cell)
{
	struct mq_ctx *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->size = cell->size;
	mq_rlimit(cell->size);
	err = mq_make(cell->size, &c->ab);
	if (!err && (err = mq_make(cell->size, &c->ba)))
		mq_close(c->ab);
	if (err == -EINVAL || err == -EMFILE || err == -ENOMEM) {
		snprintf(cell->skip, sizeof(cell->skip),
			 "mq_open of %zu-byte messages: %s (fs.mqueue limits, "
			 "RLIMIT_MSGQUEUE)", cell->size, strerror(-err));
		err = -EMSGSIZE;
	}
	if (err) {
		free(c);
		return err;
	}
	*ctx = c;
	return 0;
}

static void mq_teardown(void *ctx)
{
	struct mq_ctx *c = ctx;

	mq_close(c->ab);
	mq_close(c->ba);
	free(c);
}

static int mq_put(const struct mq_ctx *c, mqd_t q, const void *buf)
{
	while (mq_send(q, buf, c->size, 0))
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int mq_get(const struct mq_ctx *c, mqd_t q, void *buf)
{
	ssize_t n;

	while ((n = mq_receive(q, buf, c->size, NULL)) < 0)
		if (errno != EINTR)
			return -errno;
	return (size_t)n == c->size ? 0 : -EPROTO;
}

static int mq_a(struct bench_side *s)
{
	struct mq_ctx *c = s->ctx;
	uint64_t seq = ++s->seq;
	int err;

	bench_stamp(s->buf, seq);
	if ((err = mq_put(c, c->ab, s->buf)) || (err = mq_get(c, c->ba, s->buf)))
		return err;
	return bench_seq(s->buf) == seq ? 0 : -EPROTO;
}

static int mq_b(struct bench_side *s)
{
	struct mq_ctx *c = s->ctx;
	int err;

	if ((err = mq_get(c, c->ab, s->buf)))
		return err;
	if (bench_seq(s->buf) != ++s->seq)
		return -EPROTO;
	return mq_put(c, c->ba, s->buf);
}

static int mq_send_n(struct bench_side *s, uint64_t n)
{
	struct mq_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		bench_stamp(s->buf, ++s->seq);
		if ((err = mq_put(c, c->ab, s->buf)))
			return err;
	}
	return 0;
}

static int mq_recv_n(struct bench_side *s, uint64_t n)
{
	struct mq_ctx *c = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = mq_get(c, c->ab, s->buf)))
			return err;
		if (bench_seq(s->buf) != ++s->seq)
			return -EPROTO;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* shm_sem: shared memory and semaphores, as the seeds write it           */

/*
 * One buffer per direction, each with a semaphore posted when it holds a
 * message; streams use the A -> B buffer alone, with a second semaphore
 * posted when it is free again (the seeds' producer/consumer).
 */
struct shm_sem {
	sem_t full_ab, full_ba, empty_ab;
	size_t size;
	_Alignas(64) unsigned char data[];   /* ab[size], then ba[size] */
};

static size_t shm_sem_bytes(size_t size)
{
	return sizeof(struct shm_sem) + 2 * size;
}

static int shm_sem_setup(void **ctx, struct bench_cell *cell)
{
	struct shm_sem *m = bench_map_shared(shm_sem_bytes(cell->size));

	if (!m)
		return -errno;
	m->size = cell->size;
	if (sem_init(&m->full_ab, 1, 0) || sem_init(&m->full_ba, 1, 0) ||
	    sem_init(&m->empty_ab, 1, 1)) {
		int err = -errno;
		munmap(m, shm_sem_bytes(cell->size));
		return err;
	}
	*ctx = m;
	return 0;
}

static void shm_sem_teardown(void *ctx)
{
	struct shm_sem *m = ctx;

	munmap(m, shm_sem_bytes(m->size));
}

static int sem_take(sem_t *sem)
{
	while (sem_wait(sem))
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int sem_give(sem_t *sem)
{
	return sem_post(sem) ? -errno : 0;
}

static int shm_sem_a(struct bench_side *s)
{
	struct shm_sem *m = s->ctx;
	uint64_t seq = ++s->seq;
	int err;

	bench_stamp(s->buf, seq);
	memcpy(m->data, s->buf, m->size);
	if ((err = sem_give(&m->full_ab)) || (err = sem_take(&m->full_ba)))
		return err;
	memcpy(s->buf, m->data + m->size, m->size);
	return bench_seq(s->buf) == seq ? 0 : -EPROTO;
}

static int shm_sem_b(struct bench_side *s)
{
	struct shm_sem *m = s->ctx;
	int err;

	if ((err = sem_take(&m->full_ab)))
		return err;
	memcpy(s->buf, m->data, m->size);
	if (bench_seq(s->buf) != ++s->seq)
		return -EPROTO;
	memcpy(m->data + m->size, s->buf, m->size);
	return sem_give(&m->full_ba);
}

static int shm_sem_send(struct bench_side *s, uint64_t n)
{
	struct shm_sem *m = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		bench_stamp(s->buf, ++s->seq);
		if ((err = sem_take(&m->empty_ab)))
			return err;
		memcpy(m->data, s->buf, m->size);
		if ((err = sem_give(&m->full_ab)))
			return err;
	}
	return 0;
}

static int shm_sem_recv(struct bench_side *s, uint64_t n)
{
	struct shm_sem *m = s->ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		if ((err = sem_take(&m->full_ab)))
			return err;
		memcpy(s->buf, m->data, m->size);
		if ((err = sem_give(&m->empty_ab)))
			return err;
		if (bench_seq(s->buf) != ++s->seq)
			return -EPROTO;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */

#define BOTH (BENCH_LATENCY | BENCH_THROUGHPUT)
#define FD_METHOD(n, w, fn) \
	{ .name = n, .what = w, .kinds = BOTH, .sized = true, .copies = 2, \
	  .setup = fn, .teardown = fd_teardown, \
	  .round_a = fd_round_a, .round_b = fd_round_b, \
	  .send_a = fd_send, .recv_b = fd_recv }

static const struct bench_method ipc_methods[] = {
	FD_METHOD("pipe", "two pipes, write/read", pipe_setup),
	FD_METHOD("fifo", "two named pipes (mkfifo)", fifo_setup),
	FD_METHOD("unix_stream", "UNIX stream socket pair", unix_stream_setup),
	FD_METHOD("unix_dgram", "UNIX datagram socket pair", unix_dgram_setup),
	FD_METHOD("tcp", "TCP loopback, TCP_NODELAY", tcp_setup),
	{ .name = "sysv_mq", .what = "System V message queue", .kinds = BOTH,
	  .sized = true, .copies = 2, .setup = sysv_setup, .teardown = sysv_teardown,
	  .abandon = sysv_abandon,
	  .round_a = sysv_a, .round_b = sysv_b, .send_a = sysv_send, .recv_b = sysv_recv },
	{ .name = "posix_mq", .what = "POSIX message queues", .kinds = BOTH,
	  .sized = true, .copies = 2, .setup = mq_setup, .teardown = mq_teardown,
	  .round_a = mq_a, .round_b = mq_b, .send_a = mq_send_n, .recv_b = mq_recv_n },
	{ .name = "eventfd", .what = "two eventfds, no data", .kinds = BENCH_LATENCY,
	  .copies = -1, .setup = eventfd_setup, .teardown = fd_teardown,
	  .round_a = eventfd_a, .round_b = eventfd_b },
	{ .name = "shm_sem", .what = "shared memory + semaphores", .kinds = BOTH,
	  .sized = true, .copies = 2, .setup = shm_sem_setup,
	  .teardown = shm_sem_teardown, .round_a = shm_sem_a, .round_b = shm_sem_b,
	  .send_a = shm_sem_send, .recv_b = shm_sem_recv },
};

const struct bench_suite bench_ipc_suite = {
	.methods = ipc_methods,
	.count = sizeof(ipc_methods) / sizeof(ipc_methods[0]),
};

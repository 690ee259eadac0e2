/* SPDX-License-Identifier: MIT */
/*
 * mux.c - recv NAME... (and recv --prefix): several channels read at once
 * in one epoll loop over their event-loop fds (shmkit_chan_fd), each
 * message written whole as it arrives, after "NAME: " with --prefix.
 *
 * Each ready channel is drained with calls of timeout 0, a batch at a time
 * so that a busy one does not starve the others; what was peeked is
 * released once stdout has it.  A channel whose stream ends leaves the
 * loop; recv ends when every one has ended, after --count messages in
 * all, or when none has a message for --timeout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "shmkit.h"

/* Messages taken from one channel before the next gets its turn. */
#define MUX_BATCH 64

struct source {
	const char *name;
	shmkit_chan *ch;
	int kind;
	bool copy;      /* a broadcast subscriber under overwrite: recv, not peek */
	bool held;      /* peeked messages not yet released */
	bool done;      /* its stream ended, or it failed */
	char *buf;      /* copy mode: the message */
	size_t max;
};

struct mux {
	const struct args *a;
	struct source *src;
	int n;
	char *out;
	size_t used, size;
	bool out_failed;  /* stdout refused: stop */
	bool died;        /* --follow: a writer died on the way: exit 1 */
	int ep;
};

/* Writes out what was gathered, then releases what each source peeked:
 * a message goes back only once stdout has it.  0 or EXIT_RUNTIME. */
static int mux_flush(struct mux *m)
{
	int ret = write_all(STDOUT_FILENO, m->out, m->used);

	m->used = 0;
	if (ret) {
		if (ret != EPIPE)
			err_msg(m->a->cmd->name, NULL, "writing stdout: %s", strerror(ret));
		return EXIT_RUNTIME;
	}
	for (int i = 0; i < m->n; i++)
		if (m->src[i].held) {
			shmkit_chan_release(m->src[i].ch);
			m->src[i].held = false;
		}
	return 0;
}

/* Appends @len bytes at @p; a message larger than the buffer is written
 * straight after what came before it. */
static int mux_put(struct mux *m, const void *p, size_t len)
{
	if (len > m->size - m->used) {
		int ret = write_all(STDOUT_FILENO, m->out, m->used);
		m->used = 0;
		if (!ret && len > m->size)
			ret = write_all(STDOUT_FILENO, p, len);
		if (ret) {
			if (ret != EPIPE)
				err_msg(m->a->cmd->name, NULL, "writing stdout: %s", strerror(ret));
			return EXIT_RUNTIME;
		}
		if (len > m->size)
			return 0;
	}
	memcpy(m->out + m->used, p, len);
	m->used += len;
	return 0;
}

/* One message of source @s: its prefix, itself, and its terminator if it
 * lacks one (messages of several channels interleave only whole). */
static int mux_msg(struct mux *m, const struct source *s, const char *p, size_t len)
{
	char term = m->a->term;
	int ret = 0;

	if (m->a->prefix && ((ret = mux_put(m, s->name, strlen(s->name))) != 0 ||
			     (ret = mux_put(m, ": ", 2)) != 0))
		return ret;
	if ((ret = mux_put(m, p, len)) != 0)
		return ret;
	if (p[len - 1] != term)
		ret = mux_put(m, &term, 1);
	return ret;
}

static int mux_open(struct mux *m, int ep)
{
	const struct args *a = m->a;

	for (int i = 0; i < m->n; i++) {
		struct source *s = &m->src[i];
		struct shmkit_chan_info ci;
		s->name = a->pos[i];
		for (int j = 0; j < i; j++)
			if (!strcmp(s->name, m->src[j].name)) {
				err_msg(a->cmd->name, s->name, "named twice");
				return EXIT_RUNTIME;
			}
		int ret = recv_open(a, s->name, &s->ch);
		if (!ret)
			ret = shmkit_chan_stat(s->name, &ci);
		if (ret) {
			chan_err(a->cmd->name, s->name, SHMKIT_CHAN_READER, ret);
			return EXIT_RUNTIME;
		}
		if (a->has_start && ci.kind != SHMKIT_CHAN_BROADCAST) {
			err_msg(a->cmd->name, s->name, "--start is for broadcast channels, and "
				"this is %s channel", kind_a(ci.kind));
			return EXIT_RUNTIME;
		}
		s->kind = ci.kind;
		s->copy = ci.kind == SHMKIT_CHAN_BROADCAST && ci.overflow == SHMKIT_BCAST_OVERWRITE;
		s->max = shmkit_chan_max_msg(s->ch);
		if (s->copy && !(s->buf = malloc(s->max))) {
			err_msg(a->cmd->name, s->name, "%s", strerror(ENOMEM));
			return EXIT_RUNTIME;
		}
		int fd = shmkit_chan_fd(s->ch);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		if (fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			lib_err(a->cmd->name, s->name, fd < 0 ? fd : -errno);
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

/* What a drain of one source came to. */
enum drained { MUX_IDLE, MUX_MORE, MUX_COUNT, MUX_FAILED };

/* Takes up to MUX_BATCH messages of @s with timeout 0: MUX_MORE if it may
 * have more, MUX_IDLE drained (or ended), MUX_COUNT when --count is
 * reached, MUX_FAILED after reporting. */
static enum drained mux_drain(struct mux *m, struct source *s, uint64_t *got)
{
	const struct args *a = m->a;

	for (int k = 0; k < MUX_BATCH; k++) {
		const void *p = s->buf;
		long len = s->copy ? shmkit_chan_recv(s->ch, s->buf, s->max, 0)
				   : shmkit_chan_peek(s->ch, &p, 0);
		if (len > 0) {
			s->held = !s->copy;
			if (mux_msg(m, s, p, (size_t)len)) {
				m->out_failed = true;
				return MUX_FAILED;
			}
			if (a->count && ++*got >= a->count)
				return MUX_COUNT;
			continue;
		}
		if (len == -EAGAIN)
			return MUX_IDLE;
		if (len == -EOVERFLOW) {
			uint64_t last = 0;
			shmkit_chan_missed(s->ch, &last, NULL);
			err_msg(a->cmd->name, s->name, "lapped by the writer: %" PRIu64
				" message%s missed", last, last == 1 ? "" : "s");
			continue;
		}
		if (len == 0 && a->follow)
			continue;  /* a stream ended: the next writer's comes */
		if (len == -EPIPE && a->follow) {
			/* told, and followed on: drained on to -EAGAIN, which
			 * arms the fd for the next writer; recv fails at its end */
			if (mux_flush(m) == 0)
				recv_err(a, s->name, s->kind, len);
			m->died = true;
			continue;
		}
		s->done = true;
		/* a channel left stays out of the loop: its fd would stay readable */
		epoll_ctl(m->ep, EPOLL_CTL_DEL, shmkit_chan_fd(s->ch), NULL);
		if (len == 0)
			return MUX_IDLE;  /* the end of its stream */
		/* what came before the error goes out first */
		if (mux_flush(m) == 0)
			recv_err(a, s->name, s->kind, len);
		return MUX_FAILED;
	}
	return MUX_MORE;
}

static int mux_run(struct mux *m, int ep)
{
	const struct args *a = m->a;
	uint64_t got = 0;
	int status = 0;
	/* every channel is looked at first: the fds start readable anyway */
	bool look_all = true;

	for (;;) {
		struct epoll_event ev[64];
		int nev = 0, live = 0;
		bool more = false;
		if (stop_signal())
			return mux_flush(m) ? EXIT_RUNTIME : 128 + stop_signal();
		for (int i = 0; i < m->n; i++) {
			struct source *s = &m->src[i];
			if (s->done)
				continue;
			enum drained r = mux_drain(m, s, &got);
			if (r == MUX_COUNT)
				return mux_flush(m) || m->died ? EXIT_RUNTIME : status;
			if (r == MUX_FAILED)
				status = EXIT_RUNTIME;
			if (m->out_failed)
				return EXIT_RUNTIME;
			if (r == MUX_MORE)
				more = true;
			live += !s->done;
		}
		int ret = mux_flush(m);
		if (!ret && m->died)
			status = EXIT_RUNTIME;
		if (ret || !live)
			return ret ? ret : status;
		if (more && !look_all)
			continue;
		look_all = false;
		/* in slices, so that a stop is seen (stop.c) */
		int64_t deadline = a->timeout_ns < 0 ? -1 : mono_ns() + a->timeout_ns;
		do {
			int ms = (int)((stop_slice(deadline, mono_ns()) + 999999) / 1000000);
			nev = stop_signal() ? -1 : epoll_wait(ep, ev, 64, ms);
		} while (((nev < 0 && errno == EINTR) ||
			  (nev == 0 && (deadline < 0 || mono_ns() < deadline))) && !stop_signal());
		if (stop_signal())
			return 128 + stop_signal();  /* everything written was released */
		if (nev < 0) {
			err_msg(a->cmd->name, NULL, "epoll_wait: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		if (nev == 0 && !more) {
			err_msg(a->cmd->name, m->n == 1 ? m->src[0].name : NULL,
				"no message within %s ms", a->timeout_ms);
			return EXIT_RUNTIME;
		}
	}
}

int recv_many(const struct args *a)
{
	struct mux m = { .a = a, .n = a->npos, .size = (size_t)256 << 10 };
	int ep = epoll_create1(EPOLL_CLOEXEC), status;

	m.src = calloc((size_t)m.n, sizeof(*m.src));
	m.out = malloc(m.size);
	if (ep < 0 || !m.src || !m.out) {
		err_msg(a->cmd->name, NULL, "%s", strerror(ep < 0 ? errno : ENOMEM));
		status = EXIT_RUNTIME;
	} else {
		m.ep = ep;
		status = mux_open(&m, ep);
		if (!status)
			status = mux_run(&m, ep);
	}
	/* messages peeked and not written stay for the next reader */
	for (int i = 0; m.src && i < m.n; i++) {
		if (m.src[i].ch)
			shmkit_chan_close(m.src[i].ch);
		free(m.src[i].buf);
	}
	if (ep >= 0)
		close(ep);
	free(m.src);
	free(m.out);
	return status;
}

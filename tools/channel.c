/* SPDX-License-Identifier: MIT */
/*
 * channel.c - the channel commands: create --channel, send (stdin as
 * messages, one a line) and recv (messages to stdout), and the reasons a
 * channel refuses them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "shmkit.h"

/* A channel kind's name, as --channel and stat write it. */
const char *kind_name(int kind)
{
	switch (kind) {
	case SHMKIT_CHAN_SPSC: return "spsc";
	case SHMKIT_CHAN_MPSC: return "mpsc";
	case SHMKIT_CHAN_BROADCAST: return "broadcast";
	default: return "unknown";
	}
}

/* The kind with its article: "an spsc", "a broadcast". */
const char *kind_a(int kind)
{
	switch (kind) {
	case SHMKIT_CHAN_SPSC: return "an spsc";
	case SHMKIT_CHAN_MPSC: return "an mpsc";
	case SHMKIT_CHAN_BROADCAST: return "a broadcast";
	default: return "an unknown";
	}
}

/* A broadcast channel's policy's name, as --policy and stat write it. */
const char *overflow_name(uint32_t overflow)
{
	return overflow == SHMKIT_BCAST_OVERWRITE ? "overwrite" : "backpressure";
}

/* Reports an error of a channel function on @name. */
void chan_err(const char *what, const char *name, int role, int err)
{
	struct shmkit_chan_info ci;

	switch (-err) {
	case EPROTOTYPE:
		if (shmkit_chan_stat(name, &ci) == 0)
			err_msg(what, name, "is %s channel, not the kind --channel asks for",
				kind_a(ci.kind));
		else
			err_msg(what, name, "not the kind of channel --channel asks for");
		break;
	case EUSERS:
		if (role == SHMKIT_CHAN_READER)
			err_msg(what, name, "the channel has %d live subscribers already, its most",
				SHMKIT_CHAN_SUBSCRIBERS);
		else
			err_msg(what, name, "the channel has %d live writers already, its most",
				SHMKIT_CHAN_MPSC_WRITERS);
		break;
	case EPROTONOSUPPORT:
		err_msg(what, name, "not a channel (or one this shmkit does not support)");
		break;
	case EPROTO:
		err_msg(what, name, "not a shmkit segment, so not a channel");
		break;
	case EBADMSG:
		err_msg(what, name, "corrupt channel");
		break;
	case EBUSY: {
		const char *who = role == SHMKIT_CHAN_WRITER ? "writer" : "reader";
		int32_t pid = 0;
		if (shmkit_chan_stat(name, &ci) == 0)
			pid = role == SHMKIT_CHAN_WRITER ? ci.writer_pid : ci.reader_pid;
		if (pid > 0)
			err_msg(what, name, "the channel has a %s already (pid %" PRId32 ")",
				who, pid);
		else
			err_msg(what, name, "the channel has a %s already", who);
		break;
	}
	default:
		lib_err(what, name, err);
	}
}

int create_channel(const struct args *a)
{
	const struct command *c = a->cmd;
	const char *name = a->name;
	struct shmkit_chan_info ci;
	int ret;

	ret = shmkit_chan_create(name, a->flags, &a->co);
	if (ret) {
		chan_err(c->name, name, 0, ret);
		return EXIT_RUNTIME;
	}
	/* an existing channel is left as it is: it must be the one asked for */
	ret = shmkit_chan_stat(name, &ci);
	if (ret) {
		chan_err(c->name, name, 0, ret);
		return EXIT_RUNTIME;
	}
	if ((uint32_t)ci.kind != a->co.kind) {
		err_msg(c->name, name, "exists as %s channel, not %s", kind_a(ci.kind),
			kind_name((int)a->co.kind));
		return EXIT_RUNTIME;
	}
	if (ci.capacity != a->co.capacity) {
		err_msg(c->name, name, "exists with a capacity of %" PRIu64
			" bytes, not the %zu asked for", ci.capacity, a->co.capacity);
		return EXIT_RUNTIME;
	}
	if (ci.kind == SHMKIT_CHAN_BROADCAST && ci.overflow != a->co.overflow) {
		err_msg(c->name, name, "exists with the %s policy, not %s",
			overflow_name(ci.overflow), overflow_name(a->co.overflow));
		return EXIT_RUNTIME;
	}
	return 0;
}


/*
 * A writer that stops on an error leaves the stream unended, so a reader
 * tells "the writer died" rather than taking a cut stream for a whole one:
 * its handle is never closed (the process exits), and stays reachable here
 * (volatile: a store nobody reads would be optimised away, and LeakSanitizer
 * would call the handle lost).
 */
static shmkit_chan *volatile abandoned;

/* The writer's state while it sends stdin. */
struct sender {
	const struct command *c;
	const struct args *a;
	shmkit_chan *ch;
	unsigned batch;             /* messages reserved since the last commit */
	uint64_t sent;              /* messages reserved in all */
	bool told_gone;             /* "the reader is gone" said */
};

/* Commit every this many messages, and before reading stdin again. */
#define SEND_BATCH 256

/* Reserves room for one message of @len bytes and copies @p in; 0 or
 * EXIT_RUNTIME after reporting. */
static int send_msg(struct sender *s, const char *p, size_t len)
{
	void *dst;
	int ret = shmkit_chan_reserve(s->ch, len, &dst, 0);

	/* (a try finds a dead reader at once: -EPIPE, not -EAGAIN) */
	if ((ret == -EAGAIN || ret == -EPIPE) && s->a->timeout_ns != 0) {
		/* the ring is full: wait for room, --timeout at most; a reader
		 * that is gone leaves what was sent for the next one, whom we
		 * wait for (it takes the role, then makes room) */
		int64_t deadline = s->a->timeout_ns < 0 ? -1 : mono_ns() + s->a->timeout_ns;
		for (;;) {
			ret = shmkit_chan_reserve(s->ch, len, &dst, stop_slice(deadline, mono_ns()));
			bool more = deadline < 0 || mono_ns() < deadline;
			if (ret == -EPIPE && more && !stop_signal()) {
				if (!s->told_gone)
					err_msg(s->c->name, s->a->name, "the reader is gone: waiting for "
						"the next one (what was sent waits in the channel)");
				s->told_gone = true;
				poll(NULL, 0, (int)(STOP_SLICE_NS / 1000000));
				continue;
			}
			if (stop_signal() || !(ret == -EINTR || (ret == -ETIMEDOUT && more)))
				break;
		}
		if ((ret == -ETIMEDOUT || ret == -EPIPE) && stop_signal())
			ret = -EINTR;
	}
	if (ret == -EINTR)
		return 128 + stop_signal();  /* stopped: this message is not taken */
	if (ret == -EPIPE) {
		if (s->a->timeout_ns > 0)
			err_msg(s->c->name, s->a->name, "the reader is gone, and no other came "
				"within %s ms", s->a->timeout_ms);
		else
			err_msg(s->c->name, s->a->name, "the reader is gone");
		return EXIT_RUNTIME;
	}
	if (ret == -ETIMEDOUT || ret == -EAGAIN) {
		err_msg(s->c->name, s->a->name,
			"no room for a message within %s ms (the reader does not keep up, "
			"or there is none)", s->a->timeout_ms);
		return EXIT_RUNTIME;
	}
	if (ret) {
		chan_err(s->c->name, s->a->name, SHMKIT_CHAN_WRITER, ret);
		return EXIT_RUNTIME;
	}
	memcpy(dst, p, len);
	s->sent++;
	if (++s->batch >= SEND_BATCH) {
		shmkit_chan_commit(s->ch);
		s->batch = 0;
	}
	return 0;
}

/* Sends one message per line (record with --null) of stdin; 0 at its end,
 * or EXIT_RUNTIME after reporting. */
static int send_stdin(struct sender *s)
{
	const char *what = s->c->name, *name = s->a->name;
	const char *unit = s->a->term == '\n' ? "line" : "record";
	char term = s->a->term;
	size_t max = shmkit_chan_max_msg(s->ch), cap = (size_t)1 << 20, have = 0, scanned = 0;
	uint64_t line = 0;
	char *buf = malloc(cap);
	int status = 0;

	if (!buf) {
		err_msg(what, name, "%s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (;;) {
		/* the reader sees everything before we may block on stdin */
		shmkit_chan_commit(s->ch);
		s->batch = 0;
		if (have == cap) {
			/* one unfinished line fills the buffer: it may still fit */
			size_t grow = cap > max / 2 ? max + 1 : cap * 2;
			char *nb = realloc(buf, grow);
			if (!nb) {
				err_msg(what, name, "%s", strerror(ENOMEM));
				status = EXIT_RUNTIME;
				break;
			}
			buf = nb;
			cap = grow;
		}
		/* wait for stdin in slices, so that a stop is seen */
		struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
		while (!stop_signal() && poll(&in, 1, (int)(STOP_SLICE_NS / 1000000)) == 0)
			;
		ssize_t got = stop_signal() ? -1 : read(STDIN_FILENO, buf + have, cap - have);
		if (got < 0 && stop_signal()) {
			/* stopped: whole lines went already; a part of one goes as
			 * it would at the end of stdin, while the ring has room */
			size_t rest = have;
			if (rest && (status = send_msg(s, buf, rest)) != 0)
				goto out;
			status = 128 + stop_signal();
			break;
		}
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err_msg(what, name, "reading stdin: %s", strerror(errno));
			status = EXIT_RUNTIME;
			break;
		}
		have += (size_t)got;
		char *start = buf, *end = buf + have, *p = buf + scanned, *t;
		while ((t = memchr(p, term, (size_t)(end - p))) != NULL) {
			size_t len = (size_t)(t + 1 - start);
			line++;
			if (len > max)
				goto too_long;
			if ((status = send_msg(s, start, len)) != 0)
				goto out;
			start = p = t + 1;
		}
		size_t rest = (size_t)(end - start);
		if (rest > max) {
			line++;
			goto too_long;
		}
		if (got == 0) {
			/* the end: a last line without its terminator is one too */
			if (rest && (status = send_msg(s, start, rest)) != 0)
				goto out;
			break;
		}
		memmove(buf, start, rest);
		have = scanned = rest;
	}
	goto out;
too_long:
	err_msg(what, name, "%s %" PRIu64 " is longer than the largest message (%zu bytes)",
		unit, line, max);
	status = EXIT_RUNTIME;
out:
	/* what was read before an error still goes */
	shmkit_chan_commit(s->ch);
	free(buf);
	return status;
}

/* After a stream that ended: says where what was sent went when no
 * reader had it (before the handle closes: its peer is looked at). */
static void tell_unread(const struct sender *s)
{
	int alive = 0;
	struct shmkit_chan_info ci;

	if (shmkit_chan_peer_pid(s->ch, &alive) > 0 && alive != 0)
		return;  /* a reader (or one we cannot tell dead) is there */
	int err = shmkit_chan_stat(s->a->name, &ci);
	if (err == -ENOENT && s->sent)
		err_msg(s->c->name, s->a->name, "the channel was removed and has no reader: "
			"the %" PRIu64 " message(s) sent can never be read", s->sent);
	else if (!err && ci.kind == SHMKIT_CHAN_BROADCAST && s->sent)
		err_msg(s->c->name, s->a->name, "no subscriber now: the %" PRIu64 " message(s) "
			"sent reached only those there when they were sent (a new one "
			"starts at the newest)", s->sent);
	else if (!err && ci.kind != SHMKIT_CHAN_BROADCAST && ci.in_flight)
		err_msg(s->c->name, s->a->name, "no reader: %" PRIu64 " message(s) wait in "
			"the channel for the next one", ci.in_flight);
}

int cmd_send(const struct args *a)
{
	const struct command *c = a->cmd;
	struct sender s = { .c = c, .a = a };
	int ret;

	ret = shmkit_chan_open(a->name, a->flags, SHMKIT_CHAN_WRITER, &a->co, &s.ch);
	if (ret) {
		chan_err(c->name, a->name, SHMKIT_CHAN_WRITER, ret);
		return EXIT_RUNTIME;
	}
	stop_catch();
	ret = send_stdin(&s);
	if (ret > 128) {
		/* Ctrl-C or kill: the stream ends cleanly, after what was sent */
		tell_unread(&s);
		int err = shmkit_chan_close(s.ch);
		if (err)
			lib_err(c->name, a->name, err);
		return ret;
	}
	if (ret) {
		abandoned = s.ch;  /* the stream stays unended: see abandoned */
		return ret;
	}
	/* the end of stdin ends the stream */
	tell_unread(&s);
	ret = shmkit_chan_close(s.ch);
	if (ret) {
		lib_err(c->name, a->name, ret);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* The reader's state: messages peeked and copied to out, not yet released. */
struct receiver {
	const struct command *c;
	const struct args *a;
	shmkit_chan *ch;
	char *out;
	size_t used, size;          /* bytes in out; its size */
	size_t flush_at;            /* write out and release from this many bytes */
	size_t max;                 /* the channel's largest message */
	bool sep;                   /* the last message lacked its terminator */
	bool copy;                  /* recv into out rather than peek: a broadcast
				     * subscriber under overwrite, whose peeked
				     * bytes may be written over before release */
	uint64_t missed, gaps;      /* overwrite: messages missed, times lapped */
};

/* Writes @len bytes at @p to stdout; 0, or EXIT_RUNTIME after reporting
 * (nothing for a closed pipe). */
static int recv_write(struct receiver *r, const void *p, size_t len)
{
	int ret = write_all(STDOUT_FILENO, p, len);

	if (ret) {
		if (ret != EPIPE)
			err_msg(r->c->name, r->a->name, "writing stdout: %s", strerror(ret));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Writes out what was copied, then hands every peeked message back: a
 * message is released only once stdout has it.  Call it only when every
 * peeked message is copied or written. */
static int recv_flush(struct receiver *r)
{
	int ret = recv_write(r, r->out, r->used);

	r->used = 0;
	if (ret)
		return ret;
	shmkit_chan_release(r->ch);
	return 0;
}

/* Takes the message of @len bytes just peeked at @p.  A terminator goes
 * between it and the one before when that one lacked its own. */
static int recv_msg(struct receiver *r, const char *p, size_t len)
{
	size_t need = len + (r->sep ? 1 : 0);
	int ret;

	if (need > r->size - r->used) {
		/* write out, but release nothing: this message is not copied yet */
		ret = recv_write(r, r->out, r->used);
		r->used = 0;
		if (ret)
			return ret;
	}
	if (r->sep)
		r->out[r->used++] = r->a->term;
	r->sep = p[len - 1] != r->a->term;
	if (len > r->size - r->used) {
		/* larger than the buffer: straight from the ring */
		ret = recv_write(r, r->out, r->used);
		r->used = 0;
		if (ret || (ret = recv_write(r, p, len)) != 0)
			return ret;
		shmkit_chan_release(r->ch);
		return 0;
	}
	memcpy(r->out + r->used, p, len);
	r->used += len;
	return r->used >= r->flush_at ? recv_flush(r) : 0;
}

/* Copy mode: makes room in out for a message and its separator; 0, or
 * EXIT_RUNTIME after reporting. */
static int recv_room(struct receiver *r)
{
	if (r->size - r->used >= r->max + 1)
		return 0;
	return recv_flush(r);
}

/* Takes the next message, waiting @timeout_ns at most: peeked in place, or
 * in copy mode received into out (recv_room made room) after the
 * separator it may need; recv checks the copy against the writer, so it is
 * never torn.  Its length with *p, 0 at the end of the stream, or an
 * error as peek. */
static long recv_take(struct receiver *r, const void **p, int64_t timeout_ns)
{
	if (!r->copy)
		return shmkit_chan_peek(r->ch, p, timeout_ns);
	char *dst = r->out + r->used + (r->sep ? 1 : 0);
	long n = shmkit_chan_recv(r->ch, dst, r->max, timeout_ns);
	if (n > 0)
		*p = dst;
	return n;
}

/* Takes the message of @len bytes that recv_take copied into out. */
static int recv_copied(struct receiver *r, const char *p, size_t len)
{
	if (r->sep)
		r->out[r->used++] = r->a->term;
	r->sep = p[len - 1] != r->a->term;
	r->used += len;
	return r->used >= r->flush_at ? recv_flush(r) : 0;
}

/* A broadcast subscriber lapped under overwrite: says how many messages
 * it missed, after writing out what it had. */
static int recv_gap(struct receiver *r)
{
	uint64_t last = 0;
	int status = recv_flush(r);

	shmkit_chan_missed(r->ch, &last, NULL);
	r->missed += last;
	r->gaps++;
	err_msg(r->c->name, r->a->name, "lapped by the writer: %" PRIu64 " message%s missed",
		last, last == 1 ? "" : "s");
	return status;
}

/* An MPSC stream's -EPIPE: every writer is gone and one at least died
 * without closing.  Names the dead ones. */
static void writers_died(const char *what, const char *name)
{
	struct shmkit_chan_writer w[SHMKIT_CHAN_MPSC_WRITERS];
	char pids[256] = "";
	size_t used = 0;
	int n = shmkit_chan_writers(name, w, SHMKIT_CHAN_MPSC_WRITERS), dead = 0;

	for (int i = 0; i < n && i < SHMKIT_CHAN_MPSC_WRITERS; i++) {
		if (w[i].alive != 0)
			continue;
		if (used < sizeof(pids) - 16)
			used += (size_t)snprintf(pids + used, sizeof(pids) - used, "%s%" PRId32,
						 dead ? ", " : "", w[i].pid);
		dead++;
	}
	if (dead)
		err_msg(what, name, "the writer died (%s %s)", dead == 1 ? "pid" : "pids", pids);
	else
		err_msg(what, name, "the writer died");
}

int recv_open(const struct args *a, const char *name, shmkit_chan **ch)
{
	unsigned flags = a->flags | (a->follow ? SHMKIT_FOLLOW : 0);
	int ret = -EOPNOTSUPP;

	if (!a->co.kind || a->co.kind == SHMKIT_CHAN_BROADCAST)
		ret = shmkit_chan_open(name, flags | SHMKIT_RDONLY, SHMKIT_CHAN_READER, &a->co, ch);
	if (ret == -EOPNOTSUPP)
		ret = shmkit_chan_open(name, flags, SHMKIT_CHAN_READER, &a->co, ch);
	return ret;
}

void recv_err(const struct args *a, const char *name, int kind, long err)
{
	const char *what = a->cmd->name;
	struct shmkit_chan_info ci;

	if (err == -ETIMEDOUT || err == -EAGAIN)
		err_msg(what, name, "no message within %s ms", a->timeout_ms);
	else if (err != -EPIPE)
		chan_err(what, name, SHMKIT_CHAN_READER, (int)err);
	else if (kind == SHMKIT_CHAN_MPSC)
		writers_died(what, name);
	else if (kind == SHMKIT_CHAN_BROADCAST && shmkit_chan_stat(name, &ci) == 0 &&
		 ci.writer_pid > 0)
		err_msg(what, name, "the writer died (pid %" PRId32 ")", ci.writer_pid);
	else
		err_msg(what, name, "the writer died");
}

int cmd_recv(const struct args *a)
{
	const struct command *c = a->cmd;
	struct receiver r = { .c = c, .a = a };
	struct shmkit_chan_info ci = { 0 };
	uint64_t count = a->count, got = 0;
	int ret, status = 0;
	bool died = false;          /* --follow: a writer died on the way */

	stop_catch();
	if (a->npos > 1 || a->prefix)
		return recv_many(a);
	ret = recv_open(a, a->name, &r.ch);
	if (ret) {
		chan_err(c->name, a->name, SHMKIT_CHAN_READER, ret);
		return EXIT_RUNTIME;
	}
	ret = shmkit_chan_stat(a->name, &ci);
	if (ret) {
		chan_err(c->name, a->name, SHMKIT_CHAN_READER, ret);
		shmkit_chan_close(r.ch);
		return EXIT_RUNTIME;
	}
	if (a->has_start && ci.kind != SHMKIT_CHAN_BROADCAST) {
		err_msg(c->name, a->name, "--start is for broadcast channels, and this is %s "
			"channel", kind_a(ci.kind));
		shmkit_chan_close(r.ch);
		return EXIT_RUNTIME;
	}
	/* an MPSC channel's lost count, as we start: the reader alone adds
	 * to it, so what it gains until we close is ours */
	bool mpsc = ci.kind == SHMKIT_CHAN_MPSC;
	uint64_t lost0 = mpsc ? ci.lost : 0;
	r.copy = ci.kind == SHMKIT_CHAN_BROADCAST && ci.overflow == SHMKIT_BCAST_OVERWRITE;
	r.max = shmkit_chan_max_msg(r.ch);
	/* hand room back to the writer in steps well below the capacity */
	r.flush_at = r.max / 2;
	if (r.flush_at > ((size_t)64 << 10))
		r.flush_at = (size_t)64 << 10;
	r.size = (size_t)256 << 10;
	if (r.copy && r.size < r.flush_at + r.max + 1)
		r.size = r.flush_at + r.max + 1;
	r.out = malloc(r.size);
	if (!r.out) {
		err_msg(c->name, a->name, "%s", strerror(ENOMEM));
		shmkit_chan_close(r.ch);
		return EXIT_RUNTIME;
	}
	while (!count || got < count) {
		const void *p;
		if (r.copy && (status = recv_room(&r)) != 0)
			break;
		long len = stop_signal() ? -EINTR : recv_take(&r, &p, 0);
		if (len == -EAGAIN) {
			/* nothing now: show what we have before we wait */
			if ((status = recv_flush(&r)) != 0)
				break;
			int64_t deadline = a->timeout_ns < 0 ? -1 : mono_ns() + a->timeout_ns;
			do
				len = recv_take(&r, &p, stop_slice(deadline, mono_ns()));
			while ((len == -EINTR ||
				(len == -ETIMEDOUT && (deadline < 0 || mono_ns() < deadline))) &&
			       !stop_signal());
			if (len == -ETIMEDOUT && stop_signal())
				len = -EINTR;
		}
		if (len == -EINTR || (len == -EAGAIN && stop_signal())) {
			/* Ctrl-C or kill: what was written goes back, the rest stays */
			status = recv_flush(&r);
			if (!status)
				status = 128 + stop_signal();
			break;
		}
		if (len > 0) {
			got++;
			status = r.copy ? recv_copied(&r, p, (size_t)len)
					: recv_msg(&r, p, (size_t)len);
			if (status)
				break;
			continue;
		}
		if (len == 0 && a->follow)
			continue;  /* a stream ended: the next writer's comes */
		if (len == 0)
			break;  /* the end of the stream */
		if (len == -EOVERFLOW) {
			if ((status = recv_gap(&r)) != 0)
				break;
			continue;
		}
		/* what came before the error goes out first */
		if ((status = recv_flush(&r)) != 0)
			break;
		status = EXIT_RUNTIME;
		recv_err(a, a->name, ci.kind, len);
		if (len == -EPIPE && a->follow) {
			/* told once: follow on to the next writer, and fail at
			 * the end for this one */
			died = true;
			status = 0;
			continue;
		}
		break;
	}
	if (!status)
		status = recv_flush(&r);
	if (!status && died)
		status = EXIT_RUNTIME;
	/* messages peeked and not written stay for the next reader */
	ret = shmkit_chan_close(r.ch);
	if (ret && !status) {
		lib_err(c->name, a->name, ret);
		status = EXIT_RUNTIME;
	}
	/* records of writers killed between reserve and commit: told, but
	 * not a failure, since every committed message came out */
	if (mpsc && shmkit_chan_stat(a->name, &ci) == 0 && ci.lost > lost0)
		err_msg(c->name, a->name, "%" PRIu64 " message%s lost: %s killed between "
			"reserve and commit", ci.lost - lost0, ci.lost - lost0 == 1 ? "" : "s",
			ci.lost - lost0 == 1 ? "its writer was" : "their writers were");
	/* an overwrite subscriber's gaps are the policy at work, not a failure */
	if (r.gaps > 1)
		err_msg(c->name, a->name, "%" PRIu64 " messages missed in all, in %" PRIu64
			" gaps", r.missed, r.gaps);
	free(r.out);
	return status;
}

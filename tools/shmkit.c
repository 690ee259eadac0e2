/* SPDX-License-Identifier: MIT */
/*
 * shmkit.c - the shmkit command-line tool: create, inspect, read, write and
 * clean up shared-memory regions; send and receive through channels.
 *
 *   shmkit create NAME --size BYTES [--raw] [--excl] [--mode MODE]
 *   shmkit create NAME --channel spsc|mpsc --capacity BYTES [--excl] [--mode MODE]
 *                 [--policy spin|spin-sleep|sleep]
 *   shmkit write NAME [--offset N] [--raw]
 *   shmkit read NAME [--offset N] [--length N] [--raw]
 *   shmkit send NAME [--create [--channel KIND] [--capacity BYTES]] [--null] [--timeout MS]
 *   shmkit recv NAME [--create [--channel KIND] [--capacity BYTES]] [--count N]
 *               [--timeout MS] [--null]
 *   shmkit ls [--json]
 *   shmkit stat NAME [--json]
 *   shmkit rm NAME...
 *   shmkit gc [--dry-run]
 *   shmkit bench [--quick] [--methods LIST] [--json FILE]   (bench/)
 *   shmkit --help | --version
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error.  Errors go to
 * stderr as "shmkit: <what>: <why>".
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "bench.h"
#include "shmkit.h"

enum {
	EXIT_RUNTIME = 1,
};

/* ---------------------------------------------------------------------- */
/* Messages                                                               */

/* Writes "shmkit: WHAT[ NAME]: WHY" to stderr, after what stdout has. */
static void __attribute__((format(printf, 3, 4)))
err_msg(const char *what, const char *name, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	args_vmsg(stderr, what, name, fmt, ap);
	va_end(ap);
}

/*
 * Reports a library error on @name.  -ENOENT is "no such segment", except
 * when the name's ftok PATH is what is missing.
 */
static void lib_err(const char *what, const char *name, int err)
{
	if (err == -ENOENT && !strncmp(name, "sysv:", 5)) {
		const char *colon = strrchr(name + 5, ':');
		if (colon) {
			size_t len = (size_t)(colon - (name + 5));
			char *path = strndup(name + 5, len);
			struct stat sb;
			if (path && stat(path, &sb) != 0) {
				int e = errno;
				err_msg(what, name, "ftok %s: %s", path, strerror(e));
				free(path);
				return;
			}
			free(path);
		}
	}
	if (err == -ENOENT)
		err_msg(what, name, "no such segment");
	else if (err == -ELOOP)
		err_msg(what, name, "refusing a symbolic link: shmkit never follows "
			"one as the last component of a name");
	else if (err == -ENODEV)
		err_msg(what, name, "not a regular file, so not a segment");
	else if (err == -EACCES)
		err_msg(what, name, "%s (the mode does not grant this user that access)",
			shmkit_strerror(err));
	else if (err == -EPERM)
		err_msg(what, name, "%s (only its owner or a privileged user may do that)",
			shmkit_strerror(err));
	else if (err == -EPROTO)
		err_msg(what, name, "%s (use --raw for a raw or foreign object)",
			shmkit_strerror(err));
	else
		err_msg(what, name, "%s", shmkit_strerror(err));
}

/* ---------------------------------------------------------------------- */
/* Output                                                                 */

/* Writes all of buf to fd; 0 or an errno. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		size_t chunk = len > ((size_t)1 << 30) ? (size_t)1 << 30 : len;
		ssize_t n = write(fd, p, chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* A JSON string of the n bytes at s; invalid UTF-8 becomes U+FFFD. */
static void json_strn(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
			i++;
		} else {
			size_t len = utf8_seq(p + i, n - i);
			if (len == 0) {
				fputs("\\ufffd", stdout);
				i++;
			} else {
				fwrite(p + i, 1, len, stdout);
				i += len;
			}
		}
	}
	putchar('"');
}

static void json_str(const char *s)
{
	if (s)
		json_strn(s, strlen(s));
	else
		fputs("null", stdout);
}

static const char *backend_name(int backend)
{
	switch (backend) {
	case SHMKIT_BACKEND_POSIX:
		return "posix";
	case SHMKIT_BACKEND_SYSV:
		return "sysv";
	case SHMKIT_BACKEND_FILE:
		return "file";
	case SHMKIT_BACKEND_ANON:
		return "anon";
	case SHMKIT_BACKEND_MEMFD:
		return "memfd";
	default:
		return "unknown";
	}
}

/* Local time with milliseconds, or @none for 0. */
static const char *fmt_time(int64_t ns, const char *none, char *buf, size_t len)
{
	time_t t;
	struct tm tm;
	size_t n;

	if (ns <= 0)
		return none;
	t = (time_t)(ns / 1000000000);
	if (!localtime_r(&t, &tm))
		return none;
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (n == 0)
		return none;
	snprintf(buf + n, len - n, ".%03d", (int)((ns / 1000000) % 1000));
	return buf;
}

/* ---------------------------------------------------------------------- */
/* create                                                                 */

static int create_channel(const struct args *a);

static int cmd_create(const struct args *a)
{
	const struct command *c = a->cmd;
	const char *name = a->name;
	shmkit_region *r;
	int ret;

	if (a->channel)
		return create_channel(a);
	ret = shmkit_region_open(name, a->flags, (size_t)a->size, a->mode, &r);
	if (ret == -EINVAL && !(a->flags & SHMKIT_EXCL)) {
		struct shmkit_stat st;
		if (shmkit_stat(name, &st) == 0 && st.size < a->size) {
			err_msg(c->name, name, "exists with %" PRIu64
				" bytes, less than the %" PRIu64 " asked for",
				st.size, a->size);
			return EXIT_RUNTIME;
		}
	}
	if (ret) {
		lib_err(c->name, name, ret);
		return EXIT_RUNTIME;
	}
	ret = shmkit_region_close(r);
	if (ret) {
		lib_err(c->name, name, ret);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* write                                                                  */

/*
 * Reads all of stdin.  Keeps at most @cap bytes in *buf; *total counts
 * everything read.  0 or an errno.
 */
static int slurp_stdin(uint64_t cap, char **buf, uint64_t *total)
{
	size_t have = 0, alloc = 0;
	char *b = NULL, scratch[65536];

	*total = 0;
	for (;;) {
		char *dst = scratch;
		size_t want = sizeof(scratch);
		if (have < cap) {
			if (have == alloc) {
				size_t grow = alloc ? alloc * 2 : 65536;
				if (grow > cap)
					grow = (size_t)cap;
				char *nb = realloc(b, grow);
				if (!nb) {
					free(b);
					return ENOMEM;
				}
				b = nb;
				alloc = grow;
			}
			dst = b + have;
			want = alloc - have;
		}
		ssize_t got = read(STDIN_FILENO, dst, want);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(b);
			return e;
		}
		if (got == 0)
			break;
		if (dst != scratch)
			have += (size_t)got;
		*total += (uint64_t)got;
	}
	*buf = b;
	return 0;
}

/* Opens @name for write or read and checks @offset against its size;
 * returns 0 with *r open, or EXIT_RUNTIME after reporting. */
static int open_at(const struct command *c, const char *name, unsigned flags,
		   uint64_t offset, shmkit_region **r)
{
	int ret = shmkit_region_open(name, flags, 0, 0, r);

	if (ret) {
		lib_err(c->name, name, ret);
		return EXIT_RUNTIME;
	}
	uint64_t size = shmkit_region_size(*r);
	if (offset > size) {
		err_msg(c->name, name, "offset %" PRIu64 " is beyond the end of a %"
			PRIu64 "-byte region", offset, size);
		shmkit_region_close(*r);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Closes @r; a close error counts only when nothing failed before. */
static int close_with(const struct command *c, const char *name, shmkit_region *r,
		      int status)
{
	int ret = shmkit_region_close(r);

	if (ret && !status) {
		lib_err(c->name, name, ret);
		status = EXIT_RUNTIME;
	}
	return status;
}

static int cmd_write(const struct args *a)
{
	const struct command *c = a->cmd;
	const char *name = a->name;
	uint64_t offset = a->offset, total, size;
	char *buf = NULL;
	shmkit_region *r;
	int ret, status = 0;

	ret = open_at(c, name, a->flags, offset, &r);
	if (ret)
		return ret;
	size = shmkit_region_size(r);
	ret = slurp_stdin(size - offset, &buf, &total);
	if (ret) {
		err_msg(c->name, name, "reading stdin: %s", strerror(ret));
		status = EXIT_RUNTIME;
		goto out;
	}
	if (total > size - offset) {
		err_msg(c->name, name, "input (%" PRIu64 " bytes) does not fit at offset %"
			PRIu64 " of a %" PRIu64 "-byte region", total, offset, size);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (total) {
		memcpy((char *)shmkit_region_base(r) + offset, buf, (size_t)total);
		if (shmkit_name_check(name) == SHMKIT_BACKEND_FILE) {
			ret = shmkit_region_sync(r, (size_t)offset, (size_t)total, SHMKIT_SYNC);
			if (ret) {
				lib_err(c->name, name, ret);
				status = EXIT_RUNTIME;
			}
		}
	}
out:
	free(buf);
	return close_with(c, name, r, status);
}

/* ---------------------------------------------------------------------- */
/* read                                                                   */

static int cmd_read(const struct args *a)
{
	const struct command *c = a->cmd;
	const char *name = a->name;
	uint64_t offset = a->offset, length = a->length, size;
	shmkit_region *r;
	int ret, status = 0;

	ret = open_at(c, name, a->flags, offset, &r);
	if (ret)
		return ret;
	size = shmkit_region_size(r);
	if (a->has_length && length > size - offset) {
		err_msg(c->name, name, "%" PRIu64 " bytes at offset %" PRIu64
			" go beyond the end of a %" PRIu64 "-byte region",
			length, offset, size);
		status = EXIT_RUNTIME;
	} else {
		if (!a->has_length)
			length = size - offset;
		ret = write_all(STDOUT_FILENO, (const char *)shmkit_region_base(r) + offset,
				(size_t)length);
		if (ret) {
			if (ret != EPIPE)
				err_msg(c->name, name, "writing stdout: %s", strerror(ret));
			status = EXIT_RUNTIME;
		}
	}
	return close_with(c, name, r, status);
}

/* ---------------------------------------------------------------------- */
/* Channels: create --channel, send, recv                                 */

/* A channel kind's name, as --channel and stat write it. */
static const char *kind_name(int kind)
{
	switch (kind) {
	case SHMKIT_CHAN_SPSC: return "spsc";
	case SHMKIT_CHAN_MPSC: return "mpsc";
	case SHMKIT_CHAN_BROADCAST: return "broadcast";
	default: return "unknown";
	}
}

/* The kind with its article: "an spsc", "a broadcast". */
static const char *kind_a(int kind)
{
	switch (kind) {
	case SHMKIT_CHAN_SPSC: return "an spsc";
	case SHMKIT_CHAN_MPSC: return "an mpsc";
	case SHMKIT_CHAN_BROADCAST: return "a broadcast";
	default: return "an unknown";
	}
}

/* A broadcast channel's policy's name, as --policy and stat write it. */
static const char *overflow_name(uint32_t overflow)
{
	return overflow == SHMKIT_BCAST_OVERWRITE ? "overwrite" : "backpressure";
}

/* Reports an error of a channel function on @name. */
static void chan_err(const char *what, const char *name, int role, int err)
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

static int create_channel(const struct args *a)
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

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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
};

/* Commit every this many messages, and before reading stdin again. */
#define SEND_BATCH 256

/* Reserves room for one message of @len bytes and copies @p in; 0 or
 * EXIT_RUNTIME after reporting. */
static int send_msg(struct sender *s, const char *p, size_t len)
{
	void *dst;
	int ret = shmkit_chan_reserve(s->ch, len, &dst, 0);

	if (ret == -EAGAIN && s->a->timeout_ns != 0) {
		/* the ring is full: wait for room, --timeout at most */
		int64_t deadline = s->a->timeout_ns < 0 ? -1 : mono_ns() + s->a->timeout_ns;
		do {
			int64_t left = -1;
			if (deadline >= 0 && (left = deadline - mono_ns()) < 0)
				left = 0;
			ret = shmkit_chan_reserve(s->ch, len, &dst, left);
		} while (ret == -EINTR);
	}
	if (ret == -EPIPE) {
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
		ssize_t got = read(STDIN_FILENO, buf + have, cap - have);
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

static int cmd_send(const struct args *a)
{
	const struct command *c = a->cmd;
	struct sender s = { .c = c, .a = a };
	int ret;

	ret = shmkit_chan_open(a->name, a->flags, SHMKIT_CHAN_WRITER, &a->co, &s.ch);
	if (ret) {
		chan_err(c->name, a->name, SHMKIT_CHAN_WRITER, ret);
		return EXIT_RUNTIME;
	}
	ret = send_stdin(&s);
	if (ret) {
		abandoned = s.ch;  /* the stream stays unended: see abandoned */
		return ret;
	}
	/* the end of stdin ends the stream */
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
static void writers_died(struct receiver *r)
{
	struct shmkit_chan_writer w[SHMKIT_CHAN_MPSC_WRITERS];
	char pids[256] = "";
	size_t used = 0;
	int n = shmkit_chan_writers(r->a->name, w, SHMKIT_CHAN_MPSC_WRITERS), dead = 0;

	for (int i = 0; i < n && i < SHMKIT_CHAN_MPSC_WRITERS; i++) {
		if (w[i].alive != 0)
			continue;
		if (used < sizeof(pids) - 16)
			used += (size_t)snprintf(pids + used, sizeof(pids) - used, "%s%" PRId32,
						 dead ? ", " : "", w[i].pid);
		dead++;
	}
	if (dead)
		err_msg(r->c->name, r->a->name, "the writer died (%s %s)",
			dead == 1 ? "pid" : "pids", pids);
	else
		err_msg(r->c->name, r->a->name, "the writer died");
}

/* Opens @a->name as its reader: a broadcast subscriber maps the ring
 * read-only (-EOPNOTSUPP: another kind, or a mapping that cannot be). */
static int recv_open(const struct args *a, shmkit_chan **ch)
{
	int ret = -EOPNOTSUPP;

	if (!a->co.kind || a->co.kind == SHMKIT_CHAN_BROADCAST)
		ret = shmkit_chan_open(a->name, a->flags | SHMKIT_RDONLY, SHMKIT_CHAN_READER,
				       &a->co, ch);
	if (ret == -EOPNOTSUPP)
		ret = shmkit_chan_open(a->name, a->flags, SHMKIT_CHAN_READER, &a->co, ch);
	return ret;
}

/* The reader's -EPIPE: the writer died (MPSC: every writer is gone, and
 * one at least died). */
static void writer_died(struct receiver *r, int kind)
{
	struct shmkit_chan_info ci;

	if (kind == SHMKIT_CHAN_MPSC)
		writers_died(r);
	else if (kind == SHMKIT_CHAN_BROADCAST && shmkit_chan_stat(r->a->name, &ci) == 0 &&
		 ci.writer_pid > 0)
		err_msg(r->c->name, r->a->name, "the writer died (pid %" PRId32 ")",
			ci.writer_pid);
	else
		err_msg(r->c->name, r->a->name, "the writer died");
}

static int cmd_recv(const struct args *a)
{
	const struct command *c = a->cmd;
	struct receiver r = { .c = c, .a = a };
	struct shmkit_chan_info ci = { 0 };
	uint64_t count = a->count, got = 0;
	int ret, status = 0;

	ret = recv_open(a, &r.ch);
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
		long len = recv_take(&r, &p, 0);
		if (len == -EAGAIN) {
			/* nothing now: show what we have before we wait */
			if ((status = recv_flush(&r)) != 0)
				break;
			do
				len = recv_take(&r, &p, a->timeout_ns);
			while (len == -EINTR);
		}
		if (len > 0) {
			got++;
			status = r.copy ? recv_copied(&r, p, (size_t)len)
					: recv_msg(&r, p, (size_t)len);
			if (status)
				break;
			continue;
		}
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
		if (len == -ETIMEDOUT || len == -EAGAIN)
			err_msg(c->name, a->name, "no message within %s ms", a->timeout_ms);
		else if (len == -EPIPE)
			writer_died(&r, ci.kind);
		else
			chan_err(c->name, a->name, SHMKIT_CHAN_READER, (int)len);
		break;
	}
	if (!status)
		status = recv_flush(&r);
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

/* ---------------------------------------------------------------------- */
/* stat                                                                   */

/* The peers of @name in a malloc'd array; *count how many, or an error. */
static int get_peers(const char *name, struct shmkit_peer **out, int *count)
{
	size_t cap = 128;

	*out = NULL;
	for (int tries = 0; tries < 8; tries++) {
		struct shmkit_peer *p = calloc(cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		int n = shmkit_peers(name, p, cap);
		if (n < 0) {
			free(p);
			return n;
		}
		if ((size_t)n <= cap) {
			*out = p;
			*count = n;
			return 0;
		}
		free(p);
		cap = (size_t)n + 16;
	}
	return -EAGAIN;
}

static const char *alive_word(int alive)
{
	return alive > 0 ? "alive" : alive == 0 ? "dead" : "unknown";
}

/* comm made printable for a terminal. */
static void printable_comm(const struct shmkit_peer *p, char out[SHMKIT_COMM_MAX + 1])
{
	size_t len = strnlen(p->comm, SHMKIT_COMM_MAX);

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p->comm[i];
		out[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	out[len] = '\0';
	if (len == 0)
		strcpy(out, "-");
}

static void owner_names(uint32_t uid, uint32_t gid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid((uid_t)uid);
	struct group *gr = getgrgid((gid_t)gid);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%" PRIu32, uid);
	snprintf(g, sizeof(g), "%" PRIu32, gid);
	snprintf(buf, len, "%" PRIu32 ":%" PRIu32 " (%s:%s)", uid, gid,
		 pw ? pw->pw_name : u, gr ? gr->gr_name : g);
}

/* What stat gathered about one segment. */
struct stat_view {
	struct shmkit_stat st;
	struct shmkit_peer *peers;
	int npeers, perr;                 /* perr: shmkit_peers()'s error */
	struct shmkit_prim_info prims[64];
	int nprims, prerr;                /* prerr: shmkit_prims()'s error */
	struct shmkit_chan_info chan;
	int cherr;                        /* shmkit_chan_stat()'s error; -EPROTONOSUPPORT:
					   * not a channel */
	struct shmkit_chan_writer writers[SHMKIT_CHAN_MPSC_WRITERS];
	int nwriters;                     /* shmkit_chan_writers(): held entries, or
					   * its error (MPSC channels only) */
	struct shmkit_sub_info subs[SHMKIT_CHAN_SUBSCRIBERS];
	int nsubs;                        /* shmkit_chan_subs(): held slots, or its
					   * error (broadcast channels only) */
};

static const char *prim_name(int type)
{
	switch (type) {
	case SHMKIT_PRIM_MUTEX: return "mutex";
	case SHMKIT_PRIM_SEM: return "sem";
	case SHMKIT_PRIM_RWLOCK: return "rwlock";
	case SHMKIT_PRIM_EVENT: return "event";
	default: return "unknown";
	}
}

static const char *prim_state(int state)
{
	return state == 0 ? "consistent" : state == 1 ? "owner died, repair pending"
						       : "not recoverable";
}

static void prims_print_human(const struct stat_view *v)
{
	if (v->prerr) {
		if (v->prerr != -EPROTO)
			printf("%-10s n/a (%s)\n", "sync:", shmkit_strerror(v->prerr));
		return;
	}
	if (v->nprims == 0) {
		printf("%-10s none\n", "sync:");
		return;
	}
	printf("sync:\n");
	int shown = v->nprims < 64 ? v->nprims : 64;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_prim_info *p = &v->prims[i];
		printf("  %-6s @%-8" PRIu64 " ", prim_name(p->type), p->offset);
		if (p->corrupt) {
			printf("corrupt\n");
			continue;
		}
		switch (p->type) {
		case SHMKIT_PRIM_MUTEX:
		case SHMKIT_PRIM_RWLOCK:
			if (p->locked)
				printf("%s by pid %" PRId32 " (%s)",
				       p->type == SHMKIT_PRIM_MUTEX ? "locked" : "write-locked",
				       p->owner_pid, alive_word(p->owner_alive));
			else
				printf("unlocked");
			if (p->type == SHMKIT_PRIM_RWLOCK)
				printf(", %" PRIu32 " read holds", p->value);
			printf(", %" PRIu32 " waiting, %s, %" PRIu64 " recovered\n",
			       p->waiters, prim_state(p->state), p->recoveries);
			break;
		case SHMKIT_PRIM_SEM:
			printf("value %" PRIu32 ", %" PRIu32 " waiting\n", p->value, p->waiters);
			break;
		default:
			printf("sequence %" PRIu32 ", %" PRIu32 " waiting\n", p->value, p->waiters);
			break;
		}
	}
}

static void prims_print_json(const struct stat_view *v)
{
	if (v->prerr) {
		printf("  \"sync\": null\n");
		return;
	}
	printf("  \"sync\": [");
	int shown = v->nprims < 64 ? v->nprims : 64;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_prim_info *p = &v->prims[i];
		printf("%s\n    {\"type\": \"%s\", \"offset\": %" PRIu64 ", \"corrupt\": %s",
		       i ? "," : "", prim_name(p->type), p->offset,
		       p->corrupt ? "true" : "false");
		if (!p->corrupt) {
			printf(", \"locked\": %s, \"owner_pid\": %" PRId32
			       ", \"owner_alive\": %s, \"state\": %d, \"waiters\": %" PRIu32
			       ", \"value\": %" PRIu32 ", \"recoveries\": %" PRIu64,
			       p->locked ? "true" : "false", p->owner_pid,
			       !p->locked ? "null" : p->owner_alive > 0 ? "true"
			       : p->owner_alive == 0 ? "false" : "null",
			       p->state, p->waiters, p->value, p->recoveries);
		}
		printf("}");
	}
	printf("%s]\n", shown ? "\n  " : "");
}

/* "pid N (alive)", or "none" when the role was never taken. */
static const char *chan_role(int32_t pid, int alive, char *buf, size_t len)
{
	if (pid <= 0)
		return "none";
	snprintf(buf, len, "pid %" PRId32 " (%s)", pid, alive_word(alive));
	return buf;
}

/* An MPSC channel's lost count and writers, one line each: entry, PID,
 * liveness, messages, where it joined, its last claim and the reader's
 * lag behind that claim. */
static void mpsc_print_human(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;

	printf("  %-12s %" PRIu64 "\n", "lost:", ci->lost);
	printf("  %-12s %" PRIu32 " live, %" PRIu32 " dead\n", "writers:", ci->writers,
	       ci->writers_dead);
	if (v->nwriters < 0) {
		printf("    n/a (%s)\n", shmkit_strerror(v->nwriters));
		return;
	}
	int shown = v->nwriters < SHMKIT_CHAN_MPSC_WRITERS ? v->nwriters
							  : SHMKIT_CHAN_MPSC_WRITERS;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_chan_writer *w = &v->writers[i];
		printf("    entry %-2" PRIu32 " pid %-7" PRId32 " %-7s sent %-10" PRIu64
		       " joined @%-10" PRIu64 " pos @%-10" PRIu64 " lag %" PRIu64 "\n",
		       w->entry, w->pid, alive_word(w->alive), w->sent, w->join, w->pos,
		       w->lag);
	}
}

/* A broadcast channel's policy, its writer and subscribers, one line
 * each: slot, PID, liveness, mapping, position, lag, messages received
 * and missed. */
static void bcast_print_human(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;
	char buf[64];

	printf("  %-12s %s\n", "policy:", overflow_name(ci->overflow));
	printf("  %-12s %" PRIu64 "\n", "lost:", ci->lost);
	printf("  %-12s %" PRIu32 "\n", "dropped:", ci->dropped);
	printf("  %-12s %s\n", "writer:",
	       chan_role(ci->writer_pid, ci->writer_alive, buf, sizeof(buf)));
	printf("  %-12s %" PRIu32 " live, %" PRIu32 " dead\n", "subscribers:",
	       ci->subscribers, ci->subscribers_dead);
	if (v->nsubs < 0) {
		printf("    n/a (%s)\n", shmkit_strerror(v->nsubs));
		return;
	}
	int shown = v->nsubs < SHMKIT_CHAN_SUBSCRIBERS ? v->nsubs : SHMKIT_CHAN_SUBSCRIBERS;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_sub_info *u = &v->subs[i];
		printf("    slot %-2" PRIu32 " pid %-7" PRId32 " %-7s %-6s pos @%-10" PRIu64
		       " lag %" PRIu64 " (%" PRIu64 " msgs) received %" PRIu64 " lost %" PRIu64
		       " gaps %" PRIu64 "\n",
		       u->slot, u->pid, alive_word(u->alive), u->rdonly ? "rdonly" : "rw", u->pos,
		       u->lag, u->lag_msgs, u->received, u->lost, u->gaps);
	}
}

static void chan_print_human(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;
	char buf[64];

	if (v->cherr == -EPROTONOSUPPORT || v->cherr == -EPROTO)
		return;  /* not a channel */
	if (v->cherr) {
		printf("%-10s n/a (%s)\n", "channel:", shmkit_strerror(v->cherr));
		return;
	}
	printf("%-10s %s\n", "channel:", kind_name(ci->kind));
	printf("  %-12s %" PRIu64 "\n", "capacity:", ci->capacity);
	printf("  %-12s %" PRIu64 "\n", "max msg:", ci->max_msg);
	printf("  %-12s %" PRIu64 "\n", "used:", ci->used);
	printf("  %-12s %" PRIu64 "\n", "in flight:", ci->in_flight);
	printf("  %-12s %" PRIu64 "\n", "sent:", ci->sent);
	printf("  %-12s %" PRIu64 "\n", "received:", ci->received);
	printf("  %-12s %s\n", "closed:", ci->closed ? "yes" : "no");
	if (ci->kind == SHMKIT_CHAN_MPSC) {
		mpsc_print_human(v);
		printf("  %-12s %s\n", "reader:",
		       chan_role(ci->reader_pid, ci->reader_alive, buf, sizeof(buf)));
		return;
	}
	if (ci->kind == SHMKIT_CHAN_BROADCAST) {
		bcast_print_human(v);
		return;
	}
	printf("  %-12s %s\n", "writer:",
	       chan_role(ci->writer_pid, ci->writer_alive, buf, sizeof(buf)));
	printf("  %-12s %s\n", "reader:",
	       chan_role(ci->reader_pid, ci->reader_alive, buf, sizeof(buf)));
}

/* "true", "false" or "null": a liveness as JSON. */
static const char *alive_json(int alive)
{
	return alive > 0 ? "true" : alive == 0 ? "false" : "null";
}

/* A broadcast channel's policy and subscribers, as JSON members. */
static void bcast_print_json(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;

	printf(", \"policy\": \"%s\", \"lost\": %" PRIu64 ", \"dropped\": %" PRIu32
	       ", \"subscribers_live\": %" PRIu32 ", \"subscribers_dead\": %" PRIu32
	       ", \"subscribers\": ",
	       overflow_name(ci->overflow), ci->lost, ci->dropped, ci->subscribers,
	       ci->subscribers_dead);
	if (v->nsubs < 0) {
		printf("null");
		return;
	}
	int shown = v->nsubs < SHMKIT_CHAN_SUBSCRIBERS ? v->nsubs : SHMKIT_CHAN_SUBSCRIBERS;
	printf("[");
	for (int i = 0; i < shown; i++) {
		const struct shmkit_sub_info *u = &v->subs[i];
		printf("%s{\"slot\": %" PRIu32 ", \"pid\": %" PRId32 ", \"alive\": %s"
		       ", \"rdonly\": %s, \"pos\": %" PRIu64 ", \"lag\": %" PRIu64
		       ", \"lag_msgs\": %" PRIu64 ", \"received\": %" PRIu64
		       ", \"lost\": %" PRIu64 ", \"gaps\": %" PRIu64 "}",
		       i ? ", " : "", u->slot, u->pid, alive_json(u->alive),
		       u->rdonly ? "true" : "false", u->pos, u->lag, u->lag_msgs, u->received,
		       u->lost, u->gaps);
	}
	printf("]");
}

static void chan_print_json(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;

	if (v->cherr) {
		printf("  \"channel\": null,\n");
		return;
	}
	printf("  \"channel\": {\"type\": \"%s\", \"capacity\": %" PRIu64
	       ", \"max_msg\": %" PRIu64 ", \"used\": %" PRIu64 ", \"in_flight\": %" PRIu64
	       ", \"sent\": %" PRIu64 ", \"received\": %" PRIu64 ", \"closed\": %s",
	       kind_name(ci->kind), ci->capacity, ci->max_msg, ci->used,
	       ci->in_flight, ci->sent, ci->received, ci->closed ? "true" : "false");
	if (ci->kind == SHMKIT_CHAN_MPSC) {
		printf(", \"lost\": %" PRIu64 ", \"writers_live\": %" PRIu32
		       ", \"writers_dead\": %" PRIu32 ", \"writers\": ",
		       ci->lost, ci->writers, ci->writers_dead);
		if (v->nwriters < 0) {
			printf("null");
		} else {
			int shown = v->nwriters < SHMKIT_CHAN_MPSC_WRITERS
					    ? v->nwriters : SHMKIT_CHAN_MPSC_WRITERS;
			printf("[");
			for (int i = 0; i < shown; i++) {
				const struct shmkit_chan_writer *w = &v->writers[i];
				printf("%s{\"entry\": %" PRIu32 ", \"pid\": %" PRId32
				       ", \"alive\": %s, \"sent\": %" PRIu64
				       ", \"join\": %" PRIu64 ", \"pos\": %" PRIu64
				       ", \"lag\": %" PRIu64 "}",
				       i ? ", " : "", w->entry, w->pid,
				       alive_json(w->alive),
				       w->sent, w->join, w->pos, w->lag);
			}
			printf("]");
		}
	}
	if (ci->kind == SHMKIT_CHAN_BROADCAST)
		bcast_print_json(v);
	for (int i = 0; i < (ci->kind == SHMKIT_CHAN_BROADCAST ? 1 : 2); i++) {
		const char *role = i ? "reader" : "writer";
		int32_t pid = i ? ci->reader_pid : ci->writer_pid;
		int alive = i ? ci->reader_alive : ci->writer_alive;
		if (pid > 0)
			printf(", \"%s_pid\": %" PRId32 ", \"%s_alive\": %s", role, pid, role,
			       alive_json(alive));
		else
			printf(", \"%s_pid\": null, \"%s_alive\": null", role, role);
	}
	printf("},\n");
}

static void stat_print_human(const char *name, const struct stat_view *v)
{
	const struct shmkit_stat *st = &v->st;
	const struct shmkit_peer *peers = v->peers;
	int npeers = v->npeers, perr = v->perr;
	char tbuf[64], owner[160];

	printf("%-10s %s\n", "name:", name);
	printf("%-10s %s\n", "backend:", backend_name(st->backend));
	if (st->managed)
		printf("%-10s yes (layout %" PRIu32 ")\n", "managed:", st->version);
	else
		printf("%-10s no\n", "managed:");
	printf("%-10s %" PRIu64 "\n", "size:", st->size);
	printf("%-10s %" PRIu64 "\n", "total:", st->total_size);
	printf("%-10s %04" PRIo32 "\n", "mode:", st->mode);
	owner_names(st->uid, st->gid, owner, sizeof(owner));
	printf("%-10s %s\n", "owner:", owner);
	printf("%-10s %" PRId32 "\n", "cpid:", st->cpid);
	printf("%-10s %" PRId32 "\n", "lpid:", st->lpid);
	if (st->nattch < 0)
		printf("%-10s unknown\n", "nattch:");
	else
		printf("%-10s %" PRId32 "\n", "nattch:", st->nattch);
	if (st->backend == SHMKIT_BACKEND_SYSV)
		printf("%-10s %" PRId32 "\n", "shmid:", st->shmid);
	printf("%-10s %s\n", "removed:", st->removed ? "yes" : "no");
	printf("%-10s %s\n", "atime:", fmt_time(st->atime_ns, "never", tbuf, sizeof(tbuf)));
	printf("%-10s %s\n", "dtime:", fmt_time(st->dtime_ns, "never", tbuf, sizeof(tbuf)));
	printf("%-10s %s\n", "ctime:", fmt_time(st->ctime_ns, "unknown", tbuf, sizeof(tbuf)));
	if (perr == -EPROTO) {
		printf("%-10s n/a (not a shmkit segment)\n", "peers:");
		return;
	}
	if (perr)
		printf("%-10s n/a (%s)\n", "peers:", shmkit_strerror(perr));
	else if (npeers == 0)
		printf("%-10s none\n", "peers:");
	else
		printf("peers:\n");
	for (int i = 0; i < npeers; i++) {
		const struct shmkit_peer *p = &peers[i];
		char comm[SHMKIT_COMM_MAX + 1];
		printable_comm(p, comm);
		printf("  slot %-3" PRIu32 " pid %-7" PRId32 " %-7s uid %-5" PRIu32
		       " comm %-15s attached %s%s\n",
		       p->slot, p->pid, alive_word(p->alive), p->uid, comm,
		       fmt_time(p->attach_ns, "unknown", tbuf, sizeof(tbuf)),
		       p->other_pidns ? " (other pid ns)" : "");
	}
	chan_print_human(v);
	prims_print_human(v);
}

static void stat_print_json(const char *name, const struct stat_view *v)
{
	const struct shmkit_stat *st = &v->st;
	const struct shmkit_peer *peers = v->peers;
	int npeers = v->npeers, perr = v->perr;

	fputs("{\n  \"name\": ", stdout);
	json_str(name);
	printf(",\n  \"backend\": \"%s\",\n", backend_name(st->backend));
	printf("  \"managed\": %s,\n", st->managed ? "true" : "false");
	if (st->managed)
		printf("  \"version\": %" PRIu32 ",\n", st->version);
	else
		printf("  \"version\": null,\n");
	printf("  \"size\": %" PRIu64 ",\n", st->size);
	printf("  \"total_size\": %" PRIu64 ",\n", st->total_size);
	printf("  \"mode\": \"%04" PRIo32 "\",\n", st->mode);
	printf("  \"uid\": %" PRIu32 ",\n  \"gid\": %" PRIu32 ",\n", st->uid, st->gid);
	printf("  \"cpid\": %" PRId32 ",\n  \"lpid\": %" PRId32 ",\n", st->cpid, st->lpid);
	if (st->nattch < 0)
		printf("  \"nattch\": null,\n");
	else
		printf("  \"nattch\": %" PRId32 ",\n", st->nattch);
	if (st->backend == SHMKIT_BACKEND_SYSV)
		printf("  \"shmid\": %" PRId32 ",\n", st->shmid);
	else
		printf("  \"shmid\": null,\n");
	printf("  \"removed\": %s,\n", st->removed ? "true" : "false");
	printf("  \"atime_ns\": %" PRId64 ",\n  \"dtime_ns\": %" PRId64
	       ",\n  \"ctime_ns\": %" PRId64 ",\n",
	       st->atime_ns, st->dtime_ns, st->ctime_ns);
	if (perr) {
		printf("  \"peers\": null,\n");
		chan_print_json(v);
		prims_print_json(v);
		printf("}\n");
		return;
	}
	printf("  \"peers\": [");
	for (int i = 0; i < npeers; i++) {
		const struct shmkit_peer *p = &peers[i];
		printf("%s\n    {\"slot\": %" PRIu32 ", \"pid\": %" PRId32 ", \"uid\": %" PRIu32
		       ", \"alive\": %s, \"other_pidns\": %s, \"comm\": ",
		       i ? "," : "", p->slot, p->pid, p->uid,
		       alive_json(p->alive),
		       p->other_pidns ? "true" : "false");
		json_strn(p->comm, strnlen(p->comm, SHMKIT_COMM_MAX));
		printf(", \"attach_ns\": %" PRId64 "}", p->attach_ns);
	}
	printf("%s],\n", npeers ? "\n  " : "");
	chan_print_json(v);
	prims_print_json(v);
	printf("}\n");
}

static int cmd_stat(const struct args *a)
{
	const struct command *c = a->cmd;
	const char *name = a->name;
	struct stat_view *v;
	int ret;

	v = calloc(1, sizeof(*v));
	if (!v) {
		lib_err(c->name, name, -ENOMEM);
		return EXIT_RUNTIME;
	}
	ret = shmkit_stat(name, &v->st);
	if (ret) {
		lib_err(c->name, name, ret);
		free(v);
		return EXIT_RUNTIME;
	}
	v->perr = v->st.managed ? get_peers(name, &v->peers, &v->npeers) : -EPROTO;
	v->nprims = v->st.managed ? shmkit_prims(name, v->prims, 64) : -EPROTO;
	v->prerr = v->nprims < 0 ? v->nprims : 0;
	v->cherr = v->st.managed ? shmkit_chan_stat(name, &v->chan) : -EPROTO;
	if (!v->cherr && v->chan.kind == SHMKIT_CHAN_MPSC)
		v->nwriters = shmkit_chan_writers(name, v->writers, SHMKIT_CHAN_MPSC_WRITERS);
	if (!v->cherr && v->chan.kind == SHMKIT_CHAN_BROADCAST)
		v->nsubs = shmkit_chan_subs(name, v->subs, SHMKIT_CHAN_SUBSCRIBERS);
	if (a->json)
		stat_print_json(name, v);
	else
		stat_print_human(name, v);
	free(v->peers);
	free(v);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* ls and gc: the listing                                                 */

struct item {
	struct shmkit_entry e;
	struct shmkit_stat st;
	int err;         /* shmkit_stat()'s error; 0 ok */
	bool statted;    /* false: a private System V segment (no name) */
};

struct listing {
	struct item *v;
	size_t n, cap;
};

static int listing_add(const struct shmkit_entry *e, void *arg)
{
	struct listing *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct item *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n++].e = *e;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int d;

	if (x->e.backend != y->e.backend)
		return x->e.backend < y->e.backend ? -1 : 1;
	d = strcmp(x->e.name, y->e.name);
	if (d)
		return d;
	return (x->e.shmid > y->e.shmid) - (x->e.shmid < y->e.shmid);
}

/* Lists, sorts and stats every segment; those gone meanwhile are dropped. */
static int listing_collect(struct listing *l)
{
	size_t keep = 0;
	int ret;

	memset(l, 0, sizeof(*l));
	ret = shmkit_list(listing_add, l);
	if (ret < 0)
		return ret;
	qsort(l->v, l->n, sizeof(*l->v), item_cmp);
	for (size_t i = 0; i < l->n; i++) {
		struct item *it = &l->v[i];
		if (it->e.name[0] != '\0') {
			it->statted = true;
			it->err = shmkit_stat(it->e.name, &it->st);
			if (it->err == -ENOENT || it->err == -EIDRM)
				continue;  /* removed since it was listed */
		}
		l->v[keep++] = *it;
	}
	l->n = keep;
	return 0;
}

/* A short note on why an entry could not be examined. */
static const char *item_note(const struct item *it)
{
	if (!it->statted)
		return "private";
	switch (-it->err) {
	case 0:
		return it->st.removed ? "removed" : "";
	case EACCES:
	case EPERM:
		return "no access";
	case EBADMSG:
		return "corrupt";
	case EPROTONOSUPPORT:
		return "unsupported layout";
	default:
		return shmkit_strerror(it->err);
	}
}

static void ls_print_table(const struct listing *l)
{
	int w = 4;

	for (size_t i = 0; i < l->n; i++) {
		int len = l->v[i].e.name[0] ? (int)strlen(l->v[i].e.name) : 9;
		if (len > w)
			w = len;
	}
	printf("%-*s  %-7s  %12s  %-7s  %5s  %6s  %s\n", w, "NAME", "BACKEND", "SIZE",
	       "MANAGED", "PEERS", "SHMID", "NOTE");
	for (size_t i = 0; i < l->n; i++) {
		const struct item *it = &l->v[i];
		bool ok = it->statted && it->err == 0;
		char peers[16] = "-", shmid[16] = "-";
		const char *note = item_note(it);
		if (ok && it->st.managed && it->st.nattch >= 0)
			snprintf(peers, sizeof(peers), "%" PRId32, it->st.nattch);
		if (it->e.backend == SHMKIT_BACKEND_SYSV)
			snprintf(shmid, sizeof(shmid), "%" PRId32, it->e.shmid);
		printf("%-*s  %-7s  %12" PRIu64 "  %-7s  %5s  %6s", w,
		       it->e.name[0] ? it->e.name : "(private)", backend_name(it->e.backend),
		       ok ? it->st.size : it->e.size,
		       ok ? (it->st.managed ? "yes" : "no") : "?", peers, shmid);
		if (*note)
			printf("  %s", note);
		putchar('\n');
	}
}

static void ls_print_json(const struct listing *l)
{
	printf("{\"segments\": [");
	for (size_t i = 0; i < l->n; i++) {
		const struct item *it = &l->v[i];
		bool ok = it->statted && it->err == 0;
		printf("%s\n  {\"name\": ", i ? "," : "");
		json_str(it->e.name[0] ? it->e.name : NULL);
		printf(", \"backend\": \"%s\", \"size\": %" PRIu64,
		       backend_name(it->e.backend), ok ? it->st.size : it->e.size);
		if (ok)
			printf(", \"total_size\": %" PRIu64 ", \"managed\": %s",
			       it->st.total_size, it->st.managed ? "true" : "false");
		else
			printf(", \"total_size\": %" PRIu64 ", \"managed\": null", it->e.size);
		if (ok && it->st.nattch >= 0)
			printf(", \"nattch\": %" PRId32, it->st.nattch);
		else
			printf(", \"nattch\": null");
		if (it->e.backend == SHMKIT_BACKEND_SYSV)
			printf(", \"shmid\": %" PRId32, it->e.shmid);
		else
			printf(", \"shmid\": null");
		printf(", \"error\": ");
		json_str(it->statted && it->err ? item_note(it) : NULL);
		putchar('}');
	}
	printf("%s]}\n", l->n ? "\n" : "");
}

static int cmd_ls(const struct args *a)
{
	const struct command *c = a->cmd;
	struct listing l;
	int ret;

	ret = listing_collect(&l);
	if (ret) {
		free(l.v);
		err_msg(c->name, NULL, "%s", shmkit_strerror(ret));
		return EXIT_RUNTIME;
	}
	if (a->json)
		ls_print_json(&l);
	else
		ls_print_table(&l);
	free(l.v);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* rm                                                                     */

static int cmd_rm(const struct args *a)
{
	const struct command *c = a->cmd;
	int ret, status = 0;

	for (int i = 0; i < a->npos; i++) {
		ret = shmkit_remove(a->pos[i]);
		if (ret) {
			lib_err(c->name, a->pos[i], ret);
			status = EXIT_RUNTIME;
		}
	}
	return status;
}

/* ---------------------------------------------------------------------- */
/* gc                                                                     */

/* A managed segment, not yet removed, that no live peer holds. */
static bool reapable(const struct item *it)
{
	return it->statted && it->err == 0 && it->st.managed &&
	       !it->st.removed && it->st.nattch == 0;
}

static int cmd_gc(const struct args *a)
{
	const struct command *c = a->cmd;
	struct listing l;
	unsigned count = 0;
	int ret, status = 0;
	bool dry = a->dry_run;

	ret = listing_collect(&l);
	if (ret) {
		free(l.v);
		err_msg(c->name, NULL, "%s", shmkit_strerror(ret));
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct item *it = &l.v[i];
		if (!reapable(it))
			continue;
		if (dry) {
			printf("would remove %s\n", it->e.name);
			count++;
			continue;
		}
		/* look again right before: a peer may have come meanwhile */
		it->err = shmkit_stat(it->e.name, &it->st);
		if (!reapable(it))
			continue;
		ret = shmkit_remove(it->e.name);
		if (ret == -ENOENT)
			continue;
		if (ret) {
			lib_err(c->name, it->e.name, ret);
			status = EXIT_RUNTIME;
			continue;
		}
		printf("removed %s\n", it->e.name);
		count++;
	}
	printf("gc: %u %s\n", count, dry ? "would be removed" : "removed");
	free(l.v);
	return status;
}

/* ---------------------------------------------------------------------- */
/* bench: lives in bench/                                                 */

static int cmd_bench(const struct args *a)
{
	return bench_command(a->npos, a->pos);
}

/* ---------------------------------------------------------------------- */
/* help, and running a command                                            */

/* Prints a synopsis, one line per form: @first before the first, @more
 * before the others. */
static void print_synopsis(const char *syn, const char *first, const char *more)
{
	const char *lead = first;

	for (;;) {
		size_t len = strcspn(syn, "\n");
		printf("%sshmkit %.*s\n", lead, (int)len, syn);
		lead = more;
		if (syn[len] == '\0')
			break;
		syn += len + 1;
	}
}

static void print_usage(void)
{
	fputs("Usage:\n", stdout);
	for (size_t i = 0; i < CMD_COUNT; i++)
		if (args_commands[i].id != CMD_HELP)
			print_synopsis(args_commands[i].synopsis, "  ", "  ");
	fputs("  shmkit --help | --version\n"
	      "  shmkit COMMAND --help\n"
	      "\n"
	      "Segment names:\n"
	      "  NAME, posix:NAME  POSIX object /dev/shm/NAME; 1-200 of A-Z a-z 0-9 . _ -, not . or ..\n"
	      "  sysv:KEY          System V segment; KEY 1..0xffffffff, decimal or 0x hex\n"
	      "  sysv:PATH:PROJ    System V segment with the key ftok(PATH, PROJ)\n"
	      "  file:PATH         a regular file\n"
	      "\n"
	      "BYTES and N take a binary suffix K, M, G or T (also KiB, MiB, GiB, TiB).\n"
	      "Exit status: 0 success, 1 runtime error, 2 usage error.\n", stdout);
}

static void print_command_help(const struct command *c)
{
	print_synopsis(c->synopsis, "Usage: ", "       ");
	printf("\n%s", c->help);
}

/* What runs each command; help is never run (args_parse() makes it
 * ARGS_USAGE or ARGS_HELP). */
static int (*const runners[CMD_COUNT])(const struct args *a) = {
	[CMD_CREATE] = cmd_create,
	[CMD_WRITE] = cmd_write,
	[CMD_READ] = cmd_read,
	[CMD_SEND] = cmd_send,
	[CMD_RECV] = cmd_recv,
	[CMD_LS] = cmd_ls,
	[CMD_STAT] = cmd_stat,
	[CMD_RM] = cmd_rm,
	[CMD_GC] = cmd_gc,
	[CMD_BENCH] = cmd_bench,
};

static int run(int argc, char **argv)
{
	struct args a;
	int ret = args_parse(argc, argv, &a, stderr);

	if (ret)
		return ret;
	switch (a.action) {
	case ARGS_USAGE:
		print_usage();
		return 0;
	case ARGS_VERSION:
		printf("shmkit %s\n", shmkit_version());
		return 0;
	case ARGS_HELP:
		print_command_help(a.cmd);
		return 0;
	case ARGS_RUN:
		break;
	}
	ret = runners[a.cmd->id](&a);
	if (ret == BENCH_EXIT_HELP) {
		print_command_help(a.cmd);
		return 0;
	}
	return ret;
}

int main(int argc, char **argv)
{
	int status;

	/* a closed pipe is EPIPE from write(), handled where it happens */
	signal(SIGPIPE, SIG_IGN);
	status = run(argc, argv);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno;
		if (e != EPIPE)
			fprintf(stderr, "shmkit: stdout: %s\n", e ? strerror(e) : "write error");
		return EXIT_RUNTIME;
	}
	return status;
}

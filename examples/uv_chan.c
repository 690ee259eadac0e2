/* SPDX-License-Identifier: MIT */
/*
 * uv_chan.c - a channel read from a libuv loop: a uv_poll_t watches the
 * handle's event-loop fd (shmkit_chan_fd), beside a uv_timer_t.
 *
 *   uv_chan CHAN [IDLE_SECONDS]
 *
 * Prints each message of CHAN (opened as its reader, created as an SPSC
 * channel if need be) until its stream ends (exit 0), its writer dies, or
 * nothing comes for IDLE_SECONDS (default 10; exit 1).  Built apart from
 * the other examples: it needs libuv (Debian's libuv1-dev).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "shmkit.h"

struct reader {
	shmkit_chan *ch;
	const char *name;
	uv_poll_t poll;
	uv_timer_t idle;
	uint64_t idle_ms;
	long count;
	int status;
};

static void stop(struct reader *r, int status)
{
	r->status = status;
	uv_poll_stop(&r->poll);
	uv_timer_stop(&r->idle);
}

static void on_idle(uv_timer_t *t)
{
	struct reader *r = t->data;

	fprintf(stderr, "uv_chan: %s: no message for %llu ms\n", r->name,
		(unsigned long long)r->idle_ms);
	stop(r, 1);
}

/* The fd is readable: take what there is, with timeout 0, until -EAGAIN
 * (which re-arms the fd for the next wake). */
static void on_readable(uv_poll_t *p, int status, int events)
{
	struct reader *r = p->data;
	char buf[4096];
	long n;

	(void)events;
	if (status < 0) {
		fprintf(stderr, "uv_chan: poll: %s\n", uv_strerror(status));
		stop(r, 1);
		return;
	}
	while ((n = shmkit_chan_recv(r->ch, buf, sizeof(buf), 0)) > 0) {
		printf("%.*s%s", (int)n, buf, buf[n - 1] == '\n' ? "" : "\n");
		r->count++;
	}
	fflush(stdout);
	uv_timer_again(&r->idle);
	if (n == 0) {
		printf("%s: the stream ended after %ld messages\n", r->name, r->count);
		stop(r, 0);
	} else if (n != -EAGAIN) {
		fprintf(stderr, "uv_chan: %s: %s\n", r->name, shmkit_strerror((int)n));
		stop(r, 1);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: uv_chan CHAN [IDLE_SECONDS]\n");
		return 2;
	}
	struct reader r = { .name = argv[1], .status = 1 };
	r.idle_ms = (uint64_t)(argc == 3 ? strtoul(argv[2], NULL, 10) : 10) * 1000;
	int err = shmkit_chan_open(r.name, SHMKIT_CREATE, SHMKIT_CHAN_READER, NULL, &r.ch);
	if (err) {
		fprintf(stderr, "uv_chan: %s: %s\n", r.name, shmkit_strerror(err));
		return 1;
	}
	int fd = shmkit_chan_fd(r.ch);
	if (fd < 0) {
		fprintf(stderr, "uv_chan: shmkit_chan_fd: %s\n", shmkit_strerror(fd));
		return 1;
	}
	uv_loop_t *loop = uv_default_loop();
	uv_poll_init(loop, &r.poll, fd);
	uv_timer_init(loop, &r.idle);
	r.poll.data = r.idle.data = &r;
	uv_poll_start(&r.poll, UV_READABLE, on_readable);
	uv_timer_start(&r.idle, on_idle, r.idle_ms, r.idle_ms);
	printf("reading %s\n", r.name);
	fflush(stdout);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&r.poll, NULL);
	uv_close((uv_handle_t *)&r.idle, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	shmkit_chan_close(r.ch);
	return r.status;
}

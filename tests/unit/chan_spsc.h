/* SPDX-License-Identifier: MIT */
/*
 * chan_spsc.h - shared by the suites of the single-producer single-consumer
 * channel (test_chan_spsc_*.c): new channels and their ends, their control
 * block and ring, stat, record sizes, the stage children reach, and the
 * children's arguments.  The board, .init and .fini: chan_test.h;
 * children: kids.h; messages: msg.h (writer id 0, numbered from 0).
 */
#ifndef SHMKIT_TEST_CHAN_SPSC_H
#define SHMKIT_TEST_CHAN_SPSC_H

#include "chan_test.h"
#include "chan/layout_chan.h"

/* ---- the children ---- */

/* Waits (bounded) until the board's stage reaches @v. */
static inline void wait_stage(int v)
{
	int64_t end = now_ns() + KID_WAIT_NS;
	while (atomic_load(&bd->stage) < v) {
		cr_assert(!atomic_load(&bd->k.failed), "child failed: %s", kids_msg());
		cr_assert(now_ns() < end, "stage %d not reached (at %d)", v,
			  atomic_load(&bd->stage));
		sleep_ns(100000);
	}
}

/* ---- channels ---- */

/* A new channel on @backend; its name (removed by teardown). */
static inline const char *new_chan(int backend, size_t cap, unsigned policy)
{
	const char *name = ut_name(backend);
	struct shmkit_chan_opts o = { .capacity = cap, .policy = policy };
	int err = shmkit_chan_create(name, SHMKIT_EXCL, &o);
	cr_assert_eq(err, 0, "create %s: %s", name, shmkit_strerror(err));
	return name;
}

static inline shmkit_chan *xopen(const char *name, int role)
{
	shmkit_chan *c = NULL;
	int err = shmkit_chan_open(name, 0, role, NULL, &c);
	cr_assert_eq(err, 0, "open %s as %s: %s", name,
		     role == SHMKIT_CHAN_WRITER ? "writer" : "reader", shmkit_strerror(err));
	cr_assert_not_null(c);
	return c;
}

static inline struct shmkit_chan_shm *cb_of(shmkit_chan *c)
{
	return shmkit_region_base(shmkit_chan_region(c));
}

static inline unsigned char *ring_of(shmkit_chan *c)
{
	return (unsigned char *)shmkit_region_base(shmkit_chan_region(c)) +
	       SHMKIT_CHAN_RING_OFF;
}

static inline struct shmkit_chan_info xstat(const char *name)
{
	struct shmkit_chan_info ci;
	int err = shmkit_chan_stat(name, &ci);
	cr_assert_eq(err, 0, "chan_stat %s: %s", name, shmkit_strerror(err));
	return ci;
}

static inline uint64_t rec_size(size_t len)
{
	return SHMKIT_REC_HDR + ((len + 7) & ~(size_t)7);
}

/* ---- what children are given ---- */

struct peer_arg {
	const char *name;
	int n;          /* messages */
	size_t len;
	int variant;
};


/* In a child: opens a->name as its writer and sends a->n messages of
 * a->len bytes numbered from @first; the writer stays open. */
static inline shmkit_chan *writer_sends(const struct peer_arg *a, uint64_t first)
{
	shmkit_chan *w;
	unsigned char b[4096];
	int err = shmkit_chan_open(a->name, 0, SHMKIT_CHAN_WRITER, NULL, &w);
	if (err)
		kid_fail("writer open: %s", shmkit_strerror(err));
	for (int i = 0; i < a->n; i++) {
		msg_fill(b, a->len, 0, first + (uint64_t)i);
		if ((err = shmkit_chan_send(w, b, a->len, CHAN_WAIT_NS)) != 0)
			kid_fail("send %d: %s", i, shmkit_strerror(err));
	}
	return w;
}

#endif

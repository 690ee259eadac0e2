/* SPDX-License-Identifier: MIT */
/*
 * chan_test.h - shared by the channel suites (test_chan_spsc_*.c,
 * test_chan_mpsc.c, test_chan_bcast.c): their board (kids.h's, then
 * fields of their own), their .init and .fini, and the bound of a channel
 * call that is to succeed.  Children: kids.h; messages: msg.h; the stream
 * every kind runs: chan_stream.h.
 *
 *	TestSuite(name, .init = chan_setup, .fini = kids_teardown, ...);
 */
#ifndef SHMKIT_TEST_CHAN_TEST_H
#define SHMKIT_TEST_CHAN_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kids.h"
#include "msg.h"
#include "util.h"

#define CHAN_WAIT_NS ((int64_t)10 * 1000000000)  /* the timeout of a channel call
						    * that is to succeed: 10 s */
#define STREAM_READERS_MAX 8                     /* readers of one stream */

/* The channel suites' board. */
struct chan_board {
	struct kids_board k;
	_Atomic int stage;                           /* how far a child got (wait_stage) */
	_Atomic int sigs;                            /* signals a child handled */
	_Atomic long result;                         /* a child's answer */
	_Atomic uint64_t count;                      /* a child's count */
	/* chan_stream.h: what each reader got, and a digest of it */
	_Atomic uint64_t got[STREAM_READERS_MAX];
	_Atomic uint64_t digest[STREAM_READERS_MAX];
};

static struct chan_board *bd;

static inline void chan_setup(void)
{
	ut_catch_crashes();
	bd = kids_setup(sizeof(*bd), KID_LIFETIME_S);
}

#endif

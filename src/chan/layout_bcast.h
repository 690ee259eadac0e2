/* SPDX-License-Identifier: MIT */
/*
 * layout_bcast.h - a broadcast channel (one writer, up to 64 subscribers)
 * as it lies in a segment's data, byte for byte.  docs/architecture.md
 * ("Broadcast channel") has the same tables and the protocol.
 *
 *   [0, 256)          struct shmkit_bcast_shm: the control block; line 0
 *                     is struct shmkit_chan_line0 (layout_chan.h), kind 3.
 *                     Written by the writer only.
 *   [256, P)          zero, reserved
 *   [P, P + 4352)     the subscribers' window: struct shmkit_bcast_win
 *                     (256 bytes of wake-up words), then 64 x struct
 *                     shmkit_bcast_sub, one line per subscriber
 *   [R, R + cap)      the ring of records, written by the writer only
 *
 * P is the creator's page size (a power of two, 4 KiB .. 64 KiB) and
 * R = P + P * ceil(4352 / P): the window has pages of its own, so a
 * subscriber that opens with SHMKIT_RDONLY keeps only those writable and
 * mprotects the control block and the ring read-only.
 *
 * Positions (tail, head, cursors) count bytes since the channel was made;
 * they only grow, are 8-aligned, and a record lies at position % capacity.
 * A record is a 24-byte header and its payload padded to 8; it never wraps
 * (a PAD record fills the end of a lap).  Records in [head, tail) are
 * intact ("held"); the writer moves head past a record before it writes
 * over any of its bytes.
 */
#ifndef SHMKIT_LAYOUT_BCAST_H
#define SHMKIT_LAYOUT_BCAST_H

#include <stddef.h>
#include <stdint.h>

#include "chan/layout_chan.h"

#define SHMKIT_BCAST_MIN_CAP    256u  /* a record, its padding and the skip fit twice */
#define SHMKIT_BCAST_WIN_HDR    256u
#define SHMKIT_BCAST_SUB_SIZE   64u
#define SHMKIT_BCAST_WIN_SIZE   (SHMKIT_BCAST_WIN_HDR + SHMKIT_CHAN_SUBSCRIBERS * SHMKIT_BCAST_SUB_SIZE)
#define SHMKIT_BCAST_PAGE_MIN   4096u
#define SHMKIT_BCAST_PAGE_MAX   65536u
/* The ring's offset for page size @p. */
#define SHMKIT_BCAST_RING_OFF(p) \
	((uint64_t)(p) + ((SHMKIT_BCAST_WIN_SIZE + (uint64_t)(p) - 1) / (p)) * (p))

#define SHMKIT_BCAST_HDR        24u
/* header.stamp: the record's position | kind */
#define SHMKIT_BCAST_DATA       1u
#define SHMKIT_BCAST_PAD        2u
/* A subscriber's cursor while it joins or leaves: the writer ignores it. */
#define SHMKIT_BCAST_NONE       UINT64_MAX

/* line0.overflow holds enum shmkit_bcast_overflow (shmkit.h). */

struct shmkit_bcast_rec {
	uint64_t stamp;               /* 0: position | SHMKIT_BCAST_DATA or _PAD */
	uint64_t seq;                 /* 8: the message's number, from 0 (a PAD:
				       * the next message's) */
	uint32_t len;                 /* 16: payload bytes (a PAD: the bytes it
				       * fills after its header) */
	uint32_t check;               /* 20: ~len */
};

struct shmkit_bcast_shm {
	struct shmkit_chan_line0 l0;  /* 0: line 0 (layout_chan.h): kind 3, slots
				       * SHMKIT_CHAN_SUBSCRIBERS, table_offset the page
				       * size P, overflow SHMKIT_BCAST_POL_* */
	/* --- line 1: the writer's --- */
	_Atomic uint64_t tail;        /* 64: end of the published records, bit 0:
				       * closed */
	_Atomic uint64_t head;        /* 72: the oldest record held */
	_Atomic uint64_t last;        /* 80: the newest message's position */
	_Atomic uint64_t sent;        /* 88: messages published (= next seq) */
	_Atomic uint32_t writer;      /* 96: the writer's owner token, 0 never */
	_Atomic uint32_t closed;      /* 100: 1: the stream ends at tail */
	_Atomic int32_t writer_pid;   /* 104: PID of the last writer */
	_Atomic uint32_t sessions;    /* 108: writers that opened (statistics) */
	_Atomic uint64_t dropped;     /* 112: dead subscribers the writer dropped */
	shmkit_fence_set wfence;      /* 120: bit 0: the writer fences before it
				       * sleeps; subscribers read it at each
				       * release */
	_Atomic uint64_t wwake;       /* 128: the writer's wake id (chan/fdw.h), 0 none */
	uint8_t pad3[120];            /* 136: reserved */
};

/* The subscribers' window header: words every subscriber may write. */
struct shmkit_bcast_win {
	_Atomic uint32_t rwait;       /* 0: bit 0, a subscriber is about to sleep;
				       * their futex, +1 per wake */
	_Atomic uint32_t wwait;       /* 4: the writer is about to sleep */
	_Atomic uint32_t wseq;        /* 8: the writer's futex; bumped to wake it */
	_Atomic uint32_t leaves;      /* 12: subscribers that closed (a count) */
	_Atomic uint64_t joins;       /* 16: subscribers that ever joined */
	shmkit_fence_set sfence;      /* 24: bit i: subscriber slot i fences
				       * before it sleeps; the writer reads it at
				       * each publication */
	shmkit_fence_set sfds;        /* 32: bit i: subscriber slot i waits on
				       * its event-loop fd */
	uint8_t pad[216];             /* 40 */
};

/* One subscriber's slot: its own cache line, written by its occupant (the
 * writer only frees a dead occupant's token). */
struct shmkit_bcast_sub {
	_Atomic uint32_t token;       /* 0: the occupant's owner token, 0 free */
	_Atomic int32_t pid;          /* 4: its PID (informational) */
	_Atomic uint64_t cursor;      /* 8: end of what it released; NONE: joining */
	_Atomic uint64_t next_seq;    /* 16: the seq it expects next (statistics) */
	_Atomic uint64_t received;    /* 24: messages released (statistics) */
	_Atomic uint64_t lost;        /* 32: messages it missed, lapped */
	_Atomic uint64_t gaps;        /* 40: times it was lapped */
	_Atomic uint32_t flags;       /* 48: SHMKIT_BCAST_SUB_* */
	uint32_t pad;                 /* 52 */
	_Atomic uint64_t wake;        /* 56: its wake id (chan/fdw.h), 0 none */
};
#define SHMKIT_BCAST_SUB_RDONLY 0x1u

_Static_assert(SHMKIT_BCAST_BACKPRESSURE == 0 && SHMKIT_BCAST_OVERWRITE == 1,
	       "bcast.overflow holds enum shmkit_bcast_overflow");
_Static_assert(SHMKIT_CHAN_SUBSCRIBERS == 64, "64 subscriber slots: the window's size");
_Static_assert(sizeof(struct shmkit_bcast_shm) == SHMKIT_CHAN_RING_OFF, "bcast size");
_Static_assert(offsetof(struct shmkit_bcast_shm, wfence) == 120, "bcast.wfence");
_Static_assert(offsetof(struct shmkit_bcast_win, sfence) == 24, "win.sfence");
_Static_assert(offsetof(struct shmkit_bcast_shm, tail) == 64, "bcast.tail");
_Static_assert(offsetof(struct shmkit_bcast_shm, head) == 72, "bcast.head");
_Static_assert(offsetof(struct shmkit_bcast_shm, last) == 80, "bcast.last");
_Static_assert(offsetof(struct shmkit_bcast_shm, sent) == 88, "bcast.sent");
_Static_assert(offsetof(struct shmkit_bcast_shm, writer) == 96, "bcast.writer");
_Static_assert(offsetof(struct shmkit_bcast_shm, dropped) == 112, "bcast.dropped");
_Static_assert(sizeof(struct shmkit_bcast_win) == SHMKIT_BCAST_WIN_HDR, "bcast window header");
_Static_assert(offsetof(struct shmkit_bcast_win, joins) == 16, "win.joins");
_Static_assert(sizeof(struct shmkit_bcast_sub) == SHMKIT_BCAST_SUB_SIZE, "bcast slot");
_Static_assert(offsetof(struct shmkit_bcast_sub, cursor) == 8, "sub.cursor");
_Static_assert(offsetof(struct shmkit_bcast_sub, lost) == 32, "sub.lost");
_Static_assert(offsetof(struct shmkit_bcast_sub, flags) == 48, "sub.flags");
_Static_assert(offsetof(struct shmkit_bcast_sub, wake) == 56, "sub.wake");
_Static_assert(offsetof(struct shmkit_bcast_shm, wwake) == 128, "bcast.wwake");
_Static_assert(offsetof(struct shmkit_bcast_win, sfds) == 32, "win.sfds");
_Static_assert(sizeof(struct shmkit_bcast_rec) == SHMKIT_BCAST_HDR, "bcast record header");
_Static_assert(SHMKIT_BCAST_RING_OFF(4096) == 12288, "bcast ring offset, 4 KiB pages");
_Static_assert(SHMKIT_BCAST_RING_OFF(65536) == 131072, "bcast ring offset, 64 KiB pages");

#endif /* SHMKIT_LAYOUT_BCAST_H */

/* SPDX-License-Identifier: MIT */
/*
 * layout_mpsc.h - a many-writer, one-reader (MPSC) channel as it lies in a
 * segment's data, byte for byte.  docs/architecture.md ("MPSC channel") has
 * the same tables and the protocol.
 *
 *   [0, 256)          struct shmkit_mpsc_shm: the control block; line 0 is
 *                     struct shmkit_chan_line0 (layout_chan.h), kind 2
 *   [256, 4352)       64 x struct shmkit_mpsc_writer: the writer table
 *   [4352, 4352+cap)  the ring of records
 *
 * Positions (tail, head) count bytes since the channel was made, 8-aligned;
 * they only grow.  A record is a 64-bit header word and its payload padded
 * to 8; it never wraps (a PAD record fills the end of a lap).  lap(p) is
 * p / capacity.
 *
 * A ring word that holds no record header holds, while it is free space,
 * the EMPTY mark of the position it will take next: EMPTY(p) =
 * SHMKIT_MPSC_EMPTY_K ^ lap(p) << 2 (state bits 0).  The creator fills the
 * ring with lap 0's mark; the reader writes lap + 1's over every word it
 * releases.  A writer claims position t by one CAS from EMPTY(t), a value
 * the word holds only while t is unclaimed free space, so a writer that
 * read a stale tail can never claim anything but the true frontier.
 *
 * Record header word:
 *   bits 0-1   state: 1 CLAIMED, 2 COMMITTED, 3 PAD (0: not a header)
 *   bits 2-7   writer index (table entry of the claimer)
 *   bits 8-31  tag: lap(position) & 0xffffff
 *   bits 32-63 payload length in bytes (a PAD: the bytes it fills after
 *              its header, possibly 0)
 */
#ifndef SHMKIT_LAYOUT_MPSC_H
#define SHMKIT_LAYOUT_MPSC_H

#include <stddef.h>
#include <stdint.h>

#include "chan/layout_chan.h"

/* the writer table's entries: SHMKIT_CHAN_MPSC_WRITERS (shmkit.h) */
#define SHMKIT_MPSC_TABLE_OFF   256u
#define SHMKIT_MPSC_ENTRY_SIZE  64u
#define SHMKIT_MPSC_RING_OFF    (SHMKIT_MPSC_TABLE_OFF + SHMKIT_CHAN_MPSC_WRITERS * SHMKIT_MPSC_ENTRY_SIZE)

#define SHMKIT_MPSC_EMPTY_K     0x5a3c96e1f0784b2cull   /* low 2 bits 0 */
#define SHMKIT_MPSC_CLAIMED     1u
#define SHMKIT_MPSC_COMMITTED   2u
#define SHMKIT_MPSC_PAD         3u
#define SHMKIT_MPSC_TAG_MASK    0xffffffu

/* The header word of a record. */
#define SHMKIT_MPSC_HDR(state, w, lap, len) \
	((uint64_t)(state) | (uint64_t)(w) << 2 | \
	 ((uint64_t)(lap) & SHMKIT_MPSC_TAG_MASK) << 8 | (uint64_t)(uint32_t)(len) << 32)
#define SHMKIT_MPSC_STATE(h)    ((unsigned)((h) & 3u))
#define SHMKIT_MPSC_WRITER(h)   ((unsigned)(((h) >> 2) & 63u))
#define SHMKIT_MPSC_TAG(h)      ((uint32_t)(((h) >> 8) & SHMKIT_MPSC_TAG_MASK))
#define SHMKIT_MPSC_LEN(h)      ((uint32_t)((h) >> 32))
/* The mark of free space that position lap will take next. */
#define SHMKIT_MPSC_EMPTY(lap)  (SHMKIT_MPSC_EMPTY_K ^ ((uint64_t)(lap) << 2))

struct shmkit_mpsc_shm {
	struct shmkit_chan_line0 l0;  /* 0: line 0 (layout_chan.h): kind 2,
				       * slots SHMKIT_CHAN_MPSC_WRITERS, table_offset
				       * SHMKIT_MPSC_TABLE_OFF */
	/* --- line 1: the claim word, CASed by every writer --- */
	_Atomic uint64_t tail;        /* 64: the next position to claim */
	shmkit_fence_set rfence;      /* 72: bit 0: the reader fences before it
				       * sleeps; writers read it at each commit */
	uint8_t pad1[48];             /* 80 */
	/* --- line 2: the reader's --- */
	_Atomic uint64_t head;        /* 128: end of the released records; the
				       * writers' futex (low half) */
	_Atomic uint64_t received;    /* 136: messages released (statistics) */
	_Atomic uint64_t lost;        /* 144: abandoned records skipped */
	_Atomic uint64_t rel;         /* 152: where a release in progress ends */
	_Atomic uint32_t reader;      /* 160: the reader's owner token, 0 never */
	_Atomic uint32_t wwait;       /* 164: bit 0, a writer is about to sleep;
				       * the writers' futex, +1 per wake */
	_Atomic int32_t reader_pid;   /* 168: PID of the last reader */
	uint32_t pad2;                /* 172 */
	shmkit_fence_set wfence;      /* 176: bit i: writer entry i fences before
				       * it sleeps; the reader reads it at each
				       * release */
	shmkit_fence_set wfds;        /* 184: bit i: writer entry i waits on its
				       * event-loop fd */
	/* --- line 3: wake-ups and writer bookkeeping --- */
	_Atomic uint32_t rwait;       /* 192: the reader is about to sleep */
	_Atomic uint32_t rseq;        /* 196: the reader's futex; writers bump it */
	_Atomic uint64_t joins;       /* 200: writers that ever joined */
	_Atomic uint64_t sent_gone;   /* 208: messages of writers that left */
	_Atomic uint32_t leaves;      /* 216: writers that closed (a count) */
	uint32_t pad3a;               /* 220 */
	_Atomic uint64_t rwake;       /* 224: the reader's wake id, 0 none */
	uint8_t pad3[24];             /* 232 */
};

/* One writer's entry: its own cache line, written by its occupant alone
 * (and, for sent, by the next occupant of a dead one's entry). */
struct shmkit_mpsc_writer {
	_Atomic uint32_t token;       /* 0: the occupant's owner token, 0 free */
	_Atomic int32_t pid;          /* 4: its PID (informational) */
	_Atomic uint64_t join;        /* 8: tail when it joined: every claim of
				       * an earlier occupant lies before it */
	_Atomic uint64_t pos;         /* 16: its last claim (informational) */
	_Atomic uint64_t sent;        /* 24: messages it committed (statistics) */
	_Atomic uint64_t wake;        /* 32: its wake id (chan/fdw.h), 0 none */
	uint8_t pad[24];              /* 40 */
};

_Static_assert(sizeof(struct shmkit_mpsc_shm) == SHMKIT_MPSC_TABLE_OFF, "mpsc size");
_Static_assert(offsetof(struct shmkit_mpsc_shm, rfence) == 72, "mpsc.rfence");
_Static_assert(offsetof(struct shmkit_mpsc_shm, wfence) == 176, "mpsc.wfence");
_Static_assert(offsetof(struct shmkit_mpsc_shm, tail) == 64, "mpsc.tail");
_Static_assert(offsetof(struct shmkit_mpsc_shm, head) == 128, "mpsc.head");
_Static_assert(offsetof(struct shmkit_mpsc_shm, lost) == 144, "mpsc.lost");
_Static_assert(offsetof(struct shmkit_mpsc_shm, rel) == 152, "mpsc.rel");
_Static_assert(offsetof(struct shmkit_mpsc_shm, reader) == 160, "mpsc.reader");
_Static_assert(offsetof(struct shmkit_mpsc_shm, wwait) == 164, "mpsc.wwait");
_Static_assert(offsetof(struct shmkit_mpsc_shm, reader_pid) == 168, "mpsc.reader_pid");
_Static_assert(offsetof(struct shmkit_mpsc_shm, rwait) == 192, "mpsc.rwait");
_Static_assert(offsetof(struct shmkit_mpsc_shm, rseq) == 196, "mpsc.rseq");
_Static_assert(offsetof(struct shmkit_mpsc_shm, joins) == 200, "mpsc.joins");
_Static_assert(offsetof(struct shmkit_mpsc_shm, sent_gone) == 208, "mpsc.sent_gone");
_Static_assert(offsetof(struct shmkit_mpsc_shm, leaves) == 216, "mpsc.leaves");
_Static_assert(offsetof(struct shmkit_mpsc_shm, wfds) == 184, "mpsc.wfds");
_Static_assert(offsetof(struct shmkit_mpsc_shm, rwake) == 224, "mpsc.rwake");
_Static_assert(offsetof(struct shmkit_mpsc_writer, wake) == 32, "entry.wake");
_Static_assert(sizeof(struct shmkit_mpsc_writer) == SHMKIT_MPSC_ENTRY_SIZE, "mpsc entry");
_Static_assert(offsetof(struct shmkit_mpsc_writer, join) == 8, "entry.join");
_Static_assert(offsetof(struct shmkit_mpsc_writer, pos) == 16, "entry.pos");
_Static_assert(offsetof(struct shmkit_mpsc_writer, sent) == 24, "entry.sent");
_Static_assert(SHMKIT_MPSC_RING_OFF == 4352, "mpsc ring offset");
_Static_assert((SHMKIT_MPSC_EMPTY_K & 3u) == 0, "EMPTY marks have state 0");
_Static_assert(SHMKIT_CHAN_MPSC_WRITERS == 64, "64 writer entries: the ring at 4352, "
	       "6 bits of writer index");

#endif /* SHMKIT_LAYOUT_MPSC_H */

/* SPDX-License-Identifier: MIT */
/*
 * layout_chan.h - a channel as it lies in a segment's data, byte for byte.
 * docs/architecture.md has the same tables.
 *
 *   [0, 256)                       struct shmkit_chan_shm: the control block
 *   [256, 256 + capacity)          the ring of records
 *
 * The first cache line (struct shmkit_chan_line0, the same in every
 * kind) is written by the creator before the segment is published and
 * never changes; an opener validates it once and keeps its own copy.
 * Line 1 is the writer's, line 2 the reader's: each side writes only its
 * own line, except its sleep flag and its fence set, which live on the
 * line of the other side, the one that reads them at every publication.
 *
 * Positions (tail, head) count bytes since the channel was made; they only
 * grow, and a record starts at position % capacity.  A record is an 8-byte
 * header {u32 len, u32 kind} and len payload bytes, padded to 8.  A record
 * never wraps: when one does not fit before the end of the ring, a PAD
 * record fills the rest.
 *
 * Version 2: the header, read and written as one 64-bit word, is the
 * record's commit mark.  A zero header means "nothing published here yet":
 * the 8 bytes at the writer's frontier are always zero (the writer zeroes
 * them before it publishes the record in front of them), so at most
 * capacity - 8 bytes of records are in the ring at once.  tail is still
 * stored at each commit, but only sleepers, stat and a new writer read it;
 * its bit 0 is set by close (an end-of-stream mark that moves the reader's
 * futex word).
 *
 * Sessions (version 4): close writes an END record (len 0) where the
 * stream ends, so a reader still draining meets each writer's end in
 * order even after the next writer reopened; tail is then the END's
 * position | 1.  With no room for it, owed_at and tail are the
 * frontier | 1: the next writer that opens at that very frontier writes
 * the END it owes there, first (once anything is published there, no
 * frontier is that position again).  A reader tells each end once, by its
 * position, and leaves the last it told in end_told for the next reader.
 */
#ifndef SHMKIT_LAYOUT_CHAN_H
#define SHMKIT_LAYOUT_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "shmkit.h"

#define SHMKIT_CHAN_MAGIC     0x48434b53u   /* "SKCH" */
#define SHMKIT_CHAN_VERSION   4u   /* 2: per-record commit; 3: line 0 shared, fence sets;
				     * 4: wake ids and fd sets (docs) */
#define SHMKIT_CHAN_RING_OFF  256u
#define SHMKIT_CHAN_MIN_CAP   64u
#define SHMKIT_CHAN_MAX_CAP   (1u << 30)
#define SHMKIT_REC_HDR        8u
#define SHMKIT_REC_DATA       1u
#define SHMKIT_REC_PAD        2u
#define SHMKIT_REC_END        3u   /* SPSC: a writer's session ended here (len 0) */

struct shmkit_chan_rec {
	uint32_t len;                 /* payload bytes */
	uint32_t kind;                /* SHMKIT_REC_* */
};
/* The header as the 64-bit word it is read and written as (little-endian). */
#define SHMKIT_REC_WORD(len, kind) ((uint64_t)(uint32_t)(len) | (uint64_t)(uint32_t)(kind) << 32)

/*
 * Line 0 of every kind's control block: written by the creator before the
 * segment is published and never changed; an opener validates a private
 * copy once (chan.c) and uses only the copy.  Members 40-48 are 0 where a
 * kind has no use for them.
 */
struct shmkit_chan_line0 {
	uint32_t magic;               /* 0: SHMKIT_CHAN_MAGIC */
	uint32_t version;             /* 4: SHMKIT_CHAN_VERSION */
	uint32_t kind;                /* 8: SHMKIT_CHAN_TYPE_* */
	uint32_t max_msg;             /* 12: capacity / 4 */
	uint64_t capacity;            /* 16: ring bytes, a power of two */
	uint64_t ring_offset;         /* 24: where the ring starts in the data */
	uint32_t policy;              /* 32: default wait policy */
	uint32_t spin_ns;             /* 36: default spin budget */
	uint32_t slots;               /* 40: MPSC writer entries, broadcast
				       * subscriber slots */
	uint32_t table_offset;        /* 44: MPSC the writer table's offset,
				       * broadcast the window's (the page size) */
	uint32_t overflow;            /* 48: broadcast SHMKIT_BCAST_POL_* */
	uint8_t pad0[12];             /* 52 */
};

/*
 * Where a side that may sleep says that it fences rather than issuing a
 * membarrier before its re-check: bit 0 for a role of one (SPSC sides,
 * the MPSC reader, the broadcast writer), bit i for MPSC writer entry i
 * or broadcast subscriber slot i.  A waker that sees the set empty (and
 * receives membarriers itself) publishes with a compiler barrier only
 * (chan/wait.h).  A dead occupant's bit stays until its slot is taken
 * again: wakers then fence for nothing, which is safe.
 */
typedef _Atomic uint64_t shmkit_fence_set;
/*
 * A sleep flag of a role of one holds 1 while its side sleeps on the
 * futex, 2 (SHMKIT_FLAG_FD) while it waits on its event-loop fd: a waker
 * that takes the 2 sends a datagram to the side's wake id instead.  A
 * table's sides that wait on their fds say so in the pair's fd set (the
 * same bits as the fence set), beside bit 0 of the futex word.
 */

struct shmkit_chan_shm {
	struct shmkit_chan_line0 l0;  /* 0: line 0, immutable */
	/* --- line 1: the writer's --- */
	_Atomic uint64_t tail;        /* 64: end of the published records, bit 0: closed;
				       * the reader's futex (low half) */
	_Atomic uint64_t sent;        /* 72: messages published (statistics) */
	_Atomic uint32_t writer;      /* 80: the writer's owner token, 0 never */
	_Atomic uint32_t closed;      /* 84: 1: the stream ended at tail's position */
	_Atomic uint32_t rwait;       /* 88: set by a reader about to sleep */
	_Atomic int32_t writer_pid;   /* 92: PID of the last writer (informational) */
	shmkit_fence_set rfence;      /* 96: bit 0: the reader fences before it sleeps */
	_Atomic uint64_t rwake;       /* 104: the reader's wake id (chan/fdw.h), 0 none */
	_Atomic uint32_t sessions;    /* 112: writers that opened (statistics) */
	uint32_t pad1;                /* 116 */
	_Atomic uint64_t owed_at;     /* 120: position | 1 where an END is owed,
				       * 0 never */
	/* --- line 2: the reader's --- */
	_Atomic uint64_t head;        /* 128: end of the released records; futex (low half) */
	_Atomic uint64_t received;    /* 136: messages released (statistics) */
	_Atomic uint32_t reader;      /* 144: the reader's owner token, 0 never */
	_Atomic uint32_t wwait;       /* 148: set by a writer about to sleep */
	_Atomic int32_t reader_pid;   /* 152: PID of the last reader (informational) */
	uint32_t pad2;                /* 156 */
	shmkit_fence_set wfence;      /* 160: bit 0: the writer fences before it sleeps */
	_Atomic uint64_t wwake;       /* 168: the writer's wake id (chan/fdw.h), 0 none */
	_Atomic uint64_t end_told;    /* 176: position | 1 of the last end a reader
				       * returned, 0 none */
	uint8_t pad3[72];             /* 184: reserved */
};

_Static_assert(sizeof(struct shmkit_chan_line0) == 64, "line 0");
_Static_assert(offsetof(struct shmkit_chan_line0, slots) == 40, "line0.slots");
_Static_assert(offsetof(struct shmkit_chan_line0, overflow) == 48, "line0.overflow");
/* The numbers written into a segment: renumbering the public enums would
 * change the layout. */
_Static_assert(SHMKIT_CHAN_SPSC == 1 && SHMKIT_CHAN_MPSC == 2 && SHMKIT_CHAN_BROADCAST == 3,
	       "chan.type holds enum shmkit_chan_kind");
_Static_assert(SHMKIT_WAIT_SPIN == 1 && SHMKIT_WAIT_SPIN_SLEEP == 2 && SHMKIT_WAIT_SLEEP == 3,
	       "chan.policy holds enum shmkit_wait");
_Static_assert(sizeof(struct shmkit_chan_shm) == SHMKIT_CHAN_RING_OFF, "chan size");
_Static_assert(offsetof(struct shmkit_chan_shm, tail) == 64, "chan.tail");
_Static_assert(offsetof(struct shmkit_chan_shm, rwait) == 88, "chan.rwait");
_Static_assert(offsetof(struct shmkit_chan_shm, head) == 128, "chan.head");
_Static_assert(offsetof(struct shmkit_chan_shm, wwait) == 148, "chan.wwait");
_Static_assert(offsetof(struct shmkit_chan_shm, writer_pid) == 92, "chan.writer_pid");
_Static_assert(offsetof(struct shmkit_chan_shm, reader_pid) == 152, "chan.reader_pid");
_Static_assert(offsetof(struct shmkit_chan_shm, rfence) == 96, "chan.rfence");
_Static_assert(offsetof(struct shmkit_chan_shm, wfence) == 160, "chan.wfence");
_Static_assert(offsetof(struct shmkit_chan_shm, rwake) == 104, "chan.rwake");
_Static_assert(offsetof(struct shmkit_chan_shm, wwake) == 168, "chan.wwake");
_Static_assert(offsetof(struct shmkit_chan_shm, sessions) == 112, "chan.sessions");
_Static_assert(offsetof(struct shmkit_chan_shm, owed_at) == 120, "chan.owed_at");
_Static_assert(offsetof(struct shmkit_chan_shm, end_told) == 176, "chan.end_told");
_Static_assert(sizeof(struct shmkit_chan_rec) == SHMKIT_REC_HDR, "record header");
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the futex on a position's low half assumes little-endian"
#endif

#endif /* SHMKIT_LAYOUT_CHAN_H */

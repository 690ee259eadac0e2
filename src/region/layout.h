/* SPDX-License-Identifier: MIT */
/*
 * layout.h - the format of a managed segment's header: what lives in shared
 * memory, byte for byte.  docs/architecture.md carries the same table; the
 * _Static_asserts below keep the two honest.  Fixed-width types only, no
 * pointers, little-endian host order (segments never leave the host).
 *
 *   [0, header_size)            struct shmkit_hdr, then the peer table
 *   [header_size, total_size)   the user's data
 *
 * The first 72 bytes are written once by the creator before the segment is
 * published and never change; hdr.checksum covers them.  Everything after is
 * written by attached peers with atomics and is never trusted for bounds.
 */
#ifndef SHMKIT_LAYOUT_H
#define SHMKIT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "shmkit.h"

/* "SHMKIT" then 0x00 0x1a, read as a little-endian u64. */
#define SHMKIT_MAGIC          0x1a0054494b4d4853ULL
#define SHMKIT_LAYOUT_VERSION 1u
#define SHMKIT_HDR_MIN_SIZE   8192u      /* header + peer table, one or more pages */
#define SHMKIT_HDR_MAX_SIZE   262144u    /* the largest page size Linux uses */
#define SHMKIT_PEER_OFFSET    512u
#define SHMKIT_PEER_SIZE      64u
#define SHMKIT_PEER_SLOTS     120u       /* (8192 - 512) / 64 */
#define SHMKIT_HDR_CHECKED    72u        /* bytes covered by the checksum */
#define SHMKIT_SYNC_DIR       40u        /* sync directory entries */

/* hdr.kind: what the data area holds. */
#define SHMKIT_KIND_REGION    0u         /* plain bytes */
#define SHMKIT_KIND_SEM       1u         /* a named semaphore at data offset 0 */
#define SHMKIT_KIND_CHANNEL   2u         /* a channel (layout_chan.h) */
#define SHMKIT_KIND_MAX       2u

/* hdr.liveness: how a peer slot's liveness is judged. */
#define SHMKIT_LIVE_OFD       1u  /* F_OFD lock on byte SHMKIT_LOCK_BASE+slot */
#define SHMKIT_LIVE_PID       2u  /* PID + start time + PID namespace */

/* Lock bytes lie far past any data: they never clash with user locks on the
 * data and need no room in the object (locks may lie beyond EOF). */
#define SHMKIT_LOCK_BASE      ((int64_t)1 << 48)

struct shmkit_peer_slot {
	/* Seqlock over the fields below: odd while the owner rewrites them.
	 * Only the slot's owner writes (it holds the lock, or won the claim). */
	_Atomic uint32_t seq;
	_Atomic int32_t pid;          /* owner's PID in its own namespace */
	/* 0 when free, else pid | generation << 32.  For SHMKIT_LIVE_PID the
	 * claim itself: taken by CAS from 0 or from a dead owner's value; the
	 * generation defeats ABA when a PID comes back. */
	_Atomic uint64_t claim;
	_Atomic uint64_t start_time;  /* owner's start, clock ticks after boot */
	_Atomic uint64_t pidns;       /* inode of the owner's PID namespace */
	_Atomic int64_t attach_ns;    /* CLOCK_REALTIME of the attach */
	_Atomic uint32_t uid;
	_Atomic uint32_t flags;       /* SHMKIT_SLOT_* */
	_Atomic uint64_t comm[2];     /* command name, NUL-padded */
};

#define SHMKIT_SLOT_RDONLY 0x1u

struct shmkit_hdr {
	/* --- immutable, covered by checksum --- */
	_Atomic uint64_t magic;       /* 0: SHMKIT_MAGIC; published last (sysv, anon) */
	uint32_t version;             /* 8 */
	uint32_t header_size;         /* 12: offset of the data */
	uint64_t data_size;           /* 16 */
	uint64_t total_size;          /* 24: header_size + data_size */
	uint32_t kind;                /* 32 */
	uint32_t liveness;            /* 36 */
	uint32_t peer_offset;         /* 40 */
	uint32_t peer_slots;          /* 44 */
	uint32_t peer_size;           /* 48 */
	int32_t cpid;                 /* 52: creator PID (its own namespace) */
	uint32_t cuid;                /* 56 */
	uint32_t cgid;                /* 60 */
	int64_t ctime_ns;             /* 64 */
	uint32_t checksum;            /* 72: FNV-1a of bytes [0, 72) */
	uint32_t reserved0;           /* 76 */
	uint8_t pad0[48];             /* 80 */
	/* --- mutable statistics, own cache line; relaxed: statistics only --- */
	_Atomic int32_t lpid;         /* 128 */
	uint32_t reserved1;           /* 132 */
	_Atomic int64_t atime_ns;     /* 136 */
	_Atomic int64_t dtime_ns;     /* 144 */
	_Atomic uint64_t attaches;    /* 152: registered attaches ever made */
	/* --- directory of the sync primitives in the data, for stat; an
	 * entry is offset | type << 56, 0 when free; CASed from 0 once --- */
	_Atomic uint64_t sync_dir[SHMKIT_SYNC_DIR];   /* 160 */
	uint8_t pad1[SHMKIT_PEER_OFFSET - 160 - 8 * SHMKIT_SYNC_DIR];
	struct shmkit_peer_slot peers[SHMKIT_PEER_SLOTS]; /* 512 */
};

_Static_assert(sizeof(struct shmkit_peer_slot) == SHMKIT_PEER_SIZE, "peer slot size");
_Static_assert(offsetof(struct shmkit_peer_slot, pid) == 4, "slot.pid");
_Static_assert(offsetof(struct shmkit_peer_slot, claim) == 8, "slot.claim");
_Static_assert(offsetof(struct shmkit_peer_slot, start_time) == 16, "slot.start_time");
_Static_assert(offsetof(struct shmkit_peer_slot, pidns) == 24, "slot.pidns");
_Static_assert(offsetof(struct shmkit_peer_slot, attach_ns) == 32, "slot.attach_ns");
_Static_assert(offsetof(struct shmkit_peer_slot, uid) == 40, "slot.uid");
_Static_assert(offsetof(struct shmkit_peer_slot, flags) == 44, "slot.flags");
_Static_assert(offsetof(struct shmkit_peer_slot, comm) == 48, "slot.comm");
_Static_assert(sizeof(((struct shmkit_peer_slot *)0)->comm) == SHMKIT_COMM_MAX,
	       "slot.comm holds struct shmkit_peer.comm");
_Static_assert(offsetof(struct shmkit_hdr, version) == 8, "hdr.version");
_Static_assert(offsetof(struct shmkit_hdr, header_size) == 12, "hdr.header_size");
_Static_assert(offsetof(struct shmkit_hdr, data_size) == 16, "hdr.data_size");
_Static_assert(offsetof(struct shmkit_hdr, total_size) == 24, "hdr.total_size");
_Static_assert(offsetof(struct shmkit_hdr, kind) == 32, "hdr.kind");
_Static_assert(offsetof(struct shmkit_hdr, liveness) == 36, "hdr.liveness");
_Static_assert(offsetof(struct shmkit_hdr, peer_offset) == 40, "hdr.peer_offset");
_Static_assert(offsetof(struct shmkit_hdr, peer_slots) == 44, "hdr.peer_slots");
_Static_assert(offsetof(struct shmkit_hdr, peer_size) == 48, "hdr.peer_size");
_Static_assert(offsetof(struct shmkit_hdr, cpid) == 52, "hdr.cpid");
_Static_assert(offsetof(struct shmkit_hdr, ctime_ns) == 64, "hdr.ctime_ns");
_Static_assert(offsetof(struct shmkit_hdr, checksum) == SHMKIT_HDR_CHECKED, "hdr.checksum");
_Static_assert(offsetof(struct shmkit_hdr, lpid) == 128, "hdr.lpid");
_Static_assert(offsetof(struct shmkit_hdr, atime_ns) == 136, "hdr.atime_ns");
_Static_assert(offsetof(struct shmkit_hdr, dtime_ns) == 144, "hdr.dtime_ns");
_Static_assert(offsetof(struct shmkit_hdr, attaches) == 152, "hdr.attaches");
_Static_assert(offsetof(struct shmkit_hdr, sync_dir) == 160, "hdr.sync_dir");
_Static_assert(offsetof(struct shmkit_hdr, peers) == SHMKIT_PEER_OFFSET, "hdr.peers");
_Static_assert(sizeof(struct shmkit_hdr) == SHMKIT_HDR_MIN_SIZE, "hdr size");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && sizeof(_Atomic int32_t) == 4,
	       "atomics have their plain size");

/*
 * Owner tokens: one attach of one process, as the channels' roles and the
 * locks' owner words name it.  Bits 0-6 the peer slot + 1 (1..120), bits
 * 7-29 the slot's claim generation (low 23 bits); 0 = none.  Bits 30-31
 * are free for the word that holds the token (a lock word's waiters bit).
 */
#define SHMKIT_TOK_SLOT_MASK  0x7fu
#define SHMKIT_TOK_GEN_SHIFT  7
#define SHMKIT_TOK_GEN_MASK   0x7fffffu
#define SHMKIT_TOK_MASK       0x3fffffffu
#define SHMKIT_TOK_RESERVED   0x40000000u  /* must be 0 */
#define SHMKIT_TOK_WAITERS    0x80000000u  /* someone may sleep on the word */

/* A token from a slot index and a claim generation, and back. */
static inline uint32_t shmkit__tok_make(unsigned slot, uint64_t gen)
{
	return (uint32_t)(slot + 1) |
	       ((uint32_t)gen & SHMKIT_TOK_GEN_MASK) << SHMKIT_TOK_GEN_SHIFT;
}
/* The slot index a token names; >= SHMKIT_PEER_SLOTS when it names none. */
static inline unsigned shmkit__tok_slot(uint32_t tok)
{
	return (tok & SHMKIT_TOK_SLOT_MASK) - 1u;
}
static inline uint32_t shmkit__tok_gen(uint32_t tok)
{
	return (tok >> SHMKIT_TOK_GEN_SHIFT) & SHMKIT_TOK_GEN_MASK;
}

#endif /* SHMKIT_LAYOUT_H */

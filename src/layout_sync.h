/* SPDX-License-Identifier: MIT */
/*
 * layout_sync.h - the synchronization primitives as they lie in shared
 * memory, byte for byte.  docs/architecture.md has the same tables.
 *
 * Each primitive is a fixed block of 32-bit and 64-bit words, independent of
 * any libc's pthread types, so programs built apart (or against another
 * libc) share them.  All-zero bytes are a valid fresh primitive (unlocked,
 * value 0), so a zero-filled region needs no init; the first use stamps the
 * tag.  Any other tag is a wrong type (-EINVAL) or garbage (-EBADMSG).
 *
 * Owners are tokens, not PIDs: the owner's peer slot in the segment's
 * header plus that slot's claim generation (low 23 bits), so a token names
 * one attach of one process, and the slot's kernel-kept liveness (peer.c)
 * tells whether it lives.
 */
#ifndef SHMKIT_LAYOUT_SYNC_H
#define SHMKIT_LAYOUT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

/* enum shmkit_prim_type in shmkit.h */
#define SHMKIT_SYNC_VERSION   1u
/* "sk", the type, the version: one u32 */
#define SHMKIT_TAG(type)      (0x6b73u | ((uint32_t)(type) << 16) | (SHMKIT_SYNC_VERSION << 24))

/* Owner token: bits 0-6 slot + 1 (1..120), bits 7-29 generation; 0 = none. */
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

/* mutex and rwlock state */
#define SHMKIT_ST_CONSISTENT     0u
#define SHMKIT_ST_INCONSISTENT   1u  /* an owner died; repair pending */
#define SHMKIT_ST_NOTRECOVERABLE 2u  /* unlocked without repair */

#define SHMKIT_SEM_MAX        0x7fffffffu

struct shmkit_mutex_shm {
	_Atomic uint32_t word;        /* 0: owner token | WAITERS; futex */
	_Atomic uint32_t tag;         /* 4 */
	_Atomic uint32_t state;       /* 8: SHMKIT_ST_* */
	_Atomic int32_t owner_tid;    /* 12: holder's thread, for EPERM/EDEADLK */
	_Atomic int32_t owner_pid;    /* 16: informational (stat) */
	_Atomic uint32_t sleepers;    /* 20: asleep in the kernel (stat) */
	_Atomic uint64_t recoveries;  /* 24: owner deaths recovered */
};

struct shmkit_sem_shm {
	_Atomic uint32_t value;       /* 0: futex */
	_Atomic uint32_t tag;         /* 4 */
	_Atomic uint32_t sleepers;    /* 8: waiters asleep; post wakes only if > 0 */
	uint32_t reserved;            /* 12 */
};

struct shmkit_event_shm {
	_Atomic uint32_t seq;         /* 0: bumped by every wake; futex */
	_Atomic uint32_t tag;         /* 4 */
	_Atomic uint32_t sleepers;    /* 8 */
	uint32_t reserved;            /* 12 */
};

struct shmkit_rwlock_shm {
	/* the writers' lock: a mutex in all but its tag (SHMKIT_PRIM_RWLOCK);
	 * held by a writer from before it waits for readers to leave until
	 * it unlocks, so while it is non-zero no new reader enters */
	struct shmkit_mutex_shm w;    /* 0 */
	_Atomic uint32_t rgate;       /* 32: bumped when a writer leaves; readers' futex */
	_Atomic uint32_t rdone;       /* 36: bumped when a reader leaves under a writer */
	_Atomic uint32_t rsleepers;   /* 40: readers asleep on rgate */
	_Atomic uint32_t dsleepers;   /* 44: writers asleep on rdone */
	uint32_t reserved[4];         /* 48 */
	/* per peer slot: generation << 32 | read holds of that slot's owner */
	_Atomic uint64_t readers[SHMKIT_PEER_SLOTS]; /* 64 */
};

_Static_assert(sizeof(struct shmkit_mutex_shm) == 32, "mutex size");
_Static_assert(offsetof(struct shmkit_mutex_shm, recoveries) == 24, "mutex.recoveries");
_Static_assert(sizeof(struct shmkit_sem_shm) == 16, "sem size");
_Static_assert(sizeof(struct shmkit_event_shm) == 16, "event size");
_Static_assert(offsetof(struct shmkit_rwlock_shm, rgate) == 32, "rwlock.rgate");
_Static_assert(offsetof(struct shmkit_rwlock_shm, readers) == 64, "rwlock.readers");
_Static_assert(sizeof(struct shmkit_rwlock_shm) == 1024, "rwlock size");

#endif /* SHMKIT_LAYOUT_SYNC_H */

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
 * Owners are tokens, not PIDs (region/layout.h): the owner's peer slot
 * and that slot's claim generation, so a token names one attach of one
 * process, and the slot's kernel-kept liveness (peer.c) tells whether it
 * lives.
 */
#ifndef SHMKIT_LAYOUT_SYNC_H
#define SHMKIT_LAYOUT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "shmkit.h"
#include "region/layout.h"

/* A tag's type byte is enum shmkit_prim_type (shmkit.h); a semaphore's
 * value word holds 0 .. SHMKIT_SEM_VALUE_MAX. */
#define SHMKIT_SYNC_VERSION   1u
/* "sk", the type, the version: one u32 */
#define SHMKIT_TAG(type)      (0x6b73u | ((uint32_t)(type) << 16) | (SHMKIT_SYNC_VERSION << 24))

/* mutex and rwlock state */
#define SHMKIT_ST_CONSISTENT     0u
#define SHMKIT_ST_INCONSISTENT   1u  /* an owner died; repair pending */
#define SHMKIT_ST_NOTRECOVERABLE 2u  /* unlocked without repair */

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

/* What the public header promises of the primitives' bytes. */
_Static_assert(SHMKIT_PRIM_MUTEX == 1 && SHMKIT_PRIM_SEM == 2 && SHMKIT_PRIM_RWLOCK == 3 &&
	       SHMKIT_PRIM_EVENT == 4, "a tag's type byte holds enum shmkit_prim_type");
_Static_assert(SHMKIT_SEM_VALUE_MAX == 0x7fffffff, "sem.value: 31 bits");
_Static_assert(sizeof(struct shmkit_mutex_shm) == sizeof(shmkit_mutex), "shmkit_mutex size");
_Static_assert(sizeof(struct shmkit_sem_shm) == sizeof(shmkit_sem), "shmkit_sem size");
_Static_assert(sizeof(struct shmkit_event_shm) == sizeof(shmkit_event), "shmkit_event size");
_Static_assert(sizeof(struct shmkit_rwlock_shm) == sizeof(shmkit_rwlock), "shmkit_rwlock size");
_Static_assert(sizeof(struct shmkit_mutex_shm) == 32, "mutex size");
_Static_assert(offsetof(struct shmkit_mutex_shm, recoveries) == 24, "mutex.recoveries");
_Static_assert(sizeof(struct shmkit_sem_shm) == 16, "sem size");
_Static_assert(sizeof(struct shmkit_event_shm) == 16, "event size");
_Static_assert(offsetof(struct shmkit_rwlock_shm, rgate) == 32, "rwlock.rgate");
_Static_assert(offsetof(struct shmkit_rwlock_shm, readers) == 64, "rwlock.readers");
_Static_assert(sizeof(struct shmkit_rwlock_shm) == 1024, "rwlock size");

#endif /* SHMKIT_LAYOUT_SYNC_H */

/* SPDX-License-Identifier: MIT */
/*
 * atomic.h - the few atomic operations shmkit's shared-memory protocols use,
 * mapped onto C11 <stdatomic.h>.  One dialect, no per-arch assembly.
 *
 * ACQUIRE: no later load or store moves before it.  RELEASE: no earlier load
 * or store moves after it.  A load-acquire that reads a store-release's value
 * sees everything written before that store.  Every use names its partner.
 */
#ifndef SHMKIT_ATOMIC_H
#define SHMKIT_ATOMIC_H

#include <stdatomic.h>

#define load_relaxed(p)      atomic_load_explicit((p), memory_order_relaxed)
#define load_acquire(p)      atomic_load_explicit((p), memory_order_acquire)
#define store_relaxed(p, v)  atomic_store_explicit((p), (v), memory_order_relaxed)
#define store_release(p, v)  atomic_store_explicit((p), (v), memory_order_release)
#define fetch_add_relaxed(p, v) \
	atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
/* Strong CAS; acq_rel on success, acquire on failure (the caller re-reads). */
#define cas_acq_rel(p, expected, desired) \
	atomic_compare_exchange_strong_explicit((p), (expected), (desired), \
		memory_order_acq_rel, memory_order_acquire)
#define fence_acquire()      atomic_thread_fence(memory_order_acquire)
#define fence_release()      atomic_thread_fence(memory_order_release)

#endif /* SHMKIT_ATOMIC_H */

/* SPDX-License-Identifier: MIT */
/*
 * sync.c - what every synchronization primitive shares: the checks on the
 * pointer and on the tag, and the segment's directory of primitives (for
 * stat).  The caller's identity is its attach's owner token and its thread
 * id (region/proc.c).
 */
#include "atomic.h"
#include "internal.h"
#include "sync/layout_sync.h"

int shmkit__prim_check(const shmkit_region *r, const void *p, size_t size)
{
	if (!r || !p)
		return -EINVAL;
	if (r->sync_err)
		return r->sync_err;
	uintptr_t a = (uintptr_t)p, d = (uintptr_t)r->data;
	if ((a & 7u) || a < d || r->size < size || a - d > r->size - size)
		return -EINVAL;
	return 0;
}

void shmkit__syncdir_add(struct shmkit_hdr *h, uint64_t off, unsigned type)
{
	uint64_t mine = off | (uint64_t)type << 56;

	for (unsigned i = 0; i < SHMKIT_SYNC_DIR; i++) {
		/* relaxed: the directory is informational, read only by stat */
		uint64_t cur = load_relaxed(&h->sync_dir[i]);
		for (;;) {
			if (cur == mine)
				return;
			if (cur == 0) {
				if (atomic_compare_exchange_strong_explicit(&h->sync_dir[i],
						&cur, mine, memory_order_relaxed,
						memory_order_relaxed))
					return;
				continue;  /* a racing lister took it: look at what */
			}
			if ((cur & 0x00ffffffffffffffULL) == off) {
				/* another type was here: re-typed */
				atomic_compare_exchange_strong_explicit(&h->sync_dir[i], &cur,
					mine, memory_order_relaxed, memory_order_relaxed);
				return;
			}
			break;
		}
	}
	/* full: the primitive works all the same, stat just does not list it */
}

int shmkit__prim_tag(shmkit_region *r, _Atomic uint32_t *tag, unsigned type,
		     const void *p)
{
	/* relaxed: the tag orders nothing; the words it guards have their own */
	uint32_t t = load_relaxed(tag);

	if (t == SHMKIT_TAG(type))
		return 0;
	if (t == 0) {
		if (atomic_compare_exchange_strong_explicit(tag, &t, SHMKIT_TAG(type),
				memory_order_relaxed, memory_order_relaxed) ||
		    t == SHMKIT_TAG(type)) {
			shmkit__syncdir_add(r->hdr, (uint64_t)((const char *)p -
					    (const char *)r->data), type);
			return 0;
		}
	}
	if ((t & 0xff00ffffu) == SHMKIT_TAG(0) &&
	    ((t >> 16) & 0xffu) >= SHMKIT_PRIM_MUTEX && ((t >> 16) & 0xffu) <= SHMKIT_PRIM_EVENT)
		return -EINVAL;  /* a primitive of another type */
	return -EBADMSG;
}


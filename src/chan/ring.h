/* SPDX-License-Identifier: MIT */
/*
 * ring.h - the ring every channel kind keeps its records in: geometry,
 * the word at a position, and the one bounds rule a record must pass.
 *
 * Invariants, the same for SPSC, MPSC and broadcast:
 *  - positions count bytes since the channel was made; they only grow, are
 *    8-aligned, and a record lies at position % capacity (the capacity is a
 *    power of two, so & mask);
 *  - a record is a header of hdr bytes (8, or 24 for broadcast) and its
 *    payload padded to 8; it never wraps: when one does not fit before the
 *    end of the ring, a padding record fills the rest of the lap;
 *  - a record's span is checked before any byte of it is used
 *    (shmkit__ring_span): within the ring, within the window its kind
 *    allows past what the reader holds, a message of 1..max_msg bytes, or a
 *    padding that ends exactly at the ring's end.
 */
#ifndef SHMKIT_CHAN_RING_H
#define SHMKIT_CHAN_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

struct shmkit__ring {
	unsigned char *base;  /* the ring's first byte in this mapping */
	uint64_t cap, mask;   /* bytes, a power of two; cap - 1 */
	unsigned shift;       /* log2(cap): lap(pos) = pos >> shift */
	uint32_t max_msg;     /* cap / 4 */
};

static inline void shmkit__ring_init(struct shmkit__ring *g, void *base, uint64_t cap)
{
	g->base = base;
	g->cap = cap;
	g->mask = cap - 1;
	g->shift = (unsigned)__builtin_ctzll(cap);
	g->max_msg = (uint32_t)(cap / 4);
}

static inline uint64_t shmkit__align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* The 64-bit word at position @pos (8-aligned). */
static inline _Atomic uint64_t *shmkit__ring_word(const struct shmkit__ring *g, uint64_t pos)
{
	return (_Atomic uint64_t *)(void *)(g->base + (pos & g->mask));
}

/* The byte at position @pos. */
static inline unsigned char *shmkit__ring_at(const struct shmkit__ring *g, uint64_t pos)
{
	return g->base + (pos & g->mask);
}

/* The first byte of the cache line after the one @pos lies on: what a
 * reader waiting at @pos prefetches (a record of more than a line lies on
 * two, and the second then comes with the first). */
static inline const void *shmkit__ring_next_line(const struct shmkit__ring *g, uint64_t pos)
{
	return g->base + (((pos & g->mask) + 64) & g->mask & ~(uint64_t)63);
}

/*
 * The one bounds rule.  The record at @pos has a header of @hdr bytes and
 * @len payload bytes (a padding: the bytes it fills after its header);
 * it must lie within the ring, end at or before @limit (the furthest end
 * its kind allows: the reader's base plus the window, or the published
 * end), and be a message of 1..max_msg bytes or a padding of whole words
 * that ends exactly at the ring's end.  Returns the record's size, or
 * -EBADMSG.  The caller's @pos is at or past the base its limit counts
 * from (every reader's position is at or past what it released).
 */
static inline int64_t shmkit__ring_span(const struct shmkit__ring *g, uint64_t pos, uint64_t hdr,
					uint32_t len, bool pad, uint64_t limit)
{
	uint64_t off = pos & g->mask, size = hdr + shmkit__align8(len);

	if (off + size > g->cap || pos + size > limit || pos + size < pos)
		return -EBADMSG;
	if (pad)
		return (len & 7) == 0 && off + size == g->cap ? (int64_t)size : -EBADMSG;
	if (len == 0 || len > g->max_msg)
		return -EBADMSG;
	return (int64_t)size;
}

/* Whether @head .. @tail, read from shared memory, can be what a ring
 * holds: both 8-aligned, head at or before tail, and at most a capacity
 * apart. */
static inline bool shmkit__ring_span_ok(const struct shmkit__ring *g, uint64_t head,
					uint64_t tail)
{
	return !((head | tail) & 7) && head <= tail && tail - head <= g->cap;
}

/* Whether positions @a and @b are 8-aligned and within a capacity of each
 * other, in either order (an SPSC reader may be past tail: it sees a
 * record at its header, before the writer stores tail). */
static inline bool shmkit__ring_near(const struct shmkit__ring *g, uint64_t a, uint64_t b)
{
	return !((a | b) & 7) && (a >= b ? a - b : b - a) <= g->cap;
}

#endif /* SHMKIT_CHAN_RING_H */

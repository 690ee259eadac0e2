/* SPDX-License-Identifier: MIT */
/*
 * header.c - writing and validating a managed segment's header.  Everything
 * read from it is untrusted: each immutable field is checked on its own, and
 * the checksum catches damage the field checks cannot.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"

int64_t shmkit__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint32_t shmkit__header_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page <= (long)SHMKIT_HDR_MIN_SIZE)
		return SHMKIT_HDR_MIN_SIZE;
	return page > (long)SHMKIT_HDR_MAX_SIZE ? SHMKIT_HDR_MAX_SIZE : (uint32_t)page;
}

uint32_t shmkit__hdr_checksum(const struct shmkit_hdr *h)
{
	const unsigned char *p = (const unsigned char *)h;
	uint32_t x = 2166136261u;  /* FNV-1a */

	for (size_t i = 0; i < SHMKIT_HDR_CHECKED; i++) {
		x ^= p[i];
		x *= 16777619u;
	}
	return x;
}

/* Fills the immutable part and the statistics; the caller publishes magic. */
void shmkit__hdr_init(struct shmkit_hdr *h, uint32_t header_size,
		      uint64_t data_size, uint32_t liveness, uint32_t kind)
{
	memset((void *)h, 0, sizeof(*h));
	h->version = SHMKIT_LAYOUT_VERSION;
	h->header_size = header_size;
	h->data_size = data_size;
	h->total_size = header_size + data_size;
	h->kind = kind;
	h->liveness = liveness;
	h->peer_offset = SHMKIT_PEER_OFFSET;
	h->peer_slots = SHMKIT_PEER_SLOTS;
	h->peer_size = SHMKIT_PEER_SIZE;
	h->cpid = getpid();
	h->cuid = getuid();
	h->cgid = getgid();
	h->ctime_ns = shmkit__now_ns();
	/* the checksum covers magic: compute it over the final value */
	store_relaxed(&h->magic, SHMKIT_MAGIC);
	h->checksum = shmkit__hdr_checksum(h);
	store_relaxed(&h->magic, 0);
}

int shmkit__hdr_check(const struct shmkit_hdr *h, uint64_t object_size)
{
	if (object_size < sizeof(uint64_t) ||
	    load_relaxed(&h->magic) != SHMKIT_MAGIC)
		return -EPROTO;
	if (object_size < SHMKIT_HDR_CHECKED + sizeof(uint32_t))
		return -EBADMSG;
	if (h->version != SHMKIT_LAYOUT_VERSION)
		return -EPROTONOSUPPORT;
	if (h->header_size < SHMKIT_HDR_MIN_SIZE ||
	    h->header_size > SHMKIT_HDR_MAX_SIZE ||
	    h->header_size % (uint32_t)sysconf(_SC_PAGESIZE) != 0)
		return -EBADMSG;
	if (h->data_size == 0 || h->data_size > SHMKIT_SIZE_LIMIT)
		return -EBADMSG;
	if (h->total_size != h->header_size + h->data_size)
		return -EBADMSG;
	if (object_size < h->total_size)
		return -EBADMSG;  /* truncated */
	if (h->kind > SHMKIT_KIND_MAX)
		return -EPROTONOSUPPORT;
	if (h->liveness != SHMKIT_LIVE_OFD && h->liveness != SHMKIT_LIVE_PID)
		return -EBADMSG;
	/* this version's peer table is fixed; anything else is damage */
	if (h->peer_offset != SHMKIT_PEER_OFFSET || h->peer_slots != SHMKIT_PEER_SLOTS ||
	    h->peer_size != SHMKIT_PEER_SIZE)
		return -EBADMSG;
	if (h->cpid <= 0)
		return -EBADMSG;
	if (h->checksum != shmkit__hdr_checksum(h))
		return -EBADMSG;
	return 0;
}

/* The statistics a managed header keeps, into *st. */
void shmkit__stat_from_hdr(const struct shmkit_hdr *ch, struct shmkit_stat *st)
{
	struct shmkit_hdr *h = (struct shmkit_hdr *)ch;

	st->managed = 1;
	st->version = h->version;
	st->size = h->data_size;
	st->total_size = h->total_size;
	st->cpid = h->cpid;
	/* statistics only: relaxed, as written (peer.c) */
	st->lpid = load_relaxed(&h->lpid);
	st->atime_ns = load_relaxed(&h->atime_ns);
	st->dtime_ns = load_relaxed(&h->dtime_ns);
	st->ctime_ns = h->ctime_ns;
}

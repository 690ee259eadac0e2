/* SPDX-License-Identifier: MIT */
/*
 * bcast.h - what the broadcast channel's two halves share: the handle,
 * the record helpers, and the subscriber's calls (bcast_sub.c) that the
 * writer's half (bcast.c) puts in the ops table.  The protocol: bcast.c.
 */
#ifndef SHMKIT_CHAN_BCAST_H
#define SHMKIT_CHAN_BCAST_H

#include "atomic.h"
#include "chan/chan.h"
#include "chan/layout_bcast.h"

/* A backpressured writer moves head up to 1/SHMKIT_BCAST_AHEAD of the ring
 * past where it must (bcast.c, ahead). */
#define SHMKIT_BCAST_AHEAD 8u

struct bcast {
	struct shmkit_chan c;
	struct shmkit_bcast_shm *shm;
	struct shmkit_bcast_win *win;
	uint64_t end_told;         /* subscriber, SHMKIT_FOLLOW: tail when it told the end */
	uint32_t death_told;       /* and the dead writer's token when it told -EPIPE */
	struct shmkit_bcast_sub *tab;
	bool overwrite;
	struct shmkit__pair spair;  /* the subscribers' sleeps */
	struct shmkit__pair wpair;  /* the writer's */
	/* writer */
	uint64_t tail;             /* published */
	uint64_t head;             /* as last stored */
	uint64_t seq;              /* writer: the next message's; subscriber:
				    * the next expected */
	bool reserved, hold;
	uint64_t res_at, res_end;
	int64_t next_ask;          /* when to ask subscribers' liveness again */
	/* subscriber */
	struct shmkit_bcast_sub *me;
	unsigned slot;
	uint64_t pos, pub;         /* end of the peeked records; of the released */
	uint64_t pub_seq;          /* the seq after the last released message */
	uint64_t pending;          /* peeked, not released */
	uint64_t first_peek;       /* where the first of them lies */
	bool have_seq, gap;        /* gap: lapped, count due at the next record */
	uint64_t gap_from;         /* the first seq missed */
	uint64_t received, lost, gaps, last_missed;
};

static inline struct bcast *bcast_of(shmkit_chan *c)
{
	return (struct bcast *)c;
}

static inline _Atomic uint64_t *word_at(const struct bcast *b, uint64_t pos)
{
	return shmkit__ring_word(&b->c.ring, pos);
}

/* A record never starts in the last 24 bytes of a lap: past them. */
static inline uint64_t skip(const struct bcast *b, uint64_t pos)
{
	return b->c.ring.cap - (pos & b->c.ring.mask) < SHMKIT_BCAST_HDR ? (pos | b->c.ring.mask) + 1 : pos;
}

static inline uint64_t lenword(uint32_t len)
{
	return (uint64_t)len | (uint64_t)(uint32_t)~len << 32;
}

/*
 * Checks the header words of the record at @pos against the published end
 * @end: its stamp, length and place.  Returns its size (*pad for padding)
 * or -EBADMSG.
 */
static inline int64_t rec_check(const struct bcast *b, uint64_t w0, uint64_t w2, uint64_t pos,
			 uint64_t end, bool *pad)
{
	uint32_t len = (uint32_t)w2;

	if ((uint32_t)(w2 >> 32) != (uint32_t)~len || (w0 & ~(uint64_t)7) != pos)
		return -EBADMSG;
	*pad = (w0 & 7) == SHMKIT_BCAST_PAD;
	if (!*pad && (w0 & 7) != SHMKIT_BCAST_DATA)
		return -EBADMSG;
	return shmkit__ring_span(&b->c.ring, pos, SHMKIT_BCAST_HDR, len, *pad, end);
}

/* bcast_sub.c: a subscriber's join (and read-only mapping), its leave, and
 * its calls behind the ops table. */
int shmkit__bcast_join(struct bcast *b, const struct shmkit__chan_open *o);
void shmkit__bcast_leave(struct bcast *b);
long shmkit__bcast_peek(shmkit_chan *c, const void **p, int64_t timeout_ns);
int shmkit__bcast_release(shmkit_chan *c);
long shmkit__bcast_recv(shmkit_chan *c, void *buf, size_t cap, int64_t timeout_ns);

#endif /* SHMKIT_CHAN_BCAST_H */

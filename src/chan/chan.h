/* SPDX-License-Identifier: MIT */
/*
 * chan.h - what the channel layer's modules share: the handle every kind
 * extends, the operations table a kind fills in, and the role and slot
 * claims (role.c).
 *
 *   chan.c    the front: options, create/open/close, line 0's check, and
 *             the public calls, each one dispatch through the ops table
 *   spsc.c    one writer, one reader          (layout_chan.h)
 *   mpsc.c    up to 64 writers, one reader    (layout_mpsc.h)
 *   bcast.c   one writer, up to 64 subscribers (layout_bcast.h): the
 *             writer's half; bcast_sub.c the subscribers'; bcast.h both
 *   ring.h    geometry and the record bounds rule
 *   wait.c    the waiter: spin, sleep, wake, membarrier (wait.h)
 *   fdw.c     the event-loop fd: wake socket, peers' pidfds (fdw.h)
 *   role.c    roles, slots, and the peer's liveness
 *   stat.c    shmkit_chan_stat, _writers, _subs, on the observer
 */
#ifndef SHMKIT_CHAN_CHAN_H
#define SHMKIT_CHAN_CHAN_H

#include <string.h>

#include "internal.h"
#include "chan/layout_chan.h"
#include "chan/ring.h"
#include "chan/wait.h"

struct shmkit__chan_ops;

/* The part of a handle every kind has; a kind's own handle starts with it. */
struct shmkit_chan {
	const struct shmkit__chan_ops *ops;
	shmkit_region *r;
	struct shmkit__peer_src src;
	struct shmkit__ring ring;    /* from the validated copy of line 0 */
	int role;                    /* enum shmkit_chan_role */
	struct shmkit__waiter w;
	bool follow;                 /* SHMKIT_FOLLOW: after an end told, wait */
	unsigned chan_policy;        /* the channel's own, from line 0 */
	uint32_t chan_spin_ns;
	/* the peer's role token, judged: when to ask again, and the last
	 * token found dead (0 none); a death once seen stays seen until a
	 * new process takes the role */
	int64_t next_check;
	uint32_t dead_peer;
};

/* What opens need besides the handle. */
struct shmkit__chan_open {
	const struct shmkit_chan_line0 *l0;  /* the validated private copy */
	unsigned flags;                      /* SHMKIT_RDONLY ... */
	unsigned start;                      /* enum shmkit_sub_start */
};

/*
 * A kind: its protocol behind the public calls, and what create, open and
 * stat need of its layout.  The front checks the handle and the role
 * before it calls: reserve and commit get writers only, peek, release and
 * recv readers only.
 */
struct shmkit__chan_ops {
	uint32_t kind;               /* SHMKIT_CHAN_TYPE_* */
	size_t handle_size;          /* of the kind's handle */
	uint64_t min_cap;            /* the smallest ring it can run on */
	/* the 256-byte control block a create publishes; its ring offset */
	void (*image)(void *block, const struct shmkit_chan_opts *o, uint32_t policy,
		      uint32_t spin_ns);
	/* checks line 0's kind-specific members; the ring offset it implies */
	int (*check)(const struct shmkit_chan_line0 *l0, uint64_t *ring_off);
	/* the word every ring word starts as, 0 for none (mpsc: EMPTY(0)) */
	uint64_t fill_word;
	int (*open)(shmkit_chan *c, const struct shmkit__chan_open *o);
	void (*close)(shmkit_chan *c);
	int (*reserve)(shmkit_chan *c, size_t len, void **p, int64_t timeout_ns);
	int (*commit)(shmkit_chan *c);
	long (*peek)(shmkit_chan *c, const void **p, int64_t timeout_ns);
	int (*release)(shmkit_chan *c);
	long (*recv)(shmkit_chan *c, void *buf, size_t cap, int64_t timeout_ns);
	int32_t (*peer_pid)(shmkit_chan *c, int *alive);
	/* a new wait policy for an open handle */
	void (*set_wait)(shmkit_chan *c);
	/* the owner tokens of the peers whose death changes what this side's
	 * calls return (chan/fdw.h): up to SHMKIT_FDW_PEERS, 0 a free place */
	unsigned (*watch)(shmkit_chan *c, uint32_t *toks);
};

extern const struct shmkit__chan_ops shmkit__spsc_ops, shmkit__mpsc_ops, shmkit__bcast_ops;

/* The kind a validated line 0 names, or NULL. */
const struct shmkit__chan_ops *shmkit__chan_kind(uint32_t kind);
/* Checks line 0 (a private copy) against the data size: -EBADMSG,
 * -EPROTONOSUPPORT (another version or an unknown kind), or 0. */
int shmkit__chan_check(const struct shmkit_chan_line0 *l0, uint64_t data_size);
/* Line 0 as a create writes it (a kind's image then sets 40-48). */
static inline void shmkit__chan_line0(struct shmkit_chan_line0 *l0, uint32_t kind,
				      uint64_t capacity, uint64_t ring_off, uint32_t policy,
				      uint32_t spin_ns)
{
	memset(l0, 0, sizeof(*l0));
	l0->magic = SHMKIT_CHAN_MAGIC;
	l0->version = SHMKIT_CHAN_VERSION;
	l0->kind = kind;
	l0->capacity = capacity;
	l0->max_msg = (uint32_t)(capacity / 4);
	l0->ring_offset = ring_off;
	l0->policy = policy;
	l0->spin_ns = spin_ns;
}


/* ---- role.c ---- */

/* Takes the role word @word for c's attach: from nobody, or from a dead
 * attach.  -EBUSY while a live one holds it, -EBADMSG for garbage. */
int shmkit__role_claim(shmkit_chan *c, _Atomic uint32_t *word);

/* What a slot join does with a slot whose token is garbage. */
enum shmkit__bad_slot { SHMKIT_BAD_SLOT_FAILS, SHMKIT_BAD_SLOT_SKIPPED };
/*
 * Takes a slot of a table of @n token words @stride bytes apart: a free
 * one, or one whose occupant is dead.  Returns its index, and in *was the
 * token it held (0: free); -EUSERS when live occupants hold all, -EBADMSG
 * for a garbage token under SHMKIT_BAD_SLOT_FAILS.
 */
int shmkit__slot_join(shmkit_chan *c, void *first, size_t stride, unsigned n,
		      unsigned bad, uint32_t *was);

/* The PID of the first held slot of such a table (0: none) and in *alive
 * its occupant's liveness: the "peer" of a side that has many. */
int32_t shmkit__slot_first(shmkit_chan *c, void *first, size_t stride, unsigned n, int *alive);

/* The peer's role word @tok: 0 (alive, never held, or not asked: at most
 * once per poll period unless @force), -EPIPE (it died) or -EBADMSG. */
int shmkit__peer_check(shmkit_chan *c, uint32_t tok, bool force);

/* The PID of the role word @tok's holder (0: none) and in *alive its
 * liveness (1, 0, -1). */
int32_t shmkit__role_pid(shmkit_chan *c, uint32_t tok, int *alive);

#endif /* SHMKIT_CHAN_CHAN_H */

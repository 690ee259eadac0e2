/* SPDX-License-Identifier: MIT */
/*
 * role.c - who holds a channel's roles and slots, and whether they live.
 *
 * A role (the SPSC writer and reader, the MPSC reader, the broadcast
 * writer) is a token word in the control block; a slot (an MPSC writer
 * entry, a broadcast subscriber slot) is a table entry that starts with
 * its occupant's token word and PID (layout_mpsc.h, layout_bcast.h).  A
 * token names one attach (region/layout.h); its kernel-kept liveness
 * (peer.c) says whether the attach lives.  A role or slot held by a dead
 * attach is free for the taking.
 */
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "chan/chan.h"

int shmkit__role_claim(shmkit_chan *c, _Atomic uint32_t *word)
{
	uint32_t tok = c->r->token;

	/* A dead holder's slot may be in the hands of a new attach that has
	 * its lock but not yet its claim: for that moment the dead token
	 * looks alive.  So "alive" is asked a few times, 1 ms apart. */
	for (int tries = 0, busy = 0; tries < 32; tries++) {
		uint32_t cur = load_relaxed(word);
		if (cur != 0 && cur != tok) {
			int st = shmkit__token_state(&c->src, cur);
			if (st == SHMKIT_TOKEN_INVALID)
				return -EBADMSG;
			if (st != SHMKIT_TOKEN_DEAD) {
				if (++busy >= 10)
					return -EBUSY;
				struct timespec ms = { 0, 1000000 };
				nanosleep(&ms, NULL);
				continue;
			}
		}
		/* acq_rel: the winner sees what the dead holder published */
		if (cas_acq_rel(word, &cur, tok))
			return 0;
	}
	return -EBUSY;
}

static _Atomic uint32_t *slot_token(void *first, size_t stride, unsigned i)
{
	return (_Atomic uint32_t *)(void *)((unsigned char *)first + (size_t)i * stride);
}

int shmkit__slot_join(shmkit_chan *c, void *first, size_t stride, unsigned n,
		      unsigned bad, uint32_t *was)
{
	uint32_t tok = c->r->token;

	for (unsigned i = 0; i < n; i++) {
		_Atomic uint32_t *e = slot_token(first, stride, i);
		/* acquire: pairs with a leaver's release of the slot (and a
		 * writer's drop of a dead subscriber) */
		uint32_t cur = load_acquire(e);
		if (cur != 0) {
			int st = shmkit__token_state(&c->src, cur);
			if (st == SHMKIT_TOKEN_INVALID) {
				if (bad == SHMKIT_BAD_SLOT_FAILS)
					return -EBADMSG;
				continue;  /* a scribbled slot: not ours to judge */
			}
			if (st != SHMKIT_TOKEN_DEAD)
				continue;
		}
		/* acq_rel: the winner sees what the dead occupant published
		 * (its death was observed by the liveness check, a system
		 * call); pairs with the kind's readers of the table */
		if (!cas_acq_rel(e, &cur, tok))
			continue;
		*was = cur;
		return (int)i;
	}
	return -EUSERS;
}

int shmkit__peer_check(shmkit_chan *c, uint32_t tok, bool force)
{
	return shmkit__peer_gone(&c->src, tok, force, &c->dead_peer, &c->next_check);
}

int32_t shmkit__role_pid(shmkit_chan *c, uint32_t tok, int *alive)
{
	if (!tok || !shmkit__token_valid(tok))
		return 0;
	if (alive)
		*alive = shmkit__token_alive(&c->src, tok);
	return shmkit__token_pid(c->r->hdr, tok);
}

int32_t shmkit__slot_first(shmkit_chan *c, void *first, size_t stride, unsigned n, int *alive)
{
	for (unsigned i = 0; i < n; i++) {
		_Atomic uint32_t *e = slot_token(first, stride, i);
		uint32_t tok = load_relaxed(e);
		if (!tok || !shmkit__token_valid(tok))
			continue;
		if (alive)
			*alive = shmkit__token_alive(&c->src, tok);
		/* the PID follows the token in every slot (informational) */
		return load_relaxed((_Atomic int32_t *)(void *)(e + 1));
	}
	return 0;
}

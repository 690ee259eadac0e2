/* SPDX-License-Identifier: MIT */
/*
 * peer.c - the peer table: who is attached to a managed segment, and whether
 * each one still lives.
 *
 * Liveness SHMKIT_LIVE_OFD (posix, file, memfd): a peer owns slot i by holding
 * an open-file-description write lock on byte SHMKIT_LOCK_BASE + i of the
 * object.  The kernel arbitrates the claim (F_OFD_SETLK fails while another
 * holds it) and drops the lock the moment the last fd of that description
 * closes, which process death does.  So "lock held" is the truth, whatever
 * the PID: recycled, zombie, or counted in another PID namespace.
 *
 * Liveness SHMKIT_LIVE_PID (System V, anonymous: no file to lock): the claim
 * word is CASed from 0, or from a dead owner's value, to ours; liveness is
 * PID identity (proc.c), unknown across PID namespaces.
 *
 * The other slot fields are informational, rewritten under the slot's
 * seqlock by its owner alone.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "futex.h"
#include "internal.h"

static int ofd_lock(int fd, unsigned slot, short type, int cmd)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = (off_t)(SHMKIT_LOCK_BASE + slot),
		.l_len = 1,
	};

	if (fcntl(fd, cmd, &fl) != 0)
		return shmkit__err();
	if (cmd == F_OFD_GETLK)
		return fl.l_type != F_UNLCK;  /* 1: held by another description */
	return 0;
}

/* Rewrites the informational fields of a slot this process owns. */
static void slot_write(struct shmkit_peer_slot *s, uint64_t claim, unsigned flags)
{
	uint32_t seq = load_relaxed(&s->seq);
	uint64_t start = 0;
	char comm[SHMKIT_COMM_MAX];
	uint64_t words[2];

	if (claim) {
		shmkit__proc_identity(getpid(), &start);
		shmkit__self_comm(comm);
		memcpy(words, comm, sizeof(words));
	} else {
		memset(words, 0, sizeof(words));
	}
	seq += (seq & 1u);                 /* a dead writer may have left it odd */
	store_relaxed(&s->seq, seq + 1);
	/* R1: orders the odd seq before the field stores; pairs with the reader's
	 * fence A2 in slot_read(). */
	fence_release();
	store_relaxed(&s->pid, claim ? (int32_t)getpid() : 0);
	store_relaxed(&s->start_time, start);
	store_relaxed(&s->pidns, claim ? shmkit__self_pidns() : 0);
	store_relaxed(&s->attach_ns, claim ? shmkit__now_ns() : 0);
	store_relaxed(&s->uid, claim ? (uint32_t)getuid() : 0);
	store_relaxed(&s->flags, flags);
	store_relaxed(&s->comm[0], words[0]);
	store_relaxed(&s->comm[1], words[1]);
	/* R2: publishes the fields; pairs with A1 in slot_read(). */
	store_release(&s->seq, seq + 2);
}

struct slot_view {
	int32_t pid;
	uint64_t claim, start_time, pidns;
	int64_t attach_ns;
	uint32_t uid, flags;
	char comm[SHMKIT_COMM_MAX];
	bool stable;
};

static void slot_read(const struct shmkit_peer_slot *cs, struct slot_view *v)
{
	struct shmkit_peer_slot *s = (struct shmkit_peer_slot *)cs;

	memset(v, 0, sizeof(*v));
	for (int tries = 0; tries < 1000; tries++) {
		/* A1: pairs with R2 in slot_write(). */
		uint32_t s1 = load_acquire(&s->seq);
		uint64_t w[2];
		v->pid = load_relaxed(&s->pid);
		v->claim = load_relaxed(&s->claim);
		v->start_time = load_relaxed(&s->start_time);
		v->pidns = load_relaxed(&s->pidns);
		v->attach_ns = load_relaxed(&s->attach_ns);
		v->uid = load_relaxed(&s->uid);
		v->flags = load_relaxed(&s->flags);
		w[0] = load_relaxed(&s->comm[0]);
		w[1] = load_relaxed(&s->comm[1]);
		/* A2: orders the field loads before the re-check; pairs with R1. */
		fence_acquire();
		if (!(s1 & 1u) && s1 == load_relaxed(&s->seq)) {
			memcpy(v->comm, w, sizeof(w));
			v->comm[SHMKIT_COMM_MAX - 1] = '\0';
			v->stable = true;
			return;
		}
	}
	/* a writer died mid-update or keeps rewriting: report what we have */
	v->comm[0] = '\0';
}

/* Liveness of a SHMKIT_LIVE_PID slot whose claim word is @claim. */
static int pid_slot_alive(const struct slot_view *v, uint64_t claim)
{
	pid_t pid = (pid_t)(uint32_t)claim;

	if (v->stable && v->pid == pid)
		return shmkit__pid_alive(pid, v->start_time, v->pidns);
	/* torn: its owner died mid-update (or is updating); only the claim's
	 * PID is known, and it is surely dead only when it is gone here */
	return shmkit__pid_gone(pid) ? 0 : -1;
}

static int pid_claim_slot(struct shmkit_hdr *h, unsigned i, uint64_t mine)
{
	struct shmkit_peer_slot *s = &h->peers[i];
	/* A3: pairs with the release in pid release (R3) and the CAS below. */
	uint64_t cur = load_acquire(&s->claim);

	if (cur != 0) {
		struct slot_view v;
		slot_read(s, &v);
		if (pid_slot_alive(&v, cur) != 0)
			return 0;  /* alive or unknown: leave it */
	}
	/* CAS: acq_rel, so a winner sees the loser-free slot; pairs with A3. */
	return cas_acq_rel(&s->claim, &cur, mine) ? 1 : 0;
}

int shmkit__slot_claim(struct shmkit_hdr *h, unsigned liveness, int fd,
		       unsigned slot_flags)
{
	/* the attach counter doubles as the claim's generation */
	uint64_t gen = fetch_add_relaxed(&h->attaches, 1) + 1;
	uint64_t mine = (uint64_t)(uint32_t)getpid() | (gen << 32);

	for (unsigned i = 0; i < SHMKIT_PEER_SLOTS; i++) {
		int got;
		if (liveness == SHMKIT_LIVE_OFD) {
			got = ofd_lock(fd, i, F_WRLCK, F_OFD_SETLK);
			if (got == -EAGAIN || got == -EACCES)
				continue;
			if (got < 0)
				return got;
			store_relaxed(&h->peers[i].claim, mine);
		} else {
			got = pid_claim_slot(h, i, mine);
			if (!got)
				continue;
		}
		slot_write(&h->peers[i], mine, slot_flags);
		return (int)i;
	}
	return -EUSERS;
}

void shmkit__slot_release(struct shmkit_hdr *h, unsigned liveness, int fd, int slot)
{
	if (slot < 0 || slot >= (int)SHMKIT_PEER_SLOTS)
		return;
	struct shmkit_peer_slot *s = &h->peers[slot];

	slot_write(s, 0, 0);
	if (liveness == SHMKIT_LIVE_OFD) {
		store_relaxed(&s->claim, 0);
		/* the kernel lock, not the claim word, hands the slot on */
		ofd_lock(fd, (unsigned)slot, F_UNLCK, F_OFD_SETLK);
	} else {
		/* R3: frees the slot after its fields are cleared; pairs with A3. */
		store_release(&s->claim, 0);
	}
}

void shmkit__stats_touch(struct shmkit_hdr *h, bool attach)
{
	/* statistics only: relaxed, no reader infers anything else from them */
	store_relaxed(&h->lpid, (int32_t)getpid());
	if (attach) {
		store_relaxed(&h->atime_ns, shmkit__now_ns());
	} else {
		store_relaxed(&h->dtime_ns, shmkit__now_ns());
	}
}

int shmkit__peers_read(const struct shmkit__peer_src *src,
		       struct shmkit_peer *out, size_t cap, int32_t *alive_count)
{
	const struct shmkit_hdr *h = src->hdr;
	uint64_t my_ns = shmkit__self_pidns();
	int n = 0;
	int32_t alive_n = 0;

	for (unsigned i = 0; i < SHMKIT_PEER_SLOTS; i++) {
		struct slot_view v;
		int alive;

		slot_read(&h->peers[i], &v);
		if (src->liveness == SHMKIT_LIVE_OFD) {
			if ((int)i == src->self_slot) {
				alive = 1;
			} else {
				int held = ofd_lock(src->fd, i, F_WRLCK, F_OFD_GETLK);
				if (held < 0)
					return held;
				alive = held;
			}
			if (!alive && v.claim == 0)
				continue;  /* free */
		} else {
			if (v.claim == 0)
				continue;
			if ((int)i == src->self_slot)
				alive = 1;
			else
				alive = pid_slot_alive(&v, v.claim);
		}
		if (alive != 0)
			alive_n++;  /* unknown counts as attached: never reap it */
		if ((size_t)n < cap) {
			struct shmkit_peer *p = &out[n];
			memset(p, 0, sizeof(*p));
			p->slot = i;
			p->pid = v.pid;
			p->uid = v.uid;
			p->alive = alive;
			p->other_pidns = v.pidns != 0 && v.pidns != my_ns;
			p->self = (int)i == src->self_slot;
			p->attach_ns = v.attach_ns;
			memcpy(p->comm, v.comm, sizeof(p->comm));
		}
		n++;
	}
	if (alive_count)
		*alive_count = alive_n;
	return n;
}

uint32_t shmkit__slot_token(const struct shmkit_hdr *ch, int slot)
{
	struct shmkit_hdr *h = (struct shmkit_hdr *)ch;

	if (slot < 0 || slot >= (int)SHMKIT_PEER_SLOTS)
		return 0;
	return shmkit__tok_make((unsigned)slot, load_relaxed(&h->peers[slot].claim) >> 32);
}

int32_t shmkit__token_pid(const struct shmkit_hdr *h, uint32_t token)
{
	unsigned slot = shmkit__tok_slot(token);

	if (slot >= SHMKIT_PEER_SLOTS)
		return 0;
	/* the slot may be another attach's by now: then the token has no PID */
	uint64_t claim = load_relaxed(&((struct shmkit_hdr *)h)->peers[slot].claim);
	if (claim == 0 || shmkit__tok_gen(shmkit__tok_make(0, claim >> 32)) !=
			  shmkit__tok_gen(token))
		return 0;
	struct slot_view v;
	slot_read(&h->peers[slot], &v);
	return v.pid;
}

int shmkit__token_proc(const struct shmkit_hdr *h, uint32_t token, int32_t *pid,
		       uint64_t *start_time, uint64_t *pidns)
{
	unsigned slot = shmkit__tok_slot(token);

	*pid = 0;
	*start_time = 0;
	if (slot >= SHMKIT_PEER_SLOTS)
		return -ESRCH;
	uint64_t claim = load_acquire(&((struct shmkit_hdr *)h)->peers[slot].claim);  /* A3 */
	if (claim == 0 || shmkit__tok_gen(shmkit__tok_make(0, claim >> 32)) !=
			  shmkit__tok_gen(token))
		return -ESRCH;
	struct slot_view v;
	slot_read(&h->peers[slot], &v);
	if (!v.stable || v.pid <= 0)
		return -ESRCH;
	*pid = v.pid;
	*start_time = v.start_time;
	*pidns = v.pidns;
	return 0;
}

int shmkit__token_valid(uint32_t v)
{
	return !(v & SHMKIT_TOK_RESERVED) && shmkit__tok_slot(v) < SHMKIT_PEER_SLOTS;
}

int shmkit__token_state(const struct shmkit__peer_src *src, uint32_t tok)
{
	if (tok == 0)
		return SHMKIT_TOKEN_NONE;
	if (!shmkit__token_valid(tok))
		return SHMKIT_TOKEN_INVALID;
	int alive = shmkit__token_alive(src, tok);
	return alive > 0 ? SHMKIT_TOKEN_ALIVE : alive == 0 ? SHMKIT_TOKEN_DEAD : SHMKIT_TOKEN_UNKNOWN;
}

int shmkit__token_alive(const struct shmkit__peer_src *src, uint32_t token)
{
	struct shmkit_hdr *h = (struct shmkit_hdr *)src->hdr;
	unsigned slot = shmkit__tok_slot(token);

	if (slot >= SHMKIT_PEER_SLOTS)
		return 0;
	/* A3 again: the claim before the fields it guards (PID liveness). */
	uint64_t claim = load_acquire(&h->peers[slot].claim);
	if (claim == 0 || shmkit__tok_gen(shmkit__tok_make(0, claim >> 32)) !=
			  shmkit__tok_gen(token))
		return 0;  /* free, or another attach's now */
	if ((int)slot == src->self_slot)
		return 1;
	if (src->liveness == SHMKIT_LIVE_OFD) {
		/* a new owner that holds the lock but has not yet stored its
		 * claim looks alive here: the next poll sees its claim */
		int held = ofd_lock(src->fd, slot, F_WRLCK, F_OFD_GETLK);
		return held < 0 ? -1 : held;
	}
	struct slot_view v;
	slot_read(&h->peers[slot], &v);
	return pid_slot_alive(&v, claim);
}

int shmkit__peer_gone(const struct shmkit__peer_src *src, uint32_t tok, bool force,
		      uint32_t *dead, int64_t *next_check)
{
	if (tok == 0)
		return 0;  /* never had one: wait for it */
	if (tok == *dead)
		return -EPIPE;
	int64_t now = shmkit__mono_ns();
	if (!force && now < *next_check)
		return 0;
	*next_check = now + SHMKIT_POLL_NS;
	if (!shmkit__token_valid(tok))
		return -EBADMSG;
	if (shmkit__token_alive(src, tok) != 0)
		return 0;
	*dead = tok;
	return -EPIPE;
}

/* SPDX-License-Identifier: MIT */
/*
 * stat.c - the stat command: a segment's region, peers, channel and
 * primitives, read without attaching to it.  Every line of the text and
 * every member of the JSON comes from one table of fields, region_rows and
 * the tables it holds, which fields.c writes either way.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "shmkit.h"

/* What stat gathered about one segment: the object of the region's and
 * the channel's rows. */
struct stat_view {
	const char *name;
	struct shmkit_stat st;
	struct list peers, prims;
	struct shmkit_chan_info chan;
	int cherr;          /* shmkit_chan_stat()'s; -EPROTONOSUPPORT: not a channel */
	struct list writers, subs;   /* MPSC, broadcast channels only */
	struct shmkit_peer *peer_buf;
	struct shmkit_prim_info prim_buf[64];
	struct shmkit_chan_writer writer_buf[SHMKIT_CHAN_MPSC_WRITERS];
	struct shmkit_sub_info sub_buf[SHMKIT_CHAN_SUBSCRIBERS];
};

#define K(x) (1u << (x))

/* ---------------------------------------------------------------------- */
/* The region                                                             */

static const char *v_name(const void *obj, char *buf, size_t len)
{
	(void)buf, (void)len;
	return ((const struct stat_view *)obj)->name;
}

static const char *v_backend(const void *obj, char *buf, size_t len)
{
	(void)buf, (void)len;
	return backend_name(((const struct stat_view *)obj)->st.backend);
}

static const char *v_managed(const void *obj, char *buf, size_t len)
{
	const struct shmkit_stat *st = &((const struct stat_view *)obj)->st;

	if (!st->managed)
		return "no";
	snprintf(buf, len, "yes (layout %" PRIu32 ")", st->version);
	return buf;
}

static const char *v_owner(const void *obj, char *buf, size_t len)
{
	const struct shmkit_stat *st = &((const struct stat_view *)obj)->st;
	struct passwd *pw = getpwuid((uid_t)st->uid);
	struct group *gr = getgrgid((gid_t)st->gid);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%" PRIu32, st->uid);
	snprintf(g, sizeof(g), "%" PRIu32, st->gid);
	snprintf(buf, len, "%" PRIu32 ":%" PRIu32 " (%s:%s)", st->uid, st->gid,
		 pw ? pw->pw_name : u, gr ? gr->gr_name : g);
	return buf;
}

static bool v_is_managed(const void *obj)
{
	return ((const struct stat_view *)obj)->st.managed;
}

static bool v_nattch_known(const void *obj)
{
	return ((const struct stat_view *)obj)->st.nattch >= 0;
}

static bool v_is_sysv(const void *obj)
{
	return ((const struct stat_view *)obj)->st.backend == SHMKIT_BACKEND_SYSV;
}

/* ---------------------------------------------------------------------- */
/* The channel                                                            */

enum { SPSC = K(SHMKIT_CHAN_SPSC), MPSC = K(SHMKIT_CHAN_MPSC),
       BCAST = K(SHMKIT_CHAN_BROADCAST) };

/* A kind this shmkit does not know shows as an spsc channel does. */
static unsigned chan_kind(const void *obj)
{
	int kind = ((const struct stat_view *)obj)->chan.kind;

	return kind == SHMKIT_CHAN_MPSC || kind == SHMKIT_CHAN_BROADCAST ? K(kind) : SPSC;
}

static const char *v_kind(const void *obj, char *buf, size_t len)
{
	(void)buf, (void)len;
	return kind_name(((const struct stat_view *)obj)->chan.kind);
}

static const char *v_policy(const void *obj, char *buf, size_t len)
{
	(void)buf, (void)len;
	return overflow_name(((const struct stat_view *)obj)->chan.overflow);
}

#define W(m) .off = offsetof(struct shmkit_chan_writer, m)
static const struct field writer_rows[] = {
	{ "entry %-2s", "entry", F_U32, W(entry) },
	{ " pid %-7s", "pid", F_I32, W(pid) },
	{ " %-7s", "alive", F_ALIVE, W(alive) },
	{ " sent %-10s", "sent", F_U64, W(sent) },
	{ " joined @%-10s", "join", F_U64, W(join) },
	{ " pos @%-10s", "pos", F_U64, W(pos) },
	{ " lag %s", "lag", F_U64, W(lag) },
};

static const char *const rdonly_words[] = { "rw", "rdonly" };

#define S(m) .off = offsetof(struct shmkit_sub_info, m)
static const struct field sub_rows[] = {
	{ "slot %-2s", "slot", F_U32, S(slot) },
	{ " pid %-7s", "pid", F_I32, S(pid) },
	{ " %-7s", "alive", F_ALIVE, S(alive) },
	{ " %-6s", "rdonly", F_BOOL, S(rdonly), .words = rdonly_words },
	{ " pos @%-10s", "pos", F_U64, S(pos) },
	{ " lag %s", "lag", F_U64, S(lag) },
	{ " (%s msgs)", "lag_msgs", F_U64, S(lag_msgs) },
	{ " received %s", "received", F_U64, S(received) },
	{ " lost %s", "lost", F_U64, S(lost) },
	{ " gaps %s", "gaps", F_U64, S(gaps) },
};

static const struct table writer_table = {
	TABLE(writer_rows), .size = sizeof(struct shmkit_chan_writer), .indent = 4,
};
static const struct table sub_table = {
	TABLE(sub_rows), .size = sizeof(struct shmkit_sub_info), .indent = 4,
};

/* Its first row is its title: the text writes it after "channel:". */
#define V(m) .off = offsetof(struct stat_view, m)
#define V2(m) .off2 = offsetof(struct stat_view, m)
static const struct field chan_rows[] = {
	{ NULL, "type", F_TEXT, .text = v_kind },
	{ "capacity:", "capacity", F_U64, V(chan.capacity) },
	{ "max msg:", "max_msg", F_U64, V(chan.max_msg) },
	{ "used:", "used", F_U64, V(chan.used) },
	{ "in flight:", "in_flight", F_U64, V(chan.in_flight) },
	{ "sent:", "sent", F_U64, V(chan.sent) },
	{ "received:", "received", F_U64, V(chan.received) },
	{ "closed:", "closed", F_BOOL, V(chan.closed) },
	{ "sessions:", "sessions", F_U64, V(chan.sessions) },
	{ "policy:", "policy", F_TEXT, .kinds = BCAST, .text = v_policy },
	{ "lost:", "lost", F_U64, V(chan.lost), .kinds = MPSC | BCAST },
	{ "dropped:", "dropped", F_U32, V(chan.dropped), .kinds = BCAST },
	/* the text has the writer before the subscribers, the JSON after */
	{ "writer:", NULL, F_ROLE, V(chan.writer_pid), V2(chan.writer_alive), .kinds = SPSC | BCAST },
	{ "writers:", "writers", F_COUNTS, V(chan.writers), V2(chan.writers_dead), .kinds = MPSC },
	{ "", "writers", F_LIST, V(writers), .kinds = MPSC, .sub = &writer_table },
	{ "subscribers:", "subscribers", F_COUNTS, V(chan.subscribers),
	  V2(chan.subscribers_dead), .kinds = BCAST },
	{ "", "subscribers", F_LIST, V(subs), .kinds = BCAST, .sub = &sub_table },
	{ NULL, "writer", F_ROLE, V(chan.writer_pid), V2(chan.writer_alive) },
	{ "reader:", "reader", F_ROLE, V(chan.reader_pid), V2(chan.reader_alive),
	  .kinds = SPSC | MPSC },
};

static const struct table chan_table = {
	TABLE(chan_rows), .kind = chan_kind, .indent = 2, .width = 12,
};

/* ---------------------------------------------------------------------- */
/* Peers and primitives                                                   */

static const char *const pidns_words[] = { "", " (other pid ns)" };

/* The text and the JSON order a peer's members differently. */
#define P(m) .off = offsetof(struct shmkit_peer, m)
static const struct field peer_rows[] = {
	{ "slot %-3s", "slot", F_U32, P(slot) },
	{ " pid %-7s", "pid", F_I32, P(pid) },
	{ " %-7s", NULL, F_ALIVE, P(alive) },
	{ " uid %-5s", "uid", F_U32, P(uid) },
	{ NULL, "alive", F_ALIVE, P(alive) },
	{ NULL, "other_pidns", F_BOOL, P(other_pidns) },
	{ " comm %-15s", "comm", F_COMM, P(comm) },
	{ " attached %s", "attach_ns", F_TIME, P(attach_ns), .none = "unknown" },
	{ "%s", NULL, F_BOOL, P(other_pidns), .words = pidns_words },
};

/* A primitive's kind: its type's bit, or CORRUPT (an event's bit stands
 * for the types this shmkit does not know, which show as events do). */
enum { CORRUPT = 1, MUTEX = K(SHMKIT_PRIM_MUTEX), SEM = K(SHMKIT_PRIM_SEM),
       RWLOCK = K(SHMKIT_PRIM_RWLOCK), EVENT = K(SHMKIT_PRIM_EVENT),
       LOCKS = MUTEX | RWLOCK, SOUND = LOCKS | SEM | EVENT };

static unsigned prim_kind(const void *obj)
{
	const struct shmkit_prim_info *p = obj;

	if (p->corrupt)
		return CORRUPT;
	return p->type == SHMKIT_PRIM_MUTEX || p->type == SHMKIT_PRIM_SEM ||
	       p->type == SHMKIT_PRIM_RWLOCK ? K(p->type) : EVENT;
}

static const char *p_type(const void *obj, char *buf, size_t len)
{
	(void)buf, (void)len;
	switch (((const struct shmkit_prim_info *)obj)->type) {
	case SHMKIT_PRIM_MUTEX: return "mutex";
	case SHMKIT_PRIM_SEM: return "sem";
	case SHMKIT_PRIM_RWLOCK: return "rwlock";
	case SHMKIT_PRIM_EVENT: return "event";
	default: return "unknown";
	}
}

static const char *p_lock(const void *obj, char *buf, size_t len)
{
	const struct shmkit_prim_info *p = obj;

	if (!p->locked)
		return "unlocked";
	snprintf(buf, len, "%s by pid %" PRId32 " (%s)",
		 p->type == SHMKIT_PRIM_MUTEX ? "locked" : "write-locked", p->owner_pid,
		 alive_word(p->owner_alive));
	return buf;
}

static const char *p_state(const void *obj, char *buf, size_t len)
{
	int state = ((const struct shmkit_prim_info *)obj)->state;

	(void)buf, (void)len;
	return state == 0 ? "consistent" : state == 1 ? "owner died, repair pending"
						       : "not recoverable";
}

static bool p_locked(const void *obj)
{
	return ((const struct shmkit_prim_info *)obj)->locked;
}

static const char *const corrupt_words[] = { "", "corrupt" };

/* A line per primitive, which says what its kind has; the JSON gives
 * every member but to a corrupt one. */
#define Q(m) .off = offsetof(struct shmkit_prim_info, m)
static const struct field prim_rows[] = {
	{ "%-6s", "type", F_TEXT, .text = p_type },
	{ " @%-8s", "offset", F_U64, Q(offset) },
	{ " %s", NULL, F_BOOL, Q(corrupt), .kinds = CORRUPT, .words = corrupt_words },
	{ NULL, "corrupt", F_BOOL, Q(corrupt) },
	{ " %s", NULL, F_TEXT, .kinds = LOCKS, .text = p_lock },
	{ NULL, "locked", F_BOOL, Q(locked), .kinds = SOUND },
	{ NULL, "owner_pid", F_I32, Q(owner_pid), .kinds = SOUND },
	{ NULL, "owner_alive", F_ALIVE, Q(owner_alive), .kinds = SOUND, .has = p_locked },
	{ NULL, "state", F_INT, Q(state), .kinds = SOUND },
	{ ", %s read holds", NULL, F_U32, Q(value), .kinds = RWLOCK },
	{ " value %s", NULL, F_U32, Q(value), .kinds = SEM },
	{ " sequence %s", NULL, F_U32, Q(value), .kinds = EVENT },
	{ ", %s waiting", "waiters", F_U32, Q(waiters), .kinds = SOUND },
	{ ", %s", NULL, F_TEXT, .kinds = LOCKS, .text = p_state },
	{ NULL, "value", F_U32, Q(value), .kinds = SOUND },
	{ ", %s recovered", NULL, F_U64, Q(recoveries), .kinds = LOCKS },
	{ NULL, "recoveries", F_U64, Q(recoveries), .kinds = SOUND },
};

static const struct table peer_table = {
	TABLE(peer_rows), .size = sizeof(struct shmkit_peer), .indent = 2, .json_lines = true,
};
static const struct table prim_table = {
	TABLE(prim_rows), .size = sizeof(struct shmkit_prim_info), .kind = prim_kind,
	.indent = 2, .json_lines = true,
};

/* What says nothing in the text: the primitives of what is not a shmkit
 * segment, the channel part of what is not a channel. */
static const int not_shmkit[] = { -EPROTO, 0 };
static const int not_chan[] = { -EPROTONOSUPPORT, -EPROTO, 0 };

static const struct field region_rows[] = {
	{ "name:", "name", F_TEXT, .text = v_name },
	{ "backend:", "backend", F_TEXT, .text = v_backend },
	{ "managed:", NULL, F_TEXT, .text = v_managed },
	{ NULL, "managed", F_BOOL, V(st.managed) },
	{ NULL, "version", F_U32, V(st.version), .has = v_is_managed },
	{ "size:", "size", F_U64, V(st.size) },
	{ "total:", "total_size", F_U64, V(st.total_size) },
	{ "mode:", "mode", F_MODE, V(st.mode) },
	{ "owner:", NULL, F_TEXT, .text = v_owner },
	{ NULL, "uid", F_U32, V(st.uid) },
	{ NULL, "gid", F_U32, V(st.gid) },
	{ "cpid:", "cpid", F_I32, V(st.cpid) },
	{ "lpid:", "lpid", F_I32, V(st.lpid) },
	{ "nattch:", "nattch", F_I32, V(st.nattch), .has = v_nattch_known, .none = "unknown" },
	{ "shmid:", "shmid", F_I32, V(st.shmid), .has = v_is_sysv },
	{ "removed:", "removed", F_BOOL, V(st.removed) },
	{ "atime:", "atime_ns", F_TIME, V(st.atime_ns), .none = "never" },
	{ "dtime:", "dtime_ns", F_TIME, V(st.dtime_ns), .none = "never" },
	{ "ctime:", "ctime_ns", F_TIME, V(st.ctime_ns), .none = "unknown" },
	{ "peers:", "peers", F_LIST, V(peers), .sub = &peer_table },
	{ "channel:", "channel", F_OBJECT, V(cherr), .sub = &chan_table, .quiet = not_chan },
	{ "sync:", "sync", F_LIST, V(prims), .sub = &prim_table, .quiet = not_shmkit },
};

static const struct table region_table = { TABLE(region_rows), .width = 10 };

/* ---------------------------------------------------------------------- */
/* stat                                                                   */

/* The peers of @name in a malloc'd array: 0 with l set, or an error. */
static int get_peers(const char *name, struct shmkit_peer **out, struct list *l)
{
	size_t cap = 128;

	for (int tries = 0; tries < 8; tries++) {
		struct shmkit_peer *p = calloc(cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		int n = shmkit_peers(name, p, cap);
		if (n < 0) {
			free(p);
			return n;
		}
		if ((size_t)n <= cap) {
			*out = p;
			l->items = p;
			l->n = n;
			return 0;
		}
		free(p);
		cap = (size_t)n + 16;
	}
	return -EAGAIN;
}

/* Sets @l to the @got first of @items (at most @cap), or to the error @got. */
static void got_list(struct list *l, const void *items, int got, int cap)
{
	l->items = items;
	l->err = got < 0 ? got : 0;
	l->n = got < 0 ? 0 : got < cap ? got : cap;
}

int cmd_stat(const struct args *a)
{
	const struct command *c = a->cmd;
	const char *name = a->name;
	struct stat_view *v;
	int ret;

	v = calloc(1, sizeof(*v));
	if (!v) {
		lib_err(c->name, name, -ENOMEM);
		return EXIT_RUNTIME;
	}
	v->name = name;
	ret = shmkit_stat(name, &v->st);
	if (ret) {
		lib_err(c->name, name, ret);
		free(v);
		return EXIT_RUNTIME;
	}
	if (v->st.managed) {
		v->peers.err = get_peers(name, &v->peer_buf, &v->peers);
		got_list(&v->prims, v->prim_buf, shmkit_prims(name, v->prim_buf, 64), 64);
		v->cherr = shmkit_chan_stat(name, &v->chan);
	} else {
		v->peers.err = v->prims.err = v->cherr = -EPROTO;
	}
	if (!v->cherr && v->chan.kind == SHMKIT_CHAN_MPSC)
		got_list(&v->writers, v->writer_buf,
			 shmkit_chan_writers(name, v->writer_buf, SHMKIT_CHAN_MPSC_WRITERS),
			 SHMKIT_CHAN_MPSC_WRITERS);
	if (!v->cherr && v->chan.kind == SHMKIT_CHAN_BROADCAST)
		got_list(&v->subs, v->sub_buf,
			 shmkit_chan_subs(name, v->sub_buf, SHMKIT_CHAN_SUBSCRIBERS),
			 SHMKIT_CHAN_SUBSCRIBERS);
	if (a->json)
		fields_json(&region_table, v);
	else
		fields_human(&region_table, v);
	free(v->peer_buf);
	free(v);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * stat.c - the stat command: a segment's region, peers, channel and
 * primitives, read without attaching, as text or as JSON.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "shmkit.h"

/* Local time with milliseconds, or @none for 0. */
static const char *fmt_time(int64_t ns, const char *none, char *buf, size_t len)
{
	time_t t;
	struct tm tm;
	size_t n;

	if (ns <= 0)
		return none;
	t = (time_t)(ns / 1000000000);
	if (!localtime_r(&t, &tm))
		return none;
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (n == 0)
		return none;
	snprintf(buf + n, len - n, ".%03d", (int)((ns / 1000000) % 1000));
	return buf;
}

/* The peers of @name in a malloc'd array; *count how many, or an error. */
static int get_peers(const char *name, struct shmkit_peer **out, int *count)
{
	size_t cap = 128;

	*out = NULL;
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
			*count = n;
			return 0;
		}
		free(p);
		cap = (size_t)n + 16;
	}
	return -EAGAIN;
}

static const char *alive_word(int alive)
{
	return alive > 0 ? "alive" : alive == 0 ? "dead" : "unknown";
}

/* comm made printable for a terminal. */
static void printable_comm(const struct shmkit_peer *p, char out[SHMKIT_COMM_MAX + 1])
{
	size_t len = strnlen(p->comm, SHMKIT_COMM_MAX);

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p->comm[i];
		out[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	out[len] = '\0';
	if (len == 0)
		strcpy(out, "-");
}

static void owner_names(uint32_t uid, uint32_t gid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid((uid_t)uid);
	struct group *gr = getgrgid((gid_t)gid);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%" PRIu32, uid);
	snprintf(g, sizeof(g), "%" PRIu32, gid);
	snprintf(buf, len, "%" PRIu32 ":%" PRIu32 " (%s:%s)", uid, gid,
		 pw ? pw->pw_name : u, gr ? gr->gr_name : g);
}

/* What stat gathered about one segment. */
struct stat_view {
	struct shmkit_stat st;
	struct shmkit_peer *peers;
	int npeers, perr;                 /* perr: shmkit_peers()'s error */
	struct shmkit_prim_info prims[64];
	int nprims, prerr;                /* prerr: shmkit_prims()'s error */
	struct shmkit_chan_info chan;
	int cherr;                        /* shmkit_chan_stat()'s error; -EPROTONOSUPPORT:
					   * not a channel */
	struct shmkit_chan_writer writers[SHMKIT_CHAN_MPSC_WRITERS];
	int nwriters;                     /* shmkit_chan_writers(): held entries, or
					   * its error (MPSC channels only) */
	struct shmkit_sub_info subs[SHMKIT_CHAN_SUBSCRIBERS];
	int nsubs;                        /* shmkit_chan_subs(): held slots, or its
					   * error (broadcast channels only) */
};

static const char *prim_name(int type)
{
	switch (type) {
	case SHMKIT_PRIM_MUTEX: return "mutex";
	case SHMKIT_PRIM_SEM: return "sem";
	case SHMKIT_PRIM_RWLOCK: return "rwlock";
	case SHMKIT_PRIM_EVENT: return "event";
	default: return "unknown";
	}
}

static const char *prim_state(int state)
{
	return state == 0 ? "consistent" : state == 1 ? "owner died, repair pending"
						       : "not recoverable";
}

static void prims_print_human(const struct stat_view *v)
{
	if (v->prerr) {
		if (v->prerr != -EPROTO)
			printf("%-10s n/a (%s)\n", "sync:", shmkit_strerror(v->prerr));
		return;
	}
	if (v->nprims == 0) {
		printf("%-10s none\n", "sync:");
		return;
	}
	printf("sync:\n");
	int shown = v->nprims < 64 ? v->nprims : 64;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_prim_info *p = &v->prims[i];
		printf("  %-6s @%-8" PRIu64 " ", prim_name(p->type), p->offset);
		if (p->corrupt) {
			printf("corrupt\n");
			continue;
		}
		switch (p->type) {
		case SHMKIT_PRIM_MUTEX:
		case SHMKIT_PRIM_RWLOCK:
			if (p->locked)
				printf("%s by pid %" PRId32 " (%s)",
				       p->type == SHMKIT_PRIM_MUTEX ? "locked" : "write-locked",
				       p->owner_pid, alive_word(p->owner_alive));
			else
				printf("unlocked");
			if (p->type == SHMKIT_PRIM_RWLOCK)
				printf(", %" PRIu32 " read holds", p->value);
			printf(", %" PRIu32 " waiting, %s, %" PRIu64 " recovered\n",
			       p->waiters, prim_state(p->state), p->recoveries);
			break;
		case SHMKIT_PRIM_SEM:
			printf("value %" PRIu32 ", %" PRIu32 " waiting\n", p->value, p->waiters);
			break;
		default:
			printf("sequence %" PRIu32 ", %" PRIu32 " waiting\n", p->value, p->waiters);
			break;
		}
	}
}

static void prims_print_json(const struct stat_view *v)
{
	if (v->prerr) {
		printf("  \"sync\": null\n");
		return;
	}
	printf("  \"sync\": [");
	int shown = v->nprims < 64 ? v->nprims : 64;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_prim_info *p = &v->prims[i];
		printf("%s\n    {\"type\": \"%s\", \"offset\": %" PRIu64 ", \"corrupt\": %s",
		       i ? "," : "", prim_name(p->type), p->offset,
		       p->corrupt ? "true" : "false");
		if (!p->corrupt) {
			printf(", \"locked\": %s, \"owner_pid\": %" PRId32
			       ", \"owner_alive\": %s, \"state\": %d, \"waiters\": %" PRIu32
			       ", \"value\": %" PRIu32 ", \"recoveries\": %" PRIu64,
			       p->locked ? "true" : "false", p->owner_pid,
			       !p->locked ? "null" : p->owner_alive > 0 ? "true"
			       : p->owner_alive == 0 ? "false" : "null",
			       p->state, p->waiters, p->value, p->recoveries);
		}
		printf("}");
	}
	printf("%s]\n", shown ? "\n  " : "");
}

/* "pid N (alive)", or "none" when the role was never taken. */
static const char *chan_role(int32_t pid, int alive, char *buf, size_t len)
{
	if (pid <= 0)
		return "none";
	snprintf(buf, len, "pid %" PRId32 " (%s)", pid, alive_word(alive));
	return buf;
}

/* An MPSC channel's lost count and writers, one line each: entry, PID,
 * liveness, messages, where it joined, its last claim and the reader's
 * lag behind that claim. */
static void mpsc_print_human(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;

	printf("  %-12s %" PRIu64 "\n", "lost:", ci->lost);
	printf("  %-12s %" PRIu32 " live, %" PRIu32 " dead\n", "writers:", ci->writers,
	       ci->writers_dead);
	if (v->nwriters < 0) {
		printf("    n/a (%s)\n", shmkit_strerror(v->nwriters));
		return;
	}
	int shown = v->nwriters < SHMKIT_CHAN_MPSC_WRITERS ? v->nwriters
							  : SHMKIT_CHAN_MPSC_WRITERS;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_chan_writer *w = &v->writers[i];
		printf("    entry %-2" PRIu32 " pid %-7" PRId32 " %-7s sent %-10" PRIu64
		       " joined @%-10" PRIu64 " pos @%-10" PRIu64 " lag %" PRIu64 "\n",
		       w->entry, w->pid, alive_word(w->alive), w->sent, w->join, w->pos,
		       w->lag);
	}
}

/* A broadcast channel's policy, its writer and subscribers, one line
 * each: slot, PID, liveness, mapping, position, lag, messages received
 * and missed. */
static void bcast_print_human(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;
	char buf[64];

	printf("  %-12s %s\n", "policy:", overflow_name(ci->overflow));
	printf("  %-12s %" PRIu64 "\n", "lost:", ci->lost);
	printf("  %-12s %" PRIu32 "\n", "dropped:", ci->dropped);
	printf("  %-12s %s\n", "writer:",
	       chan_role(ci->writer_pid, ci->writer_alive, buf, sizeof(buf)));
	printf("  %-12s %" PRIu32 " live, %" PRIu32 " dead\n", "subscribers:",
	       ci->subscribers, ci->subscribers_dead);
	if (v->nsubs < 0) {
		printf("    n/a (%s)\n", shmkit_strerror(v->nsubs));
		return;
	}
	int shown = v->nsubs < SHMKIT_CHAN_SUBSCRIBERS ? v->nsubs : SHMKIT_CHAN_SUBSCRIBERS;
	for (int i = 0; i < shown; i++) {
		const struct shmkit_sub_info *u = &v->subs[i];
		printf("    slot %-2" PRIu32 " pid %-7" PRId32 " %-7s %-6s pos @%-10" PRIu64
		       " lag %" PRIu64 " (%" PRIu64 " msgs) received %" PRIu64 " lost %" PRIu64
		       " gaps %" PRIu64 "\n",
		       u->slot, u->pid, alive_word(u->alive), u->rdonly ? "rdonly" : "rw", u->pos,
		       u->lag, u->lag_msgs, u->received, u->lost, u->gaps);
	}
}

static void chan_print_human(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;
	char buf[64];

	if (v->cherr == -EPROTONOSUPPORT || v->cherr == -EPROTO)
		return;  /* not a channel */
	if (v->cherr) {
		printf("%-10s n/a (%s)\n", "channel:", shmkit_strerror(v->cherr));
		return;
	}
	printf("%-10s %s\n", "channel:", kind_name(ci->kind));
	printf("  %-12s %" PRIu64 "\n", "capacity:", ci->capacity);
	printf("  %-12s %" PRIu64 "\n", "max msg:", ci->max_msg);
	printf("  %-12s %" PRIu64 "\n", "used:", ci->used);
	printf("  %-12s %" PRIu64 "\n", "in flight:", ci->in_flight);
	printf("  %-12s %" PRIu64 "\n", "sent:", ci->sent);
	printf("  %-12s %" PRIu64 "\n", "received:", ci->received);
	printf("  %-12s %s\n", "closed:", ci->closed ? "yes" : "no");
	if (ci->kind == SHMKIT_CHAN_MPSC) {
		mpsc_print_human(v);
		printf("  %-12s %s\n", "reader:",
		       chan_role(ci->reader_pid, ci->reader_alive, buf, sizeof(buf)));
		return;
	}
	if (ci->kind == SHMKIT_CHAN_BROADCAST) {
		bcast_print_human(v);
		return;
	}
	printf("  %-12s %s\n", "writer:",
	       chan_role(ci->writer_pid, ci->writer_alive, buf, sizeof(buf)));
	printf("  %-12s %s\n", "reader:",
	       chan_role(ci->reader_pid, ci->reader_alive, buf, sizeof(buf)));
}

/* "true", "false" or "null": a liveness as JSON. */
static const char *alive_json(int alive)
{
	return alive > 0 ? "true" : alive == 0 ? "false" : "null";
}

/* A broadcast channel's policy and subscribers, as JSON members. */
static void bcast_print_json(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;

	printf(", \"policy\": \"%s\", \"lost\": %" PRIu64 ", \"dropped\": %" PRIu32
	       ", \"subscribers_live\": %" PRIu32 ", \"subscribers_dead\": %" PRIu32
	       ", \"subscribers\": ",
	       overflow_name(ci->overflow), ci->lost, ci->dropped, ci->subscribers,
	       ci->subscribers_dead);
	if (v->nsubs < 0) {
		printf("null");
		return;
	}
	int shown = v->nsubs < SHMKIT_CHAN_SUBSCRIBERS ? v->nsubs : SHMKIT_CHAN_SUBSCRIBERS;
	printf("[");
	for (int i = 0; i < shown; i++) {
		const struct shmkit_sub_info *u = &v->subs[i];
		printf("%s{\"slot\": %" PRIu32 ", \"pid\": %" PRId32 ", \"alive\": %s"
		       ", \"rdonly\": %s, \"pos\": %" PRIu64 ", \"lag\": %" PRIu64
		       ", \"lag_msgs\": %" PRIu64 ", \"received\": %" PRIu64
		       ", \"lost\": %" PRIu64 ", \"gaps\": %" PRIu64 "}",
		       i ? ", " : "", u->slot, u->pid, alive_json(u->alive),
		       u->rdonly ? "true" : "false", u->pos, u->lag, u->lag_msgs, u->received,
		       u->lost, u->gaps);
	}
	printf("]");
}

static void chan_print_json(const struct stat_view *v)
{
	const struct shmkit_chan_info *ci = &v->chan;

	if (v->cherr) {
		printf("  \"channel\": null,\n");
		return;
	}
	printf("  \"channel\": {\"type\": \"%s\", \"capacity\": %" PRIu64
	       ", \"max_msg\": %" PRIu64 ", \"used\": %" PRIu64 ", \"in_flight\": %" PRIu64
	       ", \"sent\": %" PRIu64 ", \"received\": %" PRIu64 ", \"closed\": %s",
	       kind_name(ci->kind), ci->capacity, ci->max_msg, ci->used,
	       ci->in_flight, ci->sent, ci->received, ci->closed ? "true" : "false");
	if (ci->kind == SHMKIT_CHAN_MPSC) {
		printf(", \"lost\": %" PRIu64 ", \"writers_live\": %" PRIu32
		       ", \"writers_dead\": %" PRIu32 ", \"writers\": ",
		       ci->lost, ci->writers, ci->writers_dead);
		if (v->nwriters < 0) {
			printf("null");
		} else {
			int shown = v->nwriters < SHMKIT_CHAN_MPSC_WRITERS
					    ? v->nwriters : SHMKIT_CHAN_MPSC_WRITERS;
			printf("[");
			for (int i = 0; i < shown; i++) {
				const struct shmkit_chan_writer *w = &v->writers[i];
				printf("%s{\"entry\": %" PRIu32 ", \"pid\": %" PRId32
				       ", \"alive\": %s, \"sent\": %" PRIu64
				       ", \"join\": %" PRIu64 ", \"pos\": %" PRIu64
				       ", \"lag\": %" PRIu64 "}",
				       i ? ", " : "", w->entry, w->pid,
				       alive_json(w->alive),
				       w->sent, w->join, w->pos, w->lag);
			}
			printf("]");
		}
	}
	if (ci->kind == SHMKIT_CHAN_BROADCAST)
		bcast_print_json(v);
	for (int i = 0; i < (ci->kind == SHMKIT_CHAN_BROADCAST ? 1 : 2); i++) {
		const char *role = i ? "reader" : "writer";
		int32_t pid = i ? ci->reader_pid : ci->writer_pid;
		int alive = i ? ci->reader_alive : ci->writer_alive;
		if (pid > 0)
			printf(", \"%s_pid\": %" PRId32 ", \"%s_alive\": %s", role, pid, role,
			       alive_json(alive));
		else
			printf(", \"%s_pid\": null, \"%s_alive\": null", role, role);
	}
	printf("},\n");
}

static void stat_print_human(const char *name, const struct stat_view *v)
{
	const struct shmkit_stat *st = &v->st;
	const struct shmkit_peer *peers = v->peers;
	int npeers = v->npeers, perr = v->perr;
	char tbuf[64], owner[160];

	printf("%-10s %s\n", "name:", name);
	printf("%-10s %s\n", "backend:", backend_name(st->backend));
	if (st->managed)
		printf("%-10s yes (layout %" PRIu32 ")\n", "managed:", st->version);
	else
		printf("%-10s no\n", "managed:");
	printf("%-10s %" PRIu64 "\n", "size:", st->size);
	printf("%-10s %" PRIu64 "\n", "total:", st->total_size);
	printf("%-10s %04" PRIo32 "\n", "mode:", st->mode);
	owner_names(st->uid, st->gid, owner, sizeof(owner));
	printf("%-10s %s\n", "owner:", owner);
	printf("%-10s %" PRId32 "\n", "cpid:", st->cpid);
	printf("%-10s %" PRId32 "\n", "lpid:", st->lpid);
	if (st->nattch < 0)
		printf("%-10s unknown\n", "nattch:");
	else
		printf("%-10s %" PRId32 "\n", "nattch:", st->nattch);
	if (st->backend == SHMKIT_BACKEND_SYSV)
		printf("%-10s %" PRId32 "\n", "shmid:", st->shmid);
	printf("%-10s %s\n", "removed:", st->removed ? "yes" : "no");
	printf("%-10s %s\n", "atime:", fmt_time(st->atime_ns, "never", tbuf, sizeof(tbuf)));
	printf("%-10s %s\n", "dtime:", fmt_time(st->dtime_ns, "never", tbuf, sizeof(tbuf)));
	printf("%-10s %s\n", "ctime:", fmt_time(st->ctime_ns, "unknown", tbuf, sizeof(tbuf)));
	if (perr == -EPROTO) {
		printf("%-10s n/a (not a shmkit segment)\n", "peers:");
		return;
	}
	if (perr)
		printf("%-10s n/a (%s)\n", "peers:", shmkit_strerror(perr));
	else if (npeers == 0)
		printf("%-10s none\n", "peers:");
	else
		printf("peers:\n");
	for (int i = 0; i < npeers; i++) {
		const struct shmkit_peer *p = &peers[i];
		char comm[SHMKIT_COMM_MAX + 1];
		printable_comm(p, comm);
		printf("  slot %-3" PRIu32 " pid %-7" PRId32 " %-7s uid %-5" PRIu32
		       " comm %-15s attached %s%s\n",
		       p->slot, p->pid, alive_word(p->alive), p->uid, comm,
		       fmt_time(p->attach_ns, "unknown", tbuf, sizeof(tbuf)),
		       p->other_pidns ? " (other pid ns)" : "");
	}
	chan_print_human(v);
	prims_print_human(v);
}

static void stat_print_json(const char *name, const struct stat_view *v)
{
	const struct shmkit_stat *st = &v->st;
	const struct shmkit_peer *peers = v->peers;
	int npeers = v->npeers, perr = v->perr;

	fputs("{\n  \"name\": ", stdout);
	json_str(name);
	printf(",\n  \"backend\": \"%s\",\n", backend_name(st->backend));
	printf("  \"managed\": %s,\n", st->managed ? "true" : "false");
	if (st->managed)
		printf("  \"version\": %" PRIu32 ",\n", st->version);
	else
		printf("  \"version\": null,\n");
	printf("  \"size\": %" PRIu64 ",\n", st->size);
	printf("  \"total_size\": %" PRIu64 ",\n", st->total_size);
	printf("  \"mode\": \"%04" PRIo32 "\",\n", st->mode);
	printf("  \"uid\": %" PRIu32 ",\n  \"gid\": %" PRIu32 ",\n", st->uid, st->gid);
	printf("  \"cpid\": %" PRId32 ",\n  \"lpid\": %" PRId32 ",\n", st->cpid, st->lpid);
	if (st->nattch < 0)
		printf("  \"nattch\": null,\n");
	else
		printf("  \"nattch\": %" PRId32 ",\n", st->nattch);
	if (st->backend == SHMKIT_BACKEND_SYSV)
		printf("  \"shmid\": %" PRId32 ",\n", st->shmid);
	else
		printf("  \"shmid\": null,\n");
	printf("  \"removed\": %s,\n", st->removed ? "true" : "false");
	printf("  \"atime_ns\": %" PRId64 ",\n  \"dtime_ns\": %" PRId64
	       ",\n  \"ctime_ns\": %" PRId64 ",\n",
	       st->atime_ns, st->dtime_ns, st->ctime_ns);
	if (perr) {
		printf("  \"peers\": null,\n");
		chan_print_json(v);
		prims_print_json(v);
		printf("}\n");
		return;
	}
	printf("  \"peers\": [");
	for (int i = 0; i < npeers; i++) {
		const struct shmkit_peer *p = &peers[i];
		printf("%s\n    {\"slot\": %" PRIu32 ", \"pid\": %" PRId32 ", \"uid\": %" PRIu32
		       ", \"alive\": %s, \"other_pidns\": %s, \"comm\": ",
		       i ? "," : "", p->slot, p->pid, p->uid,
		       alive_json(p->alive),
		       p->other_pidns ? "true" : "false");
		json_strn(p->comm, strnlen(p->comm, SHMKIT_COMM_MAX));
		printf(", \"attach_ns\": %" PRId64 "}", p->attach_ns);
	}
	printf("%s],\n", npeers ? "\n  " : "");
	chan_print_json(v);
	prims_print_json(v);
	printf("}\n");
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
	ret = shmkit_stat(name, &v->st);
	if (ret) {
		lib_err(c->name, name, ret);
		free(v);
		return EXIT_RUNTIME;
	}
	v->perr = v->st.managed ? get_peers(name, &v->peers, &v->npeers) : -EPROTO;
	v->nprims = v->st.managed ? shmkit_prims(name, v->prims, 64) : -EPROTO;
	v->prerr = v->nprims < 0 ? v->nprims : 0;
	v->cherr = v->st.managed ? shmkit_chan_stat(name, &v->chan) : -EPROTO;
	if (!v->cherr && v->chan.kind == SHMKIT_CHAN_MPSC)
		v->nwriters = shmkit_chan_writers(name, v->writers, SHMKIT_CHAN_MPSC_WRITERS);
	if (!v->cherr && v->chan.kind == SHMKIT_CHAN_BROADCAST)
		v->nsubs = shmkit_chan_subs(name, v->subs, SHMKIT_CHAN_SUBSCRIBERS);
	if (a->json)
		stat_print_json(name, v);
	else
		stat_print_human(name, v);
	free(v->peers);
	free(v);
	return 0;
}

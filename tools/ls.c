/* SPDX-License-Identifier: MIT */
/*
 * ls.c - ls (every segment on the machine, as a table or JSON) and gc
 * (removes the shmkit segments no live peer holds), over one listing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shmkit.h"

struct item {
	struct shmkit_entry e;
	struct shmkit_stat st;
	int err;         /* shmkit_stat()'s error; 0 ok */
	bool statted;    /* false: a private System V segment (no name) */
};

struct listing {
	struct item *v;
	size_t n, cap;
};

static int listing_add(const struct shmkit_entry *e, void *arg)
{
	struct listing *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct item *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n++].e = *e;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int d;

	if (x->e.backend != y->e.backend)
		return x->e.backend < y->e.backend ? -1 : 1;
	d = strcmp(x->e.name, y->e.name);
	if (d)
		return d;
	return (x->e.shmid > y->e.shmid) - (x->e.shmid < y->e.shmid);
}

/* Lists, sorts and stats every segment for command @c; those gone
 * meanwhile are dropped.  0, or EXIT_RUNTIME after reporting. */
static int listing_collect(const struct command *c, struct listing *l)
{
	size_t keep = 0;
	int ret;

	memset(l, 0, sizeof(*l));
	ret = shmkit_list(listing_add, l);
	if (ret < 0) {
		free(l->v);
		err_msg(c->name, NULL, "%s", shmkit_strerror(ret));
		return EXIT_RUNTIME;
	}
	qsort(l->v, l->n, sizeof(*l->v), item_cmp);
	for (size_t i = 0; i < l->n; i++) {
		struct item *it = &l->v[i];
		if (it->e.name[0] != '\0') {
			it->statted = true;
			it->err = shmkit_stat(it->e.name, &it->st);
			if (it->err == -ENOENT || it->err == -EIDRM)
				continue;  /* removed since it was listed */
		}
		l->v[keep++] = *it;
	}
	l->n = keep;
	return 0;
}

/* A short note on why an entry could not be examined. */
static const char *item_note(const struct item *it)
{
	if (!it->statted)
		return "private";
	switch (-it->err) {
	case 0:
		return it->st.removed ? "removed" : "";
	case EACCES:
	case EPERM:
		return "no access";
	case EBADMSG:
		return "corrupt";
	case EPROTONOSUPPORT:
		return "unsupported layout";
	default:
		return shmkit_strerror(it->err);
	}
}

static void ls_print_table(const struct listing *l)
{
	int w = 4;

	for (size_t i = 0; i < l->n; i++) {
		int len = l->v[i].e.name[0] ? (int)strlen(l->v[i].e.name) : 9;
		if (len > w)
			w = len;
	}
	printf("%-*s  %-7s  %12s  %-7s  %5s  %6s  %s\n", w, "NAME", "BACKEND", "SIZE",
	       "MANAGED", "PEERS", "SHMID", "NOTE");
	for (size_t i = 0; i < l->n; i++) {
		const struct item *it = &l->v[i];
		bool ok = it->statted && it->err == 0;
		char peers[16] = "-", shmid[16] = "-";
		const char *note = item_note(it);
		if (ok && it->st.managed && it->st.nattch >= 0)
			snprintf(peers, sizeof(peers), "%" PRId32, it->st.nattch);
		if (it->e.backend == SHMKIT_BACKEND_SYSV)
			snprintf(shmid, sizeof(shmid), "%" PRId32, it->e.shmid);
		printf("%-*s  %-7s  %12" PRIu64 "  %-7s  %5s  %6s", w,
		       it->e.name[0] ? it->e.name : "(private)", backend_name(it->e.backend),
		       ok ? it->st.size : it->e.size,
		       ok ? (it->st.managed ? "yes" : "no") : "?", peers, shmid);
		if (*note)
			printf("  %s", note);
		putchar('\n');
	}
}

static void ls_print_json(const struct listing *l)
{
	printf("{\"segments\": [");
	for (size_t i = 0; i < l->n; i++) {
		const struct item *it = &l->v[i];
		bool ok = it->statted && it->err == 0;
		printf("%s\n  {\"name\": ", i ? "," : "");
		json_str(it->e.name[0] ? it->e.name : NULL);
		printf(", \"backend\": \"%s\", \"size\": %" PRIu64,
		       backend_name(it->e.backend), ok ? it->st.size : it->e.size);
		if (ok)
			printf(", \"total_size\": %" PRIu64 ", \"managed\": %s",
			       it->st.total_size, it->st.managed ? "true" : "false");
		else
			printf(", \"total_size\": %" PRIu64 ", \"managed\": null", it->e.size);
		if (ok && it->st.nattch >= 0)
			printf(", \"nattch\": %" PRId32, it->st.nattch);
		else
			printf(", \"nattch\": null");
		if (it->e.backend == SHMKIT_BACKEND_SYSV)
			printf(", \"shmid\": %" PRId32, it->e.shmid);
		else
			printf(", \"shmid\": null");
		printf(", \"error\": ");
		json_str(it->statted && it->err ? item_note(it) : NULL);
		putchar('}');
	}
	printf("%s]}\n", l->n ? "\n" : "");
}

int cmd_ls(const struct args *a)
{
	struct listing l;

	if (listing_collect(a->cmd, &l))
		return EXIT_RUNTIME;
	if (a->json)
		ls_print_json(&l);
	else
		ls_print_table(&l);
	free(l.v);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* gc                                                                     */

/* A managed segment, not yet removed, that no live peer holds. */
static bool reapable(const struct item *it)
{
	return it->statted && it->err == 0 && it->st.managed &&
	       !it->st.removed && it->st.nattch == 0;
}

int cmd_gc(const struct args *a)
{
	const struct command *c = a->cmd;
	struct listing l;
	unsigned count = 0;
	int ret, status = 0;
	bool dry = a->dry_run;

	if (listing_collect(c, &l))
		return EXIT_RUNTIME;
	for (size_t i = 0; i < l.n; i++) {
		struct item *it = &l.v[i];
		if (!reapable(it))
			continue;
		if (dry) {
			printf("would remove %s\n", it->e.name);
			count++;
			continue;
		}
		/* look again right before: a peer may have come meanwhile */
		it->err = shmkit_stat(it->e.name, &it->st);
		if (!reapable(it))
			continue;
		ret = shmkit_remove(it->e.name);
		if (ret == -ENOENT)
			continue;
		if (ret) {
			lib_err(c->name, it->e.name, ret);
			status = EXIT_RUNTIME;
			continue;
		}
		printf("removed %s\n", it->e.name);
		count++;
	}
	printf("gc: %u %s\n", count, dry ? "would be removed" : "removed");
	free(l.v);
	return status;
}

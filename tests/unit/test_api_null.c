/* SPDX-License-Identifier: MIT */
/*
 * Description: the public header's NULL rule: every exported function given
 * a NULL handle, or NULL for a pointer it needs, returns -EINVAL; the few
 * that return a size or a pointer give their documented 0 or NULL.  Sees
 * shmkit.h alone (util.h needs nothing more).  The last test checks that
 * every function the shared library exports is in this file's list.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

TestSuite(api_null, .fini = ut_cleanup, .timeout = 30);

static const char *errname(long e)
{
	if (e == 0)
		return "0";
	const char *s = e < 0 && e > -4096 ? strerrorname_np((int)-e) : NULL;
	return s ? s : "?";
}

/* Evaluates @call once and expects @want of it. */
#define EXPECT_RET(call, want) do {                                          \
		long got_ = (long)(call);                                    \
		cr_expect_eq(got_, (long)(want), "%s: %ld (%s), expected %s", \
			     #call, got_, errname(got_), #want);             \
	} while (0)
#define EXPECT_EINVAL(call) EXPECT_RET(call, -EINVAL)

/* A managed anonymous region with room for every primitive. */
static shmkit_region *anon_region(void)
{
	shmkit_region *r = NULL;

	cr_assert_eq(shmkit_region_anon(8192, 0, &r), 0);
	return r;
}

/* ---------------------------------------------------------------------- */
/* Calls without a handle                                                  */

Test(api_null, version_strerror_names)
{
	cr_expect_not_null(shmkit_version());
	cr_expect_not_null(shmkit_strerror(-EINVAL));
	EXPECT_EINVAL(shmkit_name_check(NULL));
	EXPECT_EINVAL(shmkit_remove(NULL));
	EXPECT_EINVAL(shmkit_list(NULL, NULL));
}

Test(api_null, fd_passing)
{
	int sv[2], fd = -1;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	EXPECT_EINVAL(shmkit_fd_recv(sv[1], NULL));
	EXPECT_EINVAL(shmkit_fd_recv(-1, &fd));
	EXPECT_EINVAL(shmkit_fd_send(-1, sv[0]));  /* no pointers: bad fds */
	EXPECT_EINVAL(shmkit_fd_send(sv[0], -1));
	close(sv[0]);
	close(sv[1]);
}

/* ---------------------------------------------------------------------- */
/* Regions                                                                 */

Test(api_null, region_constructors)
{
	const char *name = ut_name(SHMKIT_BACKEND_POSIX);

	static char junk;
	shmkit_region *r = (shmkit_region *)(void *)&junk;  /* must come back NULL */
	struct shmkit_stat st;

	EXPECT_EINVAL(shmkit_region_open(name, SHMKIT_CREATE, 4096, 0, NULL));
	EXPECT_RET(shmkit_stat(name, &st), -ENOENT);  /* nothing was created */
	EXPECT_EINVAL(shmkit_region_open(NULL, SHMKIT_CREATE, 4096, 0, &r));
	cr_expect_null(r, "*out is NULL after a failure");
	EXPECT_EINVAL(shmkit_region_anon(4096, 0, NULL));
	EXPECT_EINVAL(shmkit_region_memfd("null", 4096, 0, NULL));
	EXPECT_EINVAL(shmkit_region_open_fd(0, 0, NULL));
	EXPECT_EINVAL(shmkit_region_open_shmid(0, 0, NULL));
}

Test(api_null, region_handle)
{
	shmkit_region *r = anon_region();
	struct shmkit_stat st;
	struct shmkit_peer peer;

	EXPECT_EINVAL(shmkit_region_close(NULL));
	cr_expect_null(shmkit_region_base(NULL));
	EXPECT_RET(shmkit_region_size(NULL), 0);
	EXPECT_EINVAL(shmkit_region_fd(NULL));
	EXPECT_EINVAL(shmkit_region_sync(NULL, 0, 0, SHMKIT_SYNC));
	EXPECT_EINVAL(shmkit_region_stat(NULL, &st));
	EXPECT_EINVAL(shmkit_region_stat(r, NULL));
	EXPECT_EINVAL(shmkit_region_peers(NULL, &peer, 1));
	EXPECT_EINVAL(shmkit_region_peers(r, NULL, 1));
	EXPECT_RET(shmkit_region_peers(r, NULL, 0), 1);  /* a count: no room needed */
	cr_expect_eq(shmkit_region_close(r), 0);
}

Test(api_null, stat_by_name)
{
	const char *name = ut_name(SHMKIT_BACKEND_POSIX);
	struct shmkit_stat st;
	struct shmkit_peer peer;
	struct shmkit_prim_info pi;

	/* the pointer is checked first: @name need not exist */
	EXPECT_EINVAL(shmkit_stat(name, NULL));
	EXPECT_EINVAL(shmkit_stat(NULL, &st));
	EXPECT_EINVAL(shmkit_peers(name, NULL, 1));
	EXPECT_EINVAL(shmkit_peers(NULL, &peer, 1));
	EXPECT_EINVAL(shmkit_prims(name, NULL, 1));
	EXPECT_EINVAL(shmkit_prims(NULL, &pi, 1));
}

/* ---------------------------------------------------------------------- */
/* Synchronization primitives: a NULL region, then a NULL primitive        */

struct prims {
	shmkit_mutex *m;
	shmkit_sem *s;
	shmkit_rwlock *l;
	shmkit_event *e;
};

static struct prims prims_in(shmkit_region *r)
{
	char *base = shmkit_region_base(r);

	return (struct prims){
		.m = (shmkit_mutex *)(void *)base,
		.s = (shmkit_sem *)(void *)(base + 64),
		.e = (shmkit_event *)(void *)(base + 128),
		.l = (shmkit_rwlock *)(void *)(base + 1024),
	};
}

/* Each family's calls on (@r, @p): run once with a NULL region and a real
 * primitive, once with a real region and a NULL primitive. */
static void mutex_calls(shmkit_region *r, shmkit_mutex *m)
{
	EXPECT_EINVAL(shmkit_mutex_init(r, m));
	EXPECT_EINVAL(shmkit_mutex_lock(r, m));
	EXPECT_EINVAL(shmkit_mutex_trylock(r, m));
	EXPECT_EINVAL(shmkit_mutex_timedlock(r, m, 0));
	EXPECT_EINVAL(shmkit_mutex_unlock(r, m));
	EXPECT_EINVAL(shmkit_mutex_consistent(r, m));
}

static void sem_calls(shmkit_region *r, shmkit_sem *s)
{
	EXPECT_EINVAL(shmkit_sem_init(r, s, 1));
	EXPECT_EINVAL(shmkit_sem_wait(r, s));
	EXPECT_EINVAL(shmkit_sem_trywait(r, s));
	EXPECT_EINVAL(shmkit_sem_timedwait(r, s, 0));
	EXPECT_EINVAL(shmkit_sem_post(r, s));
	EXPECT_EINVAL(shmkit_sem_value(r, s));
}

static void rwlock_calls(shmkit_region *r, shmkit_rwlock *l)
{
	EXPECT_EINVAL(shmkit_rwlock_init(r, l));
	EXPECT_EINVAL(shmkit_rwlock_rdlock(r, l));
	EXPECT_EINVAL(shmkit_rwlock_tryrdlock(r, l));
	EXPECT_EINVAL(shmkit_rwlock_timedrdlock(r, l, 0));
	EXPECT_EINVAL(shmkit_rwlock_rdunlock(r, l));
	EXPECT_EINVAL(shmkit_rwlock_wrlock(r, l));
	EXPECT_EINVAL(shmkit_rwlock_trywrlock(r, l));
	EXPECT_EINVAL(shmkit_rwlock_timedwrlock(r, l, 0));
	EXPECT_EINVAL(shmkit_rwlock_wrunlock(r, l));
	EXPECT_EINVAL(shmkit_rwlock_consistent(r, l));
}

static void event_calls(shmkit_region *r, shmkit_event *e, shmkit_mutex *m)
{
	uint32_t ticket;

	EXPECT_EINVAL(shmkit_event_init(r, e));
	EXPECT_EINVAL(shmkit_event_prepare(r, e, &ticket));
	EXPECT_EINVAL(shmkit_event_wait(r, e, 0, 0));
	EXPECT_EINVAL(shmkit_event_wait_mutex(r, e, m, 0));
	EXPECT_EINVAL(shmkit_event_wake_one(r, e));
	EXPECT_EINVAL(shmkit_event_wake_all(r, e));
}

/* nothing is created when an out-parameter is missing */
Test(api_null, sem_open)
{
	const char *name = ut_name(SHMKIT_BACKEND_POSIX);
	shmkit_region *nr = NULL;
	shmkit_sem *ns = NULL;

	EXPECT_EINVAL(shmkit_sem_open(name, SHMKIT_CREATE, 0600, 1, NULL, &ns));
	EXPECT_EINVAL(shmkit_sem_open(name, SHMKIT_CREATE, 0600, 1, &nr, NULL));
	EXPECT_EINVAL(shmkit_sem_open(NULL, SHMKIT_CREATE, 0600, 1, &nr, &ns));
	EXPECT_RET(shmkit_stat(name, &(struct shmkit_stat){0}), -ENOENT);
}

Test(api_null, sync_primitives)
{
	shmkit_region *r = anon_region();
	struct prims p = prims_in(r);

	mutex_calls(NULL, p.m);
	mutex_calls(r, NULL);
	sem_calls(NULL, p.s);
	sem_calls(r, NULL);
	rwlock_calls(NULL, p.l);
	rwlock_calls(r, NULL);
	event_calls(NULL, p.e, p.m);
	event_calls(r, NULL, p.m);
	EXPECT_EINVAL(shmkit_event_prepare(r, p.e, NULL));
	EXPECT_EINVAL(shmkit_event_wait_mutex(r, p.e, NULL, 0));
	shmkit_region_close(r);
}

Test(api_null, prims_of_region)
{
	shmkit_region *r = anon_region();
	struct shmkit_prim_info pi;

	EXPECT_EINVAL(shmkit_region_prims(NULL, &pi, 1));
	EXPECT_EINVAL(shmkit_region_prims(r, NULL, 1));
	EXPECT_RET(shmkit_region_prims(r, NULL, 0), 0);
	shmkit_region_close(r);
}

/* ---------------------------------------------------------------------- */
/* Channels: a NULL handle, one call per test                              */

Test(api_null, chan_close) { EXPECT_EINVAL(shmkit_chan_close(NULL)); }
Test(api_null, chan_commit) { EXPECT_EINVAL(shmkit_chan_commit(NULL)); }
Test(api_null, chan_release) { EXPECT_EINVAL(shmkit_chan_release(NULL)); }
Test(api_null, chan_set_wait) { EXPECT_EINVAL(shmkit_chan_set_wait(NULL, 0, 0)); }
Test(api_null, chan_max_msg) { EXPECT_RET(shmkit_chan_max_msg(NULL), 0); }
Test(api_null, chan_fd) { EXPECT_EINVAL(shmkit_chan_fd(NULL)); }
Test(api_null, chan_region) { cr_expect_null(shmkit_chan_region(NULL)); }

Test(api_null, chan_reserve)
{
	void *p;

	EXPECT_EINVAL(shmkit_chan_reserve(NULL, 8, &p, 0));
}

Test(api_null, chan_send)
{
	char b[8] = "message";

	EXPECT_EINVAL(shmkit_chan_send(NULL, b, sizeof(b), 0));
}

Test(api_null, chan_peek)
{
	const void *p;

	EXPECT_EINVAL(shmkit_chan_peek(NULL, &p, 0));
}

Test(api_null, chan_recv)
{
	char b[8];

	EXPECT_EINVAL(shmkit_chan_recv(NULL, b, sizeof(b), 0));
}

Test(api_null, chan_peer_pid)
{
	int alive;

	EXPECT_EINVAL(shmkit_chan_peer_pid(NULL, &alive));
	EXPECT_EINVAL(shmkit_chan_peer_pid(NULL, NULL));
}

Test(api_null, chan_missed)
{
	uint64_t last, total;

	EXPECT_EINVAL(shmkit_chan_missed(NULL, &last, &total));
	EXPECT_EINVAL(shmkit_chan_missed(NULL, NULL, NULL));
}

/* By name: a NULL name or a NULL out-parameter, before any system call. */
Test(api_null, chan_by_name)
{
	const char *name = ut_name(SHMKIT_BACKEND_POSIX);
	struct shmkit_chan_info info;
	struct shmkit_chan_writer wr;
	struct shmkit_sub_info sub;
	static char junk;
	shmkit_chan *c = (shmkit_chan *)(void *)&junk;  /* must come back NULL */

	EXPECT_EINVAL(shmkit_chan_open(name, SHMKIT_CREATE, SHMKIT_CHAN_WRITER, NULL, NULL));
	EXPECT_EINVAL(shmkit_chan_open(NULL, SHMKIT_CREATE, SHMKIT_CHAN_WRITER, NULL, &c));
	cr_expect_null(c);
	EXPECT_EINVAL(shmkit_chan_create(NULL, 0, NULL));
	EXPECT_EINVAL(shmkit_chan_stat(name, NULL));
	EXPECT_EINVAL(shmkit_chan_stat(NULL, &info));
	EXPECT_EINVAL(shmkit_chan_writers(name, NULL, 1));
	EXPECT_EINVAL(shmkit_chan_writers(NULL, &wr, 1));
	EXPECT_EINVAL(shmkit_chan_subs(name, NULL, 1));
	EXPECT_EINVAL(shmkit_chan_subs(NULL, &sub, 1));
	EXPECT_RET(shmkit_stat(name, &(struct shmkit_stat){0}), -ENOENT);
}

/* A live handle of each kind and side, with NULL where a pointer is needed. */
static void chan_null_pointers(uint32_t kind, const char *what)
{
	const char *name = ut_name(SHMKIT_BACKEND_POSIX);
	struct shmkit_chan_opts o = { .capacity = 4096, .kind = kind };
	shmkit_chan *w = NULL, *r = NULL;
	char b[8] = "message";

	cr_assert_eq(shmkit_chan_open(name, SHMKIT_CREATE, SHMKIT_CHAN_READER, &o, &r), 0,
		     "%s reader", what);
	cr_assert_eq(shmkit_chan_open(name, 0, SHMKIT_CHAN_WRITER, &o, &w), 0,
		     "%s writer", what);
	EXPECT_EINVAL(shmkit_chan_reserve(w, 8, NULL, 0));
	EXPECT_EINVAL(shmkit_chan_send(w, NULL, sizeof(b), 0));
	EXPECT_EINVAL(shmkit_chan_recv(r, NULL, sizeof(b), 0));
	EXPECT_EINVAL(shmkit_chan_peek(r, NULL, 0));
	/* optional: alive, last and total may be NULL */
	cr_expect_geq(shmkit_chan_peer_pid(w, NULL), 0, "%s", what);
	if (kind == SHMKIT_CHAN_BROADCAST)
		EXPECT_RET(shmkit_chan_missed(r, NULL, NULL), 0);
	/* nothing was taken: a message still goes through */
	EXPECT_RET(shmkit_chan_send(w, b, sizeof(b), 0), 0);
	EXPECT_RET(shmkit_chan_recv(r, b, sizeof(b), 0), sizeof(b));
	cr_expect_eq(shmkit_chan_close(w), 0);
	cr_expect_eq(shmkit_chan_close(r), 0);
}

Test(api_null, chan_pointers_spsc) { chan_null_pointers(SHMKIT_CHAN_SPSC, "spsc"); }
Test(api_null, chan_pointers_mpsc) { chan_null_pointers(SHMKIT_CHAN_MPSC, "mpsc"); }
Test(api_null, chan_pointers_bcast) { chan_null_pointers(SHMKIT_CHAN_BROADCAST, "broadcast"); }

/* ---------------------------------------------------------------------- */
/* Every export is called above                                            */

static const char *const covered[] = {
	"shmkit_version", "shmkit_strerror", "shmkit_name_check", "shmkit_remove",
	"shmkit_list", "shmkit_fd_send", "shmkit_fd_recv",
	"shmkit_region_open", "shmkit_region_anon", "shmkit_region_memfd",
	"shmkit_region_open_fd", "shmkit_region_open_shmid", "shmkit_region_base",
	"shmkit_region_size", "shmkit_region_fd", "shmkit_region_sync",
	"shmkit_region_close", "shmkit_region_stat", "shmkit_region_peers",
	"shmkit_region_prims", "shmkit_stat", "shmkit_peers", "shmkit_prims",
	"shmkit_mutex_init", "shmkit_mutex_lock", "shmkit_mutex_trylock",
	"shmkit_mutex_timedlock", "shmkit_mutex_unlock", "shmkit_mutex_consistent",
	"shmkit_sem_init", "shmkit_sem_wait", "shmkit_sem_trywait", "shmkit_sem_timedwait",
	"shmkit_sem_post", "shmkit_sem_value", "shmkit_sem_open",
	"shmkit_rwlock_init", "shmkit_rwlock_rdlock", "shmkit_rwlock_tryrdlock",
	"shmkit_rwlock_timedrdlock", "shmkit_rwlock_rdunlock", "shmkit_rwlock_wrlock",
	"shmkit_rwlock_trywrlock", "shmkit_rwlock_timedwrlock", "shmkit_rwlock_wrunlock",
	"shmkit_rwlock_consistent",
	"shmkit_event_init", "shmkit_event_prepare", "shmkit_event_wait",
	"shmkit_event_wait_mutex", "shmkit_event_wake_one", "shmkit_event_wake_all",
	"shmkit_chan_open", "shmkit_chan_create", "shmkit_chan_close", "shmkit_chan_send",
	"shmkit_chan_recv", "shmkit_chan_reserve", "shmkit_chan_commit", "shmkit_chan_peek",
	"shmkit_chan_release", "shmkit_chan_missed", "shmkit_chan_set_wait",
	"shmkit_chan_max_msg", "shmkit_chan_fd", "shmkit_chan_peer_pid", "shmkit_chan_region",
	"shmkit_chan_stat", "shmkit_chan_writers", "shmkit_chan_subs",
};

static int is_covered(const char *sym)
{
	for (size_t i = 0; i < sizeof(covered) / sizeof(covered[0]); i++)
		if (!strcmp(covered[i], sym))
			return 1;
	return 0;
}

/* The shared library's exports (nm -D) against the list above. */
Test(api_null, every_export_covered)
{
	const char *b = getenv("B");
	char cmd[512], line[512];
	int n = 0, missing = 0;

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s/libshmkit.so' 2>/dev/null",
		 b && *b ? b : "build");
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char addr[64], type[8], sym[256];
		if (sscanf(line, "%63s %7s %255s", addr, type, sym) != 3 ||
		    strncmp(sym, "shmkit_", 7))
			continue;
		sym[strcspn(sym, "@")] = '\0';  /* shmkit_x@@SHMKIT_0.2 */
		n++;
		if (!is_covered(sym)) {
			missing++;
			cr_log_error("exported but not called with NULL here: %s", sym);
		}
	}
	int rc = pclose(f);
	if (n == 0)
		cr_skip_test("nm or the shared library is missing (rc %d)", rc);
	cr_expect_eq(missing, 0, "%d exports without a NULL test", missing);
	cr_expect_eq((size_t)n, sizeof(covered) / sizeof(covered[0]),
		     "%d exports, %zu listed here", n, sizeof(covered) / sizeof(covered[0]));
}

/* SPDX-License-Identifier: MIT */
/*
 * Description: the region features: anonymous regions across fork (seeds 000
 * and 004), memfds passed over a UNIX socket, msync, private and read-only
 * mappings, the shmid_ds statistics of every backend, listing, argument
 * edges, and the peer table's limit of 120 live handles.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kids.h"
#include "util.h"

TestSuite(region, .fini = ut_cleanup, .timeout = 30);

static const char *errname(int e)
{
	if (e == 0)
		return "0";
	const char *s = strerrorname_np(e < 0 ? -e : e);
	return s ? s : "?";
}

/* The header a managed region of this build carries (layout.h). */
static size_t header_size(void)
{
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 8192)
		return 8192;
	return page > 65536 ? 65536 : (size_t)page;
}

static const char *path_of(const char *name, char *buf, size_t cap)
{
	if (!strncmp(name, "file:", 5))
		snprintf(buf, cap, "%s", name + 5);
	else
		snprintf(buf, cap, "/dev/shm/%s", name + (strncmp(name, "posix:", 6) ? 0 : 6));
	return buf;
}

static int sysv_id_of(const char *name)
{
	unsigned key;
	if (sscanf(name, "sysv:0x%x", &key) != 1)
		return -1;
	return shmget((key_t)key, 0, 0);
}

static int count_alive(const struct shmkit_peer *p, int n)
{
	int alive = 0;
	for (int i = 0; i < n; i++)
		alive += p[i].alive == 1;
	return alive;
}

static const struct shmkit_peer *find_pid(const struct shmkit_peer *p, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (p[i].pid == pid)
			return &p[i];
	return NULL;
}

/* ---- (a) anonymous regions across fork ---- */

static int plain_global = 1;

static int child_writes(void *arg)
{
	shmkit_region *r = arg;
	strcpy(shmkit_region_base(r), "written by the child");
	((char *)shmkit_region_base(r))[shmkit_region_size(r) - 1] = 'Z';
	plain_global = 2;  /* private to the child: fork copies it */
	return plain_global == 2 ? 0 : 1;
}

Test(region, anon_shared_across_fork)
{
	const unsigned flags[] = { 0, SHMKIT_DEVZERO, SHMKIT_RAW, SHMKIT_RAW | SHMKIT_DEVZERO };
	for (size_t i = 0; i < 4; i++) {
		shmkit_region *r = NULL;
		cr_assert_eq(shmkit_region_anon(20000, flags[i], &r), 0, "flags %#x", flags[i]);
		cr_expect_eq(shmkit_region_size(r), 20000);
		char *p = shmkit_region_base(r);
		cr_expect_eq(p[0], 0, "zero-filled");
		plain_global = 1;
		cr_expect_eq(kid_run(child_writes, r), 0, "flags %#x", flags[i]);
		cr_expect_str_eq(p, "written by the child", "flags %#x", flags[i]);
		cr_expect_eq(p[19999], 'Z', "flags %#x", flags[i]);
		cr_expect_eq(plain_global, 1, "a plain global is not shared (flags %#x)", flags[i]);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

Test(region, anon_managed_peers_across_fork)
{
	const unsigned flags[] = { 0, SHMKIT_DEVZERO };
	for (size_t i = 0; i < 2; i++) {
		shmkit_region *r = NULL;
		struct shmkit_peer peers[8];
		struct shmkit_stat st;
		int ready[2], hold[2];
		char c = 0;

		cr_assert_eq(shmkit_region_anon(4096, flags[i], &r), 0);
		int n = shmkit_region_peers(r, peers, 8);
		cr_expect_eq(n, 1, "only the creator before fork");
		cr_assert_eq(pipe(ready), 0);
		cr_assert_eq(pipe(hold), 0);
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			close(ready[0]);
			close(hold[1]);
			((char *)shmkit_region_base(r))[0] = 'c';
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			while (read(hold[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);  /* dies without detaching */
		}
		close(ready[1]);
		close(hold[0]);
		cr_expect_eq(read(ready[0], &c, 1), 1, "child ready");
		cr_expect_eq(((char *)shmkit_region_base(r))[0], 'c');

		n = shmkit_region_peers(r, peers, 8);
		cr_expect_eq(n, 2, "flags %#x: parent and child while it lives, got %d", flags[i], n);
		cr_expect_eq(count_alive(peers, n < 8 ? n : 8), 2, "both alive");
		const struct shmkit_peer *cp = find_pid(peers, n < 8 ? n : 8, pid);
		cr_expect_not_null(cp, "the child registered itself after fork");
		if (cp) {
			cr_expect_eq(cp->alive, 1);
			cr_expect_eq(cp->self, 0);
		}
		const struct shmkit_peer *pp = find_pid(peers, n < 8 ? n : 8, getpid());
		cr_expect(pp && pp->self == 1 && pp->alive == 1, "the parent is self");
		cr_expect_eq(shmkit_region_stat(r, &st), 0);
		cr_expect_eq(st.nattch, 2);

		close(hold[1]);  /* lets the child go */
		cr_expect_eq(kid_reap(pid), 0);
		close(ready[0]);

		n = shmkit_region_peers(r, peers, 8);
		cr_expect(n == 1 || n == 2, "n=%d", n);
		cr_expect_eq(count_alive(peers, n < 8 ? n : 8), 1, "flags %#x: one alive after reap",
			     flags[i]);
		cp = find_pid(peers, n < 8 ? n : 8, pid);
		if (cp)
			cr_expect_eq(cp->alive, 0, "the dead child is dead");
		cr_expect_eq(shmkit_region_stat(r, &st), 0);
		cr_expect_eq(st.nattch, 1);
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- (b) memfd and fd passing ---- */

#define MEMFD_SIZE 65536
static const char parent_msg[] = "hello from the parent";
static const char child_msg[] = "reply from the child";

static int memfd_child(int sock, unsigned flags)
{
	shmkit_region *r = NULL;
	int fd = -1;
	char c;

	if (shmkit_fd_recv(sock, &fd) != 0)
		return 10;
	if (fcntl(fd, F_GETFD) != FD_CLOEXEC)
		return 11;
	if (shmkit_region_open_fd(fd, flags, &r) != 0)
		return 12;
	close(fd);  /* the handle has its own */
	if (shmkit_region_size(r) != MEMFD_SIZE)
		return 13;
	if (strcmp(shmkit_region_base(r), parent_msg) != 0)
		return 14;
	strcpy((char *)shmkit_region_base(r) + 1000, child_msg);
	if (write(sock, "R", 1) != 1)
		return 15;
	if (read(sock, &c, 1) != 1)  /* waits for the parent's look at the peers */
		return 16;
	if (shmkit_region_close(r) != 0)
		return 17;
	return 0;
}

static void memfd_round(unsigned flags)
{
	shmkit_region *r = NULL;
	struct shmkit_peer peers[8];
	int sv[2];
	char c = 0;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	/* forked before the region exists: the child inherits no handle and
	 * plays an unrelated process that only gets the fd */
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(memfd_child(sv[1], flags));
	}
	close(sv[1]);
	int err = shmkit_region_memfd("ut-region", MEMFD_SIZE, flags, &r);
	int fd = err ? -1 : shmkit_region_fd(r);
	if (err || fd < 0) {
		close(sv[0]);  /* the child's recv fails: it exits */
		kid_reap(pid);
		shmkit_region_close(r);
		cr_assert_fail("memfd region: %s, fd %d", errname(err), fd);
	}
	strcpy(shmkit_region_base(r), parent_msg);
	cr_expect_eq(shmkit_fd_send(sv[0], fd), 0);
	cr_expect_eq(read(sv[0], &c, 1), 1, "the child answered");
	cr_expect_eq(c, 'R');
	cr_expect_str_eq((char *)shmkit_region_base(r) + 1000, child_msg);
	if (!(flags & SHMKIT_RAW)) {
		int n = shmkit_region_peers(r, peers, 8);
		cr_expect_eq(n, 2, "sender and receiver, got %d", n);
		const struct shmkit_peer *cp = find_pid(peers, n < 8 ? n : 8, pid);
		cr_expect_not_null(cp, "the receiver is a peer of the sender");
		if (cp)
			cr_expect_eq(cp->alive, 1);
	} else {
		cr_expect_eq(shmkit_region_peers(r, peers, 8), -EPROTO);
	}
	cr_expect_eq(write(sv[0], "G", 1), 1);
	cr_expect_eq(kid_reap(pid), 0, "child status");
	if (!(flags & SHMKIT_RAW)) {
		int n = shmkit_region_peers(r, peers, 8);
		cr_expect_eq(n, 1, "the receiver detached, got %d", n);
	}
	close(sv[0]);
	cr_expect_eq(shmkit_region_close(r), 0);
}

Test(region, memfd_managed_passed_to_child) { memfd_round(0); }
Test(region, memfd_raw_passed_to_child) { memfd_round(SHMKIT_RAW); }

Test(region, memfd_stays_in_process_without_name)
{
	shmkit_region *r = NULL, *b = NULL;
	cr_assert_eq(shmkit_region_memfd(NULL, 4096, 0, &r), 0, "label may be NULL");
	cr_expect_eq(shmkit_region_open_fd(shmkit_region_fd(r), 0, &b), 0,
		     "a memfd has no link and is not 'removed'");
	if (b) {
		strcpy(shmkit_region_base(r), "same");
		cr_expect_str_eq(shmkit_region_base(b), "same");
		shmkit_region_close(b);
	}
	/* a memfd is sealed against shrinking */
	cr_expect_neq(ftruncate(shmkit_region_fd(r), 10), 0);
	cr_expect_eq(shmkit_region_close(r), 0);
}

Test(region, fd_recv_errors)
{
	int sv[2], fd = -7;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(write(sv[0], "x", 1), 1);
	cr_expect_eq(shmkit_fd_recv(sv[1], &fd), -ENOMSG, "a message without an fd");
	cr_expect_eq(fd, -7, "*fd untouched on failure");
	cr_expect_eq(shmkit_fd_recv(-1, &fd), -EINVAL);
	cr_expect_eq(shmkit_fd_recv(sv[1], NULL), -EINVAL);
	cr_expect_eq(shmkit_fd_send(-1, 0), -EINVAL);
	cr_expect_eq(shmkit_fd_send(sv[0], -1), -EINVAL);
	close(sv[0]);
	cr_expect_eq(shmkit_fd_recv(sv[1], &fd), -ECONNRESET, "peer closed");
	cr_expect_eq(fd, -7);
	close(sv[1]);

	/* send on a socket whose peer is gone: an error, never SIGPIPE */
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	cr_expect_eq(shmkit_fd_send(sv[0], 0), -EPIPE);
	close(sv[0]);
	/* not a socket */
	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_expect_lt(shmkit_fd_send(p[1], 0), 0);
	cr_expect_lt(shmkit_fd_recv(p[0], &fd), 0);
	close(p[0]);
	close(p[1]);
}

/* ---- (c) sync ---- */

static void sync_round(unsigned base)
{
	const char *name = ut_name(SHMKIT_BACKEND_FILE);
	char path[512], buf[32];
	shmkit_region *r = NULL;
	size_t size = 3 * 4096 + 100;

	cr_assert_eq(shmkit_region_open(name, base | SHMKIT_CREATE | SHMKIT_EXCL, size, 0600, &r), 0);
	size_t off0 = base ? 0 : header_size();
	char *p = shmkit_region_base(r);
	cr_assert_eq(shmkit_region_size(r), size);
	int fd = open(path_of(name, path, sizeof(path)), O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);

	memcpy(p, "synced-head", 11);
	memcpy(p + 5000, "synced-mid", 10);
	memcpy(p + size - 4, "TAIL", 4);
	cr_expect_eq(shmkit_region_sync(r, 0, 0, SHMKIT_SYNC), 0);
	cr_expect_eq(pread(fd, buf, 11, (off_t)off0), 11);
	cr_expect_eq(memcmp(buf, "synced-head", 11), 0);
	cr_expect_eq(pread(fd, buf, 10, (off_t)(off0 + 5000)), 10);
	cr_expect_eq(memcmp(buf, "synced-mid", 10), 0);
	cr_expect_eq(pread(fd, buf, 4, (off_t)(off0 + size - 4)), 4);
	cr_expect_eq(memcmp(buf, "TAIL", 4), 0);

	cr_expect_eq(shmkit_region_sync(r, 0, 0, SHMKIT_ASYNC), 0);
	cr_expect_eq(shmkit_region_sync(r, 0, 0, SHMKIT_SYNC | SHMKIT_INVALIDATE), 0);
	cr_expect_eq(shmkit_region_sync(r, 0, 0, SHMKIT_ASYNC | SHMKIT_INVALIDATE), 0);

	cr_expect_eq(shmkit_region_sync(r, 0, 0, 0), -EINVAL);
	cr_expect_eq(shmkit_region_sync(r, 0, 0, SHMKIT_SYNC | SHMKIT_ASYNC), -EINVAL);
	cr_expect_eq(shmkit_region_sync(r, 0, 0, 0x80), -EINVAL);
	cr_expect_eq(shmkit_region_sync(r, 0, 0, SHMKIT_SYNC | 0x80), -EINVAL);
	cr_expect_eq(shmkit_region_sync(r, 0, 0, SHMKIT_INVALIDATE), -EINVAL);
	cr_expect_eq(shmkit_region_sync(NULL, 0, 0, SHMKIT_SYNC), -EINVAL);

	cr_expect_eq(shmkit_region_sync(r, size + 1, 0, SHMKIT_SYNC), -EINVAL, "offset > size");
	cr_expect_eq(shmkit_region_sync(r, size + 1, 1, SHMKIT_SYNC), -EINVAL);
	cr_expect_eq(shmkit_region_sync(r, 10, size - 9, SHMKIT_SYNC), -EINVAL, "past the end");
	cr_expect_eq(shmkit_region_sync(r, 0, size + 1, SHMKIT_SYNC), -EINVAL);
	cr_expect_eq(shmkit_region_sync(r, 1, SIZE_MAX, SHMKIT_SYNC), -EINVAL, "wraps");
	cr_expect_eq(shmkit_region_sync(r, SIZE_MAX, 2, SHMKIT_SYNC), -EINVAL, "wraps");

	/* sub-ranges, unaligned, up to the very end */
	memcpy(p + 4099, "sub-range!", 10);
	cr_expect_eq(shmkit_region_sync(r, 4099, 10, SHMKIT_SYNC), 0);
	cr_expect_eq(pread(fd, buf, 10, (off_t)(off0 + 4099)), 10);
	cr_expect_eq(memcmp(buf, "sub-range!", 10), 0);
	cr_expect_eq(shmkit_region_sync(r, 1, 1, SHMKIT_SYNC), 0);
	cr_expect_eq(shmkit_region_sync(r, 4095, 2, SHMKIT_ASYNC), 0, "across a page boundary");
	cr_expect_eq(shmkit_region_sync(r, size - 1, 1, SHMKIT_SYNC), 0);
	cr_expect_eq(shmkit_region_sync(r, size - 1, 0, SHMKIT_SYNC), 0);
	cr_expect_eq(shmkit_region_sync(r, 10, size - 10, SHMKIT_SYNC), 0);
	cr_expect_eq(shmkit_region_sync(r, size, 0, SHMKIT_SYNC), 0, "empty range at the end");

	close(fd);
	cr_expect_eq(shmkit_region_close(r), 0);
	shmkit_remove(name);
}

Test(region, sync_file_raw) { sync_round(SHMKIT_RAW); }
Test(region, sync_file_managed) { sync_round(0); }

Test(region, sync_harmless_elsewhere)
{
	shmkit_region *r = NULL;
	const char *n1 = ut_name(SHMKIT_BACKEND_POSIX), *n2 = ut_name(SHMKIT_BACKEND_SYSV);
	cr_assert_eq(shmkit_region_open(n1, SHMKIT_CREATE, 5000, 0, &r), 0);
	cr_expect_eq(shmkit_region_sync(r, 3, 100, SHMKIT_SYNC), 0);
	shmkit_region_close(r);
	cr_assert_eq(shmkit_region_open(n2, SHMKIT_CREATE, 5000, 0, &r), 0);
	cr_expect_eq(shmkit_region_sync(r, 3, 100, SHMKIT_SYNC | SHMKIT_INVALIDATE), 0);
	shmkit_region_close(r);
	cr_assert_eq(shmkit_region_anon(5000, 0, &r), 0);
	cr_expect_eq(shmkit_region_sync(r, 0, 0, SHMKIT_ASYNC), 0);
	shmkit_region_close(r);
	cr_assert_eq(shmkit_region_memfd("x", 5000, 0, &r), 0);
	cr_expect_eq(shmkit_region_sync(r, 4097, 3, SHMKIT_SYNC), 0);
	shmkit_region_close(r);
}

/* ---- (d) SHMKIT_PRIVATE ---- */

static void private_round(int backend, unsigned base)
{
	const char *name = ut_name(backend);
	shmkit_region *a = NULL, *b = NULL, *c = NULL;
	char path[512], buf[16];

	cr_assert_eq(shmkit_region_open(name, base | SHMKIT_CREATE | SHMKIT_EXCL, 8192, 0600, &a), 0);
	size_t off0 = base ? 0 : header_size();
	strcpy(shmkit_region_base(a), "original");
	cr_assert_eq(shmkit_region_open(name, base | SHMKIT_PRIVATE, 0, 0, &b), 0, "%s", name);
	cr_expect_str_eq(shmkit_region_base(b), "original", "a private mapping starts as the object");
	strcpy(shmkit_region_base(b), "private!");
	((char *)shmkit_region_base(b))[8000] = 'P';
	cr_expect_str_eq(shmkit_region_base(b), "private!");
	cr_expect_str_eq(shmkit_region_base(a), "original", "%s: the other handle sees no change", name);
	cr_expect_eq(((char *)shmkit_region_base(a))[8000], 0);
	int fd = open(path_of(name, path, sizeof(path)), O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_expect_eq(pread(fd, buf, 9, (off_t)off0), 9);
	cr_expect_str_eq(buf, "original", "%s: nor the object", name);
	cr_expect_eq(pread(fd, buf, 1, (off_t)(off0 + 8000)), 1);
	cr_expect_eq(buf[0], 0);
	close(fd);
	cr_assert_eq(shmkit_region_open(name, base, 0, 0, &c), 0);
	cr_expect_str_eq(shmkit_region_base(c), "original", "nor a new handle");
	if (!base) {
		/* a private data mapping is still a registered peer */
		struct shmkit_peer peers[8];
		cr_expect_eq(shmkit_region_peers(a, peers, 8), 3);
	}
	cr_expect_eq(shmkit_region_close(c), 0);
	cr_expect_eq(shmkit_region_close(b), 0);
	cr_expect_eq(shmkit_region_close(a), 0);
	shmkit_remove(name);
}

Test(region, private_posix_managed) { private_round(SHMKIT_BACKEND_POSIX, 0); }
Test(region, private_posix_raw) { private_round(SHMKIT_BACKEND_POSIX, SHMKIT_RAW); }
Test(region, private_file_managed) { private_round(SHMKIT_BACKEND_FILE, 0); }
Test(region, private_file_raw) { private_round(SHMKIT_BACKEND_FILE, SHMKIT_RAW); }

/* ---- (e) SHMKIT_RDONLY ---- */

/* The child dies of the signal itself: no core file, and no handler (a
 * sanitizer's, say) turning the SIGSEGV into an exit. */
static void plain_death(void)
{
	struct rlimit rl = { 0, 0 };
	struct sigaction sa;
	setrlimit(RLIMIT_CORE, &rl);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

static int child_write_rdonly(void *arg)
{
	plain_death();
	volatile char *p = shmkit_region_base(arg);
	p[0] = 'w';
	return 0;  /* reached only if the write went through */
}

static int child_read_rdonly(void *arg)
{
	volatile char *p = shmkit_region_base(arg);
	return p[0] == 'o' ? 0 : 1;
}

static void rdonly_round(int backend, unsigned base)
{
	const char *name = ut_name(backend);
	shmkit_region *a = NULL, *b = NULL;

	cr_assert_eq(shmkit_region_open(name, base | SHMKIT_CREATE | SHMKIT_EXCL, 4096, 0600, &a), 0);
	strcpy(shmkit_region_base(a), "ok");
	cr_assert_eq(shmkit_region_open(name, base | SHMKIT_RDONLY, 0, 0, &b), 0);
	cr_expect_str_eq(shmkit_region_base(b), "ok");
	cr_expect_eq(kid_run(child_read_rdonly, b), 0, "reading is fine");
	int st = kid_run(child_write_rdonly, b);
	cr_expect_eq(st, 128 + SIGSEGV, "%s %s: writing read-only data: status %d", name,
		     base ? "raw" : "managed", st);
	cr_expect_str_eq(shmkit_region_base(a), "ok");
	cr_expect_eq(shmkit_region_close(b), 0);
	cr_expect_eq(shmkit_region_close(a), 0);
	shmkit_remove(name);
}

Test(region, rdonly_posix) { rdonly_round(SHMKIT_BACKEND_POSIX, 0); rdonly_round(SHMKIT_BACKEND_POSIX, SHMKIT_RAW); }
Test(region, rdonly_sysv) { rdonly_round(SHMKIT_BACKEND_SYSV, 0); rdonly_round(SHMKIT_BACKEND_SYSV, SHMKIT_RAW); }
Test(region, rdonly_file) { rdonly_round(SHMKIT_BACKEND_FILE, 0); rdonly_round(SHMKIT_BACKEND_FILE, SHMKIT_RAW); }

/* ---- (f) statistics ---- */

#define STAT_SIZE 10000u  /* not a page multiple: the data size is exact */

static void expect_recent(int64_t ns, const char *what, const char *label)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	int64_t d = now - ns;
	cr_expect(d > -5000000000LL && d < 5000000000LL, "%s: %s %lld is not within 5 s of now %lld",
		  label, what, (long long)ns, (long long)now);
}

/* What every managed region reports while this process has one handle open. */
static void expect_open_stat(const struct shmkit_stat *st, int backend, unsigned mode,
			     const char *name, const char *label)
{
	cr_expect_eq(st->backend, backend, "%s: backend %d", label, st->backend);
	cr_expect_eq(st->managed, 1, "%s: managed", label);
	cr_expect_eq(st->removed, 0, "%s: removed", label);
	cr_expect_eq(st->version, 1, "%s: version", label);
	cr_expect_eq(st->size, STAT_SIZE, "%s: size %llu", label, (unsigned long long)st->size);
	cr_expect_eq(st->total_size, STAT_SIZE + header_size(), "%s: total_size %llu", label,
		     (unsigned long long)st->total_size);
	cr_expect_eq(st->mode, mode, "%s: mode %o, expected %o", label, st->mode, mode);
	cr_expect_eq(st->uid, getuid(), "%s: uid", label);
	cr_expect_eq(st->gid, getgid(), "%s: gid", label);
	cr_expect_eq(st->cpid, getpid(), "%s: cpid %d", label, st->cpid);
	cr_expect_eq(st->lpid, getpid(), "%s: lpid %d", label, st->lpid);
	cr_expect_eq(st->nattch, 1, "%s: nattch %d", label, st->nattch);
	cr_expect_gt(st->atime_ns, 0, "%s: atime", label);
	expect_recent(st->atime_ns, "atime", label);
	expect_recent(st->ctime_ns, "ctime", label);
	if (backend == SHMKIT_BACKEND_SYSV) {
		int id = sysv_id_of(name);
		cr_expect_geq(st->shmid, 0, "%s: shmid", label);
		cr_expect_eq(st->shmid, id, "%s: shmid %d, the kernel says %d", label, st->shmid, id);
	} else {
		cr_expect_eq(st->shmid, -1, "%s: shmid", label);
	}
}

static void stat_named(int backend)
{
	const char *name = ut_name(backend);
	shmkit_region *r = NULL;
	struct shmkit_stat st;
	char label[128];

	mode_t old = umask(077);
	int err = shmkit_region_open(name, SHMKIT_CREATE | SHMKIT_EXCL, STAT_SIZE, 0640, &r);
	umask(old);
	cr_assert_eq(err, 0, "%s: %s", name, errname(err));

	snprintf(label, sizeof(label), "%s by handle", ut_backend_names[backend]);
	cr_assert_eq(shmkit_region_stat(r, &st), 0);
	expect_open_stat(&st, backend, 0640, name, label);

	snprintf(label, sizeof(label), "%s by name", ut_backend_names[backend]);
	cr_assert_eq(shmkit_stat(name, &st), 0);
	expect_open_stat(&st, backend, 0640, name, label);

	/* what the system itself says about the mode */
	if (backend == SHMKIT_BACKEND_SYSV) {
		struct shmid_ds ds;
		cr_assert_eq(shmctl(sysv_id_of(name), IPC_STAT, &ds), 0);
		cr_expect_eq(ds.shm_perm.mode & 0777, 0640);
		cr_expect_eq(ds.shm_segsz, STAT_SIZE + header_size());
	} else {
		char path[512];
		struct stat sb;
		cr_assert_eq(stat(path_of(name, path, sizeof(path)), &sb), 0);
		cr_expect_eq(sb.st_mode & 07777, 0640, "%s: file mode %o", name, sb.st_mode & 07777);
		cr_expect_eq((uint64_t)sb.st_size, STAT_SIZE + header_size());
	}

	cr_expect_eq(shmkit_region_close(r), 0);
	snprintf(label, sizeof(label), "%s by name after close", ut_backend_names[backend]);
	cr_assert_eq(shmkit_stat(name, &st), 0);
	cr_expect_eq(st.nattch, 0, "%s: nattch %d", label, st.nattch);
	cr_expect_eq(st.lpid, getpid(), "%s: lpid", label);
	cr_expect_gt(st.dtime_ns, 0, "%s: dtime", label);
	expect_recent(st.dtime_ns, "dtime", label);
	cr_expect_eq(st.size, STAT_SIZE, "%s: size", label);
	cr_expect_eq(st.mode, 0640, "%s: mode", label);
	cr_expect_eq(st.removed, 0);
	shmkit_remove(name);
}

Test(region, stat_posix) { stat_named(SHMKIT_BACKEND_POSIX); }
Test(region, stat_sysv) { stat_named(SHMKIT_BACKEND_SYSV); }
Test(region, stat_file) { stat_named(SHMKIT_BACKEND_FILE); }

Test(region, stat_anon_and_memfd)
{
	shmkit_region *r = NULL;
	struct shmkit_stat st;

	mode_t old = umask(077);
	int e1 = shmkit_region_anon(STAT_SIZE, 0, &r);
	umask(old);
	cr_assert_eq(e1, 0);
	cr_assert_eq(shmkit_region_stat(r, &st), 0);
	expect_open_stat(&st, SHMKIT_BACKEND_ANON, 0600, NULL, "anon");
	cr_expect_eq(shmkit_region_close(r), 0);

	old = umask(077);
	int e2 = shmkit_region_memfd("ut-stat", STAT_SIZE, 0, &r);
	umask(old);
	cr_assert_eq(e2, 0);
	cr_assert_eq(shmkit_region_stat(r, &st), 0);
	expect_open_stat(&st, SHMKIT_BACKEND_MEMFD, 0600, NULL, "memfd");
	cr_expect_eq(shmkit_region_close(r), 0);

	/* raw: what the system knows, no header */
	cr_assert_eq(shmkit_region_anon(STAT_SIZE, SHMKIT_RAW, &r), 0);
	cr_assert_eq(shmkit_region_stat(r, &st), 0);
	cr_expect_eq(st.backend, SHMKIT_BACKEND_ANON);
	cr_expect_eq(st.managed, 0);
	cr_expect_eq(st.size, STAT_SIZE);
	cr_expect_eq(st.total_size, STAT_SIZE);
	cr_expect_eq(st.uid, getuid());
	shmkit_region_close(r);
	cr_assert_eq(shmkit_region_memfd("ut-stat", STAT_SIZE, SHMKIT_RAW, &r), 0);
	cr_assert_eq(shmkit_region_stat(r, &st), 0);
	cr_expect_eq(st.backend, SHMKIT_BACKEND_MEMFD);
	cr_expect_eq(st.managed, 0);
	cr_expect_eq(st.size, STAT_SIZE);
	cr_expect_eq(st.removed, 0, "a memfd is never 'removed'");
	cr_expect_eq(st.mode, 0600);
	shmkit_region_close(r);
}

Test(region, stat_raw_named)
{
	const int backends[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_FILE };
	for (size_t i = 0; i < 3; i++) {
		const char *name = ut_name(backends[i]);
		shmkit_region *r = NULL;
		struct shmkit_stat st;
		mode_t old = umask(077);
		int err = shmkit_region_open(name, SHMKIT_RAW | SHMKIT_CREATE, STAT_SIZE, 0604, &r);
		umask(old);
		cr_assert_eq(err, 0);
		cr_assert_eq(shmkit_stat(name, &st), 0);
		cr_expect_eq(st.backend, backends[i]);
		cr_expect_eq(st.managed, 0, "%s", name);
		cr_expect_eq(st.version, 0, "%s", name);
		cr_expect_eq(st.size, STAT_SIZE, "%s", name);
		cr_expect_eq(st.total_size, STAT_SIZE, "%s", name);
		cr_expect_eq(st.mode, 0604, "%s: mode %o", name, st.mode);
		cr_expect_eq(st.uid, getuid());
		cr_expect_eq(shmkit_region_stat(r, &st), 0);
		cr_expect_eq(st.managed, 0);
		cr_expect_eq(st.size, STAT_SIZE);
		shmkit_region_close(r);
		shmkit_remove(name);
	}
}

Test(region, stat_removed_while_open)
{
	const int backends[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_FILE };
	for (size_t i = 0; i < 3; i++) {
		const char *name = ut_name(backends[i]);
		shmkit_region *r = NULL;
		struct shmkit_stat st;
		cr_assert_eq(shmkit_region_open(name, SHMKIT_CREATE, 4096, 0, &r), 0);
		cr_assert_eq(shmkit_region_stat(r, &st), 0);
		cr_expect_eq(st.removed, 0, "%s", name);
		cr_assert_eq(shmkit_stat(name, &st), 0);
		cr_expect_eq(st.removed, 0, "%s", name);
		cr_expect_eq(shmkit_remove(name), 0);
		cr_assert_eq(shmkit_region_stat(r, &st), 0, "%s: stat after remove", name);
		cr_expect_eq(st.removed, 1, "%s: removed", name);
		cr_expect_eq(st.managed, 1, "%s", name);
		cr_expect_eq(st.size, 4096);
		cr_expect_eq(shmkit_stat(name, &st), -ENOENT, "%s: the name is gone", name);
		cr_expect_eq(shmkit_remove(name), -ENOENT, "%s: removed twice", name);
		strcpy(shmkit_region_base(r), "still usable");
		cr_expect_str_eq(shmkit_region_base(r), "still usable");
		cr_expect_eq(shmkit_region_close(r), 0);
	}
}

/* ---- (g) listing ---- */

struct want {
	const char *name;
	int backend;
	uint64_t size;
	int32_t shmid;
	int seen;
};

static int list_cb(const struct shmkit_entry *e, void *arg)
{
	struct want *w = arg;
	for (; w->name; w++) {
		const char *n = w->name;
		if (!strncmp(n, "posix:", 6))
			n += 6;
		if (strcmp(e->name, n) != 0)
			continue;
		w->seen++;
		cr_expect_eq(e->backend, w->backend, "%s: backend", n);
		cr_expect_eq(e->size, w->size, "%s: size %llu, expected %llu", n,
			     (unsigned long long)e->size, (unsigned long long)w->size);
		cr_expect_eq(e->shmid, w->shmid, "%s: shmid", n);
	}
	return 0;
}

static int stop_cb(const struct shmkit_entry *e, void *arg)
{
	(void)e;
	++*(int *)arg;
	return 42;
}

Test(region, list_posix_and_sysv)
{
	const char *p1 = ut_name(SHMKIT_BACKEND_POSIX), *p2 = ut_name(SHMKIT_BACKEND_POSIX);
	const char *s1 = ut_name(SHMKIT_BACKEND_SYSV), *s2 = ut_name(SHMKIT_BACKEND_SYSV);
	shmkit_region *r[4];

	cr_assert_eq(shmkit_region_open(p1, SHMKIT_CREATE | SHMKIT_RAW, 12345, 0, &r[0]), 0);
	cr_assert_eq(shmkit_region_open(p2, SHMKIT_CREATE, 12345, 0, &r[1]), 0);
	cr_assert_eq(shmkit_region_open(s1, SHMKIT_CREATE | SHMKIT_RAW, 23456, 0, &r[2]), 0);
	cr_assert_eq(shmkit_region_open(s2, SHMKIT_CREATE, 23456, 0, &r[3]), 0);
	for (int i = 0; i < 4; i++)
		shmkit_region_close(r[i]);
	struct want w[] = {
		{ p1, SHMKIT_BACKEND_POSIX, 12345, -1, 0 },
		{ p2, SHMKIT_BACKEND_POSIX, 12345 + header_size(), -1, 0 },
		{ s1, SHMKIT_BACKEND_SYSV, 23456, sysv_id_of(s1), 0 },
		{ s2, SHMKIT_BACKEND_SYSV, 23456 + header_size(), sysv_id_of(s2), 0 },
		{ NULL, 0, 0, 0, 0 },
	};
	cr_expect_eq(shmkit_list(list_cb, w), 0);
	for (int i = 0; w[i].name; i++)
		cr_expect_eq(w[i].seen, 1, "%s listed %d times", w[i].name, w[i].seen);

	int calls = 0;
	cr_expect_eq(shmkit_list(stop_cb, &calls), 42, "the callback's value");
	cr_expect_eq(calls, 1, "stops at once");
	cr_expect_eq(shmkit_list(NULL, NULL), -EINVAL);

	/* removed: no longer listed */
	shmkit_remove(p1);
	shmkit_remove(s1);
	w[0].seen = w[1].seen = w[2].seen = w[3].seen = 0;
	cr_expect_eq(shmkit_list(list_cb, w), 0);
	cr_expect_eq(w[0].seen, 0);
	cr_expect_eq(w[2].seen, 0);
	cr_expect_eq(w[1].seen, 1);
	cr_expect_eq(w[3].seen, 1);
}

/* ---- (h) argument edges ---- */

Test(region, odd_fds_and_null_handles)
{
	shmkit_region *r = (shmkit_region *)(uintptr_t)1;
	int p[2];
	struct shmkit_stat st;
	struct shmkit_peer peer;

	cr_assert_eq(pipe(p), 0);
	int err = shmkit_region_open_fd(p[0], 0, &r);
	cr_expect_lt(err, 0, "a pipe is not a region: %d", err);
	cr_expect_null(r, "no handle on failure");
	cr_expect_lt(shmkit_region_open_fd(p[1], SHMKIT_RAW, &r), 0);
	close(p[0]);
	close(p[1]);
	int dfd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);
	cr_expect_lt(shmkit_region_open_fd(dfd, SHMKIT_RAW | SHMKIT_RDONLY, &r), 0, "a directory");
	close(dfd);
	int nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	cr_expect_lt(shmkit_region_open_fd(nfd, SHMKIT_RAW, &r), 0, "a device");
	close(nfd);
	cr_expect_eq(shmkit_region_open_fd(-1, 0, &r), -EINVAL);
	cr_expect_eq(shmkit_region_open_fd(0, SHMKIT_CREATE, &r), -EINVAL);
	cr_expect_eq(shmkit_region_open_fd(0, 0, NULL), -EINVAL);
	cr_expect_eq(shmkit_region_open_shmid(-1, 0, &r), -EINVAL);

	cr_expect_eq(shmkit_region_close(NULL), -EINVAL);
	cr_expect_null(shmkit_region_base(NULL));
	cr_expect_eq(shmkit_region_size(NULL), 0);
	cr_expect_eq(shmkit_region_fd(NULL), -EINVAL);
	cr_expect_eq(shmkit_region_stat(NULL, &st), -EINVAL);
	cr_expect_eq(shmkit_region_peers(NULL, &peer, 1), -EINVAL);

	const char *sv = ut_name(SHMKIT_BACKEND_SYSV);
	cr_assert_eq(shmkit_region_open(sv, SHMKIT_CREATE, 4096, 0, &r), 0);
	cr_expect_eq(shmkit_region_fd(r), -EOPNOTSUPP, "sysv has no fd");
	cr_expect_eq(shmkit_region_stat(r, NULL), -EINVAL);
	cr_expect_eq(shmkit_region_peers(r, NULL, 1), -EINVAL);
	cr_expect_eq(shmkit_region_peers(r, NULL, 0), 1);
	shmkit_region_close(r);
	shmkit_remove(sv);
	cr_assert_eq(shmkit_region_anon(4096, 0, &r), 0);
	cr_expect_eq(shmkit_region_fd(r), -EOPNOTSUPP, "anon has no fd");
	shmkit_region_close(r);
	cr_assert_eq(shmkit_region_anon(4096, SHMKIT_RAW | SHMKIT_DEVZERO, &r), 0);
	cr_expect_eq(shmkit_region_fd(r), -EOPNOTSUPP, "anon has no fd");
	cr_expect_eq(shmkit_region_peers(r, &peer, 1), -EPROTO, "raw: no peer table");
	shmkit_region_close(r);

	const char *px = ut_name(SHMKIT_BACKEND_POSIX), *fl = ut_name(SHMKIT_BACKEND_FILE);
	cr_assert_eq(shmkit_region_open(px, SHMKIT_CREATE, 4096, 0, &r), 0);
	cr_expect_geq(shmkit_region_fd(r), 0);
	shmkit_region_close(r);
	cr_assert_eq(shmkit_region_open(fl, SHMKIT_CREATE | SHMKIT_RAW, 4096, 0, &r), 0);
	cr_expect_geq(shmkit_region_fd(r), 0);
	shmkit_region_close(r);
	cr_assert_eq(shmkit_region_memfd("x", 4096, 0, &r), 0);
	cr_expect_geq(shmkit_region_fd(r), 0);
	shmkit_region_close(r);
}

/* ---- (i) 120 peer slots ---- */

static void slots_round(int backend)
{
	const char *name = ut_name(backend);
	enum { N = 120 };
	shmkit_region *h[N + 1];
	struct shmkit_stat st;
	struct shmkit_peer peers[N + 4];

	memset(h, 0, sizeof(h));
	cr_assert_eq(shmkit_region_open(name, SHMKIT_CREATE | SHMKIT_EXCL, 4096, 0, &h[0]), 0);
	for (int i = 1; i < N; i++) {
		int err = shmkit_region_open(name, 0, 0, 0, &h[i]);
		cr_assert_eq(err, 0, "%s: handle %d: %s", name, i + 1, errname(err));
	}
	cr_expect_eq(shmkit_region_peers(h[0], peers, N + 4), N);
	cr_expect_eq(count_alive(peers, N), N);
	cr_expect_eq(shmkit_region_stat(h[7], &st), 0);
	cr_expect_eq(st.nattch, N);
	int err = shmkit_region_open(name, 0, 0, 0, &h[N]);
	cr_expect_eq(err, -EUSERS, "%s: the 121st handle: %s", name, errname(err));
	cr_expect_null(h[N]);
	/* a read-only open that can write the header registers too: no room;
	 * System V attaches read-only opens SHM_RDONLY: unregistered observers */
	shmkit_region *ro = NULL;
	err = shmkit_region_open(name, SHMKIT_RDONLY, 0, 0, &ro);
	cr_expect_eq(err, backend == SHMKIT_BACKEND_SYSV ? 0 : -EUSERS, "%s: read-only: %s",
		     name, errname(err));
	shmkit_region_close(ro);
	/* raw opens need no slot */
	shmkit_region *raw = NULL;
	cr_expect_eq(shmkit_region_open(name, SHMKIT_RAW, 0, 0, &raw), 0);
	shmkit_region_close(raw);

	cr_expect_eq(shmkit_region_close(h[50]), 0);
	h[50] = NULL;
	err = shmkit_region_open(name, 0, 0, 0, &h[50]);
	cr_expect_eq(err, 0, "%s: a slot freed by close is reused: %s", name, errname(err));
	cr_expect_eq(shmkit_region_open(name, 0, 0, 0, &h[N]), -EUSERS);
	for (int i = 0; i <= N; i++)
		shmkit_region_close(h[i]);
	cr_expect_eq(shmkit_stat(name, &st), 0);
	cr_expect_eq(st.nattch, 0);
	shmkit_remove(name);
}

Test(region, slots_posix) { slots_round(SHMKIT_BACKEND_POSIX); }
Test(region, slots_sysv) { slots_round(SHMKIT_BACKEND_SYSV); }
Test(region, slots_file) { slots_round(SHMKIT_BACKEND_FILE); }

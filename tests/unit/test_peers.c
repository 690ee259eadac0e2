/* SPDX-License-Identifier: MIT */
/*
 * Description: the peer table and attach statistics stay right where PID
 * checks go wrong (killed peers, zombies, PID namespaces, recycled PIDs,
 * fork), under concurrent attach/detach and under kill -9 at random points.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>

#include "kids.h"
#include "util.h"

TestSuite(peers, .fini = kids_teardown, .timeout = 120);

struct proc {
	pid_t pid;
	int in;   /* its stdin */
	int out;  /* its stdout */
};

static const char *helper(void)
{
	static char path[512];
	const char *b = getenv("B");
	snprintf(path, sizeof(path), "%s/tests/helpers/peer_helper", b ? b : "build");
	return path;
}

static void spawn_helper(struct proc *p, char *const argv[])
{
	int in[2], out[2];
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	p->pid = fork();
	cr_assert_geq(p->pid, 0);
	if (p->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->in = in[1];
	p->out = out[0];
}

/* Reads one line from the process (bounded by the suite's timeout). */
static int read_line(struct proc *p, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t k = read(p->out, buf + n, 1);
		if (k <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return (int)n;
}

static int finish(struct proc *p)
{
	int status;
	close(p->in);
	close(p->out);
	waitpid(p->pid, &status, 0);
	return status;
}

/* Creates region @n and detaches: it exists, with no peer. */
static void make_region(const char *n)
{
	shmkit_region *a;
	cr_assert_eq(shmkit_region_open(n, SHMKIT_CREATE, 4096, 0, &a), 0, "create %s", n);
	shmkit_region_close(a);
}

/* Starts peer_helper holding @n; returns once it has attached. */
static void spawn_holder(struct proc *p, const char *n)
{
	char line[64];
	spawn_helper(p, (char *const[]){ (char *)helper(), "hold", (char *)n, NULL });
	cr_assert_gt(read_line(p, line, sizeof(line)), 0, "helper attached to %s", n);
}

/* The first peer whose pid is @pid, or NULL. */
static struct shmkit_peer *find_peer(struct shmkit_peer *v, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (v[i].pid == pid)
			return &v[i];
	return NULL;
}

static int nattch(const char *name)
{
	struct shmkit_stat st;
	cr_assert_eq(shmkit_stat(name, &st), 0, "stat %s", name);
	return st.nattch;
}

/* @n has exactly one slot, its peer dead, and no peer attached. */
static void expect_one_dead_peer(const char *n, const char *why)
{
	struct shmkit_peer v[8];
	cr_assert_eq(shmkit_peers(n, v, 8), 1, "%s: the dead peer's slot is still listed", n);
	cr_expect_eq(v[0].alive, 0, "%s: %s", n, why);
	cr_expect_eq(nattch(n), 0, "%s", n);
}

static const int named_backends[] = {
	SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_FILE,
};

Test(peers, stats_follow_attach_and_detach)
{
	for (size_t b = 0; b < 3; b++) {
		const char *n = ut_name(named_backends[b]);
		shmkit_region *a, *c;
		struct shmkit_stat st;
		cr_assert_eq(shmkit_region_open(n, SHMKIT_CREATE, 4096, 0, &a), 0);
		cr_expect_eq(nattch(n), 1, "%s", n);
		cr_assert_eq(shmkit_region_open(n, 0, 0, 0, &c), 0);
		cr_expect_eq(nattch(n), 2, "%s", n);
		cr_assert_eq(shmkit_region_stat(c, &st), 0);
		cr_expect_eq(st.nattch, 2);
		cr_expect_eq(st.lpid, getpid());
		cr_expect_gt(st.atime_ns, 0);
		shmkit_region_close(c);
		shmkit_region_close(a);
		cr_assert_eq(shmkit_stat(n, &st), 0);
		cr_expect_eq(st.nattch, 0, "%s", n);
		cr_expect_gt(st.dtime_ns, 0, "%s", n);
		struct shmkit_peer v[4];
		cr_expect_eq(shmkit_peers(n, v, 4), 0, "%s: clean detach leaves no slot", n);
	}
}

Test(peers, killed_peer_is_dead)
{
	for (size_t b = 0; b < 3; b++) {
		const char *n = ut_name(named_backends[b]);
		struct shmkit_peer v[8];
		struct proc p;
		make_region(n);
		spawn_holder(&p, n);
		int cnt = shmkit_peers(n, v, 8);
		cr_assert_eq(cnt, 1);
		cr_expect_eq(v[0].pid, p.pid);
		cr_expect_eq(v[0].alive, 1);
		kill(p.pid, SIGKILL);
		finish(&p);
		expect_one_dead_peer(n, "killed peer must be dead");
	}
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	ssize_t k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return '?';
	buf[k] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] ? p[2] : '?';
}

Test(peers, zombie_peer_is_dead)
{
	for (size_t b = 0; b < 3; b++) {
		const char *n = ut_name(named_backends[b]);
		struct proc p;
		make_region(n);
		spawn_holder(&p, n);
		close(p.in);  /* it exits; nobody reaps it yet */
		char buf[8];
		while (read(p.out, buf, sizeof(buf)) > 0)  /* EOF: its fds are closed */
			;
		for (int i = 0; i < 5000 && proc_state(p.pid) != 'Z'; i++)
			usleep(1000);
		cr_assert_eq(proc_state(p.pid), 'Z', "helper is a zombie");
		cr_assert_eq(kill(p.pid, 0), 0, "a PID check would call it alive");
		expect_one_dead_peer(n, "a zombie is dead");
		int status;
		close(p.out);
		waitpid(p.pid, &status, 0);
	}
}

static bool can_unshare(void)
{
	return getuid() == 0 &&
	       system("unshare --pid --fork --mount-proc true >/dev/null 2>&1") == 0;
}

Test(peers, peer_in_another_pid_namespace)
{
	if (!can_unshare())
		cr_skip_test("needs root and unshare --pid (run the tests as root)");
	const char *pn = ut_name(SHMKIT_BACKEND_POSIX);
	const char *sn = ut_name(SHMKIT_BACKEND_SYSV);
	struct shmkit_peer v[8];
	struct proc p;
	char line[64];
	make_region(pn);
	make_region(sn);
	spawn_helper(&p, (char *const[]){ "unshare", "--pid", "--fork", "--mount-proc",
				  (char *)helper(), "hold", (char *)pn, (char *)sn, NULL });
	cr_assert_gt(read_line(&p, line, sizeof(line)), 0, "helper attached");
	cr_expect_str_eq(line, "pid 1", "the helper is init of its namespace");
	cr_assert_eq(shmkit_peers(pn, v, 8), 1);
	cr_expect_eq(v[0].pid, 1);
	cr_expect_eq(v[0].other_pidns, 1);
	cr_expect_eq(v[0].alive, 1, "the lock tells, whatever the PID");
	cr_assert_eq(shmkit_peers(sn, v, 8), 1);
	cr_expect_eq(v[0].alive, -1, "System V: another namespace cannot be judged by PID");
	cr_expect_eq(nattch(sn), 1, "the kernel's count is exact");
	finish(&p);
	cr_assert_eq(shmkit_peers(pn, v, 8), 1);
	cr_expect_eq(v[0].alive, 0, "dead although PID 1 exists here");
	cr_expect_eq(nattch(pn), 0);
	cr_expect_eq(nattch(sn), 0);
}

Test(peers, recycled_pid_is_not_the_peer)
{
	if (!can_unshare())
		cr_skip_test("needs root and unshare --pid (run the tests as root)");
	const char *pn = ut_name(SHMKIT_BACKEND_POSIX);
	const char *sn = ut_name(SHMKIT_BACKEND_SYSV);
	struct proc p;
	char line[128];
	make_region(pn);
	make_region(sn);
	spawn_helper(&p, (char *const[]){ "unshare", "--pid", "--fork", "--mount-proc",
				  (char *)helper(), "recycle", (char *)pn, (char *)sn, NULL });
	cr_assert_gt(read_line(&p, line, sizeof(line)), 0);
	if (!strncmp(line, "norecycle", 9)) {
		finish(&p);
		cr_skip_test("%s", line);
	}
	cr_expect_eq(strncmp(line, "recycled ", 9), 0, "%s", line);
	read_line(&p, line, sizeof(line));
	cr_expect_str_eq(line, "posix alive=0");
	read_line(&p, line, sizeof(line));
	cr_expect_str_eq(line, "sysv alive=0");
	finish(&p);
}

/* Parent P, middle M (attaches, forks C, exits), child C (holds). */
static int fork_middle(void *arg)
{
	const char *n = ((const char **)arg)[0];
	const int *fds = (const int *)((const char **)arg)[1];
	int wfd = fds[0], rfd = fds[1];
	shmkit_region *r;
	close(fds[2]);  /* up's read end, down's write end: the test's */
	close(fds[3]);
	int ready[2];
	if (shmkit_region_open(n, 0, 0, 0, &r) || pipe(ready) != 0)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		close(ready[0]);
		struct shmkit_peer v[8];
		int cnt = shmkit_region_peers(r, v, 8);
		int own = -1;
		for (int i = 0; i < cnt; i++)
			if (v[i].self)
				own = (int)v[i].pid;
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "%d %d\n", own, (int)getpid());
		if (write(wfd, msg, (size_t)len) != len)
			_exit(1);
		close(ready[1]);  /* registered: the middle may die now */
		char x;
		while (read(rfd, &x, 1) > 0)  /* until the test lets go */
			;
		_exit(0);
	}
	close(ready[1]);
	char x;
	while (read(ready[0], &x, 1) > 0)  /* EOF once the child registered */
		;
	/* had M died first, the child could rightly reuse M's dead slot */
	_exit(c > 0 ? 0 : 1);  /* M dies without detaching */
}

Test(peers, fork_child_is_a_peer_of_its_own)
{
	for (size_t b = 0; b < 3; b++) {
		const char *n = ut_name(named_backends[b]);
		int up[2], down[2];
		make_region(n);
		cr_assert_eq(pipe(up), 0);
		cr_assert_eq(pipe(down), 0);
		int fds[4] = { up[1], down[0], up[0], down[1] };
		const char *arg[2] = { n, (const char *)fds };
		cr_assert_eq(kid_run(fork_middle, arg), 0);
		close(up[1]);
		close(down[0]);
		char line[64] = { 0 };
		cr_assert_gt(read(up[0], line, sizeof(line) - 1), 0);
		int self_pid = 0, cpid = 0;
		cr_assert_eq(sscanf(line, "%d %d", &self_pid, &cpid), 2);
		cr_expect_eq(self_pid, cpid, "%s: the child's own slot carries its PID", n);
		struct shmkit_peer v[8];
		int cnt = shmkit_peers(n, v, 8);
		cr_assert_eq(cnt, 2, "%s: middle's (dead) and child's slots", n);
		struct shmkit_peer *c = find_peer(v, cnt, cpid);
		cr_assert(c);
		cr_expect_eq(c->alive, 1);
		struct shmkit_peer *m = &v[c == &v[0] ? 1 : 0];
		cr_expect_eq(m->alive, 0, "%s: the middle died; its child must not keep it alive", n);
		cr_expect_eq(nattch(n), 1, "%s: the child alone", n);
		close(down[1]);  /* release the child */
		char x;
		while (read(up[0], &x, 1) > 0)
			;
		close(up[0]);
		for (int i = 0; i < 5000 && nattch(n) != 0; i++)
			usleep(1000);
		cr_expect_eq(nattch(n), 0, "%s", n);
	}
}

#define WORKERS 8
#define ROUNDS 300

static int churn(void *arg)
{
	const char *n = ((const char **)arg)[0];
	int *p = (int *)((const char **)arg)[1];
	close(p[0]);  /* up's read end, down's write end: the parent's */
	close(p[3]);
	for (int i = 0; i < ROUNDS; i++) {
		shmkit_region *r;
		if (shmkit_region_open(n, 0, 0, 0, &r))
			return 1;
		__atomic_fetch_add((unsigned char *)shmkit_region_base(r) + i % 4096, 1,
				   __ATOMIC_RELAXED);
		if (shmkit_region_close(r))
			return 2;
	}
	shmkit_region *hold;
	if (shmkit_region_open(n, 0, 0, 0, &hold))
		return 3;
	if (write(p[1], "h", 1) != 1)  /* attached: tell the parent */
		return 4;
	char x;
	if (read(p[2], &x, 1) < 0)  /* wait for the parent's count */
		return 5;
	return shmkit_region_close(hold) ? 6 : 0;
}

Test(peers, concurrent_attach_detach)
{
	for (size_t b = 0; b < 3; b++) {
		const char *n = ut_name(named_backends[b]);
		shmkit_region *a;
		int up[2], down[2];
		pid_t kids[WORKERS];
		cr_assert_eq(shmkit_region_open(n, SHMKIT_CREATE, 4096, 0, &a), 0);
		shmkit_region_close(a);  /* workers must not inherit (adopt) it */
		cr_assert_eq(pipe(up), 0);
		cr_assert_eq(pipe(down), 0);
		int p3[4] = { up[0], up[1], down[0], down[1] };
		const char *arg[2] = { n, (const char *)p3 };
		for (int i = 0; i < WORKERS; i++) {
			kids[i] = kid_spawn(churn, arg);
		}
		close(up[1]);
		close(down[0]);
		cr_assert_eq(shmkit_region_open(n, 0, 0, 0, &a), 0);
		for (int i = 0; i < WORKERS; i++) {
			char x;
			cr_assert_eq(read(up[0], &x, 1), 1, "worker %d attached", i);
		}
		cr_expect_eq(nattch(n), WORKERS + 1, "%s: all attached at once", n);
		struct shmkit_peer v[16];
		cr_expect_eq(shmkit_peers(n, v, 16), WORKERS + 1, "%s", n);
		close(down[1]);
		for (int i = 0; i < WORKERS; i++) {
			int status = kid_wait(kids[i], (int64_t)KID_LIFETIME_S * 1000000000);
			cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
				  "worker %d status %d", i, status);
		}
		close(up[0]);
		cr_expect_eq(nattch(n), 1, "%s: only the creator left", n);
		cr_expect_eq(shmkit_peers(n, v, 16), 1, "%s: no slot leaked", n);
		unsigned sum = 0;
		for (int i = 0; i < 4096; i++)
			sum += ((unsigned char *)shmkit_region_base(a))[i];
		cr_expect_eq(sum, WORKERS * ROUNDS, "%s: every increment landed", n);
		shmkit_region_close(a);
	}
}

static int churn_forever(void *arg)
{
	const char *n = arg;
	for (;;) {
		shmkit_region *r;
		int err = shmkit_region_open(n, 0, 0, 0, &r);
		if (err)
			return 1;
		shmkit_region_close(r);
	}
}

Test(peers, kill_during_attach_detach)
{
	const int iterations = 100;
	for (size_t b = 0; b < 3; b++) {
		const char *n = ut_name(named_backends[b]);
		shmkit_region *a;
		cr_assert_eq(shmkit_region_open(n, SHMKIT_CREATE, 4096, 0, &a), 0);
		uint64_t seed = test_seed((int)b), rng = seed;
		printf("peers kill %s: seed %llu (SHMKIT_TEST_SEED=%llu repeats it)\n", n,
		       (unsigned long long)seed, (unsigned long long)seed);
		for (int it = 0; it < iterations; it++) {
			pid_t k = kid_spawn(churn_forever, (void *)n);
			usleep((useconds_t)rnd_below(&rng, 3000));
			kill(k, SIGKILL);
			int status = kid_wait(k, KID_WAIT_NS);
			cr_assert(WIFSIGNALED(status), "%s: churner failed: %d", n, status);
		}
		/* every slot the victims left is dead; the creator still counts */
		struct shmkit_peer v[128];
		int cnt = shmkit_region_peers(a, v, 128);
		cr_assert_geq(cnt, 1);
		int alive = 0;
		for (int i = 0; i < cnt; i++)
			alive += v[i].alive != 0;
		cr_expect_eq(alive, 1, "%s: only the creator is alive", n);
		cr_expect_eq(nattch(n), 1, "%s", n);
		printf("peers kill %s: %d kills\n", n, iterations);
		fflush(stdout);
		shmkit_region *c;  /* the segment still opens and registers */
		cr_expect_eq(shmkit_region_open(n, 0, 0, 0, &c), 0, "%s", n);
		shmkit_region_close(c);
		shmkit_region_close(a);
	}
}

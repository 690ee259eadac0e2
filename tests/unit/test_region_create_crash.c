/* SPDX-License-Identifier: MIT */
/*
 * Description: kill -9 at random points while a process creates managed
 * regions.  On posix and file every name that exists opens as a complete
 * segment: creation is published all at once or not at all.  On System V
 * (which shows a segment before its header) a leftover is either complete
 * or a zero segment whose creator is gone, refused at once with -EPROTO.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>

#include "kids.h"
#include "util.h"

#define ITERATIONS 60
#define MAX_PER_RUN 16384

static char prefix[64];
static char filedir[128];
static unsigned sysv_base;   /* names use base+1 ...; base itself is the marker */
static int sysv_marker = -1;

static void name_of(int backend, int i, char *out, size_t cap)
{
	if (backend == SHMKIT_BACKEND_SYSV)
		snprintf(out, cap, "sysv:0x%08x", sysv_base + 1 + (unsigned)i);
	else if (backend == SHMKIT_BACKEND_FILE)
		snprintf(out, cap, "file:%s/r%d", filedir, i);
	else
		snprintf(out, cap, "%s%d", prefix, i);
}

static void remove_all(int backend)
{
	char n[256];
	for (int i = 0; i < MAX_PER_RUN; i++) {
		name_of(backend, i, n, sizeof(n));
		shmkit_remove(n);
	}
}

static void cleanup(void)
{
	kids_kill_all();
	remove_all(SHMKIT_BACKEND_POSIX);
	remove_all(SHMKIT_BACKEND_SYSV);
	remove_all(SHMKIT_BACKEND_FILE);
	rmdir(filedir);
	if (sysv_marker >= 0)
		shmctl(sysv_marker, IPC_RMID, NULL);
}

static void setup(void)
{
	snprintf(prefix, sizeof(prefix), "ut-crash-%d-", (int)getpid());
	snprintf(filedir, sizeof(filedir), "/tmp/shmkit-crash-%d", (int)getpid());
	mkdir(filedir, 0700);
	/* a run of 64 Ki keys, claimed by creating its first key exclusively:
	 * two suites at once never share a run */
	for (unsigned tries = 0; tries < 256 && sysv_marker < 0; tries++) {
		sysv_base = 0x5c000000u | ((((unsigned)getpid() + tries) & 0xffu) << 16);
		sysv_marker = shmget((key_t)sysv_base, 1, IPC_CREAT | IPC_EXCL | 0600);
	}
	cr_assert_geq(sysv_marker, 0, "no free System V key run");
}

TestSuite(region_create_crash, .init = setup, .fini = cleanup, .timeout = 120);

struct creator_arg { int backend, start; };

/* A child: creates regions from name @start on until it is killed. */
static int creator(void *arg)
{
	const struct creator_arg *a = arg;
	int backend = a->backend, start = a->start;
	char n[256];
	for (int i = start; i < MAX_PER_RUN; i++) {
		shmkit_region *r;
		name_of(backend, i, n, sizeof(n));
		if (shmkit_region_open(n, SHMKIT_CREATE | SHMKIT_EXCL, 65536, 0600, &r))
			_exit(1);
		shmkit_region_close(r);
	}
	return 0;
}

static void run(int backend)
{
	int next = 0, leftovers = 0, complete = 0, kills = 0;
	uint64_t seed = test_seed(backend), rng = seed;
	printf("crash %-5s: seed %llu (SHMKIT_TEST_SEED=%llu repeats it)\n",
	       ut_backend_names[backend], (unsigned long long)seed, (unsigned long long)seed);
	for (int it = 0; it < ITERATIONS && next < MAX_PER_RUN - 64; it++) {
		struct creator_arg a = { .backend = backend, .start = next };
		pid_t pid = kid_spawn(creator, &a);
		usleep((useconds_t)rnd_below(&rng, 4000));
		kill(pid, SIGKILL);
		int status = kid_wait(pid, KID_WAIT_NS);
		cr_assert(WIFSIGNALED(status), "creator ended early: status %d", status);
		kills++;
		/* every name the victim reached must be whole */
		char n[256];
		for (;; next++) {
			shmkit_region *r;
			name_of(backend, next, n, sizeof(n));
			int err = shmkit_region_open(n, 0, 0, 0, &r);
			if (err == -ENOENT)
				break;
			if (err == 0) {
				cr_expect_eq(shmkit_region_size(r), 65536, "%s", n);
				shmkit_region_close(r);
				complete++;
			} else {
				cr_assert(backend == SHMKIT_BACKEND_SYSV && err == -EPROTO,
					  "%s: a killed creation left %s", n, shmkit_strerror(err));
				leftovers++;
			}
			shmkit_remove(n);  /* checked: keep the system's segment count low */
		}
		/* nothing beyond the first missing name either */
		shmkit_region *r;
		name_of(backend, next + 1, n, sizeof(n));
		cr_expect_eq(shmkit_region_open(n, 0, 0, 0, &r), -ENOENT, "%s", n);
		next++;  /* the next victim starts on fresh names */
	}
	printf("crash %-5s: %d kills, %d complete regions, %d zero System V leftovers\n",
	       ut_backend_names[backend], kills, complete, leftovers);
	cr_expect_eq(kills, ITERATIONS);
	fflush(stdout);
	if (backend == SHMKIT_BACKEND_POSIX) {
		/* and no hidden temporary is ever left in /dev/shm */
		DIR *d = opendir("/dev/shm");
		struct dirent *de;
		cr_assert(d);
		while ((de = readdir(d)))
			cr_expect_neq(strncmp(de->d_name, ".shmkit-tmp.", 12), 0, "%s", de->d_name);
		closedir(d);
	}
}

Test(region_create_crash, posix_create_is_all_or_nothing) { run(SHMKIT_BACKEND_POSIX); }
Test(region_create_crash, file_create_is_all_or_nothing) { run(SHMKIT_BACKEND_FILE); }
Test(region_create_crash, sysv_create_leaves_whole_or_refused) { run(SHMKIT_BACKEND_SYSV); }

/* SPDX-License-Identifier: MIT */
/*
 * Description: the kernel's shmget rules (seed 002) hold the same on the
 * posix, sysv and file backends, managed and raw: one table, every backend.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "kids.h"
#include "util.h"

struct ctx {
	int backend;
	unsigned base;  /* 0 (managed) or SHMKIT_RAW */
	const char *name;
};

/* Each rule returns what the library answered for its decisive call. */
typedef int (*rule_fn)(struct ctx *c);

static int mk(struct ctx *c, size_t size, shmkit_region **r)
{
	return shmkit_region_open(c->name, c->base | SHMKIT_CREATE | SHMKIT_EXCL,
				  size, 0600, r);
}

static int r_size_zero(struct ctx *c)
{
	shmkit_region *r;
	return shmkit_region_open(c->name, c->base | SHMKIT_CREATE, 0, 0600, &r);
}

static int r_size_over_limit(struct ctx *c)
{
	shmkit_region *r;
	return shmkit_region_open(c->name, c->base | SHMKIT_CREATE, SIZE_MAX, 0600, &r);
}

static int r_missing(struct ctx *c)
{
	shmkit_region *r;
	return shmkit_region_open(c->name, c->base, 0, 0, &r);
}

static int r_excl_exists(struct ctx *c)
{
	shmkit_region *a, *b;
	cr_assert_eq(mk(c, 4096, &a), 0);
	int err = mk(c, 4096, &b);
	shmkit_region_close(a);
	return err;
}

static int r_create_existing_opens(struct ctx *c)
{
	shmkit_region *a, *b;
	cr_assert_eq(mk(c, 4096, &a), 0);
	memcpy(shmkit_region_base(a), "same", 5);
	int err = shmkit_region_open(c->name, c->base | SHMKIT_CREATE, 4096, 0600, &b);
	if (err == 0) {
		cr_expect_str_eq((char *)shmkit_region_base(b), "same");
		shmkit_region_close(b);
	}
	shmkit_region_close(a);
	return err;
}

static int r_larger_than_existing(struct ctx *c)
{
	shmkit_region *a, *b;
	size_t have;
	cr_assert_eq(mk(c, 4096, &a), 0);
	have = shmkit_region_size(a);
	int err = shmkit_region_open(c->name, c->base, have + 1, 0, &b);
	int err2 = shmkit_region_open(c->name, c->base | SHMKIT_CREATE, have + 1, 0600, &b);
	cr_expect_eq(err2, err, "with and without create must agree");
	shmkit_region_close(a);
	return err;
}

static int r_smaller_opens(struct ctx *c)
{
	shmkit_region *a, *b;
	cr_assert_eq(mk(c, 8192, &a), 0);
	int err = shmkit_region_open(c->name, c->base, 100, 0, &b);
	if (err == 0) {
		cr_expect_geq(shmkit_region_size(b), 8192, "maps the whole region");
		shmkit_region_close(b);
	}
	shmkit_region_close(a);
	return err;
}

/* Opens the same object through its fd or shmid, as a peer handed it would. */
static int reopen_handle(struct ctx *c, shmkit_region *a, shmkit_region **b)
{
	if (c->backend == SHMKIT_BACKEND_SYSV) {
		struct shmkit_stat st;
		cr_assert_eq(shmkit_region_stat(a, &st), 0);
		return shmkit_region_open_shmid(st.shmid, c->base, b);
	}
	return shmkit_region_open_fd(shmkit_region_fd(a), c->base, b);
}

static int r_marked_for_destruction(struct ctx *c)
{
	shmkit_region *a, *b;
	cr_assert_eq(mk(c, 4096, &a), 0);
	cr_assert_eq(reopen_handle(c, a, &b), 0, "reopen before removal works");
	shmkit_region_close(b);
	cr_assert_eq(shmkit_remove(c->name), 0);
	memcpy(shmkit_region_base(a), "still", 6);  /* attached: keeps working */
	struct shmkit_stat st;
	cr_assert_eq(shmkit_region_stat(a, &st), 0);
	cr_expect_eq(st.removed, 1, "stat says removed");
	int err = reopen_handle(c, a, &b);
	shmkit_region_close(a);
	return err;
}

static int r_removed_name_gone(struct ctx *c)
{
	shmkit_region *a, *b;
	cr_assert_eq(mk(c, 4096, &a), 0);
	cr_assert_eq(shmkit_remove(c->name), 0);
	int err = shmkit_region_open(c->name, c->base, 0, 0, &b);
	shmkit_region_close(a);
	return err;
}

static int open_as_other(void *arg)
{
	struct ctx *c = arg;
	shmkit_region *r;
	if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
		return 100;
	int err = shmkit_region_open(c->name, c->base, 0, 0, &r);
	return err == -EACCES ? 0 : (err == 0 ? 101 : 102);
}

static int r_mode_forbids(struct ctx *c)
{
	shmkit_region *a;
	/* as root: mode 0600 and a child that drops to nobody; else 0400
	 * keeps the owner itself from writing */
	unsigned mode = getuid() == 0 ? 0600 : 0400;
	cr_assert_eq(shmkit_region_open(c->name, c->base | SHMKIT_CREATE | SHMKIT_EXCL,
					4096, mode, &a), 0);
	int status = kid_run(open_as_other, c);
	shmkit_region_close(a);
	cr_expect_eq(status, 0, "child status %d", status);
	return status == 0 ? -EACCES : -status;
}

static const struct rule {
	const char *what;
	rule_fn fn;
	int expect;
} rules[] = {
	{ "create with size 0", r_size_zero, -EINVAL },
	{ "size above the limit", r_size_over_limit, -EINVAL },
	{ "open missing without create", r_missing, -ENOENT },
	{ "create+excl of an existing one", r_excl_exists, -EEXIST },
	{ "create of an existing one opens it", r_create_existing_opens, 0 },
	{ "more than the existing size", r_larger_than_existing, -EINVAL },
	{ "less than the existing size", r_smaller_opens, 0 },
	{ "marked for destruction", r_marked_for_destruction, -EIDRM },
	{ "name after removal", r_removed_name_gone, -ENOENT },
	{ "mode forbids", r_mode_forbids, -EACCES },
};

static void run_table(int backend, unsigned base)
{
	int bad = 0;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct ctx c = { backend, base, ut_name(backend) };
		int got = rules[i].fn(&c);
		printf("rule %-6s %-4s %-38s expect %-8s got %-8s %s\n",
		       ut_backend_names[backend], base ? "raw" : "mgd", rules[i].what,
		       rules[i].expect ? strerrorname_np(-rules[i].expect) : "0",
		       got ? strerrorname_np(-got) ?: "?" : "0",
		       got == rules[i].expect ? "ok" : "FAIL");
		if (got != rules[i].expect)
			bad++;
		shmkit_remove(c.name);
	}
	fflush(stdout);
	cr_expect_eq(bad, 0, "%d rule(s) broken on %s", bad, ut_backend_names[backend]);
}

TestSuite(rules, .fini = ut_cleanup, .timeout = 60);

Test(rules, posix_managed) { run_table(SHMKIT_BACKEND_POSIX, 0); }
Test(rules, posix_raw) { run_table(SHMKIT_BACKEND_POSIX, SHMKIT_RAW); }
Test(rules, sysv_managed) { run_table(SHMKIT_BACKEND_SYSV, 0); }
Test(rules, sysv_raw) { run_table(SHMKIT_BACKEND_SYSV, SHMKIT_RAW); }
Test(rules, file_managed) { run_table(SHMKIT_BACKEND_FILE, 0); }
Test(rules, file_raw) { run_table(SHMKIT_BACKEND_FILE, SHMKIT_RAW); }

/* anonymous and memfd regions have no name; the size rules still hold */
Test(rules, anon_and_memfd_sizes)
{
	shmkit_region *r;
	cr_expect_eq(shmkit_region_anon(0, 0, &r), -EINVAL);
	cr_expect_eq(shmkit_region_anon(SIZE_MAX, 0, &r), -EINVAL);
	cr_expect_eq(shmkit_region_memfd("x", 0, 0, &r), -EINVAL);
	cr_expect_eq(shmkit_region_memfd("x", SIZE_MAX, 0, &r), -EINVAL);
	cr_expect_eq(shmkit_region_anon(4096, SHMKIT_CREATE, &r), -EINVAL);
}

Test(rules, bad_flags_and_modes)
{
	shmkit_region *r;
	const char *n = ut_name(SHMKIT_BACKEND_POSIX);
	cr_expect_eq(shmkit_region_open(n, 0x1000 | SHMKIT_CREATE, 4096, 0, &r), -EINVAL);
	cr_expect_eq(shmkit_region_open(n, SHMKIT_CREATE, 4096, 01777, &r), -EINVAL);
	cr_expect_eq(shmkit_region_open(n, SHMKIT_CREATE | SHMKIT_DEVZERO, 4096, 0, &r), -EINVAL);
	cr_expect_eq(shmkit_region_open("sysv:0x5bfffff1", SHMKIT_CREATE | SHMKIT_PRIVATE,
					4096, 0, &r), -EOPNOTSUPP);
	cr_expect_eq(shmkit_region_open(n, 0, 0, 0, NULL), -EINVAL);
}

/* a managed open of something shmkit did not make */
Test(rules, foreign_object_is_not_shmkit)
{
	const int backends[] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV, SHMKIT_BACKEND_FILE };
	for (size_t i = 0; i < 3; i++) {
		shmkit_region *a, *b;
		const char *n = ut_name(backends[i]);
		cr_assert_eq(shmkit_region_open(n, SHMKIT_RAW | SHMKIT_CREATE, 65536, 0600, &a), 0);
		memset(shmkit_region_base(a), 0x5a, 65536);
		cr_expect_eq(shmkit_region_open(n, 0, 0, 0, &b), -EPROTO, "%s", n);
		shmkit_region_close(a);
	}
}

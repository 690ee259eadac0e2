/* SPDX-License-Identifier: MIT */
/*
 * cli.c - `shmkit bench`: options, the methods to run, the plan, and the
 * reports.  Its conventions are the CLI's (tools/shmkit.c): "--opt VALUE"
 * or "--opt=VALUE", errors as "shmkit: bench: <why>", exit 0/1/2.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "harness.h"
#include "machine.h"
#include "report.h"
#include "shmkit.h"
#include "suites.h"

enum {
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
};

/* Every module's entries, in the order the report lists them. */
static const struct bench_suite *const suites[] = {
	&bench_sync_suite,
	&bench_chan_suite,
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))
/* Upper bound on the methods of all suites together. */
#define METHODS_MAX 64

/* A default run takes about a minute; a quick one a few seconds. */
#define TRIALS_DEFAULT 7
#define TRIAL_SECONDS_DEFAULT 0.5
#define TRIALS_QUICK 3
#define TRIAL_SECONDS_QUICK 0.1
#define ITERATIONS_MAX 1000000000ull

struct options {
	bool quick;
	const char *methods;   /* NULL: all */
	const char *json;      /* NULL: no JSON */
	uint64_t iterations;   /* 0: calibrate */
};

static void __attribute__((format(printf, 1, 2))) err_msg(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("shmkit: bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int __attribute__((format(printf, 1, 2))) usage_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("shmkit: bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'shmkit bench --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* ---------------------------------------------------------------------- */
/* Options                                                                */

static int parse_count(const char *opt, const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return usage_err("invalid %s '%s': not a positive number", opt, s);
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return usage_err("invalid %s '%s': not a positive number", opt, s);
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > ITERATIONS_MAX)
			return usage_err("invalid %s '%s': at most %llu", opt, s,
					 (unsigned long long)ITERATIONS_MAX);
	}
	if (v == 0)
		return usage_err("invalid %s '%s': must be at least 1", opt, s);
	*out = v;
	return 0;
}

/* The value of option @name in @arg ("--name=V") or the next argument. */
static int option_value(int argc, char **argv, int *i, const char *name,
			const char **value)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');

	if (*value)
		return usage_err("option '%s' given twice", name);
	if (eq) {
		*value = eq + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return usage_err("option '%s' needs a value", name);
	*value = argv[++*i];
	return 0;
}

/* Whether @arg is option @name, alone or as "--name=VALUE". */
static bool is_option(const char *arg, const char *name)
{
	size_t len = strlen(name);

	return !strncmp(arg, name, len) && (arg[len] == '\0' || arg[len] == '=');
}

static int parse_options(int argc, char **argv, struct options *o)
{
	const char *iterations = NULL;
	int err = 0;

	for (int i = 0; i < argc && !err; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return BENCH_EXIT_HELP;
		if (!strcmp(arg, "--quick")) {
			if (o->quick)
				return usage_err("option '--quick' given twice");
			o->quick = true;
		} else if (is_option(arg, "--quick")) {
			return usage_err("option '--quick' takes no value");
		} else if (is_option(arg, "--methods")) {
			err = option_value(argc, argv, &i, "--methods", &o->methods);
		} else if (is_option(arg, "--json")) {
			err = option_value(argc, argv, &i, "--json", &o->json);
		} else if (is_option(arg, "--iterations")) {
			err = option_value(argc, argv, &i, "--iterations", &iterations);
		} else if (arg[0] == '-' && arg[1] != '\0') {
			const char *eq = strchr(arg, '=');
			return usage_err("unknown option '%.*s'",
					 (int)(eq ? eq - arg : (long)strlen(arg)), arg);
		} else {
			return usage_err("unexpected argument '%s'", arg);
		}
	}
	if (!err && iterations)
		err = parse_count("--iterations", iterations, &o->iterations);
	if (!err && o->json && !*o->json)
		err = usage_err("invalid --json '': empty file name");
	return err;
}

/* ---------------------------------------------------------------------- */
/* Methods                                                                */

static const struct bench_method *find_method(const char *name, size_t len)
{
	for (size_t s = 0; s < NSUITES; s++)
		for (size_t i = 0; i < suites[s]->count; i++) {
			const struct bench_method *m = &suites[s]->methods[i];
			if (strlen(m->name) == len && !strncmp(m->name, name, len))
				return m;
		}
	return NULL;
}

/* Whether @m is named in the comma-separated @list (NULL: all are). */
static bool listed(const char *list, const struct bench_method *m)
{
	size_t len = strlen(m->name);

	if (!list)
		return true;
	for (const char *p = list; ; p++) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && !strncmp(p, m->name, len))
			return true;
		if (!end)
			return false;
		p = end;
	}
}

/* Checks every name in @list; a usage error names the first unknown one. */
static int check_methods(const char *list)
{
	if (!list)
		return 0;
	for (const char *p = list; ; p++) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (!find_method(p, n))
			return usage_err("unknown method '%.*s'", (int)n, p);
		if (!end)
			return 0;
		p = end;
	}
}

/* The methods to run, in report order, each once. */
static size_t select_methods(const char *list, const struct bench_method **out)
{
	size_t n = 0;

	for (size_t s = 0; s < NSUITES; s++)
		for (size_t i = 0; i < suites[s]->count && n < METHODS_MAX; i++)
			if (listed(list, &suites[s]->methods[i]))
				out[n++] = &suites[s]->methods[i];
	return n;
}

/* ---------------------------------------------------------------------- */
/* The run                                                                */

static void make_plan(const struct options *o, const struct bench_machine *mc,
		      struct bench_plan *plan)
{
	plan->trials = o->quick ? TRIALS_QUICK : TRIALS_DEFAULT;
	plan->trial_seconds = o->quick ? TRIAL_SECONDS_QUICK : TRIAL_SECONDS_DEFAULT;
	plan->iterations = o->iterations;
	plan->cpu_a = mc->cpu_a;
	plan->cpu_b = mc->cpu_b;
	/* unpinned on one CPU online behaves as pinned to one */
	plan->same_cpu = (mc->cpu_a >= 0 && mc->cpu_a == mc->cpu_b) ||
			 (mc->cpu_a < 0 && mc->cpus_online < 2);
}

/* Runs each method; a failed one is reported and left out.  Returns how
 * many results there are in @res; *failed tells whether any failed. */
static size_t run_methods(const struct bench_plan *plan, const struct bench_method **m,
			  size_t n, struct bench_result *res, bool *failed)
{
	bool progress = isatty(STDERR_FILENO);
	size_t done = 0;

	*failed = false;
	for (size_t i = 0; i < n; i++) {
		struct bench_error why = { 0 };
		if (progress)
			fprintf(stderr, "\rshmkit bench: %zu/%zu %-20s", i + 1, n, m[i]->name);
		int err = bench_run(plan, m[i], &res[done], &why);
		if (err) {
			if (progress)
				fputc('\n', stderr);
			err_msg("%s: %s: %s", m[i]->name, why.where, shmkit_strerror(err));
			*failed = true;
			continue;
		}
		done++;
	}
	if (progress)
		fprintf(stderr, "\r%-50s\r", "");
	return done;
}

/* Writes the JSON document to the already opened @f; 0 or EXIT_RUNTIME. */
static int write_json(FILE *f, const char *path, const struct bench_report *rep)
{
	bench_report_json(f, rep);
	int bad = ferror(f);
	int e = errno;
	if (fclose(f) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		err_msg("%s: %s", path, strerror(e ? e : EIO));
		return EXIT_RUNTIME;
	}
	return 0;
}

int bench_command(int argc, char **argv)
{
	struct options o = { 0 };
	int ret = parse_options(argc, argv, &o);

	if (ret)
		return ret;
	if ((ret = check_methods(o.methods)))
		return ret;

	const struct bench_method *methods[METHODS_MAX];
	size_t n = select_methods(o.methods, methods);
	/* opened first: a bad path should not cost a whole run */
	FILE *json = NULL;
	if (o.json && !(json = fopen(o.json, "w"))) {
		err_msg("%s: %s", o.json, strerror(errno));
		return EXIT_RUNTIME;
	}

	struct bench_machine mc;
	struct bench_plan plan;
	struct bench_result res[METHODS_MAX];
	cpu_set_t affinity;
	bool failed, restore = bench_affinity_save(&affinity) == 0;

	bench_machine_describe(&mc);
	make_plan(&o, &mc, &plan);
	size_t done = run_methods(&plan, methods, n, res, &failed);
	if (restore)
		bench_affinity_restore(&affinity);

	struct bench_report rep = {
		.machine = &mc, .plan = &plan, .quick = o.quick,
		.results = res, .count = done,
	};
	bench_report_table(stdout, &rep);
	ret = failed ? EXIT_RUNTIME : 0;
	if (json && write_json(json, o.json, &rep))
		ret = EXIT_RUNTIME;
	return ret;
}

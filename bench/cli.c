/* SPDX-License-Identifier: MIT */
/*
 * cli.c - `shmkit bench`: options, the methods to run, the plan, and the
 * reports.  Its conventions are the CLI's (tools/shmkit.c): "--opt VALUE"
 * or "--opt=VALUE", errors as "shmkit: bench: <why>", exit 0/1/2.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "harness.h"
#include "machine.h"
#include "plot.h"
#include "report.h"
#include "shmkit.h"
#include "suites.h"

enum {
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
};

/* Every module's entries, in the order the report lists them. */
static const struct bench_suite *const suites[] = {
	&bench_floor_suite,
	&bench_ipc_suite,
	&bench_sync_suite,
	&bench_chan_suite,
	&bench_pairs_suite,
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))
/* Upper bound on the methods of all suites together. */
#define METHODS_MAX 64
#define SIZES_MAX 16

/* A default run takes a few minutes; a quick one well under half a one. */
#define TRIALS_DEFAULT 5
#define TRIAL_SECONDS_DEFAULT 0.2
#define TRIALS_QUICK 3
#define TRIAL_SECONDS_QUICK 0.03
#define ITERATIONS_MAX 1000000000ull

/* The sizes each kind runs at unless --sizes says otherwise. */
static const size_t latency_sizes[] = { 8, 64, 1024, 4096, 65536 };
static const size_t stream_sizes[] = { 8, 64, 4096, 65536, 1048576 };

struct options {
	bool quick;
	const char *methods;   /* NULL: all */
	const char *json;      /* NULL: no JSON */
	const char *plot;      /* NULL: no chart */
	uint64_t iterations;   /* 0: calibrate */
	size_t sizes[SIZES_MAX];  /* --sizes, in order */
	size_t nsizes;            /* 0: the defaults */
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

/* One size of --sizes: digits with an optional suffix K or M (KiB, MiB). */
static int parse_size(const char *s, size_t len, size_t *out)
{
	uint64_t v = 0, unit = 1;
	size_t i = 0;

	for (; i < len && isdigit((unsigned char)s[i]) && v <= BENCH_SIZE_MAX; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	size_t rest = len - i;
	if (rest && (rest == 1 || (rest == 3 && !strncmp(s + i + 1, "iB", 2))) &&
	    (s[i] == 'K' || s[i] == 'M'))
		unit = s[i] == 'K' ? 1024 : 1024 * 1024;
	else if (rest)
		v = 0;
	if (i == 0 || v == 0 || v > BENCH_SIZE_MAX || v * unit < BENCH_SIZE_MIN ||
	    v * unit > BENCH_SIZE_MAX)
		return usage_err("invalid size '%.*s' in --sizes: %u to %u bytes "
				 "(suffixes K and M)", (int)len, s, BENCH_SIZE_MIN,
				 BENCH_SIZE_MAX);
	*out = (size_t)(v * unit);
	return 0;
}

/* --sizes LIST: comma-separated sizes, each kept once. */
static int parse_sizes(const char *list, struct options *o)
{
	for (const char *p = list;; p++) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p), v = 0;
		int err = parse_size(p, n, &v);
		if (err)
			return err;
		bool dup = false;
		for (size_t i = 0; i < o->nsizes; i++)
			dup |= o->sizes[i] == v;
		if (!dup && o->nsizes == SIZES_MAX)
			return usage_err("too many sizes in --sizes (at most %d)", SIZES_MAX);
		if (!dup)
			o->sizes[o->nsizes++] = v;
		if (!end)
			return 0;
		p = end;
	}
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
	const char *iterations = NULL, *sizes = NULL;
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
		} else if (is_option(arg, "--plot")) {
			err = option_value(argc, argv, &i, "--plot", &o->plot);
		} else if (is_option(arg, "--sizes")) {
			err = option_value(argc, argv, &i, "--sizes", &sizes);
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
	if (!err && sizes)
		err = parse_sizes(sizes, o);
	if (!err && o->json && !*o->json)
		err = usage_err("invalid --json '': empty file name");
	if (!err && o->plot && !*o->plot)
		err = usage_err("invalid --plot '': empty file name");
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
/* Cells                                                                  */

struct cell_ref {
	const struct bench_method *method;
	enum bench_kind kind;
	size_t size;
};

/* Every cell of the methods chosen: each kind a method offers, at each
 * size it runs at.  Returns how many (*out is malloc'd). */
static size_t list_cells(const struct options *o, const struct bench_method **m, size_t n,
			 struct cell_ref **out)
{
	static const enum bench_kind kinds[] = { BENCH_LATENCY, BENCH_THROUGHPUT, BENCH_COST };
	size_t cap = n * 3 * (SIZES_MAX + 1), count = 0;
	struct cell_ref *c = calloc(cap, sizeof(*c));

	for (size_t i = 0; c && i < n; i++) {
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			if (!(m[i]->kinds & kinds[k]))
				continue;
			const size_t *sz = kinds[k] == BENCH_LATENCY ? latency_sizes : stream_sizes;
			size_t nsz = kinds[k] == BENCH_LATENCY
					     ? sizeof(latency_sizes) / sizeof(latency_sizes[0])
					     : sizeof(stream_sizes) / sizeof(stream_sizes[0]);
			if (o->nsizes) {
				sz = o->sizes;
				nsz = o->nsizes;
			}
			if (!m[i]->sized)
				nsz = 1;
			for (size_t j = 0; j < nsz; j++)
				c[count++] = (struct cell_ref){ m[i], kinds[k],
								m[i]->sized ? sz[j] : 0 };
		}
	}
	*out = c;
	return c ? count : 0;
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

/* The progress bar on stderr: cells done, the one running, time left. */
static void progress(size_t i, size_t n, const struct cell_ref *c, int64_t start)
{
	enum { WIDTH = 24 };
	char bar[WIDTH + 1], eta[32] = "", size[32] = "";
	size_t fill = n ? i * WIDTH / n : 0;
	double spent = (double)(bench_now_ns() - start) / 1e9;

	for (size_t k = 0; k < WIDTH; k++)
		bar[k] = k < fill ? '#' : '.';
	bar[WIDTH] = '\0';
	if (c->size)
		snprintf(size, sizeof(size), " %zu B", c->size);
	if (i > 0 && i < n)
		snprintf(eta, sizeof(eta), ", %.0f s left", spent / (double)i * (double)(n - i));
	fprintf(stderr, "\r\033[Kshmkit bench [%s] %zu/%zu %s %s%s%s", bar, i, n,
		c->method->name, c->kind == BENCH_LATENCY ? "round trip"
				 : c->kind == BENCH_THROUGHPUT ? "stream" : "cost",
		size, eta);
}

/* Runs every cell's trials, a round of one trial per cell at a time; a
 * cell that fails is reported and left out, one the method cannot carry is
 * listed in @skip.  Returns how many results there are in @res; *failed
 * tells whether any failed. */
static size_t run_cells(const struct bench_plan *plan, const struct cell_ref *cells,
			size_t n, struct bench_result *res, struct bench_skip *skip,
			size_t *nskip, bool *failed)
{
	bool tty = isatty(STDERR_FILENO);
	int64_t start = bench_now_ns();
	struct bench_trials *sets = calloc(n ? n : 1, sizeof(*sets));
	bool *out = calloc(n ? n : 1, sizeof(*out));  /* failed or skipped */
	size_t done = 0;

	*failed = false;
	*nskip = 0;
	if (!sets || !out) {
		free(sets);
		free(out);
		err_msg("%s", strerror(ENOMEM));
		*failed = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		sets[i].method = cells[i].method;
		sets[i].cell = (struct bench_cell){ .kind = cells[i].kind, .size = cells[i].size };
	}
	for (unsigned round = 0; round < plan->trials; round++) {
		for (size_t i = 0; i < n; i++) {
			struct bench_error why = { 0 };
			if (out[i])
				continue;
			if (tty)
				progress(round * n + i, n * plan->trials, &cells[i], start);
			int err = bench_trial_run(plan, &sets[i], &why);
			if (err == -EMSGSIZE && sets[i].cell.skip[0]) {
				struct bench_skip *k = &skip[(*nskip)++];
				k->method = cells[i].method;
				k->kind = cells[i].kind;
				k->size = cells[i].size;
				snprintf(k->why, sizeof(k->why), "%s", sets[i].cell.skip);
				out[i] = true;
			} else if (err) {
				if (tty)
					fputs("\r\033[K", stderr);
				err_msg("%s (%zu B): %s: %s", cells[i].method->name,
					cells[i].size, why.where, shmkit_strerror(err));
				*failed = true;
				out[i] = true;
			}
		}
	}
	if (tty)
		fputs("\r\033[K", stderr);
	for (size_t i = 0; i < n; i++)
		if (!out[i])
			bench_summarize(&sets[i], &res[done++]);
	free(sets);
	free(out);
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

static int write_plot(const char *path, const struct bench_report *rep)
{
	int err = bench_plot(path, rep);

	if (err == -ENOENT)
		err_msg("--plot %s: gnuplot is not installed (Debian package "
			"gnuplot-nox; `make bench` installs it as root)", path);
	else if (err == -EIO)
		err_msg("--plot %s: gnuplot failed (see its message above)", path);
	else if (err)
		err_msg("--plot %s: %s", path, strerror(-err));
	return err ? EXIT_RUNTIME : 0;
}

int bench_command(int argc, char **argv)
{
	struct options o = { 0 };
	int ret = parse_options(argc, argv, &o);

	if (ret)
		return ret;
	if ((ret = check_methods(o.methods)))
		return ret;
	/* said before the run, not after minutes of it */
	if (o.plot && !bench_plot_available()) {
		err_msg("--plot: gnuplot is not installed (Debian package gnuplot-nox; "
			"`make bench` installs it as root)");
		return EXIT_RUNTIME;
	}

	const struct bench_method *methods[METHODS_MAX];
	size_t n = select_methods(o.methods, methods);
	struct cell_ref *cells;
	size_t ncells = list_cells(&o, methods, n, &cells);
	struct bench_result *res = calloc(ncells + 1, sizeof(*res));
	struct bench_skip *skip = calloc(ncells + 1, sizeof(*skip));
	if (!cells || !res || !skip) {
		free(cells);
		free(res);
		free(skip);
		err_msg("%s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	/* opened first: a bad path should not cost a whole run */
	FILE *json = NULL, *plot = NULL;
	if ((o.json && !(json = fopen(o.json, "w"))) ||
	    (o.plot && !(plot = fopen(o.plot, "w")))) {
		err_msg("%s: %s", json || !o.json ? o.plot : o.json, strerror(errno));
		if (json)
			fclose(json);
		free(cells);
		free(res);
		free(skip);
		return EXIT_RUNTIME;
	}

	if (plot)
		fclose(plot);  /* gnuplot writes it at the end */

	struct bench_machine mc;
	struct bench_plan plan;
	cpu_set_t affinity;
	bool failed, restore = bench_affinity_save(&affinity) == 0;
	size_t nskip;

	bench_machine_describe(&mc);
	make_plan(&o, &mc, &plan);
	size_t done = run_cells(&plan, cells, ncells, res, skip, &nskip, &failed);
	if (restore)
		bench_affinity_restore(&affinity);

	struct bench_report rep = {
		.machine = &mc, .plan = &plan, .quick = o.quick,
		.results = res, .count = done, .skipped = skip, .nskipped = nskip,
	};
	bench_report_table(stdout, &rep);
	fflush(stdout);
	ret = failed ? EXIT_RUNTIME : 0;
	if (json && write_json(json, o.json, &rep))
		ret = EXIT_RUNTIME;
	if (o.plot && write_plot(o.plot, &rep))
		ret = EXIT_RUNTIME;
	free(cells);
	free(res);
	free(skip);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * report.c - the table and the JSON document of a run.
 *
 * Ratios are quoted against each entry's baseline (the cache-line floor for
 * round trips, pthread_mutex for lock costs, pipe_stream for throughput)
 * when that baseline ran too, and a channel's round trip against a pipe's
 * as well: absolute nanoseconds say little across machines, ratios measured
 * in the same run say more.  Latency and cost ratios are time over the
 * baseline's time (above 1: slower); throughput ratios are messages per
 * second over the baseline's (above 1: faster).
 */
#include <math.h>
#include <string.h>

#include "report.h"
#include "shmkit.h"

/* The result of the method called @name, or NULL if it did not run. */
static const struct bench_result *find_result(const struct bench_report *rep,
					      const char *name)
{
	for (size_t i = 0; i < rep->count; i++)
		if (!strcmp(rep->results[i].method->name, name))
			return &rep->results[i];
	return NULL;
}

static bool is_throughput(const struct bench_result *r)
{
	return r->method->kind == BENCH_THROUGHPUT;
}

/* What the ratios compare: p50 (or cost), or messages per second. */
static double figure(const struct bench_result *r)
{
	return is_throughput(r) ? r->msgs_per_s : r->p50_ns;
}

static const char *figure_name(const struct bench_result *r)
{
	return is_throughput(r) ? "msgs_per_s" : "p50_ns";
}

/* @r's figure over the one of method @name; NAN if that did not run (or
 * @name is NULL). */
static double ratio_to(const struct bench_report *rep, const struct bench_result *r,
		       const char *name)
{
	const struct bench_result *base = name ? find_result(rep, name) : NULL;

	if (!base || !(figure(base) > 0))
		return NAN;
	return figure(r) / figure(base);
}

static double ratio(const struct bench_report *rep, const struct bench_result *r)
{
	return ratio_to(rep, r, r->method->baseline);
}

static double cpu_total(const struct bench_cpu *c)
{
	return c->user_ns + c->sys_ns;
}

/* ---------------------------------------------------------------------- */
/* The table                                                              */

/* Nanoseconds as the table shows them: "-" when not measured. */
static const char *fmt_ns(double ns, char *buf, size_t len)
{
	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (ns < 100)
		snprintf(buf, len, "%.1f", ns);
	else
		snprintf(buf, len, "%.0f", ns);
	return buf;
}

static const char *placement(const struct bench_machine *mc)
{
	if (mc->cpu_a < 0)
		return "not pinned (the affinity mask could not be read)";
	if (mc->cpu_a == mc->cpu_b)
		return "both on one CPU: round trips include context switches";
	if (mc->share_core == 1)
		return "two hardware threads of one core";
	if (mc->share_core == 0)
		return mc->virtualized == 1 ? "different cores, as the guest kernel reports them"
					    : "different cores";
	return "the kernel does not say whether they share a core";
}

static void table_header(FILE *f, const struct bench_report *rep)
{
	const struct bench_machine *mc = rep->machine;

	fprintf(f, "shmkit bench (shmkit %s)%s\n", shmkit_version(),
		rep->quick ? ", quick run" : "");
	fprintf(f, "machine: %s; %d CPUs online, %d allowed; %s %s %s%s\n",
		mc->cpu_model, mc->cpus_online, mc->cpus_allowed, mc->sysname,
		mc->release, mc->arch, mc->virtualized == 1 ? "; virtual machine" : "");
	fprintf(f, "clock:   %s, clock_gettime %.1f ns (in every latency sample)\n",
		mc->clocksource[0] ? mc->clocksource : "unknown source", mc->timer_ns);
	if (mc->cpu_a >= 0)
		fprintf(f, "CPUs:    side A on CPU %d, side B on CPU %d (%s)\n",
			mc->cpu_a, mc->cpu_b, placement(mc));
	else
		fprintf(f, "CPUs:    %s\n", placement(mc));
}

/* Messages per second, short: "14.2M", "812k". */
static const char *fmt_rate(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* A ratio: two decimals, two significant digits below 0.1 (0.012x). */
static int fmt_ratio(char *buf, size_t len, const char *sep, double q, const char *to)
{
	return snprintf(buf, len, q < 0.1 ? "%s%.2gx %s" : "%s%.2fx %s", sep, q, to);
}

/* The ratio column: to the baseline, and to the method compared with. */
static void fmt_ratios(const struct bench_report *rep, const struct bench_result *r,
		       char *buf, size_t len)
{
	double q = ratio(rep, r), v = ratio_to(rep, r, r->method->versus);
	int n = 0;

	if (!isnan(q))
		n = fmt_ratio(buf, len, "", q, r->method->baseline);
	if (!isnan(v) && n >= 0 && (size_t)n < len)
		fmt_ratio(buf + n, len - (size_t)n, n ? ", " : "", v, r->method->versus);
	else if (n == 0)
		snprintf(buf, len, "-");
}

/* "A + B" CPU time per operation; *sys_share the system part, percent. */
static void fmt_cpu(const struct bench_result *r, char *buf, size_t len, double *sys_share)
{
	char a[32], b[32];
	double total = 0, sys = 0;

	for (int s = 0; s < r->sides; s++) {
		total += cpu_total(&r->cpu[s]);
		sys += r->cpu[s].sys_ns;
	}
	*sys_share = total > 0 ? 100 * sys / total : 0;
	if (r->sides == 2)
		snprintf(buf, len, "%s + %s", fmt_ns(cpu_total(&r->cpu[0]), a, sizeof(a)),
			 fmt_ns(cpu_total(&r->cpu[1]), b, sizeof(b)));
	else
		snprintf(buf, len, "%s", fmt_ns(cpu_total(&r->cpu[0]), a, sizeof(a)));
}

static void table_row(FILE *f, const struct bench_report *rep, const struct bench_result *r)
{
	char p50[32], p99[32], p999[32], lo[32], hi[32], spread[72], rat[96], cpu[72];
	double sys;

	snprintf(spread, sizeof(spread), "%s..%s", fmt_ns(r->spread_min_ns, lo, sizeof(lo)),
		 fmt_ns(r->spread_max_ns, hi, sizeof(hi)));
	fmt_ratios(rep, r, rat, sizeof(rat));
	fmt_cpu(r, cpu, sizeof(cpu), &sys);
	fprintf(f, "%-15s %-32s %9s %9s %9s  %-17s %-25s %-17s %3.0f%%\n", r->method->name,
		r->method->what, fmt_ns(r->p50_ns, p50, sizeof(p50)),
		fmt_ns(r->p99_ns, p99, sizeof(p99)), fmt_ns(r->p999_ns, p999, sizeof(p999)),
		spread, rat, cpu, sys);
}

static void stream_row(FILE *f, const struct bench_report *rep, const struct bench_result *r)
{
	char rate[32], lo[32], hi[32], mb[32], spread[72], rat[96], cpu[72];
	double sys;

	snprintf(spread, sizeof(spread), "%s..%s", fmt_rate(r->rate_min, lo, sizeof(lo)),
		 fmt_rate(r->rate_max, hi, sizeof(hi)));
	snprintf(mb, sizeof(mb), "%.0f", r->msgs_per_s * (double)r->method->size / 1e6);
	fmt_ratios(rep, r, rat, sizeof(rat));
	fmt_cpu(r, cpu, sizeof(cpu), &sys);
	fprintf(f, "%-15s %-32s %9s %9s  %-17s %-25s %-17s %3.0f%%\n", r->method->name,
		r->method->what, fmt_rate(r->msgs_per_s, rate, sizeof(rate)), mb, spread,
		rat, cpu, sys);
}

/* The rows of one table: latency and cost entries, or throughput ones. */
static void table_rows(FILE *f, const struct bench_report *rep, bool throughput)
{
	bool any = false;

	for (size_t i = 0; i < rep->count; i++)
		any |= is_throughput(&rep->results[i]) == throughput;
	if (!any)
		return;
	fputc('\n', f);
	if (throughput)
		fprintf(f, "%-15s %-32s %9s %9s  %-17s %-25s %-17s %4s\n", "method", "what",
			"msgs/s", "MB/s", "spread of msgs/s", "ratio",
			"CPU ns/msg (A+B)", "sys");
	else
		fprintf(f, "%-15s %-32s %9s %9s %9s  %-17s %-25s %-17s %4s\n", "method",
			"what", "p50 ns", "p99 ns", "p99.9 ns", "spread of p50", "ratio",
			"CPU ns/op (A+B)", "sys");
	for (size_t i = 0; i < rep->count; i++) {
		const struct bench_result *r = &rep->results[i];
		if (is_throughput(r) != throughput)
			continue;
		if (throughput)
			stream_row(f, rep, r);
		else
			table_row(f, rep, r);
	}
}

static void table_note(FILE *f, const struct bench_report *rep)
{
	const struct bench_machine *mc = rep->machine;
	bool latency = false, cost = false, throughput = false;

	for (size_t i = 0; i < rep->count; i++) {
		latency |= rep->results[i].method->kind == BENCH_LATENCY;
		cost |= rep->results[i].method->kind == BENCH_COST;
		throughput |= rep->results[i].method->kind == BENCH_THROUGHPUT;
	}
	fprintf(f, "\nFigures are medians of %u trials, each after a warm-up; spread: the\n"
		"fastest and the slowest trial's p50%s.\n", rep->plan->trials,
		throughput ? " (throughput: messages per second)" : "");
	if (latency && mc->cpu_a >= 0 && mc->cpu_a == mc->cpu_b)
		fprintf(f, "Round trips: two processes, both pinned to CPU %d; every round\n"
			"trip timed, p50/p99/p99.9 within a trial.\n", mc->cpu_a);
	else if (latency && mc->cpu_a >= 0)
		fprintf(f, "Round trips: two processes, pinned to CPUs %d and %d; every round\n"
			"trip timed, p50/p99/p99.9 within a trial.\n", mc->cpu_a, mc->cpu_b);
	else if (latency)
		fputs("Round trips: two processes, not pinned; every round trip timed,\n"
		      "p50/p99/p99.9 within a trial.\n", f);
	if (cost && mc->cpu_a >= 0)
		fprintf(f, "Costs: one process, pinned to CPU %d; the mean per operation over a\n"
			"trial, shown as p50.\n", mc->cpu_a);
	else if (cost)
		fputs("Costs: one process; the mean per operation over a trial, shown as p50.\n", f);
	if (throughput)
		fputs("Throughput: side A writes, side B reads, pinned as the round trips;\n"
		      "messages per second as side B received them over a trial; MB/s of\n"
		      "payload, 10^6 bytes.\n", f);
	fputs("Ratios are to the baseline measured in this same run: times over its\n"
	      "time (above 1: slower), messages per second over its (above 1: faster).\n"
	      "CPU ns/op (/msg): user+system time per operation (message) from\n"
	      "getrusage, for each side; sys: the system share of it.\n", f);
}

void bench_report_table(FILE *f, const struct bench_report *rep)
{
	table_header(f, rep);
	table_rows(f, rep, false);
	table_rows(f, rep, true);
	table_note(f, rep);
}

/* ---------------------------------------------------------------------- */
/* JSON                                                                   */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);  /* /proc and uname text: taken as UTF-8 */
	}
	fputc('"', f);
}

/* A number, or null when it was not measured (JSON has no NaN). */
static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.3f", v);
}

static void json_tristate(FILE *f, int v)
{
	fputs(v < 0 ? "null" : v ? "true" : "false", f);
}

static void json_cpu_or_null(FILE *f, int cpu)
{
	if (cpu < 0)
		fputs("null", f);
	else
		fprintf(f, "%d", cpu);
}

static void json_machine(FILE *f, const struct bench_machine *mc)
{
	fputs("  \"machine\": {\"cpu_model\": ", f);
	json_str(f, mc->cpu_model);
	fprintf(f, ", \"cpus_online\": %d, \"cpus_allowed\": %d, \"kernel\": ",
		mc->cpus_online, mc->cpus_allowed);
	json_str(f, mc->release);
	fputs(", \"os\": ", f);
	json_str(f, mc->sysname);
	fputs(", \"arch\": ", f);
	json_str(f, mc->arch);
	fputs(", \"virtualized\": ", f);
	json_tristate(f, mc->virtualized);
	fputs(",\n    \"clocksource\": ", f);
	if (mc->clocksource[0])
		json_str(f, mc->clocksource);
	else
		fputs("null", f);
	fputs(", \"timer_ns\": ", f);
	json_num(f, mc->timer_ns);
	fputs(", \"cpu_a\": ", f);
	json_cpu_or_null(f, mc->cpu_a);
	fputs(", \"cpu_b\": ", f);
	json_cpu_or_null(f, mc->cpu_b);
	fputs(", \"share_core\": ", f);
	json_tristate(f, mc->share_core);
	fputs("},\n", f);
}

static void json_sides(FILE *f, const struct bench_result *r)
{
	fputs(", \"sides\": [", f);
	for (int s = 0; s < r->sides; s++) {
		fprintf(f, "%s{\"side\": \"%c\", \"cpu_ns_per_op\": ", s ? ", " : "", 'A' + s);
		json_num(f, cpu_total(&r->cpu[s]));
		fputs(", \"user_ns_per_op\": ", f);
		json_num(f, r->cpu[s].user_ns);
		fputs(", \"sys_ns_per_op\": ", f);
		json_num(f, r->cpu[s].sys_ns);
		fputc('}', f);
	}
	fputc(']', f);
}

/* {"to": NAME, "of": FIGURE, "value": X}, or null when @name did not run. */
static void json_ratio(FILE *f, const struct bench_report *rep, const struct bench_result *r,
		       const char *name)
{
	double q = ratio_to(rep, r, name);

	if (isnan(q)) {
		fputs("null", f);
		return;
	}
	fputs("{\"to\": ", f);
	json_str(f, name);
	fprintf(f, ", \"of\": \"%s\", \"value\": ", figure_name(r));
	json_num(f, q);
	fputc('}', f);
}

static const char *kind_name(enum bench_kind k)
{
	return k == BENCH_LATENCY ? "latency" : k == BENCH_COST ? "cost" : "throughput";
}

/* A throughput entry's own fields. */
static void json_throughput(FILE *f, const struct bench_result *r, double cpu_ns)
{
	fputs(",\n     \"msgs_per_s\": ", f);
	json_num(f, r->msgs_per_s);
	fputs(", \"bytes_per_s\": ", f);
	json_num(f, r->msgs_per_s * (double)r->method->size);
	fputs(", \"ns_per_msg\": ", f);
	json_num(f, r->mean_ns);
	fputs(", \"cpu_ns_per_msg\": ", f);
	json_num(f, cpu_ns);
	fputs(",\n     \"spread\": {\"of\": \"msgs_per_s\", \"min\": ", f);
	json_num(f, r->rate_min);
	fputs(", \"max\": ", f);
	json_num(f, r->rate_max);
	fputc('}', f);
}

static void json_result(FILE *f, const struct bench_report *rep, const struct bench_result *r)
{
	double total = 0;

	for (int s = 0; s < r->sides; s++)
		total += cpu_total(&r->cpu[s]);
	fputs("    {\"method\": ", f);
	json_str(f, r->method->name);
	fputs(", \"what\": ", f);
	json_str(f, r->method->what);
	fputs(", \"policy\": ", f);
	if (r->method->policy)
		json_str(f, r->method->policy);
	else
		fputs("null", f);
	if (r->method->size)
		fprintf(f, ", \"size\": %zu", r->method->size);
	else
		fputs(", \"size\": null", f);
	fprintf(f, ", \"kind\": \"%s\",\n", kind_name(r->method->kind));
	fprintf(f, "     \"trials\": %u, \"iterations\": %llu, \"p50_ns\": ", r->trials,
		(unsigned long long)r->iterations);
	json_num(f, r->p50_ns);
	fputs(", \"p99_ns\": ", f);
	json_num(f, r->p99_ns);
	fputs(", \"p999_ns\": ", f);
	json_num(f, r->p999_ns);
	fputs(", \"mean_ns\": ", f);
	json_num(f, r->mean_ns);
	if (is_throughput(r)) {
		json_throughput(f, r, total);
	} else {
		fputs(",\n     \"spread\": {\"of\": \"p50_ns\", \"min_ns\": ", f);
		json_num(f, r->spread_min_ns);
		fputs(", \"max_ns\": ", f);
		json_num(f, r->spread_max_ns);
		fputc('}', f);
	}
	fputs(", \"ratio\": ", f);
	json_ratio(f, rep, r, r->method->baseline);
	if (r->method->versus) {
		fputs(", \"versus\": ", f);
		json_ratio(f, rep, r, r->method->versus);
	}
	fputs(",\n     \"cpu_ns_per_op\": ", f);
	json_num(f, total);
	json_sides(f, r);
	fputc('}', f);
}

void bench_report_json(FILE *f, const struct bench_report *rep)
{
	fputs("{\n  \"tool\": \"shmkit bench\", \"version\": ", f);
	json_str(f, shmkit_version());
	fprintf(f, ", \"quick\": %s, \"trials\": %u,\n", rep->quick ? "true" : "false",
		rep->plan->trials);
	json_machine(f, rep->machine);
	fputs("  \"results\": [\n", f);
	for (size_t i = 0; i < rep->count; i++) {
		json_result(f, rep, &rep->results[i]);
		fputs(i + 1 < rep->count ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
}

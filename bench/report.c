/* SPDX-License-Identifier: MIT */
/*
 * report.c - the tables and the JSON document of a run.
 *
 * Every figure is quoted as a ratio to a baseline measured in the same run,
 * because absolute times on a shared machine drift from run to run:
 *   round trips  to the cache-line floor, and to a pipe at the same size;
 *   streams      bytes per second to one core's memcpy at the same size,
 *                and messages per second to a pipe's at the same size;
 *   costs        to a private pthread mutex's lock+unlock.
 * Latency and cost ratios are time over the baseline's time (above 1:
 * slower); rate ratios are the other way round (above 1: faster).
 */
#include <math.h>
#include <string.h>

#include "goals.h"
#include "report.h"
#include "shmkit.h"

bool bench_is_rate(const struct bench_result *r)
{
	return r->kind == BENCH_THROUGHPUT || (r->kind == BENCH_COST && r->size);
}

const struct bench_result *bench_find(const struct bench_report *rep, const char *name,
				      enum bench_kind kind, size_t size)
{
	for (size_t i = 0; i < rep->count; i++) {
		const struct bench_result *r = &rep->results[i];
		bool kind_ok = r->kind == kind ||
			       (kind == BENCH_THROUGHPUT && bench_is_rate(r));
		if (kind_ok && r->size == size && !strcmp(r->method->name, name))
			return r;
	}
	return NULL;
}

/* The section a result is shown in. */
enum section { SEC_LATENCY, SEC_RATE, SEC_COST };

static enum section section_of(const struct bench_result *r)
{
	if (bench_is_rate(r))
		return SEC_RATE;
	return r->kind == BENCH_LATENCY ? SEC_LATENCY : SEC_COST;
}

/* One ratio: to what, of which figure, and its value (NAN: the baseline
 * did not run). */
struct ratio {
	const char *to, *of;
	double value;
};

static double cpu_total(const struct bench_cpu *c)
{
	return c->user_ns + c->sys_ns;
}

/* The ratio to the section's baseline (@which 0) or to a pipe (1). */
static struct ratio ratio_of(const struct bench_report *rep, const struct bench_result *r,
			     int which)
{
	struct ratio q = { NULL, NULL, NAN };
	const struct bench_result *b = NULL;

	switch (section_of(r)) {
	case SEC_LATENCY:
		q.of = "p50_ns";
		q.to = which ? "pipe" : "floor";
		b = which ? (r->size ? bench_find(rep, "pipe", BENCH_LATENCY, r->size) : NULL)
			  : bench_find(rep, "floor", BENCH_LATENCY, 0);
		if (b && b->p50_ns > 0)
			q.value = r->p50_ns / b->p50_ns;
		break;
	case SEC_RATE:
		q.of = which ? "msgs_per_s" : "bytes_per_s";
		q.to = which ? "pipe" : "memcpy";
		b = bench_find(rep, q.to, BENCH_THROUGHPUT, r->size);
		if (b && b->msgs_per_s > 0)
			q.value = r->msgs_per_s / b->msgs_per_s;  /* same size: bytes alike */
		break;
	case SEC_COST:
		q.of = "p50_ns";
		q.to = which ? NULL : r->method->baseline;
		b = q.to ? bench_find(rep, q.to, BENCH_COST, 0) : NULL;
		if (b && b->p50_ns > 0)
			q.value = r->p50_ns / b->p50_ns;
		break;
	}
	if (!q.to)
		q.of = NULL;
	return q;
}

/* ---------------------------------------------------------------------- */
/* The tables                                                             */

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

/* A size: "64 B", "4 KiB", "1 MiB"; "-" for none. */
static const char *fmt_size(size_t n, char *buf, size_t len)
{
	if (n == 0)
		snprintf(buf, len, "-");
	else if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(buf, len, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, len, "%zu KiB", n >> 10);
	else
		snprintf(buf, len, "%zu B", n);
	return buf;
}

/* A count per second, short: "14.2M", "812k". */
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
static const char *fmt_ratio(double q, char *buf, size_t len)
{
	if (isnan(q))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, q < 0.1 ? "%.2gx" : q < 100 ? "%.2fx" : "%.0fx", q);
	return buf;
}

static const char *fmt_copies(int copies, char *buf, size_t len)
{
	if (copies < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%d", copies);
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

/* The method's name on the first row of its group, blank below it. */
static const char *row_name(const struct bench_report *rep, size_t i, enum section sec)
{
	const struct bench_result *r = &rep->results[i];

	for (size_t j = i; j-- > 0;) {
		if (section_of(&rep->results[j]) != sec)
			continue;
		return rep->results[j].method == r->method ? "" : r->method->name;
	}
	return r->method->name;
}

static void latency_row(FILE *f, const struct bench_report *rep, size_t i)
{
	const struct bench_result *r = &rep->results[i];
	char sz[32], p50[32], p99[32], p999[32], lo[32], hi[32], spread[72], q0[32], q1[32],
		cp[16], cpu[72];
	double sys;

	snprintf(spread, sizeof(spread), "%s..%s", fmt_ns(r->spread_min_ns, lo, sizeof(lo)),
		 fmt_ns(r->spread_max_ns, hi, sizeof(hi)));
	fmt_cpu(r, cpu, sizeof(cpu), &sys);
	fprintf(f, "%-15s %7s %9s %9s %9s  %-17s %8s %8s %6s  %-19s %3.0f%%\n",
		row_name(rep, i, SEC_LATENCY), fmt_size(r->size, sz, sizeof(sz)),
		fmt_ns(r->p50_ns, p50, sizeof(p50)), fmt_ns(r->p99_ns, p99, sizeof(p99)),
		fmt_ns(r->p999_ns, p999, sizeof(p999)), spread,
		fmt_ratio(ratio_of(rep, r, 0).value, q0, sizeof(q0)),
		fmt_ratio(ratio_of(rep, r, 1).value, q1, sizeof(q1)),
		fmt_copies(r->method->copies, cp, sizeof(cp)), cpu, sys);
}

static void rate_row(FILE *f, const struct bench_report *rep, size_t i)
{
	const struct bench_result *r = &rep->results[i];
	char sz[32], rate[32], lo[32], hi[32], mb[32], spread[72], q0[32], q1[32], cp[16],
		cpu[72];
	double sys;

	snprintf(spread, sizeof(spread), "%s..%s", fmt_rate(r->rate_min, lo, sizeof(lo)),
		 fmt_rate(r->rate_max, hi, sizeof(hi)));
	snprintf(mb, sizeof(mb), "%.0f", r->msgs_per_s * (double)r->size / 1e6);
	fmt_cpu(r, cpu, sizeof(cpu), &sys);
	fprintf(f, "%-15s %7s %9s %9s  %-17s %8s %8s %6s  %-19s %3.0f%%\n",
		row_name(rep, i, SEC_RATE), fmt_size(r->size, sz, sizeof(sz)),
		fmt_rate(r->msgs_per_s, rate, sizeof(rate)), mb, spread,
		fmt_ratio(ratio_of(rep, r, 0).value, q0, sizeof(q0)),
		fmt_ratio(ratio_of(rep, r, 1).value, q1, sizeof(q1)),
		fmt_copies(r->method->copies, cp, sizeof(cp)), cpu, sys);
}

static void cost_row(FILE *f, const struct bench_report *rep, size_t i)
{
	const struct bench_result *r = &rep->results[i];
	char ns[32], lo[32], hi[32], spread[72], q0[32], cpu[72];
	double sys;
	char share[32] = "-";

	if (r->method->ops && r->mean_ns > 0)  /* an entry that waits */
		snprintf(share, sizeof(share), "%.3g%%", 100 * cpu_total(&r->cpu[0]) / r->mean_ns);

	snprintf(spread, sizeof(spread), "%s..%s", fmt_ns(r->spread_min_ns, lo, sizeof(lo)),
		 fmt_ns(r->spread_max_ns, hi, sizeof(hi)));
	fmt_cpu(r, cpu, sizeof(cpu), &sys);
	fprintf(f, "%-15s %-32s %12s  %-23s %15s %12s %9s %4.0f%%\n", r->method->name,
		r->method->what, fmt_ns(r->p50_ns, ns, sizeof(ns)), spread,
		fmt_ratio(ratio_of(rep, r, 0).value, q0, sizeof(q0)), cpu, share, sys);
}

/* The rows of one section, under its heading. */
static void table_section(FILE *f, const struct bench_report *rep, enum section sec)
{
	static const char *const heads[] = {
		[SEC_LATENCY] = "Round trips: two processes, one message each way",
		[SEC_RATE] = "Streams: messages one way, as fast as the receiver takes them",
		[SEC_COST] = "Costs: one process, one operation at a time",
	};
	bool any = false;

	for (size_t i = 0; i < rep->count; i++)
		any |= section_of(&rep->results[i]) == sec;
	if (!any)
		return;
	fprintf(f, "\n%s\n", heads[sec]);
	if (sec == SEC_LATENCY)
		fprintf(f, "%-15s %7s %9s %9s %9s  %-17s %8s %8s %6s  %-19s %4s\n", "method",
			"size", "p50 ns", "p99 ns", "p99.9 ns", "spread of p50", "x floor",
			"x pipe", "copies", "CPU ns/op (A+B)", "sys");
	else if (sec == SEC_RATE)
		fprintf(f, "%-15s %7s %9s %9s  %-17s %8s %8s %6s  %-19s %4s\n", "method",
			"size", "msgs/s", "MB/s", "spread of msgs/s", "x memcpy", "x pipe",
			"copies", "CPU ns/msg (A+B)", "sys");
	else
		fprintf(f, "%-15s %-32s %12s  %-23s %15s %12s %9s %4s\n", "method", "what",
			"ns/op", "spread", "x baseline", "CPU ns/op", "CPU/wall", "sys");
	for (size_t i = 0; i < rep->count; i++) {
		if (section_of(&rep->results[i]) != sec)
			continue;
		if (sec == SEC_LATENCY)
			latency_row(f, rep, i);
		else if (sec == SEC_RATE)
			rate_row(f, rep, i);
		else
			cost_row(f, rep, i);
	}
}

static void table_skipped(FILE *f, const struct bench_report *rep)
{
	char sz[32];

	if (!rep->nskipped)
		return;
	fputs("\nNot applicable (the mechanism cannot carry the size):\n", f);
	for (size_t i = 0; i < rep->nskipped; i++) {
		const struct bench_skip *k = &rep->skipped[i];
		fprintf(f, "  %s %s, %s: %s\n", k->method->name,
			k->kind == BENCH_LATENCY ? "round trip" : "stream",
			fmt_size(k->size, sz, sizeof(sz)), k->why);
	}
}

static const char *verdict(int met)
{
	return met < 0 ? "not measured" : met ? "met" : "NOT met";
}

static void table_goals(FILE *f, const struct bench_report *rep)
{
	struct bench_goal g[BENCH_GOALS_MAX];
	size_t n = bench_goals(rep, g);
	char v[48];

	fprintf(f, "\nGoals (ratios of this run's figures)\n");
	fprintf(f, "%-38s %-16s %-20s %s\n", "goal", "target", "measured", "verdict");
	for (size_t i = 0; i < n; i++) {
		if (isnan(g[i].measured))
			snprintf(v, sizeof(v), "-");
		else
			snprintf(v, sizeof(v), "%.3g%s", g[i].measured, g[i].unit);
		fprintf(f, "%-38s %-16s %-20s %s\n", g[i].goal, g[i].target, v,
			verdict(g[i].met));
	}
}

static void table_note(FILE *f, const struct bench_report *rep)
{
	const struct bench_machine *mc = rep->machine;

	fprintf(f, "\nFigures are medians of %u trials, each after a warm-up; spread: the\n"
		"fastest and the slowest trial's figure.  ", rep->plan->trials);
	if (mc->cpu_a >= 0 && mc->cpu_a != mc->cpu_b)
		fprintf(f, "Two-process entries run pinned to\nCPUs %d and %d", mc->cpu_a,
			mc->cpu_b);
	else if (mc->cpu_a >= 0)
		fprintf(f, "Two-process entries run both pinned\nto CPU %d", mc->cpu_a);
	else
		fputs("Two-process entries run unpinned", f);
	fputs("; a round trip is timed one by one (p50/p99/p99.9\n"
	      "within a trial); a stream's rate is the receiver's.  MB/s: 10^6 bytes\n"
	      "of payload.  Ratios are to baselines of this same run: x floor and\n"
	      "x pthread_mutex are times over the baseline's (above 1: slower); x memcpy\n"
	      "(bytes/s) and x pipe (msgs/s) for streams are rates over its (above 1:\n"
	      "faster); x pipe for round trips is p50 over a pipe's at the same size.\n"
	      "copies: copies of the data per message, end to end.  CPU ns/op (/msg):\n"
	      "user+system time per operation (message) from getrusage, for each side;\n"
	      "sys: the system share of it.\n", f);
}

void bench_report_table(FILE *f, const struct bench_report *rep)
{
	table_header(f, rep);
	table_section(f, rep, SEC_LATENCY);
	table_section(f, rep, SEC_RATE);
	table_section(f, rep, SEC_COST);
	table_skipped(f, rep);
	table_goals(f, rep);
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
	else if (fabs(v) >= 1000)
		fprintf(f, "%.3f", v);
	else  /* small ratios keep their digits: 0.000123, not 0.000 */
		fprintf(f, "%.6g", v);
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

/* {"to": NAME, "of": FIGURE, "value": X}, or null when it has no baseline
 * or the baseline did not run. */
static void json_ratio(FILE *f, struct ratio q)
{
	if (!q.to || isnan(q.value)) {
		fputs("null", f);
		return;
	}
	fputs("{\"to\": ", f);
	json_str(f, q.to);
	fprintf(f, ", \"of\": \"%s\", \"value\": ", q.of);
	json_num(f, q.value);
	fputc('}', f);
}

static const char *kind_name(const struct bench_result *r)
{
	if (bench_is_rate(r))
		return "throughput";
	return r->kind == BENCH_LATENCY ? "latency" : "cost";
}

static void json_size(FILE *f, size_t size)
{
	if (size)
		fprintf(f, "%zu", size);
	else
		fputs("null", f);
}

static void json_result(FILE *f, const struct bench_report *rep, const struct bench_result *r)
{
	double total = 0;
	bool rate = bench_is_rate(r);

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
	fputs(", \"size\": ", f);
	json_size(f, r->size);
	fprintf(f, ", \"kind\": \"%s\",\n     \"copies\": ", kind_name(r));
	if (r->method->copies >= 0)
		fprintf(f, "%d", r->method->copies);
	else
		fputs("null", f);
	fprintf(f, ", \"trials\": %u, \"iterations\": %llu, \"p50_ns\": ", r->trials,
		(unsigned long long)r->iterations);
	json_num(f, rate ? NAN : r->p50_ns);
	fputs(", \"p99_ns\": ", f);
	json_num(f, rate ? NAN : r->p99_ns);
	fputs(", \"p999_ns\": ", f);
	json_num(f, rate ? NAN : r->p999_ns);
	fputs(", \"mean_ns\": ", f);
	json_num(f, r->mean_ns);
	fputs(",\n     \"msgs_per_s\": ", f);
	json_num(f, rate ? r->msgs_per_s : NAN);
	fputs(", \"bytes_per_s\": ", f);
	json_num(f, rate ? r->msgs_per_s * (double)r->size : NAN);
	fputs(", \"cpu_ns_per_msg\": ", f);
	/* a round trip carries two messages */
	json_num(f, !r->size ? NAN : r->kind == BENCH_LATENCY ? total / 2 : total);
	fputs(", \"cpu_ns_per_op\": ", f);
	json_num(f, total);
	if (rate) {
		fputs(",\n     \"spread\": {\"of\": \"msgs_per_s\", \"min\": ", f);
		json_num(f, r->rate_min);
		fputs(", \"max\": ", f);
		json_num(f, r->rate_max);
	} else {
		fputs(",\n     \"spread\": {\"of\": \"p50_ns\", \"min\": ", f);
		json_num(f, r->spread_min_ns);
		fputs(", \"max\": ", f);
		json_num(f, r->spread_max_ns);
	}
	fputs("}, \"ratio\": ", f);
	json_ratio(f, ratio_of(rep, r, 0));
	fputs(", \"versus\": ", f);
	json_ratio(f, ratio_of(rep, r, 1));
	fputs("\n    ", f);
	json_sides(f, r);
	fputc('}', f);
}

static void json_skipped(FILE *f, const struct bench_report *rep)
{
	fputs("  \"skipped\": [", f);
	for (size_t i = 0; i < rep->nskipped; i++) {
		const struct bench_skip *k = &rep->skipped[i];
		fputs(i ? ",\n    {\"method\": " : "\n    {\"method\": ", f);
		json_str(f, k->method->name);
		fprintf(f, ", \"kind\": \"%s\", \"size\": ",
			k->kind == BENCH_LATENCY ? "latency" : "throughput");
		json_size(f, k->size);
		fputs(", \"why\": ", f);
		json_str(f, k->why);
		fputc('}', f);
	}
	fputs(rep->nskipped ? "\n  ],\n" : "],\n", f);
}

static void json_goals(FILE *f, const struct bench_report *rep)
{
	struct bench_goal g[BENCH_GOALS_MAX];
	size_t n = bench_goals(rep, g);

	fputs("  \"goals\": [\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("    {\"goal\": ", f);
		json_str(f, g[i].goal);
		fputs(", \"target\": ", f);
		json_str(f, g[i].target);
		fputs(", \"unit\": ", f);
		json_str(f, g[i].unit);
		fprintf(f, ", \"limit\": %g, \"at_most\": %s, \"measured\": ", g[i].limit,
			g[i].at_most ? "true" : "false");
		json_num(f, g[i].measured);
		fputs(", \"met\": ", f);
		json_tristate(f, g[i].met);
		fputs(i + 1 < n ? "},\n" : "}\n", f);
	}
	fputs("  ]\n", f);
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
	fputs("  ],\n", f);
	json_skipped(f, rep);
	json_goals(f, rep);
	fputs("}\n", f);
}

/* SPDX-License-Identifier: MIT */
/*
 * report.c - the table and the JSON document of a run.
 *
 * Ratios are quoted against each entry's baseline (the cache-line floor for
 * round trips, pthread_mutex for lock costs) when that baseline ran too:
 * absolute nanoseconds say little across machines, ratios measured in the
 * same run say more.
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

/* p50 (or cost) over the baseline's; NAN without a baseline. */
static double ratio(const struct bench_report *rep, const struct bench_result *r)
{
	const struct bench_result *base = find_result(rep, r->method->baseline);

	if (!base || !(base->p50_ns > 0))
		return NAN;
	return r->p50_ns / base->p50_ns;
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
	fputc('\n', f);
	fprintf(f, "%-15s %-32s %9s %9s %9s  %-17s %-20s %-17s %4s\n", "method", "what",
		"p50 ns", "p99 ns", "p99.9 ns", "spread of p50", "ratio",
		"CPU ns/op (A+B)", "sys");
}

static void table_row(FILE *f, const struct bench_report *rep, const struct bench_result *r)
{
	char p50[32], p99[32], p999[32], lo[32], hi[32], spread[72], rat[64], cpu[72];
	double q = ratio(rep, r), total = 0, sys = 0;

	snprintf(spread, sizeof(spread), "%s..%s", fmt_ns(r->spread_min_ns, lo, sizeof(lo)),
		 fmt_ns(r->spread_max_ns, hi, sizeof(hi)));
	if (isnan(q))
		snprintf(rat, sizeof(rat), "-");
	else
		snprintf(rat, sizeof(rat), "%.2fx %s", q, r->method->baseline);
	for (int s = 0; s < r->sides; s++) {
		total += cpu_total(&r->cpu[s]);
		sys += r->cpu[s].sys_ns;
	}
	if (r->sides == 2)
		snprintf(cpu, sizeof(cpu), "%s + %s", fmt_ns(cpu_total(&r->cpu[0]), lo, sizeof(lo)),
			 fmt_ns(cpu_total(&r->cpu[1]), hi, sizeof(hi)));
	else
		snprintf(cpu, sizeof(cpu), "%s", fmt_ns(cpu_total(&r->cpu[0]), lo, sizeof(lo)));
	fprintf(f, "%-15s %-32s %9s %9s %9s  %-17s %-20s %-17s %3.0f%%\n", r->method->name,
		r->method->what, fmt_ns(r->p50_ns, p50, sizeof(p50)),
		fmt_ns(r->p99_ns, p99, sizeof(p99)), fmt_ns(r->p999_ns, p999, sizeof(p999)),
		spread, rat, cpu, total > 0 ? 100 * sys / total : 0);
}

static void table_note(FILE *f, const struct bench_report *rep)
{
	const struct bench_machine *mc = rep->machine;
	bool latency = false, cost = false;

	for (size_t i = 0; i < rep->count; i++) {
		latency |= rep->results[i].method->kind == BENCH_LATENCY;
		cost |= rep->results[i].method->kind == BENCH_COST;
	}
	fprintf(f, "\nFigures are medians of %u trials, each after a warm-up; spread: the\n"
		"fastest and the slowest trial's p50.\n", rep->plan->trials);
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
	fputs("Ratios are to the baseline measured in this same run.  CPU ns/op:\n"
	      "user+system time per operation from getrusage, for each side; sys: the\n"
	      "system share of it.\n", f);
}

void bench_report_table(FILE *f, const struct bench_report *rep)
{
	table_header(f, rep);
	for (size_t i = 0; i < rep->count; i++)
		table_row(f, rep, &rep->results[i]);
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

static void json_result(FILE *f, const struct bench_report *rep, const struct bench_result *r)
{
	double q = ratio(rep, r), total = 0;

	for (int s = 0; s < r->sides; s++)
		total += cpu_total(&r->cpu[s]);
	fputs("    {\"method\": ", f);
	json_str(f, r->method->name);
	fputs(", \"what\": ", f);
	json_str(f, r->method->what);
	fprintf(f, ", \"policy\": null, \"size\": null, \"kind\": \"%s\",\n",
		r->method->kind == BENCH_LATENCY ? "latency" : "cost");
	fprintf(f, "     \"trials\": %u, \"iterations\": %llu, \"p50_ns\": ", r->trials,
		(unsigned long long)r->iterations);
	json_num(f, r->p50_ns);
	fputs(", \"p99_ns\": ", f);
	json_num(f, r->p99_ns);
	fputs(", \"p999_ns\": ", f);
	json_num(f, r->p999_ns);
	fputs(", \"mean_ns\": ", f);
	json_num(f, r->mean_ns);
	fputs(",\n     \"spread\": {\"of\": \"p50_ns\", \"min_ns\": ", f);
	json_num(f, r->spread_min_ns);
	fputs(", \"max_ns\": ", f);
	json_num(f, r->spread_max_ns);
	fputs("}, \"ratio\": ", f);
	if (isnan(q)) {
		fputs("null", f);
	} else {
		fputs("{\"to\": ", f);
		json_str(f, r->method->baseline);
		fputs(", \"value\": ", f);
		json_num(f, q);
		fputc('}', f);
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

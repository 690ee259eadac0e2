/* SPDX-License-Identifier: MIT */
/*
 * plot.c - the chart: a gnuplot script with the figures inline (data
 * blocks), fed to gnuplot on its standard input.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot.h"

bool bench_plot_available(void)
{
	const char *path = getenv("PATH");
	char file[PATH_MAX];

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n && n < sizeof(file) - 16) {
			snprintf(file, sizeof(file), "%.*s/gnuplot", (int)n, p);
			if (access(file, X_OK) == 0)
				return true;
		}
		if (!end)
			return false;
		p = end;
	}
}

/* A gnuplot single-quoted string: no escapes, '' is a quote. */
static void gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* Whether @r is drawn in the rate panel (@rate) or the latency one. */
static bool in_panel(const struct bench_result *r, bool rate)
{
	return r->size && (rate ? bench_is_rate(r) : r->kind == BENCH_LATENCY);
}

/* Whether result @i is its method's first in the panel: one line per
 * method. */
static bool first_of(const struct bench_report *rep, size_t i, bool rate)
{
	for (size_t j = 0; j < i; j++)
		if (rep->results[j].method == rep->results[i].method &&
		    in_panel(&rep->results[j], rate))
			return false;
	return true;
}

/* The figure a panel draws: round-trip p50 in microseconds, or bytes per
 * second in GB/s. */
static double plotted(const struct bench_result *r, bool rate)
{
	return rate ? r->msgs_per_s * (double)r->size / 1e9 : r->p50_ns / 1e3;
}

/* One data block per method with sized results of this panel; returns
 * how many. */
static int gp_blocks(FILE *f, const struct bench_report *rep, bool rate, int base)
{
	int n = 0;

	for (size_t i = 0; i < rep->count; i++) {
		const struct bench_result *r = &rep->results[i];
		if (!in_panel(r, rate) || !first_of(rep, i, rate))
			continue;
		fprintf(f, "$d%d << EOD\n", base + n);
		for (size_t j = i; j < rep->count; j++) {
			const struct bench_result *q = &rep->results[j];
			double v = plotted(q, rate);
			if (q->method == r->method && in_panel(q, rate) && v > 0 && !isnan(v))
				fprintf(f, "%zu %.6g\n", q->size, v);
		}
		fputs("EOD\n", f);
		n++;
	}
	return n;
}

/* The plot command of a panel: its blocks, each titled with its method. */
static void gp_plot(FILE *f, const struct bench_report *rep, bool rate, int base, int n,
		    double floor_us)
{
	int k = 0;

	fputs("plot ", f);
	for (size_t i = 0; i < rep->count && k < n; i++) {
		if (!in_panel(&rep->results[i], rate) || !first_of(rep, i, rate))
			continue;
		const char *name = rep->results[i].method->name;
		/* shmkit's own lines bold, the baselines dashed, the rest thin */
		const char *style = !strncmp(name, "chan", 4) ? "linewidth 3"
				    : !strcmp(name, "memcpy") ? "dashtype 2 lc rgb 'black'"
				    : "linewidth 1";
		fprintf(f, "%s$d%d using 1:2 with linespoints %s title ", k ? ", \\\n  " : "",
			base + k, style);
		gp_str(f, name);
		k++;
	}
	if (!rate && floor_us > 0)
		fprintf(f, "%s%.6g with lines dashtype 2 lc rgb 'black' title 'floor'",
			k ? ", \\\n  " : "", floor_us);
	fputc('\n', f);
}

static void gp_script(FILE *f, const char *path, const struct bench_report *rep)
{
	size_t len = strlen(path);
	bool svg = len > 4 && !strcmp(path + len - 4, ".svg");
	const struct bench_result *fl = bench_find(rep, "floor", BENCH_LATENCY, 0);
	double floor_us = fl ? fl->p50_ns / 1e3 : NAN;
	char title[512];

	fputs(svg ? "set terminal svg size 1400,620 dynamic font 'sans,11'\n"
		  : "set terminal pngcairo size 1400,620 font 'sans,10'\n", f);
	fputs("set termoption noenhanced\n", f);  /* '_' in names is no subscript */
	fputs("set output ", f);
	gp_str(f, path);
	fputc('\n', f);
	int nl = gp_blocks(f, rep, false, 0);
	int nt = gp_blocks(f, rep, true, nl);
	snprintf(title, sizeof(title), "shmkit bench: %s, %d CPUs, Linux %s; medians of %u trials",
		 rep->machine->cpu_model, rep->machine->cpus_online, rep->machine->release,
		 rep->plan->trials);
	fputs("set multiplot layout 1,2 title ", f);
	gp_str(f, title);
	fputs("\nset logscale xy\nset grid\nset key outside right top font ',8'\n"
	      "set xlabel 'message size (bytes)'\n"
	      "set format x '%.0s%cB'\n", f);
	fputs("set ylabel 'round trip p50 (µs)'\nset title 'Latency (lower is better)'\n", f);
	if (nl || floor_us > 0)
		gp_plot(f, rep, false, 0, nl, floor_us);
	else
		fputs("unset logscale\nplot [0:1] [0:1] NaN notitle\nset logscale xy\n", f);
	fputs("set ylabel 'one-way throughput (GB/s)'\n"
	      "set title 'Throughput (higher is better)'\n", f);
	if (nt)
		gp_plot(f, rep, true, nl, nt, NAN);
	else
		fputs("unset logscale\nplot [0:1] [0:1] NaN notitle\n", f);
	fputs("unset multiplot\n", f);
}

int bench_plot(const char *path, const struct bench_report *rep)
{
	int fds[2];

	if (!bench_plot_available())
		return -ENOENT;
	if (pipe(fds))
		return -errno;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		/* its messages go to our stderr; its stdout (where it draws
		 * when it cannot open the output) nowhere */
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execlp("gnuplot", "gnuplot", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	FILE *f = fdopen(fds[1], "w");
	int err = 0;
	if (!f) {
		err = -errno;
		close(fds[1]);  /* gnuplot reads an empty script and ends */
	} else {
		gp_script(f, path, rep);
		if (ferror(f))
			err = -EIO;
		if (fclose(f) && !err)
			err = -errno;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		return WIFEXITED(status) ? -ENOENT : -EIO;
	if (WEXITSTATUS(status))
		return -EIO;
	return err;
}

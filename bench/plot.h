/* SPDX-License-Identifier: MIT */
/*
 * plot.h - a chart of a run: round-trip p50 and stream bandwidth by
 * message size, one line per method, both axes logarithmic, drawn by
 * gnuplot (Debian package gnuplot-nox).
 */
#ifndef SHMKIT_BENCH_PLOT_H
#define SHMKIT_BENCH_PLOT_H

#include <stdbool.h>

#include "report.h"

/* Whether a gnuplot program is on PATH. */
bool bench_plot_available(void);

/*
 * Draws @rep into @path: SVG if the name ends in ".svg", else PNG.
 * Returns 0, or a negative errno (-ENOENT: no gnuplot; -EIO: gnuplot
 * failed, and said why on stderr).
 */
int bench_plot(const char *path, const struct bench_report *rep);

#endif /* SHMKIT_BENCH_PLOT_H */

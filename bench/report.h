/* SPDX-License-Identifier: MIT */
/*
 * report.h - what a run prints: a table for people, a JSON document for
 * programs.  Both carry the machine and how the figures were taken.
 */
#ifndef SHMKIT_BENCH_REPORT_H
#define SHMKIT_BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "harness.h"
#include "machine.h"

struct bench_report {
	const struct bench_machine *machine;
	const struct bench_plan *plan;
	bool quick;
	const struct bench_result *results;
	size_t count;
};

/* The readable table, with the machine above it and a note below. */
void bench_report_table(FILE *f, const struct bench_report *rep);

/* One JSON document: {"tool", "version", "quick", "trials", "machine",
 * "results": [...]}; see the help of `shmkit bench`. */
void bench_report_json(FILE *f, const struct bench_report *rep);

#endif /* SHMKIT_BENCH_REPORT_H */
